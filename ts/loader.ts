/**
 * Backend selection. init() picks the fastest backend that loads here: native (Node only),
 * then wasm-relaxed (if the engine has WebAssembly relaxed SIMD), then wasm-simd (if it has
 * SIMD), then wasm. loadBackend() loads one by
 * name, for forcing a backend or running several side by side.
 *
 * Browser-safe: this file references neither the native backend nor any node: module. The
 * Node entry (index.ts) adds them through setNodeHooks() (ts/platform-node.ts); the browser
 * entry (index.browser.ts) does not, so bundlers never see them.
 */
import type { Backend, BackendName } from './backends/backend.js';
import { isNode } from './backends/locate.js';
import type { WasmFiles } from './backends/wasm.js';
import type { StartHelperWorker } from './backends/wasm-threads-types.js';
import { GruError } from './errors.js';
import {
  backendOption,
  boolean,
  describe,
  isRevokedProxy,
  knownKeys,
  options as checkOptions,
} from './validate.js';

export type { Backend, BackendName } from './backends/backend.js';

export interface LoadOptions {
  /** Path of the native addon (.node); default: GRU_SIMD_ADDON or the package's own build. */
  addonPath?: string;
  /**
   * Location of gru_simd-simd.wasm (URL, or a path under Node), e.g. on a CDN. Default: the
   * package's wasm/ under Node; in browsers the file beside the module (bundlers copy it).
   */
  wasmSimdUrl?: string | URL;
  /** Location of gru_simd-scalar.wasm. */
  wasmScalarUrl?: string | URL;
  /** Location of gru_simd-relaxed.wasm (the wasm-relaxed backend). */
  wasmRelaxedUrl?: string | URL;
}

export interface InitOptions extends LoadOptions {
  /**
   * 'auto' (default): native, then wasm-relaxed, then wasm-simd, then wasm (in browsers: the
   * three wasm backends). wasm-relaxed is tried only where the engine has relaxed SIMD
   * (Chromium; Node 20 only with --experimental-wasm-relaxed-simd): elsewhere its absence is
   * the normal case, not a fallback. A named backend must load or init throws.
   */
  backend?: 'auto' | BackendName;
  /** Do not print the one-line notice when auto falls back from native to wasm. */
  quiet?: boolean;
}

export interface BackendInfo {
  backend: BackendName;
  /**
   * ISA variant of the kernels new layers use: "avx512-dot", "avx512", "avx2", "neon", "wasm-relaxed",
   * "wasm128", "scalar".
   */
  isa: string;
  /** Every variant compiled into this backend, best first. */
  isaList: string[];
  threads: number;
  /**
   * Why this backend stays at one thread whatever setThreads asks, if it does: a wasm backend
   * on a page that is not cross-origin isolated (no SharedArrayBuffer: serve the page with
   * Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp), or
   * the scalar wasm module.
   */
  threadsNote?: string;
  /** The core's thread policy at the time of the call (native/core/thread_pool.h). */
  threadPolicy: ThreadPolicy;
  /** Why auto selection did not get native (or wasm-simd), if it did not. */
  fallbackReason?: string;
}

/**
 * How the core shares work between threads now. A helper thread that stops inside a parallel
 * region (its core taken by another process) is a stall: the calling thread finishes its work,
 * and the following regions run on the calling thread alone for a cooldown (50 ms, doubling
 * with each further stall up to 1.6 s) so that they never wait for a busy core.
 */
export interface ThreadPolicy {
  /** Threads a region may use, the calling thread included (as `threads`). */
  threads: number;
  /** True while regions run on the calling thread alone after a stall. */
  coolingDown: boolean;
  /** Milliseconds of that cooldown left (0 when not cooling down). */
  cooldownMsLeft: number;
  /** Stalls seen since the backend was loaded (always 0 in wasm, which has no helpers). */
  stalls: number;
}

/** The thread policy of `backend` now (gru_thread_policy). */
function threadPolicy(backend: Backend): ThreadPolicy {
  const p = new Int32Array(4);
  backend.threadPolicy(p);
  return { threads: p[0]!, coolingDown: p[1] !== 0, cooldownMsLeft: p[3]!, stalls: p[2]! };
}

const BACKEND_NAMES: readonly BackendName[] = ['native', 'wasm-relaxed', 'wasm-simd', 'wasm'];
const LOAD_OPTION_KEYS = ['addonPath', 'wasmSimdUrl', 'wasmScalarUrl', 'wasmRelaxedUrl'];
const loaded = new Map<BackendName, Promise<Backend>>();
let current: { backend: Backend; fallbackReason?: string } | null = null;
let warnedFallback = false;

/** @internal What only the Node entry provides: see ts/platform-node.ts. */
export interface NodeHooks {
  loadNative(options: { addonPath?: string }): Promise<Backend>;
  wasmFiles: WasmFiles;
  /** Starts a worker_thread for a wasm backend's helper (ts/backends/wasm-threads.ts). */
  startWorker: StartHelperWorker;
  /** The CPUs this process may run on. */
  availableCpus(): number;
}

let nodeHooks: NodeHooks | null = null;

/** @internal Called once by ts/platform-node.ts when the Node entry is imported. */
export function setNodeHooks(hooks: NodeHooks): void {
  nodeHooks = hooks;
}

async function load(name: BackendName, options: LoadOptions): Promise<Backend> {
  const files = nodeHooks?.wasmFiles;
  const startWorker = nodeHooks?.startWorker;
  switch (name) {
    case 'native': {
      if (nodeHooks === null) {
        throw new GruError(
          'ERR_GRU_BACKEND_UNAVAILABLE',
          isNode()
            ? 'the native backend is not part of the browser build of gru-simd (this import resolved with the "browser" condition)'
            : 'the native backend needs Node.js; this runtime is not Node',
        );
      }
      return nodeHooks.loadNative({ addonPath: options.addonPath });
    }
    case 'wasm-simd': {
      const { loadWasmBackend, wasmSimdSupported } = await import('./backends/wasm.js');
      if (!wasmSimdSupported()) {
        throw new GruError(
          'ERR_GRU_BACKEND_UNAVAILABLE',
          'this JavaScript engine does not support WebAssembly SIMD',
        );
      }
      return loadWasmBackend('simd', { wasmUrl: options.wasmSimdUrl, files, startWorker });
    }
    case 'wasm-relaxed': {
      const { loadWasmBackend } = await import('./backends/wasm.js');
      return loadWasmBackend('relaxed', { wasmUrl: options.wasmRelaxedUrl, files, startWorker });
    }
    case 'wasm': {
      const { loadWasmBackend } = await import('./backends/wasm.js');
      return loadWasmBackend('scalar', { wasmUrl: options.wasmScalarUrl, files, startWorker });
    }
  }
}

/** The types of LoadOptions: a path string; a URL or a string for the wasm locations. */
function checkLoadOptions(what: string, o: Record<string, unknown>): void {
  if (o.addonPath !== undefined && typeof o.addonPath !== 'string') {
    throw new GruError(
      'ERR_GRU_ARG',
      `${what}: addonPath must be a string (a file path), got ${describe(o.addonPath)}`,
    );
  }
  for (const key of ['wasmSimdUrl', 'wasmScalarUrl', 'wasmRelaxedUrl']) {
    const v = o[key];
    if (v !== undefined && typeof v !== 'string' && (isRevokedProxy(v) || !(v instanceof URL))) {
      throw new GruError(
        'ERR_GRU_ARG',
        `${what}: ${key} must be a URL or a string (a URL or path), got ${describe(v)}`,
      );
    }
  }
}

function checkBackendName(value: unknown, allowAuto: boolean): BackendName | 'auto' {
  const allowed: readonly string[] = allowAuto ? ['auto', ...BACKEND_NAMES] : BACKEND_NAMES;
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw new GruError(
      'ERR_GRU_ARG',
      `backend must be one of ${allowed.map((n) => `'${n}'`).join(', ')}, got ${describe(value)}`,
    );
  }
  return value as BackendName | 'auto';
}

/**
 * Loads a backend by name (once per process; later calls return the same instance).
 * Rejects with ERR_GRU_BACKEND_UNAVAILABLE with the reason when it cannot load here, and with
 * ERR_GRU_ARG for a name or option that is none (a promise, so every failure is a rejection).
 */
export function loadBackend(name: BackendName, options: LoadOptions = {}): Promise<Backend> {
  try {
    checkBackendName(name, false);
    const o = checkOptions('loadBackend options', options);
    knownKeys('loadBackend options', o, LOAD_OPTION_KEYS);
    checkLoadOptions('loadBackend options', o);
  } catch (e) {
    return Promise.reject(e);
  }
  let promise = loaded.get(name);
  if (!promise) {
    promise = load(name, options);
    loaded.set(name, promise);
    promise.catch(() => loaded.delete(name)); // a failed load may be retried (e.g. another path)
  }
  return promise;
}

function info(backend: Backend, fallbackReason?: string): BackendInfo {
  const result: BackendInfo = {
    backend: backend.name,
    isa: backend.isa(),
    isaList: backend.isaList(),
    threads: backend.threads(),
    threadPolicy: threadPolicy(backend),
  };
  if (backend.threadsNote !== null) result.threadsNote = backend.threadsNote;
  if (fallbackReason) result.fallbackReason = fallbackReason;
  return result;
}

/** Chooses the backend new GRU layers use by default, and reports it. */
export async function init(options: InitOptions = {}): Promise<BackendInfo> {
  const o = checkOptions('init options', options);
  knownKeys('init options', o, ['backend', 'quiet', ...LOAD_OPTION_KEYS]);
  checkLoadOptions('init options', o);
  boolean('quiet', o.quiet, false);
  const choice = o.backend === undefined ? 'auto' : checkBackendName(o.backend, true);
  const { backend: _ignored, quiet, ...loadOptions } = options;
  if (choice !== 'auto') {
    current = { backend: await loadBackend(choice, loadOptions) };
    return info(current.backend);
  }
  const reasons: string[] = [];
  // Without the Node entry there is no native backend to miss: not a fallback, no notice.
  // Without relaxed SIMD in the engine, wasm-relaxed is no candidate either (not a fallback).
  const { wasmRelaxedSimdSupported } = await import('./backends/wasm.js');
  const candidates = BACKEND_NAMES.filter(
    (n) =>
      (n !== 'native' || nodeHooks !== null) &&
      (n !== 'wasm-relaxed' || wasmRelaxedSimdSupported()),
  );
  for (const name of candidates) {
    try {
      const backend = await loadBackend(name, loadOptions);
      const fallbackReason = reasons.length ? reasons.join('; ') : undefined;
      current = { backend, fallbackReason };
      if (fallbackReason && reasons.length && !quiet && !warnedFallback) {
        warnedFallback = true;
        console.warn(`gru-simd: using the ${name} backend (${fallbackReason})`);
      }
      return info(backend, fallbackReason);
    } catch (e) {
      reasons.push(`${name} unavailable: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  throw new GruError(
    'ERR_GRU_BACKEND_UNAVAILABLE',
    `no backend could be loaded: ${reasons.join('; ')}`,
  );
}

/** The backend init() chose, with its ISA and threads. Throws ERR_GRU_NOT_INITIALIZED before init(). */
export function backendInfo(): BackendInfo {
  if (!current) throw new GruError('ERR_GRU_NOT_INITIALIZED', 'call init() before backendInfo()');
  return info(current.backend, current.fallbackReason);
}

/** How many threads per CPU setThreads allows. */
const THREADS_PER_CPU = 4;

/** The CPUs this process may use: os.availableParallelism() in Node, else the browser's count. */
function availableCpus(): number {
  const n =
    nodeHooks?.availableCpus() ??
    (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 ? n : 1;
}

/** Backends whose setThreads(n > 1) has already warned that they stay at one thread. */
const warnedSingleThreaded = new WeakSet<Backend>();

/**
 * Sets the threads the kernel core computes with, on the backend init() chose or on `backend`;
 * backendInfo().threads reports it. n: an integer in [1, 1024], and at most 4 per CPU this
 * process may use (more only makes every call slower: the pool's threads wait at every step for
 * threads that have no core to run on). Native: one persistent pool per process, used by every
 * layer (default: the CPUs this process may run on); results are the same for every n.
 * ERR_GRU_BUSY while an async call (forwardAsync, ...) is in flight. wasm-simd and
 * wasm-relaxed: where the runtime has shared memory (Node; a cross-origin isolated page) the
 * backend runs a threaded module whose n - 1 helpers (worker_threads, Web Workers) start in the
 * background (default 1 thread; `await threadsReady()` waits for them); results are the same
 * for every n. Elsewhere, and with the scalar wasm module, the backend stays at one thread
 * whatever n asks: backendInfo().threadsNote says why, and the first such call warns with it.
 */
export function setThreads(n: number, backend?: Backend): void {
  const b = backendOption(backend, currentBackend);
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 1024) {
    throw new GruError(
      'ERR_GRU_ARG',
      `n (threads) must be an integer in [1, 1024], got ${describe(n)}`,
    );
  }
  const cpus = availableCpus();
  if (n > THREADS_PER_CPU * cpus) {
    throw new GruError(
      'ERR_GRU_ARG',
      `n (threads) must be at most ${THREADS_PER_CPU} x the ${cpus} CPU(s) this process may use (${THREADS_PER_CPU * cpus}), got ${n}: more threads than cores oversubscribe them, and every call gets slower`,
    );
  }
  if (n > 1 && b.threadsNote !== null) {
    // Stays at one thread (backendInfo().threadsNote says why, as the issue asks of a page
    // that is not cross-origin isolated); said once per backend, not on every call.
    if (!warnedSingleThreaded.has(b)) {
      warnedSingleThreaded.add(b);
      console.warn(`gru-simd: setThreads(${n}) on ${b.name} stays at one thread: ${b.threadsNote}`);
    }
    b.setThreads(1);
    return;
  }
  b.setThreads(n);
}

/**
 * Resolves with the threads of the backend init() chose (or of `backend`) once all the threads
 * setThreads asked for compute: a wasm backend starts its helper workers in the background
 * (calls made meanwhile compute the same results, with the helpers that have come). Rejects
 * with ERR_GRU_BACKEND_UNAVAILABLE if a helper could not start.
 */
export function threadsReady(backend?: Backend): Promise<number> {
  try {
    return backendOption(backend, currentBackend).threadsReady();
  } catch (e) {
    return Promise.reject(e);
  }
}

/** @internal the default backend for new layers. */
export function currentBackend(): Backend {
  if (!current) {
    throw new GruError(
      'ERR_GRU_NOT_INITIALIZED',
      'call `await init()` before creating a GRU, or pass { backend } from loadBackend()',
    );
  }
  return current.backend;
}
