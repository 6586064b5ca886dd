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
import { metricLogs, type Compiled, type Logs, type TrackedMetric } from './compiled.js';
import type { Samples } from './data.js';
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

/** Where an epoch's batches come from: x and y in memory, or a dataset (dataset.ts). */
export interface BatchSource {
  /** Batches per epoch, when known (the progress bar's total). */
  steps: number | null;
  /** The batches of an epoch. */
  epoch(epoch: number): AsyncGenerator<Samples>;
  /** The data ran out before its steps (a dataset that ended): training stops. */
  ranOut: boolean;
}

/** A dataset's batches, checked against the model as they come. */
export function datasetSource(
  c: Compiled,
  data: Dataset,
  stepsPerEpoch: number | null,
  classWeight: unknown,
): BatchSource {
  let shared: AsyncIterator<unknown> | null = null;
  const source: BatchSource = {
    steps: stepsPerEpoch,
    ranOut: false,
    async *epoch() {
      // With stepsPerEpoch one iterator feeds every epoch; without, each epoch is a full pass.
      const it = stepsPerEpoch === null ? iterate(data) : (shared ??= iterate(data));
      for (let b = 0; stepsPerEpoch === null || b < stepsPerEpoch; b++) {
        const r = await it.next();
        if (r.done) {
          if (stepsPerEpoch !== null || b === 0) source.ranOut = true;
          return;
        }
        yield datasetBatch(c, `batch ${b} of the dataset`, r.value, classWeight);
      }
    },
  };
  return source;
}

function datasetBatch(c: Compiled, what: string, value: unknown, classWeight: unknown): Samples {
  const [x, y, w] = batchParts(what, value);
  const s = c.prepare(x, y, w, [`${what}: x`, `${what}: y`, `${what}: sampleWeight`]);
  if (classWeight !== undefined) s.w = c.classWeights(classWeight, s);
  return s;
}

/** The loss and metrics over a dataset's batches (validationSteps of them at most). */
export async function evaluateDataset(
  c: Compiled,
  data: Dataset,
  steps: number | null,
  offThread: boolean,
): Promise<Logs> {
  const it = iterate(data);
  let metrics: TrackedMetric[] | null = null;
  let sum = 0;
  let seen = 0;
  for (let b = 0; steps === null || b < steps; b++) {
    const r = await it.next();
    if (r.done) break;
    const batch = datasetBatch(c, `validationData batch ${b}`, r.value, undefined);
    metrics ??= c.track(batch);
    const n = batch.x.shape[0]!;
    sum +=
      (offThread ? await c.evaluateAsync(batch, n, metrics) : c.evaluate(batch, n, metrics)).loss! *
      n;
    seen += n;
  }
  if (seen === 0) throw new GruError('ERR_GRU_ARG', 'validationData (a dataset) gave no batch');
  return { loss: sum / seen, ...metricLogs(metrics!) };
}
