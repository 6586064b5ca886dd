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
 *     one's is); threads are always 1 and wasm has no denormal mode; random numbers come from
 *     the seeds of each call.
 * Everything else is scratch the core makes again when it needs it: with no object live the
 * core holds only its handle table, so gru_allocated_bytes reads the same across a renewal.
 * Heap views are never cached by the binding, and each call checks that it is bound to the
 * current `exports` (wasm-caller.ts).
 */
import { GruError } from '../errors.js';
import type { WasmExports } from './wasm-caller.js';

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
  return utf8.decode(h.subarray(ptr, end));
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

  /**
   * Takes the first instance, made by the loader (ts/backends/wasm.ts) with imports(), and the
   * compiled module it came from (for the renewals).
   */
  adopt(module: WebAssembly.Module, instance: WebAssembly.Instance): void {
    this.#module = module;
    this.exports = instance.exports as unknown as WasmExports;
  }

  /**
   * Runs the module's constructors (after missingExports() has checked the exports); the size
   * the memory starts at is taken after them.
   */
  initialize(): void {
    this.exports._initialize();
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

  /** The imports of an instance: the only ones the modules have (wasm/build.sh checks). */
  imports(): WebAssembly.Imports {
    return {
      env: {
        emscripten_notify_memory_growth: () => {
          this.#due = true;
        },
      },
      wasi_snapshot_preview1: {
        // Reached only through abort() (e.g. operator new out of memory, built without
        // exceptions). Unwind out of the module instead of exiting the process.
        proc_exit: (code: number) => {
          throw new GruError(
            'ERR_GRU_ALLOC',
            `gru-simd wasm module aborted (exit code ${code}), most likely out of memory`,
          );
        },
      },
    };
  }

  /**
   * Called by the binding after every call that succeeded, its own allocations freed;
   * `destroyed`: the call was gru_destroy.
   */
  afterCall(destroyed: boolean): void {
    if (!(this.#due || destroyed)) return;
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

    const fresh = new WebAssembly.Instance(this.#module!, this.imports()).exports as WasmExports;
    fresh._initialize();
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
    if (!restored || !isaSet) return; // the old instance stays, as it was
    this.exports = fresh;
    this.#started();
  }
}
