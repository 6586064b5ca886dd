/**
 * Threads for the wasm backends: the helpers of a threaded module (gru_simd-*-mt.wasm), each a
 * Web Worker (browsers) or a worker_thread (Node, through ts/platform-node.ts) that
 * instantiates the same compiled module over the same shared WebAssembly.Memory and runs the
 * core's helper loop (native/core/thread_pool_wasm.h).
 *
 * setThreads(n) sets the pool's size in the core at once; the helpers' workers start (or
 * leave) asynchronously. That needs no waiting: the core's caller never waits for a helper to
 * start and does whatever work no helper claimed, so every call computes the same bits with
 * any number of helpers present. threadsReady() resolves once they all run (tests, benches).
 *
 * Each helper gets, from the main instance's malloc (helpers never allocate): a stack (the
 * size of the main one), a block for its thread-locals (__wasm_init_tls) and a zeroed thread
 * descriptor (errno lives there in Emscripten's libc). They are freed when the helper has left.
 *
 * Browser-safe: no node: module here. Threads need SharedArrayBuffer and a shared
 * WebAssembly.Memory: in browsers only on cross-origin isolated pages (served with
 * Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp);
 * elsewhere the backend loads the single-threaded module and backendInfo().threadsNote says why.
 */
import type { HelperWorker, HelpersState, StartHelperWorker } from './wasm-threads-types.js';

export type { HelperWorker, HelpersState, StartHelperWorker };
import { GruError } from '../errors.js';
import type { WasmExports } from './wasm-caller.js';

/** The memory of a threaded module: 16 MiB to start, 2 GiB at most (as linked). */
const PAGE = 65536;
export const MT_MEMORY_INITIAL_PAGES = 16777216 / PAGE;
export const MT_MEMORY_MAXIMUM_PAGES = 2147483648 / PAGE;
/** A helper's stack: the size of the main instance's (wasm/build-relaxed.sh, stack-size). */
const HELPER_STACK_BYTES = 5242880;
/** A helper's thread descriptor (Emscripten's struct pthread is ~200 bytes): zeroed. */
const HELPER_DESCRIPTOR_BYTES = 1024;

/** What the backend needs of a worker, in Node (worker_threads) and in browsers (Worker). */
/**
 * The helper's program. It reaches its parent through worker_threads' parentPort under Node
 * (an eval'd CommonJS script, where `require` exists), through `self` in a Web Worker.
 */
export const HELPER_SOURCE = `'use strict';
let post, listen;
if (typeof require === 'function') {
  const port = require('worker_threads').parentPort;
  post = (m) => port.postMessage(m);
  listen = (f) => port.on('message', f);
} else {
  post = (m) => self.postMessage(m);
  listen = (f) => { self.onmessage = (e) => f(e.data); };
}
let ex = null;
listen((m) => {
  try {
    if (ex === null) {
      const fail = (what) => () => { throw new Error('gru-simd helper: ' + what); };
      ex = new WebAssembly.Instance(m.module, {
        env: {
          memory: m.memory,
          emscripten_notify_memory_growth() {},
          __emscripten_init_main_thread_js: fail('init_main_thread'),
          emscripten_unwind_to_js_event_loop: fail('unwind'),
        },
        wasi_snapshot_preview1: {
          proc_exit: fail('aborted'),
          clock_time_get(_id, _precision, out) {
            const ns = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
            new DataView(m.memory.buffer).setBigUint64(out >>> 0, ns, true);
            return 0;
          },
        },
      }).exports;
      ex._emscripten_thread_init(m.descriptor, 0, 0, 1);
    }
    post({ type: 'running', index: m.index });
    ex.stackRestore(m.stackTop);
    const status = ex.gru_wasm_helper_main(m.index, m.tls);
    post({ type: 'left', index: m.index, status });
  } catch (e) {
    post({ type: 'failed', index: m.index, message: String((e && e.message) || e) });
  }
});
`;

/** A browser's Web Worker over a Blob URL of the source (no file to serve or bundle). */
function startBrowserWorker(source: string): HelperWorker {
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const worker = new Worker(url);
  URL.revokeObjectURL(url);
  return {
    post: (m) => worker.postMessage(m),
    onMessage: (f) => {
      worker.onmessage = (e: MessageEvent) => f(e.data);
    },
    terminate: () => worker.terminate(),
  };
}

/**
 * Why the threaded modules cannot run here, or null when they can. `startWorker`: Node's
 * (ts/platform-node.ts); browsers use Web Workers.
 */
export function threadsUnavailableReason(
  startWorker: StartHelperWorker | undefined,
): string | null {
  const g = globalThis as { crossOriginIsolated?: boolean; Worker?: unknown };
  if (typeof SharedArrayBuffer !== 'function' || g.crossOriginIsolated === false) {
    return (
      'one thread: this page is not cross-origin isolated, so it has no SharedArrayBuffer ' +
      '(serve it with the headers Cross-Origin-Opener-Policy: same-origin and ' +
      'Cross-Origin-Embedder-Policy: require-corp)'
    );
  }
  if (startWorker === undefined && typeof g.Worker !== 'function')
    return 'one thread: this runtime has no Web Workers';
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  } catch {
    return 'one thread: this WebAssembly engine has no shared memory';
  }
  return null;
}

/** A new shared memory for a threaded module. */
export function newSharedMemory(): WebAssembly.Memory {
  return new WebAssembly.Memory({
    initial: MT_MEMORY_INITIAL_PAGES,
    maximum: MT_MEMORY_MAXIMUM_PAGES,
    shared: true,
  });
}

type CFunction = (...args: number[]) => number;

/** What Backend._wasmHelpers() reports (tests). */

interface Helper {
  worker: HelperWorker;
  /** The block malloc'ed for its stack, thread-locals and descriptor. */
  block: number;
  /** 'starting' until its worker runs the loop; 'left' once it returned from it. */
  state: 'starting' | 'running' | 'left' | 'failed';
}

/** The helpers of one threaded instance. */
export class WasmHelpers {
  readonly #module: WebAssembly.Module;
  readonly #exports: () => WasmExports;
  readonly #startWorker: StartHelperWorker;
  /** helpers[i] is the worker of helper index i (1-based; [0] is the caller). */
  readonly #helpers: (Helper | undefined)[] = [];
  #wanted = 1;
  #failure: string | null = null;
  /** The tests' and benches' settings (state()), applied again to a renewed instance. */
  #force: boolean | undefined;
  #phaseSpinNs: number | undefined;

  constructor(module: WebAssembly.Module, exports: () => WasmExports, start?: StartHelperWorker) {
    this.#module = module;
    this.#exports = exports;
    this.#startWorker = start ?? startBrowserWorker;
  }

  /** No helper exists (none running, none starting, none leaving). */
  idle(): boolean {
    return this.#helpers.every((h) => h === undefined);
  }

  /**
   * After the core's pool was set to n threads: starts the helpers 1..n-1 that do not run,
   * lets those at n and above leave (the core retired them; they return when they wake).
   */
  resize(n: number): void {
    this.#wanted = n;
    this.#applySettings(); // the instance may have been renewed since they were set
    this.#failure = null;
    for (let i = 1; i < n; i++) {
      const h = this.#helpers[i];
      if (h === undefined) this.#start(i);
      else if (h.state === 'left') this.#run(i, h);
    }
    for (let i = n; i < this.#helpers.length; i++) {
      const h = this.#helpers[i];
      if (h !== undefined && (h.state === 'left' || h.state === 'failed')) this.#drop(i);
    }
  }

  /**
   * Helpers inside their loop now, the regions they joined and the stalls seen so far (tests);
   * `force` (tests on a busy machine): size regions as if no stall had been seen;
   * `phaseSpinNs` (benches): a helper's spin for the next phase (thread_pool.cpp).
   */
  state(force?: boolean, phaseSpinNs?: number): HelpersState {
    const ex = this.#exports();
    if (force !== undefined) this.#force = force;
    if (phaseSpinNs !== undefined) this.#phaseSpinNs = phaseSpinNs;
    this.#applySettings();
    return {
      running: (ex.gru_wasm_helpers_running as CFunction)(),
      joins: (ex.gru_wasm_helper_joins as CFunction)(),
      stalls: (ex.gru_wasm_stalls as CFunction)(),
      regions: (ex.gru_wasm_regions as CFunction)(),
      chunks: (ex.gru_wasm_helper_chunks as CFunction)(),
      sleeps: (ex.gru_wasm_helper_sleeps as CFunction)(),
      asleep: (ex.gru_wasm_helpers_asleep as CFunction)() !== 0,
    };
  }

  #applySettings(): void {
    const ex = this.#exports();
    if (this.#force !== undefined) (ex.gru_wasm_force_helpers as CFunction)(this.#force ? 1 : 0);
    if (this.#phaseSpinNs !== undefined)
      (ex.gru_wasm_phase_spin_for_test as CFunction)(this.#phaseSpinNs);
  }

  /** Resolves with the threads once every wanted helper runs; rejects if one failed. */
  async ready(timeoutMs = 30000): Promise<number> {
    const ex = this.#exports();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#failure !== null)
        throw new GruError('ERR_GRU_BACKEND_UNAVAILABLE', `wasm threads: ${this.#failure}`);
      const running = (ex.gru_wasm_helpers_running as CFunction)();
      if (running >= this.#wanted - 1) return this.#wanted;
      if (Date.now() > deadline) {
        throw new GruError(
          'ERR_GRU_BACKEND_UNAVAILABLE',
          `wasm threads: ${running} of ${this.#wanted - 1} helper(s) started within ${timeoutMs} ms`,
        );
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  #start(index: number): void {
    const ex = this.#exports();
    const tlsSize = (ex.gru_wasm_tls_size as CFunction)();
    const tlsAlign = Math.max(16, (ex.gru_wasm_tls_align as CFunction)());
    const bytes = HELPER_STACK_BYTES + tlsSize + tlsAlign + HELPER_DESCRIPTOR_BYTES;
    const block = ex.malloc(bytes) >>> 0;
    if (block === 0) {
      this.#failure = `no memory for helper ${index}'s stack`;
      return;
    }
    new Uint8Array(ex.memory.buffer, block, bytes).fill(0);
    let worker: HelperWorker;
    try {
      worker = this.#startWorker(HELPER_SOURCE);
    } catch (e) {
      ex.free(block);
      this.#failure = `could not start a worker: ${e instanceof Error ? e.message : String(e)}`;
      return;
    }
    const helper: Helper = { worker, block, state: 'starting' };
    this.#helpers[index] = helper;
    worker.onMessage((m) =>
      this.#onMessage(index, helper, m as { type: string; message?: string }),
    );
    this.#run(index, helper, true);
  }

  #run(index: number, helper: Helper, first = false): void {
    const ex = this.#exports();
    const stackTop = (helper.block + HELPER_STACK_BYTES) & ~15;
    const tlsAlign = Math.max(16, (ex.gru_wasm_tls_align as CFunction)());
    const tls = Math.ceil((helper.block + HELPER_STACK_BYTES) / tlsAlign) * tlsAlign;
    const descriptor = Math.ceil((tls + (ex.gru_wasm_tls_size as CFunction)()) / 16) * 16;
    helper.state = 'starting';
    helper.worker.post({
      ...(first ? { module: this.#module, memory: ex.memory, descriptor } : {}),
      index,
      stackTop,
      tls,
    });
  }

  #onMessage(index: number, helper: Helper, m: { type: string; message?: string }): void {
    if (this.#helpers[index] !== helper) return;
    if (m.type === 'running') {
      helper.state = 'running';
    } else if (m.type === 'left') {
      helper.state = 'left';
      if (index < this.#wanted) this.#run(index, helper);
      else this.#drop(index);
    } else if (m.type === 'failed') {
      helper.state = 'failed';
      this.#failure = `helper ${index} failed: ${m.message ?? 'unknown error'}`;
    }
  }

  /** Ends a helper that has left the loop (or never entered it) and frees its block. */
  #drop(index: number): void {
    const h = this.#helpers[index];
    if (h === undefined) return;
    h.worker.terminate();
    this.#exports().free(h.block);
    this.#helpers[index] = undefined;
    while (this.#helpers.length > 0 && this.#helpers[this.#helpers.length - 1] === undefined)
      this.#helpers.pop();
  }
}
