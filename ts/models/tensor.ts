/**
 * The tensor of the model API: a flat typed array and its shape, batch first as in Keras
 * ([batch, steps, features]). Nothing here computes: tensor() validates, and flattens nested
 * arrays once (the convenience input of fit/predict; typed arrays are taken as they are).
 */
import { GruError } from '../errors.js';
import * as check from '../validate.js';

export type DType = 'float32' | 'int32';

export interface Tensor {
  /** Row-major values; Int32Array for integer ids (Embedding input, sparse class labels). */
  data: Float32Array | Int32Array;
  /** Dimensions, batch first; their product is data.length. */
  shape: number[];
}

/** Numbers nested to any depth: [[1, 2], [3, 4]] is a tensor of shape [2, 2]. */
export type NestedArray = readonly (number | NestedArray)[];

/** What fit, evaluate and predict take for x and y. */
export type TensorLike = Tensor | NestedArray;

/** A shape with unknown dimensions (the batch, a variable number of steps) as null. */
export type Shape = (number | null)[];

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Keras's notation: (None, 100, 64). */
export function formatShape(shape: readonly (number | null)[]): string {
  const dims = shape.map((d) => (d === null ? 'None' : String(d)));
  return `(${dims.join(', ')}${dims.length === 1 ? ',' : ''})`;
}

/** Float32Array or Int32Array, by the internal slot (a Proxy of one is neither); or undefined. */
function typedKind(value: unknown): 'Float32Array' | 'Int32Array' | undefined {
  const kind = check.typedArrayKind(value);
  return kind === 'Float32Array' || kind === 'Int32Array' ? kind : undefined;
}

export function isTensor(value: unknown): value is Tensor {
  if (check.isRevokedProxy(value)) return false;
  const v = value as Partial<Tensor> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    !check.isArray(v) &&
    'data' in v &&
    typedKind(v.data) !== undefined
  );
}

function checkShape(name: string, shape: unknown, length: number): number[] {
  if (!check.isArray(shape) || shape.length === 0) {
    throw new GruError(
      'ERR_GRU_SHAPE',
      `${name} shape must be a non-empty array of positive integers, got ${check.describe(shape)}`,
    );
  }
  shape.forEach((d, i) => check.positiveInt(`${name} shape[${i}]`, d, 2 ** 31 - 1));
  const dims = shape as number[];
  if (sizeOf(dims) !== length) {
    throw new GruError(
      'ERR_GRU_SHAPE',
      `${name} shape [${dims.join(', ')}] holds ${sizeOf(dims)} values, but its data has ${length}`,
    );
  }
  return [...dims];
}

/** The shape of nested arrays, checked rectangular; leaves collected into `out`. */
function flatten(name: string, value: NestedArray, out: number[]): number[] {
  const shape: number[] = [];
  for (let v: unknown = value; check.isArray(v); v = v[0]) {
    if (v.length === 0) throw new GruError('ERR_GRU_SHAPE', `${name} has an empty array`);
    shape.push(v.length);
  }
  const walk = (v: unknown, depth: number, at: string): void => {
    if (depth === shape.length) {
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new GruError(
          'ERR_GRU_ARG',
          `${name}${at} must be a finite number, got ${check.describe(v)}`,
        );
      }
      out.push(v);
      return;
    }
    if (!check.isArray(v) || v.length !== shape[depth]) {
      throw new GruError(
        'ERR_GRU_SHAPE',
        `${name}${at} must be an array of length ${shape[depth]} (nested arrays must be rectangular), got ${check.describe(v)}`,
      );
    }
    v.forEach((item, i) => walk(item, depth + 1, `${at}[${i}]`));
  };
  walk(value, 0, '');
  return shape;
}

/**
 * A tensor from a typed array (shape defaults to [length]; the array is used as it is, not
 * copied) or from nested arrays of numbers (shape inferred; a given shape must hold as many
 * values). dtype: 'float32' (default for nested arrays) or 'int32' (integer ids and labels);
 * a typed array must already be of that type.
 */
export function tensor(
  data: Float32Array | Int32Array | NestedArray,
  shape?: readonly number[],
  dtype?: DType,
): Tensor {
  return toTensor('tensor', data, dtype, shape);
}

/** @internal tensor() with the argument's name in messages (x, y, validationData[0], ...). */
export function toTensor(
  name: string,
  value: unknown,
  dtype?: DType,
  shape?: readonly number[],
): Tensor {
  if (dtype !== undefined && dtype !== 'float32' && dtype !== 'int32') {
    throw new GruError(
      'ERR_GRU_ARG',
      `dtype must be 'float32' or 'int32', got ${check.describe(dtype)}`,
    );
  }
  if (isTensor(value) && shape === undefined) {
    return toTensor(name, value.data, dtype, value.shape);
  }
  const kind = typedKind(value);
  if (kind !== undefined) {
    const want = dtype === 'int32' ? 'Int32Array' : dtype === 'float32' ? 'Float32Array' : null;
    if (want !== null && kind !== want) {
      throw new GruError(
        'ERR_GRU_TYPE',
        `${name} must hold ${dtype} values (an ${want}), got ${check.describe(value)}`,
      );
    }
    const data = value as Float32Array | Int32Array;
    return { data, shape: checkShape(name, shape ?? [data.length], data.length) };
  }
  if (!check.isArray(value)) {
    throw new GruError(
      'ERR_GRU_TYPE',
      `${name} must be a tensor { data, shape } (see tensor()), a Float32Array, an Int32Array or nested arrays of numbers, got ${check.describe(value)}`,
    );
  }
  const values: number[] = [];
  const inferred = flatten(name, value as NestedArray, values);
  if (dtype === 'int32') {
    const bad = values.findIndex((v) => !Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31);
    if (bad >= 0) {
      throw new GruError(
        'ERR_GRU_ARG',
        `${name} must hold 32-bit integers (dtype 'int32'), got ${values[bad]} at flat index ${bad}`,
      );
    }
  }
  const data = dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values);
  return { data, shape: checkShape(name, shape ?? inferred, data.length) };
}
