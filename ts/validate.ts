/**
 * Argument checks of the public API. Every message names the argument, what was expected
 * and what came, e.g. "hiddenSize must be a positive integer, got 0".
 */
import { GRU_MAX_DIM, type Backend } from './backends/backend.js';
import { GruError } from './errors.js';

/** The largest float32: a number above it becomes Infinity in the core. */
export const FLT_MAX = 3.4028234663852886e38;

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `an Array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) {
    const n = (value as { length?: number }).length;
    return `a ${value.constructor.name}${n === undefined ? '' : ` of length ${n}`}`;
  }
  if (typeof value === 'function') return 'a function';
  const ctor = (value as object).constructor?.name;
  return ctor && ctor !== 'Object' ? `a ${ctor}` : 'an object';
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
  if (!(value instanceof Float32Array)) {
    throw new GruError('ERR_GRU_TYPE', `${name} must be a Float32Array, got ${describe(value)}`);
  }
  return value;
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
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
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
  if (!(value instanceof Int32Array) && !Array.isArray(value)) {
    throw new GruError(
      'ERR_GRU_TYPE',
      `lengths must be an Int32Array or an array of integers, got ${describe(value)}`,
    );
  }
  if (value.length !== batch) {
    throw new GruError(
      'ERR_GRU_SHAPE',
      `lengths must have one entry per sequence (batch = ${batch}), got ${value.length}`,
    );
  }
  const out = new Int32Array(batch);
  for (let b = 0; b < batch; b++) {
    const len: unknown = value[b];
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

/** A finite number in a range; `open` excludes the bound on that side (e.g. [0, 1)). */
export function finiteNumber(
  name: string,
  value: unknown,
  range: { min?: number; max?: number; minOpen?: boolean; maxOpen?: boolean } = {},
): number {
  const { min = -Infinity, max = Infinity, minOpen = false, maxOpen = false } = range;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (minOpen ? value > min : value >= min) &&
    (maxOpen ? value < max : value <= max);
  if (!ok) {
    const lo = min === -Infinity ? '(-inf' : `${minOpen ? '(' : '['}${min}`;
    const hi = max === Infinity ? 'inf)' : `${max}${maxOpen ? ')' : ']'}`;
    throw new GruError(
      'ERR_GRU_ARG',
      `${name} must be a finite number in ${lo}, ${hi}, got ${describe(value)}`,
    );
  }
  return value;
}

/** A probability of dropping an element: a number in [0, 1). */
export function dropProbability(name: string, value: unknown): number {
  return finiteNumber(name, value, { min: 0, max: 1, maxOpen: true });
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
  if (!(value instanceof Int32Array) && !Array.isArray(value)) {
    throw new GruError(
      'ERR_GRU_TYPE',
      `${name} must be an Int32Array or an array of integers, got ${describe(value)}`,
    );
  }
  const out = new Int32Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const v: unknown = value[i];
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

/** A backend from loadBackend() given as an option, or the one init() chose. */
export function backendOption(value: unknown, fallback: () => Backend): Backend {
  if (value === undefined) return fallback();
  if (value === null || typeof (value as Backend).netCreate !== 'function') {
    throw new GruError(
      'ERR_GRU_ARG',
      `backend must be a Backend from loadBackend(), got ${describe(value)}`,
    );
  }
  return value as Backend;
}

/** A seed option: a uint32, or a random one when omitted. */
export function seedOption(value: unknown): number {
  return value === undefined ? Math.floor(Math.random() * 0x100000000) : uint32('seed', value);
}
