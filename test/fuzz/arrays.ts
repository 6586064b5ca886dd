/**
 * Typed-array generators. f32() wants a Float32Array whose length `ok` accepts; i32() an
 * Int32Array (or, where `arrays` says so, an array of integers) with each element in
 * [lo, hi]. Valid forms: a plain array, a view at an element offset of a larger buffer (not
 * 16-byte aligned), a view of a SharedArrayBuffer, a length-tracking view of a resizable
 * buffer. Bad forms (refused by the README's rules): another type (Float64Array, Int32Array for
 * floats, DataView, a plain Array or array-like for floats, a number, a string, null where not
 * nullable), a Proxy of a typed array, a revoked Proxy, a view of a detached buffer, a fixed view
 * of a resizable buffer shrunk under it (length 0), a length `ok` refuses, an element out of
 * range or not an integer.
 */
import { arg, bad, friendly, FuzzThrow, good, type Arg, type Ctx } from './call.js';
import { show } from './values.js';

const tag = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype) as object,
  Symbol.toStringTag,
)?.get as (this: unknown) => string | undefined;

/** Whether v is a real Float32Array (not a Proxy of one); never throws (unlike instanceof). */
export function isF32(v: unknown): v is Float32Array {
  return tag.call(v) === 'Float32Array';
}

/**
 * Half the time: transfers away the buffer of one of an async call's arrays (or of the options'
 * arrays) while the call runs, and collects it (native once crashed on this, issue 14 item 1:
 * async calls now work on copies they own, native/addon/owned_arrays.h).
 */
export function mutateInFlight(ctx: Ctx, values: unknown[]): void {
  if (!ctx.rng.chance(0.5)) return;
  const arrays = values
    .flatMap((v) => (isF32(v) || typeof v !== 'object' || v === null ? [v] : safeValues(v)))
    .filter((v): v is Float32Array => isF32(v) && !(v.buffer instanceof SharedArrayBuffer));
  if (arrays.length === 0) return;
  const a = ctx.rng.pick(arrays);
  try {
    structuredClone(a.buffer, { transfer: [a.buffer as ArrayBuffer] });
  } catch {
    // detached already
  }
  // Collect the transferred memory now, while the call may still be using it.
  (globalThis as { gc?: () => void }).gc?.();
}

function safeValues(o: object): unknown[] {
  try {
    return Object.values(o);
  } catch {
    return [];
  }
}

/** Array.isArray, false for a revoked Proxy (on which it throws). */
export function isArray(v: unknown): v is unknown[] {
  try {
    return Array.isArray(v);
  } catch {
    return false;
  }
}

/** An Array of zeros (never throws: a revoked Proxy is not one). */
function isPlainZeros(v: unknown): v is unknown[] {
  try {
    return Array.isArray(v) && v.every((x) => x === 0);
  } catch {
    return false;
  }
}

/** The length of a generated value, or undefined (a Proxy of a typed array throws on it). */
export function lengthOf(v: unknown): number | undefined {
  try {
    const l = (v as { length?: unknown } | null)?.length;
    return typeof l === 'number' ? l : undefined;
  } catch {
    return undefined;
  }
}

type Resizable = ArrayBuffer & { resize(n: number): void };
const ResizableBuffer = ArrayBuffer as unknown as new (
  n: number,
  o: { maxByteLength: number },
) => Resizable;

export interface ArraySpec {
  /** Whether a length is right (default: equal to the length asked). */
  ok?: (length: number) => boolean;
  /** undefined is valid (an omitted option). */
  optional?: boolean;
  /** null is valid (a nullable ABI array). */
  nullable?: boolean;
}

function detached<T extends Float32Array | Int32Array>(a: T): T {
  structuredClone(a.buffer, { transfer: [a.buffer as ArrayBuffer] });
  return a;
}

function revoked(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

type Ctor = Float32ArrayConstructor | Int32ArrayConstructor;

/** A valid typed array of `values`, in one of the valid forms. */
function validForm(
  ctx: Ctx,
  C: Ctor,
  values: ArrayLike<number>,
): { v: Float32Array | Int32Array; how: string } {
  const n = values.length;
  const form = ctx.rng.weighted<string>([
    [80, 'plain'],
    [8, 'offset'],
    [6, 'shared'],
    [6, 'resizable'],
  ]);
  let v: Float32Array | Int32Array;
  if (form === 'offset') {
    const k = ctx.rng.int(1, 3);
    v = new C(new ArrayBuffer((n + k + 2) * 4), k * 4, n);
  } else if (form === 'shared') {
    v = new C(new SharedArrayBuffer(n * 4) as unknown as ArrayBuffer);
  } else if (form === 'resizable') {
    v = new C(new ResizableBuffer(n * 4, { maxByteLength: n * 4 + 64 }));
  } else {
    v = new C(n);
  }
  v.set(values);
  return { v, how: form === 'plain' ? '' : `${form} ` };
}

/** A hostile value in place of a typed array of n elements (bad unless `isOk` says otherwise). */
function hostile(
  ctx: Ctx,
  C: Ctor,
  n: number,
  isOk: (len: number) => boolean,
  spec: ArraySpec,
): { v: unknown; isBad: boolean; how: string } {
  const r = ctx.rng;
  const kind = r.weighted<string>([
    [30, 'length'],
    [8, 'detached'],
    [10, 'proxy'],
    [5, 'revoked'],
    [3, 'trapping proxy'],
    [4, 'shrunk'],
    [20, 'type'],
    [12, 'nothing'],
  ]);
  switch (kind) {
    case 'length': {
      const len = r.pick([0, n - 1, n + 1, 2 * n + 1, 1].filter((l) => l >= 0 && l !== n));
      return { v: new C(len), isBad: !isOk(len), how: `${C.name}(${len})` };
    }
    case 'detached':
      return { v: detached(new C(Math.max(n, 1))), isBad: true, how: `detached ${C.name}` };
    case 'proxy':
      return { v: new Proxy(new C(n), {}), isBad: true, how: `Proxy of ${C.name}(${n})` };
    case 'revoked':
      return { v: revoked(), isBad: true, how: 'a revoked Proxy' };
    case 'trapping proxy': {
      const trap = () => {
        throw new FuzzThrow();
      };
      const p = new Proxy(new C(n), { get: trap, getPrototypeOf: trap, has: trap });
      return { v: p, isBad: true, how: `a Proxy whose traps throw` };
    }
    case 'shrunk': {
      if (n === 0) break;
      const buffer = new ResizableBuffer(n * 4, { maxByteLength: n * 4 });
      const v = new C(buffer, 0, n);
      buffer.resize(r.int(0, n * 4 - 1));
      return { v, isBad: !isOk(0), how: `${C.name}(${n}) over a buffer shrunk under it` };
    }
    case 'type': {
      const other = r.pick<() => unknown>([
        () => new Float64Array(n),
        () => (C === Float32Array ? new Int32Array(n) : new Float32Array(n)),
        () => new Uint8Array(n * 4),
        () => new DataView(new ArrayBuffer(n * 4)),
        () => (C === Float32Array ? Array.from({ length: n }, () => 0) : { length: n }),
        () => ({ length: n, 0: 1 }),
        () => new Proxy(new C(n), {}),
      ])();
      return { v: other, isBad: true, how: show(other) };
    }
  }
  const v = r.pick<unknown>([null, undefined, 3, 'x']);
  // The bindings take undefined for null (native/addon/addon.cpp, ts/backends/wasm-caller.ts).
  const valid = (v == null && spec.nullable) || (v === undefined && spec.optional);
  return { v, isBad: !valid, how: show(v) };
}

/** A Float32Array of n elements, or a hostile stand-in. */
export function f32(ctx: Ctx, name: string, n: number, spec: ArraySpec = {}): Arg {
  const isOk = spec.ok ?? ((len: number) => len === n);
  const r = ctx.rng;
  if (friendly(ctx)) {
    if ((spec.optional || spec.nullable) && r.chance(0.1)) {
      const v = spec.nullable ? null : undefined;
      return good(v, `${name}: ${v}`);
    }
    const { v, how } = validForm(ctx, Float32Array, r.floats(n));
    return arg(v, !isOk(n), `${name}: ${how}Float32Array(${n})`);
  }
  const { v, isBad, how } = hostile(ctx, Float32Array, n, isOk, spec);
  return arg(v, isBad, `${name}: ${how}`);
}

export interface IntArraySpec extends ArraySpec {
  /** Valid elements are in [lo, hi]. */
  lo: number;
  hi: number;
  /** A plain array of integers is accepted too (the facade's int32ArrayLike). */
  arrays?: boolean;
}

/** An Int32Array (or an array) of valid values, or a hostile stand-in. */
export function i32(ctx: Ctx, name: string, values: number[], spec: IntArraySpec): Arg {
  const n = values.length;
  const isOk = spec.ok ?? ((len: number) => len === n);
  const r = ctx.rng;
  const inRange = (v: number) => v >= spec.lo && v <= spec.hi;
  const roll = friendly(ctx) ? 0 : 0.1 + 0.9 * r.next();
  if (roll < 0.1) {
    if ((spec.optional || spec.nullable) && r.chance(0.1)) {
      const v = spec.nullable ? null : undefined;
      return good(v, `${name}: ${v}`);
    }
    if (spec.arrays && r.chance(0.3)) return good([...values], `${name}: Array(${n})`);
    const { v, how } = validForm(ctx, Int32Array, values);
    return good(v, `${name}: ${how}Int32Array(${n})`);
  }
  if (roll < 0.55 && n > 0) {
    // One element out of its range, or not an integer (plain arrays only).
    const at = r.int(0, n - 1);
    const out = [...values];
    const plain = spec.arrays === true && r.chance(0.5);
    const wrong = r.pick<unknown>(
      plain
        ? [spec.lo - 1, spec.hi + 1, 1.5, NaN, '1', null, 2 ** 31, -Infinity]
        : [spec.lo - 1, spec.hi + 1, 2 ** 31 - 1, -(2 ** 31)],
    );
    (out as unknown[])[at] = wrong;
    if (plain) {
      const isBad = !(typeof wrong === 'number' && Number.isInteger(wrong) && inRange(wrong));
      return arg(out, isBad, `${name}: Array with [${at}] = ${show(wrong)}`);
    }
    const stored = Int32Array.from(out);
    const isBad = !inRange(stored[at]!); // what the Int32Array holds (wrapped to 32 bits)
    return arg(stored, isBad, `${name}: Int32Array with [${at}] = ${stored[at]}`);
  }
  if (roll < 0.62 && spec.arrays && n > 0) {
    const holes = [...values];
    delete holes[r.int(0, n - 1)];
    return bad(holes, `${name}: an Array with a hole`);
  }
  const { v, isBad, how } = hostile(ctx, Int32Array, n, isOk, spec);
  // A Float32Array, a plain array of numbers: valid where plain arrays are.
  const stillOk = spec.arrays === true && isPlainZeros(v) && isOk(v.length);
  return arg(v, isBad && !stillOk, `${name}: ${how}`);
}
