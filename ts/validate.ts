/**
 * Argument checks of the public API. Every message names the argument, what was expected
 * and what came, e.g. "hiddenSize must be a positive integer, got 0".
 */
import { GRU_MAX_DIM, isBackend, type Backend } from './backends/backend.js';
import { GruError } from './errors.js';

/** The largest float32: a number above it becomes Infinity in the core. */
export const FLT_MAX = 3.4028234663852886e38;

const TYPED_ARRAY_NAME = /^(Big)?(Int|Uint|Float)(8|16|32|64)(Clamped)?Array$/;

/** A short description of a value for error messages. Runs no code of the value's that throws. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (typeof value === 'symbol') return 'a symbol';
  if (isRevokedProxy(value)) return 'a revoked Proxy';
  const kind = typedArrayKind(value);
  if (kind !== undefined) {
    const view = value as ArrayBufferView & { length: number };
    return isDetached(view)
      ? `a ${kind} over a detached (or shrunk) ArrayBuffer`
      : `a ${kind} of length ${view.length}`;
  }
  if (typeof value === 'function') return 'a function';
  if (ArrayBuffer.isView(value)) return 'a DataView';
  try {
    // A live Proxy runs its traps here: one that throws is described as a plain object.
    if (Array.isArray(value)) return `an Array of length ${value.length}`;
    const ctor: unknown = (value as object).constructor?.name;
    if (typeof ctor === 'string' && TYPED_ARRAY_NAME.test(ctor))
      return `an object posing as a ${ctor} (a Proxy?), not a typed array`;
    return typeof ctor === 'string' && ctor !== '' && ctor !== 'Object' ? `a ${ctor}` : 'an object';
  } catch {
    return 'an object';
  }
}

// ---- typed arrays: recognised by their internal slot, never by instanceof ----------------------

const typedArrayTag = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype) as object,
  Symbol.toStringTag,
)?.get as (this: unknown) => string | undefined;

/**
 * The kind of a typed array ("Float32Array", ...), read from its internal slot by
 * %TypedArray%.prototype[Symbol.toStringTag]'s getter; undefined for anything else. A Proxy of
 * a typed array passes `instanceof` (its getPrototypeOf trap forwards) but has no memory the
 * core can read, and a revoked Proxy throws a TypeError on `instanceof`: this refuses both,
 * never throws, runs no user code, and accepts typed arrays of another realm (vm, iframe).
 */
export function typedArrayKind(value: unknown): string | undefined {
  return typedArrayTag.call(value);
}

/**
 * Whether value is a revoked Proxy, on which every operation throws a TypeError. Array.isArray
 * throws for a revoked Proxy and for nothing else, without running any trap.
 */
export function isRevokedProxy(value: unknown): boolean {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
  try {
    Array.isArray(value);
    return false;
  } catch {
    return true;
  }
}

const typedArrayIncludes = (
  Object.getPrototypeOf(Uint8Array.prototype) as { includes: (this: unknown, v: number) => boolean }
).includes;

/**
 * Whether a typed array has no memory left: its ArrayBuffer detached (transferred away by
 * postMessage, structuredClone(buf, { transfer }) or ArrayBuffer.prototype.transfer), or
 * resized smaller than the view (a resizable ArrayBuffer shrunk under a fixed-length view: the
 * view is "out of bounds"). Its length reads 0, and reading or copying it (slice, set, new
 * Float32Array(it)) throws a TypeError. Told by %TypedArray%.prototype.includes, which throws
 * for both and for nothing else, and runs no user code.
 */
export function isDetached(view: ArrayBufferView): boolean {
  if (view.byteLength !== 0) return false;
  try {
    typedArrayIncludes.call(view, 0);
    return false;
  } catch {
    return true;
  }
}

/** Array.isArray, false (not a TypeError) for a revoked Proxy. */
export function isArray(value: unknown): value is unknown[] {
  return !isRevokedProxy(value) && Array.isArray(value);
}

/** A typed array of `kind`, not detached: ERR_GRU_TYPE / ERR_GRU_ARG naming the argument. */
function typedArray(name: string, value: unknown, kind: string): ArrayBufferView {
  if (typedArrayKind(value) !== kind)
    throw new GruError('ERR_GRU_TYPE', `${name} must be a ${kind}, got ${describe(value)}`);
  const view = value as ArrayBufferView;
  if (isDetached(view)) {
    throw new GruError(
      'ERR_GRU_ARG',
      `${name} must not be a view of a detached ArrayBuffer (one transferred away by postMessage, structuredClone or transfer()) or of one resized smaller than the view, got ${describe(value)}`,
    );
  }
  return view;
}

/**
 * An Int32Array (not detached) or an Array: what takes integers element by element. Refuses a
 * Proxy of an Int32Array and a revoked Proxy (ERR_GRU_TYPE).
 */
function int32ArrayLike(name: string, value: unknown): ArrayLike<unknown> {
  if (typedArrayKind(value) === 'Int32Array')
    return typedArray(name, value, 'Int32Array') as Int32Array;
  if (!isRevokedProxy(value) && Array.isArray(value)) return value;
  throw new GruError(
    'ERR_GRU_TYPE',
    `${name} must be an Int32Array or an array of integers, got ${describe(value)}`,
  );
}

/** Whether value is a Float32Array, by its slot: false for a Proxy of one; never throws. */
export function isFloat32Array(value: unknown): value is Float32Array {
  return typedArrayKind(value) === 'Float32Array';
}

/**
 * A new Float32Array of n elements for an output, or ERR_GRU_ALLOC naming it (the engine
 * throws a RangeError past its largest array, or when memory runs out).
 */
export function allocFloat32(name: string, n: number): Float32Array {
  try {
    return new Float32Array(n);
  } catch (e) {
    throw new GruError(
      'ERR_GRU_ALLOC',
      `could not allocate ${name}: ${n} floats (${n * 4} bytes): ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

export function positiveInt(name: string, value: unknown, max = GRU_MAX_DIM): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new GruError(
      'ERR_GRU_ARG',
      `${name} must be a positive integer no larger than ${max}, got ${describe(value)}`,
    );
  }
  return value;
}

export function boolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new GruError('ERR_GRU_ARG', `${name} must be a boolean, got ${describe(value)}`);
  }
  return value;
}

export function uint32(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new GruError(
      'ERR_GRU_ARG',
      `${name} must be an integer in [0, 2^32), got ${describe(value)}`,
    );
  }
  return value;
}

export function float32Array(name: string, value: unknown): Float32Array {
  return typedArray(name, value, 'Float32Array') as Float32Array;
}

export function float32ArrayOfLength(
  name: string,
  value: unknown,
  length: number,
  shape: string,
): Float32Array {
  const array = float32Array(name, value);
  if (array.length !== length) {
    throw new GruError(
      'ERR_GRU_SHAPE',
      `${name} must have ${length} elements (${shape}), got ${array.length}`,
    );
  }
  return array;
}

/**
 * Throws unless a destination array shares no memory with a source array: the core reads its
 * inputs while it writes its outputs (a bidirectional layer reads x again after the forward
 * direction has written its half of the output), so an overlap would give wrong results.
 */
export function disjoint(
  destName: string,
  dest: ArrayBufferView,
  sourceName: string,
  source: ArrayBufferView | null,
): void {
  if (source === null || dest.buffer !== source.buffer) return;
  const a0 = dest.byteOffset;
  const a1 = a0 + dest.byteLength;
  const b0 = source.byteOffset;
  const b1 = b0 + source.byteLength;
  if (a0 < b1 && b0 < a1) {
    throw new GruError(
      'ERR_GRU_ARG',
      `${destName} must not share memory with ${sourceName} (they overlap in the same ArrayBuffer)`,
    );
  }
}

export function options(name: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (
    value === null ||
    typeof value !== 'object' ||
    isRevokedProxy(value) ||
    Array.isArray(value) ||
    typedArrayKind(value) !== undefined
  ) {
    throw new GruError('ERR_GRU_ARG', `${name} must be an object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

/** Rejects keys that are not options (a typo would otherwise be silently ignored). */
export function knownKeys(
  name: string,
  value: Record<string, unknown>,
  keys: readonly string[],
): void {
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) {
      throw new GruError(
        'ERR_GRU_ARG',
        `${name} has an unknown option "${key}" (known: ${keys.join(', ')})`,
      );
    }
  }
}

/** Per-sequence lengths: an Int32Array or number[] of `batch` integers in [0, seqLen]. */
export function sequenceLengths(value: unknown, batch: number, seqLen: number): Int32Array {
  const array = int32ArrayLike('lengths', value);
  if (array.length !== batch) {
    throw new GruError(
      'ERR_GRU_SHAPE',
      `lengths must have one entry per sequence (batch = ${batch}), got ${array.length}`,
    );
  }
  const out = new Int32Array(batch);
  for (let b = 0; b < batch; b++) {
    const len: unknown = array[b];
    if (typeof len !== 'number' || !Number.isInteger(len)) {
      throw new GruError('ERR_GRU_ARG', `lengths[${b}] must be an integer, got ${describe(len)}`);
    }
    if (len < 0 || len > seqLen) {
      throw new GruError(
        'ERR_GRU_RANGE',
        `lengths[${b}] must be in [0, seqLen = ${seqLen}], got ${len}`,
      );
    }
    out[b] = len;
  }
  return out;
}

interface Range {
  min?: number;
  max?: number;
  /** Excludes min (e.g. (0, inf)). */
  minOpen?: boolean;
  /** Excludes max (e.g. [0, 1)). */
  maxOpen?: boolean;
}

function inRange(value: number, range: Range): boolean {
  const { min = -Infinity, max = Infinity, minOpen = false, maxOpen = false } = range;
  return (minOpen ? value > min : value >= min) && (maxOpen ? value < max : value <= max);
}

function rangeText(range: Range): string {
  const { min = -Infinity, max = Infinity, minOpen = false, maxOpen = false } = range;
  const lo = min === -Infinity ? '(-inf' : `${minOpen ? '(' : '['}${min}`;
  const hi = max === Infinity ? 'inf)' : `${max}${maxOpen ? ')' : ']'}`;
  return `${lo}, ${hi}`;
}

/** A finite number in a range (for numbers TypeScript uses itself; see float32 for the core's). */
export function finiteNumber(name: string, value: unknown, range: Range = {}): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !inRange(value, range)) {
    throw new GruError(
      'ERR_GRU_ARG',
      `${name} must be a finite number in ${rangeText(range)}, got ${describe(value)}`,
    );
  }
  return value;
}

/**
 * A number the core receives as a float: finite as a float32 (|value| <= FLT_MAX, as the
 * bindings require: past it the core would see Infinity), and in range as the float32 the core
 * will see, Math.fround(value): 5e-324 > 0 is 0 there, 0.99999999999 < 1 is 1. Returns value.
 */
export function float32(name: string, value: unknown, range: Range = {}): number {
  const f = typeof value === 'number' ? Math.fround(value) : NaN;
  if (typeof value !== 'number' || !(Math.abs(value) <= FLT_MAX) || !inRange(f, range)) {
    const rounded = typeof value === 'number' && f !== value && !Number.isNaN(f);
    throw new GruError(
      'ERR_GRU_ARG',
      `${name} must be a finite float32 in ${rangeText(range)}, got ${describe(value)}` +
        (rounded ? ` (${f} as a float32)` : ''),
    );
  }
  return value;
}

/** A probability of dropping an element: a float32 in [0, 1). */
export function dropProbability(name: string, value: unknown): number {
  return float32(name, value, { min: 0, max: 1, maxOpen: true });
}

/**
 * Integer indices (an Int32Array or an array of integers), each in [min, max): copied into a
 * fresh Int32Array. `allow` is one more value accepted outside the range (-1 = ignore).
 */
export function int32Indices(
  name: string,
  value: unknown,
  min: number,
  max: number,
  allow?: number,
): Int32Array {
  const array = int32ArrayLike(name, value);
  const n = array.length;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v: unknown = array[i];
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw new GruError('ERR_GRU_ARG', `${name}[${i}] must be an integer, got ${describe(v)}`);
    }
    if ((v < min || v >= max) && v !== allow) {
      const also = allow === undefined ? '' : ` or ${allow}`;
      throw new GruError(
        'ERR_GRU_RANGE',
        `${name}[${i}] must be in [${min}, ${max})${also}, got ${v}`,
      );
    }
    out[i] = v;
  }
  return out;
}

/**
 * A backend from loadBackend() given as an option, or the one init() chose. Only the objects
 * the backends made (isBackend): a look-alike would fail later with a TypeError, far from here.
 */
export function backendOption(value: unknown, fallback: () => Backend): Backend {
  if (value === undefined) return fallback();
  if (!isBackend(value)) {
    throw new GruError(
      'ERR_GRU_ARG',
      `backend must be a Backend from loadBackend(), got ${describe(value)}`,
    );
  }
  return value as Backend;
}

/**
 * Refuses `new` of an abstract class from JavaScript (TypeScript's abstract and protected do not
 * exist at run time): ERR_GRU_TYPE at once, rather than a TypeError from deep inside later.
 */
export function notAbstract(
  target: unknown,
  abstract: unknown,
  name: string,
  instead: string,
): void {
  if (target === abstract)
    throw new GruError('ERR_GRU_TYPE', `${name} is abstract: construct ${instead}`);
}

/** A seed option: a uint32, or a random one when omitted. */
export function seedOption(value: unknown): number {
  return value === undefined ? Math.floor(Math.random() * 0x100000000) : uint32('seed', value);
}
