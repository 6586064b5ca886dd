/**
 * Sequential: Keras's (and tfjs's) stack of layers, each taking the previous one's output.
 * Built when the first layer has an inputShape (at construction or add) or from the first data
 * it sees; compile() names the optimizer, loss and metrics (names.ts, compiled.ts); fit()
 * (fit.ts), evaluate(), predict(), trainOnBatch() run every layer's forward and backward, the
 * loss, the metrics and the optimizer step in the core. Between layers only tensors' references
 * move; batches are row views or row copies (data.ts).
 *
 * evaluate() and trainOnBatch() return what tfjs's and Keras's return: the loss alone when
 * compiled without metrics, else [loss, ...metrics] in compile()'s order (evaluate's
 * returnDict: true gives { loss, [metric]: value }, Keras's return_dict).
 *
 * Over 400 lines: the model's public methods (each with its sync and async form) and the
 * internal hooks fit() and its callbacks use belong to one class.
 */
import type { Backend } from '../backends/backend.js';
import { deriveSeed } from '../dropout.js';
import { GruError } from '../errors.js';
import { parsePrecision, type GRUPrecision } from '../gru.js';
import { currentBackend } from '../loader.js';
import * as check from '../validate.js';
import { Compiled, metricLogs, type Logs, type Network } from './compiled.js';
import { batches, batchSizeOption, rowSize, sliceRows } from './data.js';
import { isDataset, type Dataset } from './dataset.js';
import { runFit, type FitTarget, type History, type ModelFitArgs } from './fit.js';
import { BidirectionalLayer } from './bidirectional.js';
import { GRULayer } from './gru.js';
import { checkPlace, ModelLayer } from './layer.js';
import type { Mask } from './mask.js';
import {
  resolveLoss,
  resolveMetrics,
  resolveOptimizer,
  type LossConfig,
  type MetricConfig,
  type OptimizerConfig,
} from './names.js';
import { loadWeightsFromBytes, modelToBytes, weightsToBytes } from './model-file.js';
import type { KerasOptimizer } from './optimizers.js';
import { readModelBytes, writeModelBytes, type ModelSource } from './storage.js';
import { summaryLines } from './summary.js';
import { formatShape, toTensor, type Shape, type Tensor, type TensorLike } from './tensor.js';

export interface SequentialArgs {
  layers?: ModelLayer[];
  /** Shown by summary() (default 'sequential'). */
  name?: string;
  /** Seed of every layer's initial parameters, dropout masks and fit()'s shuffles; random if omitted. */
  seed?: number;
  /** Backend of every layer; default: the one chosen by init(). */
  backend?: Backend;
}

export interface ModelCompileArgs {
  /** 'adam' | 'adamw' | 'sgd' with Keras's defaults, or { name, learningRate, ... }. */
  optimizer: OptimizerConfig;
  /** A name, or { name, fromLogits } (Keras's from_logits), { name: 'huber', delta }. */
  loss: LossConfig;
  /**
   * Names ('accuracy', 'mae', 'precision', 'auc', ...) or metrics with options
   * (metrics.auc({ curve: 'PR', name: 'pr_auc' })): each in fit()'s History and evaluate().
   */
  metrics?: MetricConfig | string | (MetricConfig | string)[];
}

export interface ModelEvaluateArgs {
  /** Samples per batch (default 32). */
  batchSize?: number;
  /** Keras's sample_weight: [samples], or [samples, steps] for an output per step. */
  sampleWeight?: TensorLike | Float32Array;
  /** Return { loss, [metric]: value } (Keras's return_dict) instead of a number or a list. */
  returnDict?: boolean;
}

export interface ModelTrainOnBatchArgs {
  /** Keras's sample_weight, as evaluate()'s. */
  sampleWeight?: TensorLike | Float32Array;
  /** Keras's class_weight, as fit()'s. */
  classWeight?: Record<number, number>;
}

export interface ModelSaveArgs {
  /**
   * Also write the optimizer's state (its moments, step count and learning rate), so that fit()
   * after loadModel() continues bitwise as if never interrupted (default true, as Keras).
   */
  includeOptimizer?: boolean;
}

const SEQUENTIAL_KEYS = ['layers', 'name', 'seed', 'backend'] as const;

export class Sequential implements FitTarget {
  readonly name: string;
  readonly backend: Backend;
  /** Set to true (in a callback) to stop fit() after the current batch, as in tfjs and Keras. */
  stopTraining = false;
  readonly #seed: number;
  readonly #layers: ModelLayer[] = [];
  /** Per-sample input shape once built. */
  #input: Shape | null = null;
  #compiled: Compiled | null = null;
  /** compile()'s arguments as plain data (a model file records them), or the reason they are not. */
  #compileArgs: unknown = null;
  #disposed = false;
  #fitting = false;
  #fits = 0;
  /** evaluateAsync() and predictAsync() calls in flight (dispose() waits for them). */
  #inFlight = 0;

  constructor(args: SequentialArgs | ModelLayer[] = {}) {
    const o = check.isArray(args) ? { layers: args } : check.options('Sequential options', args);
    check.knownKeys('Sequential options', o, SEQUENTIAL_KEYS);
    if (o.name !== undefined && (typeof o.name !== 'string' || o.name === ''))
      throw new GruError(
        'ERR_GRU_ARG',
        `name must be a non-empty string, got ${check.describe(o.name)}`,
      );
    this.name = (o.name as string | undefined) ?? 'sequential';
    this.#seed = check.seedOption(o.seed);
    this.backend = check.backendOption(o.backend, currentBackend);
    if (o.layers !== undefined && !check.isArray(o.layers)) {
      throw new GruError(
        'ERR_GRU_ARG',
        `layers must be an array of layers, got ${check.describe(o.layers)}`,
      );
    }
    // All or nothing: a layer refused (not a layer, or not fitting) leaves no layer built or
    // owned by this half-made model (their core objects would wait for the finalizer).
    try {
      for (const layer of (o.layers ?? []) as ModelLayer[]) this.add(layer);
    } catch (e) {
      for (const layer of this.#layers) {
        layer.dispose();
        layer._owner = null;
      }
      this.#layers.length = 0;
      throw e;
    }
  }

  get layers(): readonly ModelLayer[] {
    return [...this.#layers];
  }

  get built(): boolean {
    return this.#input !== null;
  }

  /** Keras's model.input_shape: (null, ...), the batch first. */
  get inputShape(): Shape {
    return [null, ...this.#shapes().input];
  }

  get outputShape(): Shape {
    return [null, ...this.#shapes().output];
  }

  /**
   * Appends a layer, built at once when the model is (or becomes) built: a layer whose input
   * does not fit is refused with its name, and not added.
   */
  add(layer: ModelLayer): void {
    this.#live();
    this.#idle('add()');
    if (!(layer instanceof ModelLayer)) {
      throw new GruError(
        'ERR_GRU_ARG',
        `add() takes a layer from layers (layers.gru(...), ...), got ${check.describe(layer)}`,
      );
    }
    if (layer._owner !== null)
      throw new GruError('ERR_GRU_ARG', `${layer.name} is already in a model`);
    const name = layer._nameFrom(new Set(this.#layers.map((l) => l.name)));
    if (this.#layers.some((l) => l.name === name)) {
      throw new GruError('ERR_GRU_ARG', `layer names must be unique in a model: ${name} is taken`);
    }
    const previous = this.built ? this.#shapes().output : null;
    this.#layers.push(layer);
    layer._owner = this;
    try {
      if (previous) this.#buildFrom(this.#layers.length - 1, previous);
      else if (this.#layers[0]!.inputShape) this.#buildFrom(0, this.#layers[0]!.inputShape);
    } catch (e) {
      this.#layers.pop();
      layer._owner = null;
      throw e;
    }
    this.#compiled?.dispose(); // the optimizer and loss were for the layers before
    this.#compiled = null;
    this.#compileArgs = null;
  }

  /** Builds for inputs of this shape, the batch first ([null, steps, features], as Keras's). */
  build(inputShape: Shape): void {
    this.#live();
    if (!check.isArray(inputShape) || inputShape.length < 2) {
      throw new GruError(
        'ERR_GRU_ARG',
        `inputShape must be [batch (null), ...sample shape], got ${check.describe(inputShape)}`,
      );
    }
    if (!this.built) this.#buildFrom(0, inputShape.slice(1));
  }

  /** Layers [from, end) built from `input`; all of them or none (what was made is freed). */
  #buildFrom(from: number, input: Shape): void {
    if (this.#layers.length === 0) throw new GruError('ERR_GRU_STATE', 'the model has no layers');
    let shape = [...input];
    try {
      for (let i = from; i < this.#layers.length; i++) {
        const layer = this.#layers[i]!;
        checkPlace(layer, this.#layers[i - 1], shape);
        shape = layer._build(shape, { backend: this.backend, seed: deriveSeed(this.#seed, i + 1) });
      }
    } catch (e) {
      for (let i = from; i < this.#layers.length; i++) this.#layers[i]!.dispose();
      throw e;
    }
    if (from === 0) this.#input = [...input];
  }

  #shapes(): { input: Shape; output: Shape } {
    if (this.#input === null) {
      throw new GruError(
        'ERR_GRU_STATE',
        'the model is not built yet: give the first layer an inputShape, call build(), or call fit() / predict() on data',
      );
    }
    return { input: this.#input, output: this.#layers[this.#layers.length - 1]!.outputShape };
  }

  /** Names the optimizer, the loss and the metrics. */
  compile(args: ModelCompileArgs): void {
    this.#live();
    this.#idle('compile()');
    const o = check.options('compile options', args);
    check.knownKeys('compile options', o, ['optimizer', 'loss', 'metrics']);
    if (this.#layers.length === 0)
      throw new GruError('ERR_GRU_STATE', 'add layers before compile()');
    if (o.optimizer === undefined)
      throw new GruError('ERR_GRU_ARG', 'compile() needs an optimizer');
    if (o.loss === undefined) throw new GruError('ERR_GRU_ARG', 'compile() needs a loss');
    const optimizer = resolveOptimizer(o.optimizer);
    const loss = resolveLoss(o.loss);
    const metrics = resolveMetrics(o.metrics);
    this.#compiled?.dispose();
    this.#compiled = new Compiled(this.#network(), loss, metrics, optimizer.create);
    this.#compileArgs = plainCompileArgs(o);
  }

  /** Keras's model.metrics_names: 'loss', then each compiled metric (empty before compile). */
  get metricsNames(): string[] {
    return this.#compiled?.metricsNames ?? [];
  }

  /**
   * Trains on x and y for some epochs; resolves to the History. See ModelFitArgs. fit(dataset,
   * args) trains on an (async) iterable of batches instead (tfjs's fitDataset, Keras's
   * fit(generator): ts/models/dataset.ts).
   */
  fit(x: TensorLike, y: TensorLike, args?: ModelFitArgs): Promise<History>;
  fit(dataset: Dataset, args?: ModelFitArgs): Promise<History>;
  fit(
    x: TensorLike | Dataset,
    y?: TensorLike | ModelFitArgs,
    args?: ModelFitArgs,
  ): Promise<History> {
    return this.#fit(x, y, args, false);
  }

  #fit(x: unknown, y: unknown, args: unknown, offThread: boolean): Promise<History> {
    if (isDataset(x)) {
      if (args !== undefined)
        return Promise.reject(
          new GruError('ERR_GRU_ARG', 'with a dataset, call fit(dataset, options): it holds y'),
        );
      // Options left out are undefined (the defaults); null is refused as any non-object.
      return runFit(this, x, undefined, y as ModelFitArgs, offThread);
    }
    return runFit(this, x as TensorLike, y as TensorLike, args as ModelFitArgs, offThread);
  }

  /**
   * fit() with each batch's kernel calls (GRU and Dense forward and backward, the loss, the
   * optimizer step) on the native addon's worker threads, so the event loop keeps turning
   * during a batch (a server goes on answering); the same numbers as fit(), bitwise. While it
   * runs, the model's layers are busy (ERR_GRU_BUSY to other calls on them). On wasm the calls
   * run on the calling thread, as fit()'s.
   */
  fitAsync(x: TensorLike, y: TensorLike, args?: ModelFitArgs): Promise<History>;
  fitAsync(dataset: Dataset, args?: ModelFitArgs): Promise<History>;
  fitAsync(
    x: TensorLike | Dataset,
    y?: TensorLike | ModelFitArgs,
    args?: ModelFitArgs,
  ): Promise<History> {
    return this.#fit(x, y, args, true);
  }

  /** evaluate() off the event loop, as fitAsync() is to fit(). */
  async evaluateAsync(
    x: TensorLike,
    y: TensorLike,
    args: ModelEvaluateArgs = {},
  ): Promise<number | number[] | Logs> {
    const o = check.options('evaluate options', args);
    check.knownKeys('evaluate options', o, ['batchSize', 'sampleWeight', 'returnDict']);
    const returnDict = check.boolean('returnDict', o.returnDict, false);
    const c = this._training();
    const data = c.prepare(x, y, o.sampleWeight, ['x', 'y', 'sampleWeight']);
    const logs = await this.#counted(() => c.evaluateAsync(data, batchSizeOption(o.batchSize)));
    return returnDict ? logs : c.flatten(logs);
  }

  async #counted<T>(body: () => Promise<T>): Promise<T> {
    this.#inFlight++;
    try {
      return await body();
    } finally {
      this.#inFlight--;
    }
  }

  /** predict() off the event loop, as fitAsync() is to fit(). */
  async predictAsync(x: TensorLike, args: { batchSize?: number } = {}): Promise<Tensor> {
    this.#live();
    const o = check.options('predict options', args);
    check.knownKeys('predict options', o, ['batchSize']);
    const input = this.#inputTensor('x', x);
    const n = input.shape[0]!;
    const batchSize = batchSizeOption(o.batchSize);
    return this.#counted(async () => {
      let out: Tensor | null = null;
      for (const [start, end] of batches(n, batchSize)) {
        const { data, shape } = await this.#forwardAsync(sliceRows(input, start, end), false);
        const h = { data, shape };
        if (end - start === n) return h;
        out ??= { data: new Float32Array(n * rowSize(h)), shape: [n, ...h.shape.slice(1)] };
        out.data.set(h.data, start * rowSize(h));
      }
      return out as Tensor;
    });
  }

  /**
   * The loss on x and y (no dropout, no gradient; with sampleWeight, Keras's weighted mean) and
   * the metrics: the loss alone without metrics, else [loss, ...metrics].
   */
  evaluate(x: TensorLike, y: TensorLike, args: ModelEvaluateArgs & { returnDict: true }): Logs;
  evaluate(x: TensorLike, y: TensorLike, args?: ModelEvaluateArgs): number | number[];
  evaluate(x: TensorLike, y: TensorLike, args: ModelEvaluateArgs = {}): number | number[] | Logs {
    const o = check.options('evaluate options', args);
    check.knownKeys('evaluate options', o, ['batchSize', 'sampleWeight', 'returnDict']);
    const returnDict = check.boolean('returnDict', o.returnDict, false);
    const c = this._training();
    const data = c.prepare(x, y, o.sampleWeight, ['x', 'y', 'sampleWeight']);
    const logs = c.evaluate(data, batchSizeOption(o.batchSize));
    return returnDict ? logs : c.flatten(logs);
  }

  /** The model's output for x, after the last layer's activation, [samples, ...output]. */
  predict(x: TensorLike, args: { batchSize?: number } = {}): Tensor {
    this.#live();
    const o = check.options('predict options', args);
    check.knownKeys('predict options', o, ['batchSize']);
    const input = this.#inputTensor('x', x);
    const n = input.shape[0]!;
    let out: Tensor | null = null;
    for (const [start, end] of batches(n, batchSizeOption(o.batchSize))) {
      const { data, shape } = this.#forward(sliceRows(input, start, end), false);
      const h = { data, shape };
      if (end - start === n) return h;
      out ??= { data: new Float32Array(n * rowSize(h)), shape: [n, ...h.shape.slice(1)] };
      out.data.set(h.data, start * rowSize(h));
    }
    return out as Tensor;
  }

  /**
   * One optimizer step on one batch; resolves to its loss (before the step), or [loss,
   * ...metrics] of this batch when compiled with metrics (as tfjs and Keras).
   */
  async trainOnBatch(
    x: TensorLike,
    y: TensorLike,
    args: ModelTrainOnBatchArgs = {},
  ): Promise<number | number[]> {
    const o = check.options('trainOnBatch options', args);
    check.knownKeys('trainOnBatch options', o, ['sampleWeight', 'classWeight']);
    const c = this._training();
    this._checkTrainable();
    const data = c.prepare(x, y, o.sampleWeight, ['x', 'y', 'sampleWeight']);
    if (o.classWeight !== undefined) data.w = c.classWeights(o.classWeight, data);
    const metrics = c.track(data);
    const loss = c.trainStep(data, metrics);
    return c.flatten({ loss, ...metricLogs(metrics) });
  }

  /** Prints (through printFn, one line per call; default console.log) the layers and counts. */
  summary(printFn: (line: string) => void = console.log): void {
    this.#live();
    if (typeof printFn !== 'function') {
      throw new GruError(
        'ERR_GRU_ARG',
        `printFn must be a function (one line per call), got ${check.describe(printFn)}`,
      );
    }
    this.#shapes();
    const rows = this.#layers.map((l) => ({
      name: l.name,
      className: l.className,
      outputShape: l.outputShape,
      params: l.countParams(),
    }));
    const fixed = this.#layers.reduce((n, l) => n + l.nonTrainableParams(), 0);
    for (const line of summaryLines(this.name, rows, this.countParams() - fixed, fixed))
      printFn(line);
  }

  /**
   * Keras's model.reset_states(): every stateful layer's next batch starts from zero states
   * (and may have another batch size). Allowed during fit() (from a callback, e.g. per epoch).
   */
  resetStates(): void {
    this.#live();
    for (const l of this.#layers) l._resetStates();
  }

  /**
   * How every recurrent layer (layers.gru, layers.bidirectional) stores the weights its forward
   * reads: 'bf16' or 'int8' for inference (half or a quarter of the bytes a batch-1 step
   * streams; GRUOptions.precision), 'fp32' to train again. Now on the built layers, and for
   * the ones built later; the fp32 weights stay the model's weights (saved, loaded, returned).
   * fit() and trainOnBatch() need 'fp32' (ERR_GRU_STATE). Model files record it per layer.
   */
  setPrecision(precision: GRUPrecision): void {
    this.#live();
    this.#idle('setPrecision()');
    const p = parsePrecision('precision', precision);
    if (this.#inFlight > 0)
      throw new GruError('ERR_GRU_BUSY', 'evaluateAsync() or predictAsync() is running: await it');
    for (const l of this.#layers)
      if (l instanceof GRULayer || l instanceof BidirectionalLayer) l._setPrecision(p);
  }

  /** ERR_GRU_STATE naming a recurrent layer whose weights are not fp32 (training needs them). */
  _checkTrainable(): void {
    for (const l of this.#layers) {
      if ((l instanceof GRULayer || l instanceof BidirectionalLayer) && l.precision !== 'fp32') {
        throw new GruError(
          'ERR_GRU_STATE',
          `training needs fp32 weights, and ${l.name}'s precision is '${l.precision}' (reduced precision is for inference): call setPrecision('fp32') first`,
        );
      }
    }
  }

  /** Parameters as Keras counts them, the non-trainable ones (moving statistics) included. */
  countParams(): number {
    this.#shapes();
    return this.#layers.reduce((n, l) => n + l.countParams(), 0);
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** Frees every layer's core objects and the optimizer. Idempotent; ERR_GRU_BUSY during fit(). */
  dispose(): void {
    if (this.#disposed) return;
    if (this.#fitting)
      throw new GruError('ERR_GRU_BUSY', 'fit() is running: set stopTraining = true and await it');
    if (this.#inFlight > 0)
      throw new GruError('ERR_GRU_BUSY', 'evaluateAsync() or predictAsync() is running: await it');
    this.#disposed = true;
    this.#compiled?.dispose();
    for (const layer of this.#layers) layer.dispose();
  }

  /** ERR_GRU_BUSY while fit() runs: its loss, metrics and optimizer must not change under it. */
  #idle(what: string): void {
    if (this.#fitting)
      throw new GruError('ERR_GRU_BUSY', `${what} while fit() runs: call it after fit() ends`);
  }

  #live(): void {
    if (this.#disposed) throw new GruError('ERR_GRU_DISPOSED', `${this.name} has been disposed`);
  }

  /** x as a tensor of the model's input (int32 ids for an Embedding), building the model from it. */
  #inputTensor(name: string, value: unknown): Tensor {
    if (this.#layers.length === 0) throw new GruError('ERR_GRU_STATE', 'the model has no layers');
    const first = this.#layers[0]!;
    const x = toTensor(name, value, first.takesIds ? 'int32' : 'float32');
    if (x.shape.length < 2) {
      throw new GruError(
        'ERR_GRU_SHAPE',
        `${name} must have the samples first and at least one more dimension, got shape [${x.shape.join(', ')}]`,
      );
    }
    if (!this.built) this.#buildFrom(0, x.shape.slice(1));
    const want = this.#shapes().input;
    const got = x.shape.slice(1);
    if (got.length !== want.length || want.some((d, i) => d !== null && d !== got[i])) {
      throw new GruError(
        'ERR_GRU_SHAPE',
        `${first.name} expects input of shape ${formatShape([null, ...want])}, got ${name} of shape ${formatShape(x.shape)}`,
      );
    }
    return x;
  }

  /** Every layer in turn; the mask of a masked sequence (mask.ts) travels beside the output. */
  #forward(x: Tensor, train: boolean): Tensor & { mask: Mask } {
    let h = x;
    let mask: Mask = null;
    for (const layer of this.#layers) ({ y: h, mask } = layer._forwardMasked(h, train, mask));
    return { data: h.data, shape: h.shape, mask };
  }

  async #forwardAsync(x: Tensor, train: boolean): Promise<Tensor & { mask: Mask }> {
    let h = x;
    let mask: Mask = null;
    for (const layer of [...this.#layers])
      ({ y: h, mask } = await layer._forwardMaskedAsync(h, train, mask));
    return { data: h.data, shape: h.shape, mask };
  }

  /** What compile()'s steps need of this model (compiled.ts). */
  #network(): Network {
    return {
      backend: this.backend,
      inputTensor: (name, x) => this.#inputTensor(name, x),
      // A free number of steps (null) takes x's: every layer keeps the steps where they are.
      outputFor: (x) => this.#shapes().output.map((d, i) => d ?? (x.shape[i + 1] as number)),
      forward: (x, train) => this.#forward(x, train),
      backward: (grad) => {
        let d: Float32Array | null = grad;
        for (let i = this.#layers.length - 1; i >= 0 && d !== null; i--)
          d = this.#layers[i]!.backward(d, i > 0);
      },
      forwardAsync: (x, train) => this.#forwardAsync(x, train),
      backwardAsync: async (grad) => {
        const list = [...this.#layers];
        let d: Float32Array | null = grad;
        for (let i = list.length - 1; i >= 0 && d !== null; i--)
          d = await list[i]!._backwardAsync(d, i > 0);
      },
      afterStep: () => {
        for (const layer of this.#layers) layer._afterStep();
      },
      trainables: () => this.#layers.flatMap((l) => l.trainables()),
      notInKeras: () => this.#layers.flatMap((l) => l._notInKeras()),
    };
  }

  /** @internal The compiled loss, metrics and optimizer (ERR_GRU_STATE before compile()). */
  _training(): Compiled {
    this.#live();
    if (this.#compiled === null) {
      throw new GruError(
        'ERR_GRU_STATE',
        'compile() the model first (with an optimizer and a loss), and again after adding layers',
      );
    }
    return this.#compiled;
  }

  /** @internal For monitoring callbacks: whether a logged value improves going down or up. */
  _monitorMode(name: string): 'min' | 'max' | null {
    return this._training().monitorMode(name);
  }

  /** @internal The optimizer's learning rate, as a float32 (Keras's variable). */
  _getLearningRate(): number {
    return Math.fround(this._training().optimizer().lr);
  }

  /** @internal Sets it (>= 0: a callback may drive it to 0). */
  _setLearningRate(value: number): void {
    const optimizer = this._training().optimizer();
    if (optimizer.scheduled) {
      // Keras refuses it too: the schedule would overwrite the rate at the next step.
      throw new GruError(
        'ERR_GRU_STATE',
        'the learning rate comes from a schedule given to compile(): a callback cannot set it (use a number as learningRate, or the schedule alone)',
      );
    }
    optimizer._setScheduledLr(value);
  }

  /** @internal Copies of every parameter (the core layers' state dicts), for restoring. */
  _saveWeights(): Record<string, Float32Array>[] {
    return this.#layers.flatMap((l) => l.trainables()).map((t) => t.stateDict());
  }

  /** @internal Puts back what _saveWeights() returned. */
  _loadWeights(saved: unknown): void {
    const dicts = saved as Record<string, Float32Array>[];
    this.#layers.flatMap((l) => l.trainables()).forEach((t, i) => t.loadStateDict(dicts[i]!));
  }

  /**
   * Writes the model to one safetensors file (ts/models/model-file.ts: the architecture, the
   * weights, the compile() settings and, with includeOptimizer (default true), the optimizer's
   * state, so that fit() resumes where it was). destination: a file path (Node; written
   * atomically), or 'indexeddb://name' (browsers). toBytes() gives the bytes themselves.
   */
  async save(destination: string, options: ModelSaveArgs = {}): Promise<void> {
    const bytes = this.toBytes(options);
    await writeModelBytes('destination', destination, bytes);
  }

  /** The bytes save() writes (a Uint8Array to keep, send or store elsewhere). */
  toBytes(options: ModelSaveArgs = {}): Uint8Array {
    this.#live();
    const o = check.options('save options', options);
    check.knownKeys('save options', o, ['includeOptimizer']);
    const includeOptimizer = check.boolean('includeOptimizer', o.includeOptimizer, true);
    return modelToBytes(this, includeOptimizer);
  }

  /** Writes the weights alone (Keras's save_weights), for loadWeights() into a model like this one. */
  async saveWeights(destination: string): Promise<void> {
    this.#live();
    await writeModelBytes('destination', destination, weightsToBytes(this));
  }

  /**
   * Loads weights that save() or saveWeights() wrote (a path, URL, 'indexeddb://name', or the
   * bytes) into this built model: every tensor must be there with its shape, and none else.
   * All or nothing.
   */
  async loadWeights(source: ModelSource): Promise<void> {
    this.#live();
    this.#idle('loadWeights()');
    const bytes = await readModelBytes('source', source);
    loadWeightsFromBytes(this, bytes);
  }

  /** @internal modelCheckpoint's save (callbacks.ts's CallbackModel). */
  _saveCheckpoint(path: string, weightsOnly: boolean): Promise<void> {
    return weightsOnly ? this.saveWeights(path) : this.save(path);
  }

  /** @internal What a model file records besides the layers: seeds, compile(), the optimizer. */
  _fileState(): {
    seed: number;
    input: Shape | null;
    fitCount: number;
    compileArgs: unknown;
    optimizer: KerasOptimizer | null;
  } {
    this.#live();
    return {
      seed: this.#seed,
      input: this.#input === null ? null : [...this.#input],
      // During fit() (a checkpoint), the fit() running: the loaded model's next fit() goes on
      // with its shuffles.
      fitCount: this.#fitting ? this.#fits - 1 : this.#fits,
      compileArgs: this.#compileArgs,
      optimizer: this.#compiled?.optimizerIfMade() ?? null,
    };
  }

  /** @internal A loaded model's count of fit() calls (the seed of the next one's shuffles). */
  _setFitCount(count: number): void {
    this.#fits = count;
  }

  /** @internal fit()'s guard and its shuffle seed. */
  _beginFit(): number {
    this.#live();
    if (this.#fitting) throw new GruError('ERR_GRU_BUSY', 'fit() is already running on this model');
    this.#fitting = true;
    this.stopTraining = false;
    return deriveSeed(this.#seed, 0x66697400 + this.#fits++);
  }

  /** @internal */
  _endFit(): void {
    this.#fitting = false;
  }
}

/** compile()'s arguments as plain data for a model file, or the GruError saving will throw. */
function plainCompileArgs(o: Record<string, unknown>): unknown {
  try {
    const text = JSON.stringify(o, (_k, v: unknown) => {
      if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`the number ${v}`);
      if (typeof v === 'function') throw new Error('a function');
      return v;
    });
    return JSON.parse(text) as unknown;
  } catch (e) {
    return new GruError(
      'ERR_GRU_ARG',
      `compile()'s arguments cannot be written to a model file: ${(e as Error).message}`,
    );
  }
}

/** tfjs's tf.sequential({ layers }). */
export function sequential(args: SequentialArgs = {}): Sequential {
  return new Sequential(args);
}
