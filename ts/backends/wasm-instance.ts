/**
 * The instance of a wasm module that the wasm binding calls, and its renewal.
 *
 * A WebAssembly.Memory can grow but never shrink: layers created and freed leave the memory at
 * its largest size for as long as the instance lives, whatever the core has freed inside it.
 * So once no object of the core is live and the memory has grown more than 10 % past the size
 * it started at (RENEW_ABOVE), the compiled module is instantiated again, with a fresh memory, and
 * the old instance (its memory with it) is dropped for the garbage collector. The check runs
 * after a call that succeeded and either destroyed an object or grew the memory (the module
 * tells us through its emscripten_notify_memory_growth import): the only ways to reach "no
 * object live, memory grown". No call is in progress then: wasm calls run to their end on this
 * thread, and the binding has freed the call's own allocations first.
 *
 * What the core keeps besides its objects moves to the new instance:
 *   - the handle table (gru_handles_save / gru_handles_restore): the new instance hands out
 *     the handles the old one would have, so a stale handle (of a disposed layer, or passed to
 *     a Backend method) is refused ERR_GRU_DISPOSED as before, never aliases a new object;
 *   - the ISA chosen with gru_set_isa;
 *   - the error state: the instance is renewed only when gru_last_error() is empty (as a fresh
 *     one's is); wasm has no denormal mode; random numbers come from
 *     the seeds of each call.
 *   - threads: a threaded module's instance is renewed only while no helper worker is bound
 *     to its memory (setThreads(1), its helpers gone), so its pool has one thread, as a
 *     fresh one's has.
 * Everything else is scratch the core makes again when it needs it: with no object live the
 * core holds only its handle table, so gru_allocated_bytes reads the same across a renewal.
 * Heap views are never cached by the binding, and each call checks that it is bound to the
 * current `exports` (wasm-caller.ts).
 */
import { GruError } from '../errors.js';
import type { WasmExports } from './wasm-caller.js';
import { newSharedMemory } from './wasm-threads.js';

/** Renew once the memory is more than 10 % larger than it started. */
const RENEW_ABOVE = 1.1;

type CFunction = (...args: number[]) => number;

const utf8 = new TextDecoder('utf-8');

/** The NUL-terminated string at ptr of a module's memory. */
export function readCString(ex: WasmExports, ptr: number): string {
  ptr >>>= 0;
  if (ptr === 0) return '';
  const h = new Uint8Array(ex.memory.buffer);
  let end = ptr;
  while (end < h.length && h[end] !== 0) end++;
  // A copy: browsers' TextDecoder refuses views of a SharedArrayBuffer (threaded modules).
  return utf8.decode(h.slice(ptr, end));
}

/** Calls f with `bytes` copied into the module's heap (freed after); null if malloc fails. */
function withBytes<T>(ex: WasmExports, bytes: Uint8Array, f: (ptr: number) => T): T | null {
  const ptr = ex.malloc(Math.max(bytes.length, 8)) >>> 0;
  if (ptr === 0) return null;
  try {
    new Uint8Array(ex.memory.buffer).set(bytes, ptr);
    return f(ptr);
  } finally {
    ex.free(ptr);
  }
}

export class WasmInstance {
  #module: WebAssembly.Module | null = null;
  /** The exports of the instance calls go to now. */
  exports!: WasmExports;
  /** The memory size above which the instance is renewed once no object is live. */
  #renewAbove = 0;
  /** Set when the memory grew or an object was destroyed: check at the end of the call. */
  #due = false;
  /** A threaded module (gru_simd-*-mt.wasm): it imports a shared memory, made here. */
  #threaded = false;
  /** The shared memory the last imports() made (threaded modules). */
  #memory: WebAssembly.Memory | null = null;
  /** The instance whose constructors run now (its imports call back into it). */
  #starting: WasmExports | null = null;
  /**
   * Whether the instance may be renewed now; a threaded one only while no helper worker is
   * bound to its memory (wasm.ts sets it).
   */
  renewable: () => boolean = () => true;

  /**
   * Takes the first instance, made by the loader (ts/backends/wasm.ts) with imports(), and the
   * compiled module it came from (for the renewals).
   */
  adopt(module: WebAssembly.Module, instance: WebAssembly.Instance): void {
    this.#module = module;
    this.exports = this.#exportsOf(instance);
  }

  /** A threaded module imports its memory: its exports get the one made by imports(). */
  #exportsOf(instance: WebAssembly.Instance): WasmExports {
    if (!this.#threaded) return instance.exports as unknown as WasmExports;
    return { ...instance.exports, memory: this.#memory! } as unknown as WasmExports;
  }

  /** Whether a compiled module is a threaded one: it imports its (shared) memory. */
  static isThreaded(module: WebAssembly.Module): boolean {
    return WebAssembly.Module.imports(module).some((i) => i.kind === 'memory');
  }

  /** The compiled module (the helpers of a threaded one instantiate it too). */
  get module(): WebAssembly.Module {
    return this.#module!;
  }

  /**
   * Runs the module's constructors (after missingExports() has checked the exports); the size
   * the memory starts at is taken after them.
   */
  initialize(): void {
    this.#starting = this.exports;
    try {
      this.exports._initialize();
    } finally {
      this.#starting = null;
    }
    this.#started();
  }

  #started(): void {
    this.#renewAbove = Math.floor(this.exports.memory.buffer.byteLength * RENEW_ABOVE);
    this.#due = false;
  }

  /** Bytes of the current instance's memory. */
  memoryBytes(): number {
    return this.exports.memory.buffer.byteLength;
  }

  /**
   * The imports of an instance: the only ones the modules have (wasm/build.sh checks). A
   * threaded module (`threaded`) also imports a fresh shared memory, and what Emscripten's
   * threaded libc calls when it starts (its main thread's descriptor).
   */
  imports(threaded = this.#threaded): WebAssembly.Imports {
    this.#threaded = threaded;
    const env: Record<string, unknown> = {
      emscripten_notify_memory_growth: () => {
        this.#due = true;
      },
    };
    const wasi: Record<string, unknown> = {
      // Reached only through abort() (e.g. operator new out of memory, built without
      // exceptions). Unwind out of the module instead of exiting the process.
      proc_exit: (code: number) => {
        throw new GruError(
          'ERR_GRU_ALLOC',
          `gru-simd wasm module aborted (exit code ${code}), most likely out of memory`,
        );
      },
    };
    if (threaded) {
      this.#memory = newSharedMemory();
      env.memory = this.#memory;
      // Called by the constructors (_initialize) with the main thread's descriptor: the one
      // that calls the core, the runtime's thread; it may block unless it is a browser's main
      // thread (it never does: the core's caller only spins).
      env.__emscripten_init_main_thread_js = (descriptor: number) => {
        const ex = this.#starting ?? this.exports;
        const browserMain = typeof (globalThis as { window?: unknown }).window === 'object';
        (ex._emscripten_thread_init as CFunction)(
          descriptor,
          browserMain ? 1 : 0,
          1,
          browserMain ? 0 : 1,
        );
      };
      env.emscripten_unwind_to_js_event_loop = () => {
        throw new GruError('ERR_GRU_STATE', 'gru-simd wasm module: unexpected unwind');
      };
      // Nanoseconds since 1970 at `out` (libc's clock, for timed waits).
      wasi.clock_time_get = (_id: number, _precision: bigint, out: number) => {
        const ex = this.#starting ?? this.exports;
        const ns = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
        new DataView(ex.memory.buffer).setBigUint64(out >>> 0, ns, true);
        return 0;
      };
    }
    return { env, wasi_snapshot_preview1: wasi } as WebAssembly.Imports;
  }

  /**
   * Called by the binding after every call that succeeded, its own allocations freed;
   * `destroyed`: the call was gru_destroy.
   */
  afterCall(destroyed: boolean): void {
    if (!(this.#due || destroyed) || !this.renewable()) return;
    const ex = this.exports;
    if (
      ex.memory.buffer.byteLength <= this.#renewAbove ||
      (ex.gru_live_objects as CFunction)() !== 0
    ) {
      this.#due = false; // more growth, or the destroy of the last live object, checks again
      return;
    }
    // A call that does not clear the error (allocatedBytes, ...) after one that failed: the
    // message stays readable; the next call that succeeds with a status checks again.
    if (readCString(ex, (ex.gru_last_error as CFunction)()) !== '') return;
    try {
      this.#renew();
    } catch {
      // No memory for a new instance (a RangeError), or it failed to start: keep the old one.
    }
  }

  /** Swaps in a fresh instance that goes on from the old one's handle table and ISA. */
  #renew(): void {
    const old = this.exports;
    const slots = (old.gru_handle_slots as CFunction)() >>> 0;
    const table = new Int32Array(slots);
    const saved = withBytes(old, new Uint8Array(table.buffer) /* zeros */, (ptr) => {
      if ((old.gru_handles_save as CFunction)(ptr, slots) !== 0) return false;
      table.set(new Int32Array(old.memory.buffer, ptr, slots));
      return true;
    });
    if (!saved) return; // keep the old instance: nothing changed
    const isa = readCString(old, (old.gru_isa_name as CFunction)());

    const fresh = this.#exportsOf(new WebAssembly.Instance(this.#module!, this.imports()));
    this.#starting = fresh;
    try {
      fresh._initialize();
    } finally {
      this.#starting = null;
    }
    const restored = withBytes(
      fresh,
      new Uint8Array(table.buffer),
      (ptr) => (fresh.gru_handles_restore as CFunction)(ptr, slots) === 0,
    );
    const isaSet =
      readCString(fresh, (fresh.gru_isa_name as CFunction)()) === isa ||
      withBytes(
        fresh,
        new TextEncoder().encode(`${isa}\0`),
        (ptr) => (fresh.gru_set_isa as CFunction)(ptr) === 0,
      );
    // The pool's size too: setThreads(n) itself may be the call after which a threaded module
    // (its helpers not started yet) is renewed; the helpers then start on the fresh instance.
    const threads = (old.gru_threads as CFunction)();
    const threadsSet = threads <= 1 || (fresh.gru_set_threads as CFunction)(threads) === 0;
    if (!restored || !isaSet || !threadsSet) return; // the old instance stays, as it was
    this.exports = fresh;
    this.#started();
  }
}
