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
 *   auc                        Keras's AUC (multiLabel false): confusion counts at numThresholds
 *                              evenly spaced thresholds, accumulated by the core (in float32, as
 *                              Keras's variables), and the area under the ROC or PR curve
 *                              (gru_metric_auc_update, gru_metric_auc_result)
 * An accuracy or mean is sum(w v) / sum(w); like Keras, a metric with nothing counted is 0.
 */
import {
  GRU_AUC_INTERPOLATION,
  GRU_AUC_MAJORING,
  GRU_AUC_MINORING,
  GRU_AUC_PR,
  GRU_AUC_ROC,
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
  | 'meanSquaredError'
  | 'auc';

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
  'auc',
];
const CURVES: Record<string, number> = { ROC: GRU_AUC_ROC, PR: GRU_AUC_PR };
const SUMMATIONS: Record<string, number> = {
  interpolation: GRU_AUC_INTERPOLATION,
  minoring: GRU_AUC_MINORING,
  majoring: GRU_AUC_MAJORING,
};
/** AUC options of Keras's with no counterpart: refused with the reason. */
const AUC_PENDING: Record<string, string> = {
  multiLabel: 'multiLabel true (one curve per label) is not available yet: leave it false',
  numLabels: 'numLabels goes with multiLabel, which is not available yet',
  labelWeights: 'labelWeights goes with multiLabel, which is not available yet',
  thresholds: 'explicit thresholds are not available yet: give numThresholds (evenly spaced)',
};

export interface MetricOptions {
  /** binaryAccuracy, precision, recall: a prediction above it is positive (default 0.5). */
  threshold?: number;
  /** categoricalAccuracy, sparseCategoricalAccuracy: classes per row of yPred. */
  classes?: number;
  /** auc: thresholds, evenly spaced over [0, 1] (default 200, as Keras; at least 2). */
  numThresholds?: number;
  /** auc: 'ROC' (default) or 'PR' (precision against recall), as Keras's curve. */
  curve?: 'ROC' | 'PR';
  /** auc: how the area between thresholds is summed (Keras's summation_method). */
  summationMethod?: 'interpolation' | 'minoring' | 'majoring';
  /** auc: yPred holds logits (a sigmoid is applied first), as Keras's from_logits. */
  fromLogits?: boolean;
  /** auc: false only (Keras's default); true is not available yet. */
  multiLabel?: boolean;
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
  /**
   * The sums so far: [total, count], or precision / recall's [tp, fp, tn, fn]; for auc the
   * counts at each threshold [tp[T], fp[T], tn[T], fn[T]] (float32, kept by the core).
   */
  readonly sums: Float64Array | Float32Array;
  /** auc: its thresholds, curve and summation (the core's GRU_AUC_* values); else null. */
  readonly auc: {
    numThresholds: number;
    curve: number;
    summation: number;
    fromLogits: boolean;
  } | null;
  readonly #batch: Float32Array;

  constructor(name: MetricName, options: MetricOptions = {}) {
    const o = check.options('metric options', options);
    const parsed = parseMetricOptions(name, o, true);
    this.name = name;
    this.threshold = parsed.threshold;
    this.classes = parsed.classes;
    this.backend = check.backendOption(o.backend, currentBackend);
    const confusion = name === 'precision' || name === 'recall';
    this.auc = parsed.auc;
    this.sums = this.auc
      ? new Float32Array(4 * this.auc.numThresholds)
      : new Float64Array(confusion ? 4 : 2);
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
      // An Int32Array (by its slot: a Proxy of one is not) goes to the core as it is (the core
      // checks each label: ERR_GRU_RANGE).
      const t =
        check.typedArrayKind(yTrue) === 'Int32Array'
          ? (yTrue as Int32Array)
          : check.int32Indices('yTrue', yTrue, 0, C);
      if (t.length !== rows) {
        throw new GruError(
          'ERR_GRU_SHAPE',
          `yTrue must have one class index per row of yPred (${rows}), got ${t.length}`,
        );
      }
      this.backend.metricSparseAccuracy(C, pred, t, weight, out);
    } else {
      const t = check.float32ArrayOfLength('yTrue', yTrue, pred.length, 'the length of yPred');
      const auc = this.auc;
      if (auc) {
        // The core adds this batch's counts into sums (in and out: one buffer).
        const sums = this.sums as Float32Array;
        this.backend.metricAucUpdate(
          auc.numThresholds,
          +auc.fromLogits,
          pred,
          t,
          weight,
          sums,
          sums,
        );
        return;
      }
      const kind = MEAN_KINDS[this.name];
      if (kind === undefined) this.backend.metricConfusion(this.threshold, pred, t, weight, out);
      else this.backend.metricMean(kind, C, this.threshold, pred, t, weight, out);
    }
    for (let i = 0; i < out.length; i++) this.sums[i] += out[i];
  }

  /** The metric over every batch since the last reset (0 when nothing was counted). */
  result(): number {
    const s = this.sums;
    if (this.auc)
      return this.backend.metricAucResult(this.auc.curve, this.auc.summation, s as Float32Array);
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

/**
 * @internal A metric's options checked (ERR_GRU_ARG naming the one that is wrong), the backend
 * and classes (`full`: a Metric's own; the model API gives them itself) aside.
 */
export function parseMetricOptions(
  name: unknown,
  o: Record<string, unknown>,
  full: boolean,
): { threshold: number; classes: number; auc: Metric['auc'] } {
  if (!NAMES.includes(name as MetricName)) {
    throw new GruError(
      'ERR_GRU_ARG',
      `metric must be one of ${NAMES.join(', ')}, got ${check.describe(name)}`,
    );
  }
  const n = name as MetricName;
  const keys = full ? ['backend', ...(usesClasses(n) ? ['classes'] : [])] : [];
  if (usesThreshold(n)) keys.push('threshold');
  if (n === 'auc') {
    keys.push('numThresholds', 'curve', 'summationMethod', 'fromLogits', 'multiLabel');
    for (const [k, why] of Object.entries(AUC_PENDING)) {
      if (o[k] !== undefined && !(k === 'multiLabel' && o[k] === false))
        throw new GruError('ERR_GRU_ARG', `auc options: ${why}`);
    }
  }
  check.knownKeys(`${n} options`, o, keys);
  return {
    threshold:
      o.threshold === undefined
        ? 0.5
        : check.finiteNumber('threshold', o.threshold, { min: -check.FLT_MAX, max: check.FLT_MAX }),
    classes: full && usesClasses(n) ? check.positiveInt('classes', o.classes) : 1,
    auc: n === 'auc' ? aucOptions(o) : null,
  };
}

/** auc's options (Keras's defaults), as the core's numbers. */
function aucOptions(o: Record<string, unknown>): NonNullable<Metric['auc']> {
  const numThresholds =
    o.numThresholds === undefined
      ? 200
      : check.positiveInt('numThresholds', o.numThresholds, 1 << 20);
  if (numThresholds < 2)
    throw new GruError('ERR_GRU_ARG', `numThresholds must be an integer > 1, got ${numThresholds}`);
  const pick = (k: string, table: Record<string, number>, d: string): number => {
    const v = o[k] === undefined ? d : o[k];
    const found = typeof v === 'string' ? table[v] : undefined;
    if (found === undefined || !Object.hasOwn(table, v as string)) {
      throw new GruError(
        'ERR_GRU_ARG',
        `${k} must be one of ${Object.keys(table)
          .map((n) => `'${n}'`)
          .join(', ')}, got ${check.describe(v)}`,
      );
    }
    return found;
  };
  return {
    numThresholds,
    curve: pick('curve', CURVES, 'ROC'),
    summation: pick('summationMethod', SUMMATIONS, 'interpolation'),
    fromLogits: check.boolean('fromLogits', o.fromLogits, false),
  };
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
