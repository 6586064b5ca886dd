/**
 * The `metrics` namespace of the model API: metrics with options for compile(), as Keras's
 * metric objects (keras.metrics.AUC(curve='PR', name='pr_auc')). Each checks its options and
 * returns a MetricConfig (names.ts); the metric itself is the core's (ts/metrics.ts).
 */
import { GruError } from '../errors.js';
import { parseMetricOptions, type MetricName } from '../metrics.js';
import * as check from '../validate.js';
import type { MetricConfig } from './names.js';

export type { MetricConfig } from './names.js';

/** Options of auc() (Keras's AUC arguments, camelCase); `name` is its key in logs ('auc'). */
export type AucArgs = Omit<MetricConfig, 'metric' | 'threshold'>;

/** Options of the thresholded metrics: a prediction above threshold is positive (0.5). */
export type ThresholdArgs = Pick<MetricConfig, 'name' | 'threshold'>;

function config(metric: MetricName, args: unknown): MetricConfig {
  const { name, ...options } = check.options(`metrics.${metric} options`, args);
  if (name !== undefined && (typeof name !== 'string' || name === ''))
    throw new GruError(
      'ERR_GRU_ARG',
      `name must be a non-empty string, got ${check.describe(name)}`,
    );
  parseMetricOptions(metric, options, false);
  return { ...options, ...(name === undefined ? {} : { name }), metric };
}

/** Keras's AUC: numThresholds 200, curve 'ROC' | 'PR', summationMethod 'interpolation'. */
export function auc(args: AucArgs = {}): MetricConfig {
  return config('auc', args);
}

/** Keras's Precision, tp / (tp + fp). */
export function precision(args: ThresholdArgs = {}): MetricConfig {
  return config('precision', args);
}

/** Keras's Recall, tp / (tp + fn). */
export function recall(args: ThresholdArgs = {}): MetricConfig {
  return config('recall', args);
}

/** Keras's BinaryAccuracy: y == (prediction > threshold). */
export function binaryAccuracy(args: ThresholdArgs = {}): MetricConfig {
  return config('binaryAccuracy', args);
}
