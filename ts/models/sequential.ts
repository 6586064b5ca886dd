/**
 * Sequential: Keras's (and tfjs's) stack of layers, each taking the previous one's output.
 * Built when the first layer has an inputShape (at construction or add) or from the first data
 * it sees; compile() names the optimizer and loss (names.ts); fit() (fit.ts), evaluate(),
 * predict(), trainOnBatch() run every layer's forward and backward, the loss and the optimizer
 * step in the core. Between layers only tensors' references move; batches are row views or
 * row copies (data.ts).
 */
import type { Backend } from '../backends/backend.js';
import { deriveSeed } from '../dropout.js';
import { GruError } from '../errors.js';
import type { Layer } from '../layer.js';
import { currentBackend } from '../loader.js';
import type { Optimizer } from '../optim.js';
import * as check from '../validate.js';
import { batches, batchSizeOption, rowSize, sameSamples, sliceRows } from './data.js';
import { runFit, type FitTarget, type History, type ModelFitArgs } from './fit.js';
import { checkPlace, ModelLayer } from './layer.js';
import {
  resolveActivation,
  resolveLoss,
  resolveMetrics,
  resolveOptimizer,
  type Loss,
  type LossConfig,
  type OptimizerConfig,
} from './names.js';
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
  /** A name, or { name, fromLogits } (Keras's from_logits). */
  loss: LossConfig;
  /** None is available yet (they wait for core metrics): any name is refused. */
  metrics?: string | string[];
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
  #compiled: { loss: Loss; create: (layers: Layer[]) => Optimizer } | null = null;
  #optimizer: Optimizer | null = null;
  #disposed = false;
  #fitting = false;
  #fits = 0;

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
    this.#compiled = null; // the optimizer and loss were for the layers before
    this.#optimizer?.dispose();
    this.#optimizer = null;
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

  /** Names the optimizer and the loss (and metrics, none available yet). */
  compile(args: ModelCompileArgs): void {
    this.#live();
    const o = check.options('compile options', args);
    check.knownKeys('compile options', o, ['optimizer', 'loss', 'metrics']);
    if (this.#layers.length === 0)
      throw new GruError('ERR_GRU_STATE', 'add layers before compile()');
    if (o.optimizer === undefined)
      throw new GruError('ERR_GRU_ARG', 'compile() needs an optimizer');
    if (o.loss === undefined) throw new GruError('ERR_GRU_ARG', 'compile() needs a loss');
    const optimizer = resolveOptimizer(o.optimizer);
    const last = this.#layers[this.#layers.length - 1]!;
    const loss = resolveLoss(o.loss, last.activation);
    resolveMetrics(o.metrics);
    this.#optimizer?.dispose();
    this.#optimizer = null;
    this.#compiled = { loss, create: optimizer.create };
  }

  /** Trains on x and y for some epochs; resolves to the History. See ModelFitArgs. */
  fit(x: TensorLike, y: TensorLike, args: ModelFitArgs = {}): Promise<History> {
    return runFit(this, x, y, args);
  }

  /** The loss on x and y (no dropout, no gradient): the mean over samples. */
  evaluate(x: TensorLike, y: TensorLike, args: { batchSize?: number } = {}): number {
    const o = check.options('evaluate options', args);
    check.knownKeys('evaluate options', o, ['batchSize']);
    const data = this._prepare(x, y, 'x', 'y');
    return this._evaluate(data.x, data.y, batchSizeOption(o.batchSize));
  }

  /** The model's output for x, after the last layer's activation, [samples, ...output]. */
  predict(x: TensorLike, args: { batchSize?: number } = {}): Tensor {
    this.#live();
    const o = check.options('predict options', args);
    check.knownKeys('predict options', o, ['batchSize']);
    const input = this.#inputTensor('x', x);
    const last = this.#layers[this.#layers.length - 1]!;
    const apply = resolveActivation(last.activation).activation.apply;
    const n = input.shape[0]!;
    let out: Tensor | null = null;
    for (const [start, end] of batches(n, batchSizeOption(o.batchSize))) {
      const h = this.#forward(sliceRows(input, start, end), false);
      const data = apply ? apply(this.backend, h.data as Float32Array) : (h.data as Float32Array);
      if (end - start === n) return { data, shape: h.shape };
      out ??= { data: new Float32Array(n * rowSize(h)), shape: [n, ...h.shape.slice(1)] };
      out.data.set(data, start * rowSize(h));
    }
    return out as Tensor;
  }

  /** One optimizer step on one batch; resolves to its loss (before the step). */
  async trainOnBatch(x: TensorLike, y: TensorLike): Promise<number> {
    const data = this._prepare(x, y, 'x', 'y');
    return this._trainStep(data.x, data.y);
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
    for (const line of summaryLines(this.name, rows, this.countParams(), 0)) printFn(line);
  }

  /** Parameters as Keras counts them (all trainable). */
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
    this.#disposed = true;
    this.#optimizer?.dispose();
    for (const layer of this.#layers) layer.dispose();
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

  #forward(x: Tensor, train: boolean): Tensor {
    let h = x;
    for (const layer of this.#layers) h = layer.forward(h, train);
    return h;
  }

  /** @internal x and y checked against the model (built from x if need be) and the loss. */
  _prepare(x: unknown, y: unknown, xName: string, yName: string): { x: Tensor; y: Tensor } {
    this.#live();
    const loss = this.#loss();
    const xs = this.#inputTensor(xName, x);
    const ys = toTensor(yName, y, loss.targets);
    sameSamples(xs, ys, xName, yName);
    // A free number of steps (null) takes x's: every layer keeps the steps where they are.
    const output = this.#shapes().output.map((d, i) => d ?? (xs.shape[i + 1] as number));
    loss.checkTargets(output, ys.shape.slice(1));
    return { x: xs, y: ys };
  }

  #loss(): Loss {
    if (this.#compiled === null) {
      throw new GruError(
        'ERR_GRU_STATE',
        'compile() the model first (with an optimizer and a loss), and again after adding layers',
      );
    }
    return this.#compiled.loss;
  }

  /** @internal The mean loss over x and y in batches, weighted by batch size (as Keras 3). */
  _evaluate(x: Tensor, y: Tensor, batchSize: number): number {
    const loss = this.#loss();
    let sum = 0;
    const n = x.shape[0]!;
    for (const [start, end] of batches(n, batchSize)) {
      const out = this.#forward(sliceRows(x, start, end), false);
      const yb = sliceRows(y, start, end);
      sum +=
        loss.compute(this.backend, out.data as Float32Array, out.shape, yb.data, null) *
        (end - start);
    }
    return sum / n;
  }

  /** @internal One optimizer step on a batch; returns its loss. */
  _trainStep(x: Tensor, y: Tensor): number {
    const loss = this.#loss();
    const optimizer = (this.#optimizer ??= this.#makeOptimizer());
    optimizer.zeroGrad();
    const out = this.#forward(x, true);
    const grad = new Float32Array(out.data.length);
    const value = loss.compute(this.backend, out.data as Float32Array, out.shape, y.data, grad);
    let d: Float32Array | null = grad;
    for (let i = this.#layers.length - 1; i >= 0 && d !== null; i--)
      d = this.#layers[i]!.backward(d, i > 0);
    optimizer.step();
    for (const layer of this.#layers) layer._afterStep();
    return value;
  }

  #makeOptimizer(): Optimizer {
    const trainables = this.#layers.flatMap((l) => l.trainables());
    if (trainables.length === 0)
      throw new GruError('ERR_GRU_STATE', 'the model has no parameters to train');
    return (this.#compiled as { create: (layers: Layer[]) => Optimizer }).create(trainables);
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

/** tfjs's tf.sequential({ layers }). */
export function sequential(args: SequentialArgs = {}): Sequential {
  return new Sequential(args);
}
