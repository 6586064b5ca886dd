/**
 * The generic caller of the wasm binding: one JS function per C ABI function, made from the
 * description in abi.generated.ts. A call checks each argument's JS type (as the native addon
 * does: numbers must convert to the C type exactly, floats stay finite as float32), copies the
 * input arrays into the wasm heap, calls the export, and on success copies the output arrays
 * and the scalar result out; every transient allocation is freed in `finally`. Heap views are
 * made fresh after anything that may grow memory (malloc, the core itself), never cached. Each
 * call first checks that its caller is bound to the instance the WasmInstance holds now: it may
 * have been renewed since (wasm-instance.ts). Pointers and size_t results are read with `>>> 0`.
 */
import { GruError, type GruErrorCode } from '../errors.js';
import { FLT_MAX, isDetached, isRevokedProxy, typedArrayKind } from '../validate.js';
import type { AbiArg, AbiFunction } from './abi.js';
import { ABI, type AbiCalls } from './abi.generated.js';
import { readCString, type WasmInstance } from './wasm-instance.js';

/** The exports of gru_simd-*.wasm: every GRU_API function, plus the heap and its allocator. */
export interface WasmExports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  malloc(bytes: number): number;
  free(ptr: number): void;
  [cFunction: string]: unknown;
}

/** The exports a module must have to be bound. */
export function missingExports(ex: WasmExports): string[] {
  return ['memory', '_initialize', 'malloc', 'free', ...ABI.map((f) => f.c)].filter(
    (k) => ex[k] === undefined,
  );
}

type Typed = Float32Array | Int32Array;
type CFunction = (...args: number[]) => number;

const utf8Encoder = new TextEncoder();

// Typed arrays by their internal slot (validate.ts typedArrayKind), not instanceof: arrays from
// another realm (vm, iframe) pass, a Proxy of one does not (its memory cannot be copied), and a
// revoked Proxy is refused rather than throwing a TypeError here.
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (isRevokedProxy(v)) return 'a revoked Proxy';
  const kind = typedArrayKind(v);
  if (kind !== undefined) return isDetached(v as Typed) ? `a detached ${kind}` : kind;
  if (ArrayBuffer.isView(v)) return 'DataView';
  if (typeof v === 'number') return `the number ${v}`;
  if (Array.isArray(v)) return 'Array';
  return typeof v;
}

function refuse(
  fn: AbiFunction,
  arg: AbiArg,
  code: GruErrorCode,
  expected: string,
  got: unknown,
): never {
  throw new GruError(code, `${fn.method}: ${arg.name} must be ${expected}, got ${describe(got)}`);
}

/** One numeric argument, checked as the addon checks it. */
function numberArg(fn: AbiFunction, arg: AbiArg, v: unknown): number {
  if (typeof v !== 'number') refuse(fn, arg, 'ERR_GRU_TYPE', 'a number', v);
  if (arg.kind === 'i32') {
    if (!(Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff))
      refuse(fn, arg, 'ERR_GRU_ARG', 'an int32 integer', v);
  } else if (arg.kind === 'f32') {
    if (!(Math.abs(v) <= FLT_MAX))
      refuse(fn, arg, 'ERR_GRU_ARG', 'a number finite as a float32', v);
  } else if (!(Number.isInteger(v) && v >= 0 && v <= 0xffffffff)) {
    refuse(fn, arg, 'ERR_GRU_ARG', 'a uint32 integer', v);
  }
  return v;
}

/** What a successful call returns: its scalar result (written at outPtr), or its C return. */
function readResult(ex: WasmExports, fn: AbiFunction, ret: number, outPtr: number): unknown {
  if (fn.out) {
    const view = new DataView(ex.memory.buffer);
    if (fn.out.type === 'f32') return view.getFloat32(outPtr, true);
    if (fn.out.type === 'i32') return view.getInt32(outPtr, true);
    if (fn.out.type === 'str') return readCString(ex, view.getUint32(outPtr, true));
    return view.getUint32(outPtr, true); // size_t (32-bit in wasm32) and handles
  }
  if (fn.ret === 'str') return readCString(ex, ret);
  if (fn.ret === 'size') return ret >>> 0;
  return fn.ret === 'i32' ? ret : undefined;
}

/**
 * The caller of one instance's exports. `ex` stays the same for the life of the closure, so
 * V8 can compile calls of its functions (malloc, free, the C function) as direct calls into
 * wasm: reading the exports from a mutable field on every call made small calls ~25 % slower.
 * After a renewal bindWasm makes a new one.
 */
function invokerOf(ex: WasmExports, wasm: WasmInstance) {
  const functions = ABI.map((f) => ex[f.c] as CFunction);
  const heap = (): Uint8Array => new Uint8Array(ex.memory.buffer);
  const statusError = (status: number): GruError => {
    const code = readCString(ex, (ex.gru_status_code as CFunction)(status)) as GruErrorCode;
    const message = readCString(ex, (ex.gru_last_error as CFunction)());
    return new GruError(
      code || 'ERR_GRU_ARG',
      message || `gru-simd core failed with status ${status}`,
    );
  };

  return (fn: AbiFunction, index: number, args: unknown[]): unknown => {
    const allocated: number[] = [];
    const copied = new Map<Typed, number>(); // an array passed twice (h0 and hN) is one heap copy
    const outputs: { ptr: number; array: Typed }[] = [];
    let result: unknown;
    const alloc = (bytes: number): number => {
      const p = ex.malloc(Math.max(bytes, 8)) >>> 0;
      if (p === 0)
        throw new GruError('ERR_GRU_ALLOC', `wasm heap: could not allocate ${bytes} bytes`);
      allocated.push(p);
      return p;
    };
    try {
      const flat: number[] = [];
      fn.args.forEach((arg, i) => {
        const v = args[i];
        if (arg.kind === 'array') {
          if (arg.nullable && (v === null || v === undefined)) {
            flat.push(0, 0);
            return;
          }
          const want = arg.type === 'f32' ? 'Float32Array' : 'Int32Array';
          if (typedArrayKind(v) !== want)
            refuse(
              fn,
              arg,
              'ERR_GRU_TYPE',
              `${arg.type === 'f32' ? 'a' : 'an'} ${want}${arg.nullable ? ' or null' : ''}`,
              v,
            );
          const a = v as Typed;
          // Its bytes cannot be read or written (a TypeError): refused, as the native addon
          // refuses it (native/addon/addon.cpp).
          if (isDetached(a))
            refuse(fn, arg, 'ERR_GRU_ARG', 'a view of a live (not detached) ArrayBuffer', v);
          let ptr = copied.get(a);
          if (ptr === undefined) {
            ptr = alloc(a.byteLength);
            if (arg.dir === 'in')
              heap().set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), ptr);
            copied.set(a, ptr);
          }
          if (arg.dir === 'out') outputs.push({ ptr, array: a });
          flat.push(ptr, a.length);
        } else if (arg.kind === 'str') {
          if (typeof v !== 'string') refuse(fn, arg, 'ERR_GRU_TYPE', 'a string', v);
          const bytes = utf8Encoder.encode(v);
          const ptr = alloc(bytes.length + 1);
          const h = heap();
          h.set(bytes, ptr);
          h[ptr + bytes.length] = 0;
          flat.push(ptr);
        } else {
          flat.push(numberArg(fn, arg, v));
        }
      });
      const outPtr = fn.out ? alloc(8) : 0;
      if (fn.out) flat.push(outPtr);
      const ret = functions[index]!(...flat);
      if (fn.ret === 'status' && ret !== 0) throw statusError(ret);
      for (const { ptr, array } of outputs) {
        new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(
          new Uint8Array(ex.memory.buffer, ptr, array.byteLength),
        );
      }
      result = readResult(ex, fn, ret, outPtr);
    } finally {
      for (const p of allocated) ex.free(p);
    }
    wasm.afterCall(fn.c === 'gru_destroy'); // may renew the instance: nothing of ex is used after
    return result;
  };
}

/** Binds every function of the ABI to the instance a WasmInstance holds (renewed or not). */
export function bindWasm(wasm: WasmInstance): AbiCalls {
  let boundTo = wasm.exports;
  let invoke = invokerOf(boundTo, wasm);
  const current = () => {
    if (wasm.exports !== boundTo) {
      boundTo = wasm.exports;
      invoke = invokerOf(boundTo, wasm);
    }
    return invoke;
  };

  const calls: Record<string, unknown> = {};
  ABI.forEach((fn, index) => {
    const call = (...args: unknown[]): unknown => current()(fn, index, args);
    calls[fn.method] = call;
    // No threads here: the call runs synchronously inside the promise (a failure rejects it).
    if (fn.async) calls[`${fn.method}Async`] = async (...args: unknown[]) => call(...args);
  });
  return calls as unknown as AbiCalls;
}
