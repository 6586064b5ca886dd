/**
 * model.fit(): Keras 3's loop over epochs and batches, with tfjs's option and callback names.
 * Each batch is one core training step (Sequential._trainStep); this file only orders samples
 * (a seeded shuffle per epoch), splits off validation samples, calls the callbacks, keeps the
 * History and prints progress. The loss of an epoch is the mean of its batch losses weighted by
 * batch size, as Keras 3's loss tracker; each metric accumulates over the epoch's batches, from
 * the training forward's outputs (before each step), as Keras 3's; the logs of onBatchEnd carry
 * both running values. With validation data, val_loss and val_<metric> after each epoch.
 * sampleWeight and classWeight weigh the loss (Keras 3: not the metrics); class weights apply to
 * the training samples only, and validationSplit splits sampleWeight with x and y.
 *
 * Callbacks (custom ones and callbacks.ts's) run in the order given and share each hook's logs:
 * what one adds (learning_rate) the next ones, the History and the progress line see, as in
 * Keras (whose History and progress bar run after the user's callbacks).
 *
 * fit() is async, as tfjs's: between batches it yields to the event loop (every 25 ms), so
 * timers and I/O run; each batch itself runs synchronously. fitAsync() (offThread) runs each
 * batch's kernel calls (GRU, Dense, the loss, the optimizer step) on the addon's worker threads,
 * so the event loop keeps turning during a batch too, with the same numbers; on wasm they run on
 * the calling thread.
 */
import { deriveSeed } from '../dropout.js';
import { GruError } from '../errors.js';
import * as check from '../validate.js';
import { BuiltinCallback, type CallbackModel } from './callbacks.js';
import { metricLogs, type Compiled, type Logs, type TrackedMetric } from './compiled.js';
import {
  batches,
  batchSizeOption,
  gatherSamples,
  permutation,
  sliceSamples,
  type Samples,
} from './data.js';
import {
  datasetSource,
  evaluateDataset,
  isDataset,
  type BatchSource,
  type Dataset,
} from './dataset.js';
import { progress } from './progress.js';
import type { TensorLike } from './tensor.js';

export type { Logs } from './compiled.js';

/** tfjs's CustomCallbackArgs; each may return a promise, which fit() awaits. */
export interface CustomCallbackArgs {
  onTrainBegin?: (logs?: Logs) => void | Promise<void>;
  onTrainEnd?: (logs?: Logs) => void | Promise<void>;
  onEpochBegin?: (epoch: number, logs?: Logs) => void | Promise<void>;
  /** logs: loss and metrics (and val_loss, val_<metric>) of the epoch. */
  onEpochEnd?: (epoch: number, logs?: Logs) => void | Promise<void>;
  onBatchBegin?: (batch: number, logs?: Logs) => void | Promise<void>;
  /** logs: batch, size, and loss and metrics over the epoch so far (Keras 3's). */
  onBatchEnd?: (batch: number, logs?: Logs) => void | Promise<void>;
}

export interface ModelFitArgs {
  /** Last epoch (exclusive), counted from 0 (default 1). */
  epochs?: number;
  /** Samples per step (default 32); the last batch of an epoch may be smaller. */
  batchSize?: number;
  /** Reorder the training samples every epoch, seeded (default true). */
  shuffle?: boolean;
  /** Seed of the shuffles; default: derived from the model's seed and the count of fit() calls. */
  seed?: number;
  /** Fraction of samples, taken from the end before shuffling, to evaluate on after each epoch. */
  validationSplit?: number;
  /**
   * [x, y], [x, y, sampleWeight] or a dataset (dataset.ts) to evaluate on after each epoch
   * (wins over validationSplit).
   */
  validationData?:
    [TensorLike, TensorLike] | [TensorLike, TensorLike, TensorLike | Float32Array] | Dataset;
  /** A dataset's batches per epoch, from one iterator kept across epochs (default: a full pass). */
  stepsPerEpoch?: number;
  /** A dataset given as validationData: its batches evaluated per epoch (default: all). */
  validationSteps?: number;
  /**
   * Keras's sample_weight: a weight >= 0 per sample, [samples], or per step, [samples, steps]
   * for an output per step; the loss is sum(w l) / rows (Keras's sum_over_batch_size).
   */
  sampleWeight?: TensorLike | Float32Array;
  /**
   * Keras's class_weight, { [classIndex]: weight } (1 for a class not listed): each training
   * sample weighs its class's weight, the class being argmax y (one-hot) or round(y) (ids, 0/1).
   */
  classWeight?: Record<number, number>;
  /** First epoch to run (to resume a run; default 0). */
  initialEpoch?: number;
  /** 0 silent, 1 a progress bar when stdout is a terminal (default), 2 one line per epoch. */
  verbose?: 0 | 1 | 2;
  /** Custom callbacks (objects of hooks) and built-in ones (callbacks.earlyStopping(), ...). */
  callbacks?: FitCallback | FitCallback[];
}

/** A custom callback, or a built-in one (callbacks.ts). */
export type FitCallback = CustomCallbackArgs | BuiltinCallback;

/** What fit() resolves to: the epochs run and each one's logs. */
export interface History {
  epoch: number[];
  history: { loss: number[]; val_loss?: number[] } & Record<string, number[]>;
}

/** What fit() needs of the model (Sequential), its built-in callbacks' needs included. */
export interface FitTarget extends CallbackModel {
  stopTraining: boolean;
  /** The compiled loss, metrics and optimizer (ERR_GRU_STATE before compile()). */
  _training(): Compiled;
  /** ERR_GRU_STATE when a layer cannot train (reduced-precision weights). */
  _checkTrainable(): void;
  _beginFit(): number;
  _endFit(): void;
}

const FIT_KEYS = [
  'epochs',
  'batchSize',
  'shuffle',
  'seed',
  'validationSplit',
  'validationData',
  'initialEpoch',
  'verbose',
  'callbacks',
  'sampleWeight',
  'classWeight',
  'stepsPerEpoch',
  'validationSteps',
];
/** Options of in-memory data that a dataset cannot take, and why (Keras refuses them too). */
const DATASET_REFUSED: [string, string][] = [
  ['batchSize', 'the dataset yields batches'],
  ['shuffle', 'shuffle the dataset itself'],
  ['validationSplit', 'give validationData'],
  ['sampleWeight', 'yield it in each batch ({ xs, ys, sampleWeight } or [x, y, w])'],
];
const FIT_LATER = ['validationFreq', 'validationBatchSize', 'yieldEvery'];
const CALLBACK_KEYS: readonly (keyof CustomCallbackArgs)[] = [
  'onTrainBegin',
  'onTrainEnd',
  'onEpochBegin',
  'onEpochEnd',
  'onBatchBegin',
  'onBatchEnd',
];

function callbacksOption(value: unknown): FitCallback[] {
  if (value === undefined) return [];
  const list = check.isArray(value) ? value : [value];
  return list.map((c, i) => {
    if (BuiltinCallback._is(c)) return c;
    const o = check.options(`callbacks[${i}]`, c);
    check.knownKeys(`callbacks[${i}]`, o, CALLBACK_KEYS);
    for (const [k, f] of Object.entries(o)) {
      if (typeof f !== 'function')
        throw new GruError(
          'ERR_GRU_ARG',
          `callbacks[${i}].${k} must be a function, got ${check.describe(f)}`,
        );
    }
    return o as CustomCallbackArgs;
  });
}

/** Lets timers and I/O run between batches, at most every 25 ms. */
function yielder(): () => Promise<void> {
  let last = performance.now();
  const g = globalThis as { setImmediate?: (f: () => void) => void };
  const next = (): Promise<void> =>
    new Promise((resolve) => (g.setImmediate ? g.setImmediate(resolve) : setTimeout(resolve, 0)));
  return async () => {
    if (performance.now() - last < 25) return;
    await next();
    last = performance.now();
  };
}

export async function runFit(
  model: FitTarget,
  xValue: TensorLike | Dataset,
  yValue: TensorLike | undefined,
  args: ModelFitArgs,
  offThread = false,
): Promise<History> {
  const o = check.options('fit options', args);
  const later = Object.keys(o).find((k) => FIT_LATER.includes(k));
  if (later !== undefined)
    throw new GruError('ERR_GRU_ARG', `fit option ${later} is not available yet`);
  check.knownKeys('fit options', o, FIT_KEYS);
  const dataset = isDataset(xValue) ? xValue : null;
  if (dataset) {
    const notHere = DATASET_REFUSED.find(([k]) => o[k] !== undefined);
    if (notHere)
      throw new GruError(
        'ERR_GRU_ARG',
        `fit option ${notHere[0]} does not apply to a dataset: ${notHere[1]}`,
      );
  } else {
    const k = ['stepsPerEpoch', 'validationSteps'].find((key) => o[key] !== undefined);
    if (k !== undefined)
      throw new GruError(
        'ERR_GRU_ARG',
        `fit option ${k} applies to a dataset (x an iterable of batches)`,
      );
  }
  const epochs = o.epochs === undefined ? 1 : check.positiveInt('epochs', o.epochs, 2 ** 31 - 1);
  const initialEpoch =
    o.initialEpoch === undefined ? 0 : check.uint32('initialEpoch', o.initialEpoch);
  const batchSize = batchSizeOption(o.batchSize);
  const shuffle = check.boolean('shuffle', o.shuffle, true);
  const stepsPerEpoch =
    o.stepsPerEpoch === undefined
      ? null
      : check.positiveInt('stepsPerEpoch', o.stepsPerEpoch, 2 ** 31 - 1);
  const validationSteps =
    o.validationSteps === undefined
      ? null
      : check.positiveInt('validationSteps', o.validationSteps, 2 ** 31 - 1);
  const verbose = o.verbose === undefined ? 1 : o.verbose;
  if (verbose !== 0 && verbose !== 1 && verbose !== 2)
    throw new GruError('ERR_GRU_ARG', `verbose must be 0, 1 or 2, got ${check.describe(verbose)}`);
  const callbacks = callbacksOption(o.callbacks);
  const split =
    o.validationSplit === undefined
      ? 0
      : check.finiteNumber('validationSplit', o.validationSplit, { min: 0, max: 1, maxOpen: true });

  const c = model._training();
  model._checkTrainable();
  let val: Samples | Dataset | null = null;
  if (o.validationData !== undefined) {
    const v = o.validationData;
    if (isDataset(v)) {
      val = v;
    } else {
      if (!check.isArray(v) || v.length < 2 || v.length > 3) {
        throw new GruError(
          'ERR_GRU_ARG',
          `validationData must be [x, y], [x, y, sampleWeight] or a dataset (an iterable of batches), got ${check.describe(v)}`,
        );
      }
      const names = [0, 1, 2].map((i) => `validationData[${i}]`) as [string, string, string];
      val = c.prepare(v[0], v[1], v[2], names);
    }
  } else if (validationSteps !== null) {
    throw new GruError('ERR_GRU_ARG', 'validationSteps needs validationData (a dataset)');
  }
  let source: BatchSource;
  if (dataset) {
    source = datasetSource(c, dataset, stepsPerEpoch, o.classWeight);
  } else {
    let train = c.prepare(xValue, yValue, o.sampleWeight, ['x', 'y', 'sampleWeight']);
    if (o.validationData === undefined && split > 0) {
      // Keras: the last samples, before any shuffling.
      const n = train.x.shape[0]!;
      const at = Math.floor(n * (1 - split));
      if (at === 0 || at === n) {
        throw new GruError(
          'ERR_GRU_ARG',
          `validationSplit ${split} of ${n} samples leaves ${at === 0 ? 'no training' : 'no validation'} samples`,
        );
      }
      val = sliceSamples(train, at, n);
      train = sliceSamples(train, 0, at);
    }
    if (o.classWeight !== undefined) train.w = c.classWeights(o.classWeight, train);
    c.track(train); // a metric that cannot read these targets: refused before any step
    source = arraySource(train, batchSize, shuffle, () => seed);
  }
  const validate = async (): Promise<Logs> => {
    if (val === null) return {};
    if (isDataset(val)) return evaluateDataset(c, val, validationSteps, offThread);
    return offThread ? c.evaluateAsync(val, batchSize) : c.evaluate(val, batchSize);
  };

  const seed0 = model._beginFit();
  const seed = o.seed === undefined ? seed0 : check.uint32('seed', o.seed);
  const history: History = { epoch: [], history: { loss: [] } };
  const bar = progress(verbose);
  const pause = yielder();
  const call = async <K extends keyof CustomCallbackArgs>(
    k: K,
    ...a: Parameters<NonNullable<CustomCallbackArgs[K]>>
  ): Promise<void> => {
    for (const cb of callbacks) {
      const hook = (cb as CustomCallbackArgs)[k] as ((...b: typeof a) => unknown) | undefined;
      await hook?.call(cb, ...a);
    }
  };
  try {
    for (const cb of callbacks) if (BuiltinCallback._is(cb)) cb._bind(model);
    await call('onTrainBegin', {});
    for (let epoch = initialEpoch; epoch < epochs && !model.stopTraining; epoch++) {
      await call('onEpochBegin', epoch, {});
      bar.epochBegin(epoch, epochs, source.steps ?? 0);
      let metrics: TrackedMetric[] | null = null;
      let sum = 0;
      let seen = 0;
      let b = 0;
      const batchesOfEpoch = source.epoch(epoch);
      for await (const batch of batchesOfEpoch) {
        const size = batch.x.shape[0]!;
        await call('onBatchBegin', b, { batch: b, size });
        metrics ??= c.track(batch);
        const loss = offThread
          ? await c.trainStepAsync(batch, metrics)
          : c.trainStep(batch, metrics);
        sum += loss * size;
        seen += size;
        const logs = { batch: b, size, loss: sum / seen, ...metricLogs(metrics) };
        bar.batchEnd(b, logs);
        await call('onBatchEnd', b, logs);
        await pause();
        b++;
        if (model.stopTraining) break;
      }
      if (seen === 0) {
        // Stopped before any batch, or the data ran out.
        if (source.ranOut) warnRanOut(epoch, epochs, history.epoch.length === 0);
        break;
      }
      const logs: Logs = { loss: sum / seen, ...metricLogs(metrics!) };
      for (const [k, value] of Object.entries(await validate())) logs[`val_${k}`] = value;
      await call('onEpochEnd', epoch, logs);
      history.epoch.push(epoch);
      for (const [k, v] of Object.entries(logs)) (history.history[k] ??= []).push(v);
      bar.epochEnd(logs);
      if (source.ranOut) {
        warnRanOut(epoch, epochs, false);
        break;
      }
    }
    await call('onTrainEnd', {});
  } finally {
    bar.close();
    model._endFit();
  }
  return history;
}

/** x and y in memory, in batches, reordered each epoch by a seeded shuffle. */
function arraySource(
  train: Samples,
  batchSize: number,
  shuffle: boolean,
  seed: () => number,
): BatchSource {
  const n = train.x.shape[0]!;
  const steps = batches(n, batchSize);
  return {
    steps: steps.length,
    ranOut: false,
    async *epoch(epoch) {
      const order = shuffle ? permutation(n, deriveSeed(seed(), epoch)) : null;
      for (const [start, end] of steps)
        yield order ? gatherSamples(train, order, start, end) : sliceSamples(train, start, end);
    },
  };
}

/** Keras's warning when a dataset ends before epochs x stepsPerEpoch batches. */
function warnRanOut(epoch: number, epochs: number, nothing: boolean): void {
  if (nothing) {
    throw new GruError(
      'ERR_GRU_ARG',
      `the dataset gave no batch in epoch ${epoch}: it must yield { xs, ys } or [x, y] batches (a generator object is used up after one pass: give stepsPerEpoch, or an iterable that restarts)`,
    );
  }
  console.warn(
    `fit: the dataset ran out of data in epoch ${epoch} of ${epochs}; training stops (give an iterable that restarts each epoch, or stepsPerEpoch x epochs batches)`,
  );
}
