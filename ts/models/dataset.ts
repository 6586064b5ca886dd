/**
 * Data larger than memory for fit(): an iterable or async iterable of batches (a generator, an
 * array of batches, a stream), as tfjs's fitDataset and Keras's fit(generator). A batch is
 * { xs, ys } (tfjs; sampleWeight optional) or [x, y] / [x, y, sampleWeight] (Keras), each a
 * tensor-like (tensor.ts). Batches are checked one by one as they come (compiled.ts prepare()).
 *
 * An epoch is one pass over the data, from a fresh iterator each epoch; with stepsPerEpoch it is
 * that many batches from one iterator kept across epochs (Keras's and tfjs's rule), so a
 * generator that never ends can feed many epochs. Data that runs out first ends the training,
 * with a warning, as Keras does.
 */
import { GruError } from '../errors.js';
import * as check from '../validate.js';
import type { TensorLike } from './tensor.js';

/** One batch of a dataset. */
export type DatasetBatch =
  | { xs: TensorLike; ys: TensorLike; sampleWeight?: TensorLike | Float32Array }
  | [TensorLike, TensorLike, (TensorLike | Float32Array)?];

/** What fit() and evaluate() take as a dataset. */
export type Dataset = Iterable<DatasetBatch> | AsyncIterable<DatasetBatch>;

/**
 * Whether value is a dataset (not data): an object with Symbol.iterator or Symbol.asyncIterator
 * that is not an array, a typed array or a tensor ({ data, shape }). Never throws.
 */
export function isDataset(value: unknown): value is Dataset {
  if (typeof value !== 'object' || value === null || check.isRevokedProxy(value)) return false;
  if (Array.isArray(value) || check.typedArrayKind(value) !== undefined) return false;
  try {
    const o = value as { [Symbol.iterator]?: unknown; [Symbol.asyncIterator]?: unknown };
    return (
      typeof o[Symbol.asyncIterator] === 'function' || typeof o[Symbol.iterator] === 'function'
    );
  } catch {
    return false; // a getter that throws: not a dataset
  }
}

/** A batch as [x, y, sampleWeight?] (ERR_GRU_ARG naming it when it is neither form). */
export function batchParts(what: string, batch: unknown): [unknown, unknown, unknown] {
  if (check.isArray(batch)) {
    if (batch.length === 2 || batch.length === 3) return [batch[0], batch[1], batch[2]];
  } else if (typeof batch === 'object' && batch !== null) {
    const o = check.options(what, batch);
    check.knownKeys(what, o, ['xs', 'ys', 'sampleWeight']);
    if (o.xs !== undefined && o.ys !== undefined) return [o.xs, o.ys, o.sampleWeight];
  }
  throw new GruError(
    'ERR_GRU_ARG',
    `${what} must be { xs, ys } or [x, y] (or [x, y, sampleWeight]), got ${check.describe(batch)}`,
  );
}

/** Iterates a dataset's batches, sync or async, as one async iterator. */
export function iterate(data: Dataset): AsyncIterator<unknown> {
  const o = data as { [Symbol.asyncIterator]?: () => AsyncIterator<unknown> };
  if (typeof o[Symbol.asyncIterator] === 'function') return o[Symbol.asyncIterator]!();
  const it = (data as Iterable<unknown>)[Symbol.iterator]();
  return {
    next: async () => it.next(),
    return: async (v?: unknown) => (it.return ? it.return(v) : { done: true, value: v }),
  };
}
