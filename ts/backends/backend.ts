/**
 * The contract between the TypeScript facade and a compute backend (native addon, wasm-relaxed,
 * wasm-simd, wasm scalar): one method per function of the C ABI (native/include/gru_simd.h), generated
 * into AbiCalls, plus a few conveniences. A backend moves bytes and turns a failed status into
 * a GruError (code from gru_status_code, message from gru_last_error). It checks JS types only:
 * the facade validates first, the core checks every value, length and handle again.
 *
 * Async methods (native): the call runs on a worker thread and the promise settles when it is
 * done; it works on copies of the typed arrays passed (inputs copied at the call, outputs copied
 * back when it settles, or ERR_GRU_STATE if one was detached or resized meanwhile:
 * native/addon/owned_arrays.h); every other call naming one of its handles throws ERR_GRU_BUSY
 * until it settles. Wasm runs
 * the call synchronously inside the promise, with the same results (its threads, if any, compute
 * the parts of each call: wasm-threads.ts).
 */
import type { AbiCalls } from './abi.generated.js';
import type { HelpersState } from './wasm-threads-types.js';

export type { DenseHandle, EmbeddingHandle, Handle, NetHandle, OptimHandle } from './abi.js';
export { GRU_OPTIM_ADAM, GRU_OPTIM_ADAMW, GRU_OPTIM_SGD, GRU_MAX_DIM } from './abi.generated.js';

export type BackendName = 'native' | 'wasm-relaxed' | 'wasm-simd' | 'wasm';

export interface Backend extends Omit<AbiCalls, 'isaList' | 'isaSupported'> {
  readonly name: BackendName;
  /** The ISA variant new objects are created with ("avx512", "wasm-relaxed", "wasm128", ...). */
  isa(): string;
  /** Variants compiled into this backend, best first. */
  isaList(): string[];
  isaSupported(isa: string): boolean;
  /**
   * The wasm backends: the size in bytes of the module's linear memory (its
   * WebAssembly.Memory) now. It grows with what the core holds and never shrinks by itself;
   * the backend renews its module instance, and the memory with it, once no object is live
   * and the memory has grown more than 10 % past its start (ts/backends/wasm-instance.ts).
   * null on native, whose memory is the process's.
   */
  wasmMemoryBytes(): number | null;
  /**
   * Why this backend computes with one thread only whatever setThreads asks (a wasm backend
   * without shared memory: a page that is not cross-origin isolated; the scalar module), or
   * null when setThreads(n) gives it n threads.
   */
  readonly threadsNote: string | null;
  /**
   * Resolves with the threads once all the threads setThreads asked for compute (a wasm
   * backend starts its helper workers asynchronously: calls made before compute the same
   * results, with the helpers that have come); at once on native.
   */
  threadsReady(): Promise<number>;
  /**
   * @internal Tests: a threaded wasm backend's helpers now inside their loop, the regions they
   * joined and the stalls seen so far; null elsewhere. `force`: regions sized as if no stall
   * had been seen (tests that need the helpers on a busy machine). `phaseSpinNs` (benches):
   * how long a helper spins for the next phase before it sleeps (< 0: the default).
   */
  _wasmHelpers(force?: boolean, phaseSpinNs?: number): HelpersState | null;
}

/**
 * Every Backend makeBackend made: what a `backend` option is checked against. One set per
 * process (under a Symbol.for key), not per copy of this module: when ESM and CommonJS loading
 * mix (a bundler, or `require` beside `import`), this file can be loaded twice, and a Backend
 * from one copy must still be accepted by the layers of the other.
 */
const REGISTRY = Symbol.for('gru-simd.backends');
const made: WeakSet<object> = ((globalThis as Record<symbol, unknown>)[REGISTRY] ??=
  new WeakSet<object>()) as WeakSet<object>;

/** Whether value is a Backend made here (by loadBackend()), not a look-alike or a Proxy of one. */
export function isBackend(value: unknown): value is Backend {
  return typeof value === 'object' && value !== null && made.has(value);
}

/** The Backend over a binding's generated calls (and a wasm binding's memory size). */
export function makeBackend(
  name: BackendName,
  calls: AbiCalls,
  wasm?: {
    wasmMemoryBytes(): number;
    threadsNote: string | null;
    threadsReady(): Promise<number>;
    helpers?: (force?: boolean, phaseSpinNs?: number) => HelpersState;
  },
): Backend {
  const backend: Backend = Object.freeze({
    ...calls,
    name,
    isa: () => calls.isaName(),
    isaList: () =>
      calls
        .isaList()
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    isaSupported: (isa: string) => calls.isaSupported(isa) !== 0,
    wasmMemoryBytes: () => (wasm ? wasm.wasmMemoryBytes() : null),
    threadsNote: wasm ? wasm.threadsNote : null,
    threadsReady: () => (wasm ? wasm.threadsReady() : Promise.resolve(calls.threads())),
    _wasmHelpers: (force?: boolean, phaseSpinNs?: number) =>
      wasm?.helpers?.(force, phaseSpinNs) ?? null,
  });
  made.add(backend);
  return backend;
}
