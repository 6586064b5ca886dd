/**
 * What compile() makes of a model: its loss, metrics and optimizer (names.ts), and the steps that
 * use them on the model's layers: data checked against the model (x, y, sample and class
 * weights), a training step, evaluation in batches. Every number comes from the core: the
 * layers' forward and backward, the loss (with the sample weights), the metrics and the
 * optimizer step.
 *
 * Keras 3's conventions: the loss of several batches is the mean of the batch losses weighted by
 * batch size (its loss tracker); metrics accumulate over every batch since they were made (one
 * set per epoch, per evaluate(), per trainOnBatch()) and are not weighted by sample or class
 * weights (Keras 3's `metrics`, as opposed to its `weighted_metrics`, which are not offered).
 */
import type { Backend } from '../backends/backend.js';
import { GruError } from '../errors.js';
import type { Layer } from '../layer.js';
import type { Metric } from '../metrics.js';
import { batches, sameSamples, sliceSamples, type Samples } from './data.js';
import type { Loss, ModelMetric } from './names.js';
import type { KerasOptimizer, MakeOptimizer } from './optimizers.js';
import { toTensor, type Tensor } from './tensor.js';
import { maskedLossWeights, maskedMetricWeights, type Mask } from './mask.js';
import { classWeightTensor, sampleWeightTensor } from './weights.js';
import { withStepArrays } from '../step-arrays.js';

export type Logs = Record<string, number>;

/** What the steps need of a model (Sequential gives it; nothing here knows its layers). */
export interface Network {
  readonly backend: Backend;
  /** x as the model's input tensor (the model is built from it if need be). */
  inputTensor(name: string, x: unknown): Tensor;
  /** The per-sample output shape for x: a free number of steps (null) takes x's. */
  outputFor(x: Tensor): number[];
  /** The output, and its mask when a masked sequence reaches it ([batch, steps]). */
  forward(x: Tensor, train: boolean): Tensor & { mask?: Mask };
  /** d loss / d output of the last training forward, back through every layer. */
  backward(grad: Float32Array): void;
  /** forward() and backward() with the layers' async calls (ModelLayer._forwardAsync). */
  forwardAsync(x: Tensor, train: boolean): Promise<Tensor & { mask?: Mask }>;
  backwardAsync(grad: Float32Array): Promise<void>;
  /** After each optimizer step (layers keeping a parameter at a fixed value). */
  afterStep(): void;
  trainables(): Layer[];
  /** Parameters of trainables() that Keras does not have (left out of gradient clipping). */
  notInKeras(): [Layer, string][];
}

/**
 * The loss's and the metrics' sample weights for an output with this mask (Keras's apply_mask:
 * the loss's mean is over the steps that count; metrics weigh each step by its mask), or the
 * sample weights alone (and none for the metrics) without a mask.
 */
function weightsFor(
  mask: Mask | undefined,
  w: Float32Array | null,
): { loss: Float32Array | null; metric: Float32Array | null } {
  if (!mask) return { loss: w, metric: null };
  return { loss: maskedLossWeights(mask, w), metric: maskedMetricWeights(mask, null) };
}

/** A metric being accumulated, under its name in logs. */
export interface TrackedMetric {
  name: string;
  metric: Metric;
}

/** Each metric's result under its name. */
export function metricLogs(metrics: readonly TrackedMetric[]): Logs {
  return Object.fromEntries(metrics.map((m) => [m.name, m.metric.result()]));
}

export class Compiled {
  readonly #net: Network;
  readonly loss: Loss;
  readonly metrics: readonly ModelMetric[];
  readonly #create: MakeOptimizer;
  #optimizer: KerasOptimizer | null = null;
  #grad: Float32Array | null = null;

  constructor(net: Network, loss: Loss, metrics: readonly ModelMetric[], create: MakeOptimizer) {
    this.#net = net;
    this.loss = loss;
    this.metrics = metrics;
    this.#create = create;
  }

  /** Keras's metrics_names: 'loss', then each metric in compile()'s order. */
  get metricsNames(): string[] {
    return ['loss', ...this.metrics.map((m) => m.name)];
  }

  /** Logs as Keras returns them without return_dict: the loss alone, or [loss, ...metrics]. */
  flatten(logs: Logs): number | number[] {
    const values = this.metricsNames.map((n) => logs[n]!);
    return values.length === 1 ? values[0]! : values;
  }

  /** x, y and the sample weights w (if given) checked against the model and the loss. */
  prepare(x: unknown, y: unknown, w: unknown, names: [string, string, string]): Samples {
    const xs = this.#net.inputTensor(names[0], x);
    const ys = toTensor(names[1], y, this.loss.targets);
    sameSamples(xs, ys, names[0], names[1]);
    const output = this.#net.outputFor(xs);
    this.loss.checkTargets(output, ys.shape.slice(1));
    const ws = w === undefined ? null : sampleWeightTensor(names[2], w, xs.shape[0]!, output);
    return { x: xs, y: ys, w: ws };
  }

  /** classWeight as sample weights for the samples (Keras 3's rule: weights.ts). */
  classWeights(value: unknown, data: Samples): Tensor {
    if (data.w !== null) {
      throw new GruError(
        'ERR_GRU_ARG',
        'give classWeight or sampleWeight, not both (as Keras: class weights become sample weights)',
      );
    }
    return classWeightTensor(value, data.y, this.#net.outputFor(data.x));
  }

  /** Fresh (zeroed) core metrics for targets like data's, in compile()'s order. */
  track(data: Samples): TrackedMetric[] {
    const output = this.#net.outputFor(data.x);
    const y = data.y.shape.slice(1);
    return this.metrics.map((m) => ({
      name: m.name,
      metric: m.make(this.#net.backend, output, y, this.loss.targets),
    }));
  }

  /**
   * The loss and metrics over the samples, in batches (no dropout, no gradient); `metrics` to
   * accumulate into (default: fresh ones).
   */
  evaluate(data: Samples, batchSize: number, metrics = this.track(data)): Logs {
    const net = this.#net;
    let sum = 0;
    const n = data.x.shape[0]!;
    for (const [start, end] of batches(n, batchSize)) {
      const b = sliceSamples(data, start, end);
      const out = net.forward(b.x, false);
      const pred = out.data as Float32Array;
      const { loss: w, metric: mw } = weightsFor(
        out.mask,
        (b.w?.data ?? null) as Float32Array | null,
      );
      sum += this.loss.compute(net.backend, pred, out.shape, b.y.data, w, null) * (end - start);
      for (const m of metrics) m.metric.update(b.y.data, pred, { sampleWeight: mw });
    }
    return { loss: sum / n, ...metricLogs(metrics) };
  }

  /** The optimizer, made on first use (the model must be built by then). */
  optimizer(): KerasOptimizer {
    return (this.#optimizer ??= this.#makeOptimizer());
  }

  /** The optimizer if a step (or a restored state) has made it, else null. */
  optimizerIfMade(): KerasOptimizer | null {
    return this.#optimizer;
  }

  /** 'min' or 'max' for a value fit() logs ('loss', 'val_<metric>'), null for others. */
  monitorMode(name: string): 'min' | 'max' | null {
    const base = name.startsWith('val_') ? name.slice(4) : name;
    if (base === 'loss') return 'min';
    return this.metrics.find((m) => m.name === base)?.direction ?? null;
  }

  /** evaluate() with the kernel calls on the addon's worker threads (native); same numbers. */
  async evaluateAsync(data: Samples, batchSize: number, metrics = this.track(data)): Promise<Logs> {
    const net = this.#net;
    let sum = 0;
    const n = data.x.shape[0]!;
    for (const [start, end] of batches(n, batchSize)) {
      const b = sliceSamples(data, start, end);
      const out = await net.forwardAsync(b.x, false);
      const pred = out.data as Float32Array;
      const { loss: w, metric: mw } = weightsFor(
        out.mask,
        (b.w?.data ?? null) as Float32Array | null,
      );
      sum += (await this.#lossAsync(pred, out.shape, b.y.data, w, null)) * (end - start);
      for (const m of metrics) m.metric.update(b.y.data, pred, { sampleWeight: mw });
    }
    return { loss: sum / n, ...metricLogs(metrics) };
  }

  /** trainStep() with the kernel calls on the addon's worker threads (native); same numbers. */
  trainStepAsync(batch: Samples, metrics: readonly TrackedMetric[]): Promise<number> {
    return withStepArrays(this.#net.trainables(), () => this.#trainStepAsync(batch, metrics));
  }

  async #trainStepAsync(batch: Samples, metrics: readonly TrackedMetric[]): Promise<number> {
    const net = this.#net;
    const optimizer = this.optimizer();
    optimizer.zeroGrad();
    const out = await net.forwardAsync(batch.x, true);
    const pred = out.data as Float32Array;
    const grad = this.#lossGradient(pred.length);
    const { loss: w, metric: mw } = weightsFor(
      out.mask,
      (batch.w?.data ?? null) as Float32Array | null,
    );
    const value = await this.#lossAsync(pred, out.shape, batch.y.data, w, grad);
    for (const m of metrics) m.metric.update(batch.y.data, pred, { sampleWeight: mw });
    await net.backwardAsync(grad);
    await optimizer.kerasStepAsync();
    net.afterStep();
    return value;
  }

  #lossAsync(
    pred: Float32Array,
    shape: readonly number[],
    y: Float32Array | Int32Array,
    w: Float32Array | null,
    grad: Float32Array | null,
  ): Promise<number> {
    const backend = this.#net.backend;
    if (this.loss.computeAsync) return this.loss.computeAsync(backend, pred, shape, y, w, grad);
    return Promise.resolve(this.loss.compute(backend, pred, shape, y, w, grad));
  }

  /** One optimizer step on a batch; returns its loss (before the step); updates the metrics. */
  trainStep(batch: Samples, metrics: readonly TrackedMetric[]): number {
    return withStepArrays(this.#net.trainables(), () => this.#trainStep(batch, metrics));
  }

  #trainStep(batch: Samples, metrics: readonly TrackedMetric[]): number {
    const net = this.#net;
    const optimizer = this.optimizer();
    optimizer.zeroGrad();
    const out = net.forward(batch.x, true);
    const pred = out.data as Float32Array;
    const grad = this.#lossGradient(pred.length);
    const { loss: w, metric: mw } = weightsFor(
      out.mask,
      (batch.w?.data ?? null) as Float32Array | null,
    );
    const value = this.loss.compute(net.backend, pred, out.shape, batch.y.data, w, grad);
    for (const m of metrics) m.metric.update(batch.y.data, pred, { sampleWeight: mw });
    net.backward(grad);
    optimizer.kerasStep();
    net.afterStep();
    return value;
  }

  /** The loss's gradient array, reused from step to step like the layers' (step-arrays.ts). */
  #lossGradient(length: number): Float32Array {
    if (this.#grad === null || this.#grad.length !== length) this.#grad = new Float32Array(length);
    return this.#grad;
  }

  #makeOptimizer(): KerasOptimizer {
    const trainables = this.#net.trainables();
    if (trainables.length === 0)
      throw new GruError('ERR_GRU_STATE', 'the model has no parameters to train');
    // The core numbers the optimizer's tensors layer by layer, each in its parameter order.
    const skip: number[] = [];
    let first = 0;
    for (const layer of trainables) {
      const names = layer.parameterNames();
      for (const [owner, name] of this.#net.notInKeras())
        if (owner === layer) skip.push(first + names.indexOf(name));
      first += names.length;
    }
    return this.#create(trainables, Int32Array.from(skip));
  }

  dispose(): void {
    this.#optimizer?.dispose();
    this.#optimizer = null;
  }
}
