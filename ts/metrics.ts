/**
 * Keras 3's metrics, computed by a backend (gru_metric_* in native/include/gru_simd.h). The core
 * returns one batch's sums; a Metric adds them up in float64 over batches (Keras's
 * update_state / result / reset_state), and the functions below compute one batch's value.
 * Arguments (yTrue, yPred) as Keras and tfjs. Sample weights as the Keras losses'
 * (ts/losses.ts): W entries, W dividing the rows (the elements, for the element-wise metrics),
 * entry i weighing the i-th block.
 *   binaryAccuracy             per element: yTrue == (yPred > threshold ? 1 : 0)
 *   categoricalAccuracy        per row: argmax yTrue == argmax yPred (first index on ties)
 *   sparseCategoricalAccuracy  per row: yTrue == argmax yPred
 *   precision, recall          tp / (tp + fp), tp / (tp + fn): yPred > threshold is a positive
 *                              prediction, yTrue != 0 a positive (Keras's Precision, Recall)
 *   meanAbsoluteError, meanSquaredError   per element |e|, e^2
 * An accuracy or mean is sum(w v) / sum(w); like Keras, a metric with nothing counted is 0.
 */
import {
  GRU_METRIC_BINARY_ACCURACY,
  GRU_METRIC_CATEGORICAL_ACCURACY,
  GRU_METRIC_MAE,
  GRU_METRIC_MSE,
} from './backends/abi.generated.js';
import type { Backend } from './backends/backend.js';
import { GruError } from './errors.js';
import { currentBackend } from './loader.js';
import * as check from './validate.js';

export type MetricName =
  | 'binaryAccuracy'
  | 'categoricalAccuracy'
  | 'sparseCategoricalAccuracy'
  | 'precision'
  | 'recall'
  | 'meanAbsoluteError'
  | 'meanSquaredError';

const MEAN_KINDS: Partial<Record<MetricName, number>> = {
  binaryAccuracy: GRU_METRIC_BINARY_ACCURACY,
  categoricalAccuracy: GRU_METRIC_CATEGORICAL_ACCURACY,
  meanAbsoluteError: GRU_METRIC_MAE,
  meanSquaredError: GRU_METRIC_MSE,
};
const NAMES: readonly MetricName[] = [
  ...(Object.keys(MEAN_KINDS) as MetricName[]),
  'sparseCategoricalAccuracy',
  'precision',
  'recall',
];

export interface MetricOptions {
  /** binaryAccuracy, precision, recall: a prediction above it is positive (default 0.5). */
  threshold?: number;
  /** categoricalAccuracy, sparseCategoricalAccuracy: classes per row of yPred. */
  classes?: number;
  /** Backend that computes; default: the one chosen by init(). */
  backend?: Backend;
}

export interface MetricUpdateOptions {
  /** Keras's sample_weight (see above); default: all 1. */
  sampleWeight?: Float32Array | null;
}

const usesClasses = (n: MetricName) =>
  n === 'categoricalAccuracy' || n === 'sparseCategoricalAccuracy';
const usesThreshold = (n: MetricName) =>
  n === 'binaryAccuracy' || n === 'precision' || n === 'recall';

/** A metric accumulated over batches: update() per batch, result(), reset(). */
export class Metric {
  readonly name: MetricName;
  readonly threshold: number;
  /** Classes per row (the categorical accuracies), else 1. */
  readonly classes: number;
  readonly backend: Backend;
  /** The sums so far: [total, count], or precision / recall's [tp, fp, tn, fn]. */
  readonly sums: Float64Array;
  readonly #batch: Float32Array;

  constructor(name: MetricName, options: MetricOptions = {}) {
    if (!NAMES.includes(name)) {
      throw new GruError(
        'ERR_GRU_ARG',
        `metric must be one of ${NAMES.join(', ')}, got ${check.describe(name)}`,
      );
    }
    const o = check.options('metric options', options);
    const keys = ['backend', ...(usesClasses(name) ? ['classes'] : [])];
    if (usesThreshold(name)) keys.push('threshold');
    check.knownKeys(`${name} options`, o, keys);
    this.name = name;
    this.threshold =
      o.threshold === undefined
        ? 0.5
        : check.finiteNumber('threshold', o.threshold, { min: -check.FLT_MAX, max: check.FLT_MAX });
    this.classes = usesClasses(name) ? check.positiveInt('classes', o.classes) : 1;
    this.backend = check.backendOption(o.backend, currentBackend);
    const confusion = name === 'precision' || name === 'recall';
    this.sums = new Float64Array(confusion ? 4 : 2);
    this.#batch = new Float32Array(confusion ? 4 : 2);
  }

  /** Adds one batch: yTrue [rows, classes] (sparse: [rows] class indices), yPred likewise. */
  update(
    yTrue: Float32Array | Int32Array | readonly number[],
    yPred: Float32Array,
    options: MetricUpdateOptions = {},
  ): void {
    const o = check.options('update options', options);
    check.knownKeys('update options', o, ['sampleWeight']);
    const pred = check.float32Array('yPred', yPred);
    if (pred.length === 0) throw new GruError('ERR_GRU_SHAPE', 'yPred must not be empty');
    const C = this.classes;
    if (pred.length % C !== 0) {
      throw new GruError(
        'ERR_GRU_SHAPE',
        `yPred must hold rows x classes (${C}) floats, a multiple of ${C}, got ${pred.length}`,
      );
    }
    const rows = pred.length / C;
    let weight: Float32Array | null = null;
    if (o.sampleWeight !== undefined && o.sampleWeight !== null) {
      weight = check.float32Array('sampleWeight', o.sampleWeight);
      if (weight.length === 0 || rows % weight.length !== 0) {
        throw new GruError(
          'ERR_GRU_SHAPE',
          `sampleWeight must have a number of entries that divides the ${rows} ${C > 1 ? 'rows' : 'elements'} of yPred (one per sample), got ${weight.length}`,
        );
      }
    }
    const out = this.#batch;
    if (this.name === 'sparseCategoricalAccuracy') {
      // An Int32Array goes to the core as it is (the core checks each label: ERR_GRU_RANGE).
      const t = yTrue instanceof Int32Array ? yTrue : check.int32Indices('yTrue', yTrue, 0, C);
      if (t.length !== rows) {
        throw new GruError(
          'ERR_GRU_SHAPE',
          `yTrue must have one class index per row of yPred (${rows}), got ${t.length}`,
        );
      }
      this.backend.metricSparseAccuracy(C, pred, t, weight, out);
    } else {
      const t = check.float32ArrayOfLength('yTrue', yTrue, pred.length, 'the length of yPred');
      const kind = MEAN_KINDS[this.name];
      if (kind === undefined) this.backend.metricConfusion(this.threshold, pred, t, weight, out);
      else this.backend.metricMean(kind, C, this.threshold, pred, t, weight, out);
    }
    for (let i = 0; i < out.length; i++) this.sums[i] += out[i];
  }

  /** The metric over every batch since the last reset (0 when nothing was counted). */
  result(): number {
    const s = this.sums;
    const [num, den] =
      this.name === 'precision'
        ? [s[0], s[0] + s[1]]
        : this.name === 'recall'
          ? [s[0], s[0] + s[3]]
          : [s[0], s[1]];
    return den === 0 ? 0 : num / den;
  }

  reset(): void {
    this.sums.fill(0);
  }
}

/** One batch's value of a metric (a Metric updated once). */
export function metric(
  name: MetricName,
  yTrue: Float32Array | Int32Array | readonly number[],
  yPred: Float32Array,
  options: MetricOptions & MetricUpdateOptions = {},
): number {
  const { sampleWeight, ...rest } = check.options('metric options', options) as MetricOptions &
    MetricUpdateOptions;
  const m = new Metric(name, rest);
  m.update(yTrue, yPred, { sampleWeight });
  return m.result();
}
