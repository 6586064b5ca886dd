/**
 * A dense (linear) layer, y = x W^T + b with W [outFeatures, inFeatures] and b [outFeatures],
 * as PyTorch's nn.Linear, optionally followed by an activation (ts/activations.ts) applied by
 * the core in the same call. Weights and gradients live in a backend; names and layouts are
 * nn.Linear's state_dict ('weight', 'bias').
 */
import { activationKind, type ActivationName } from './activations.js';
import type { Backend, DenseHandle } from './backends/backend.js';
import { holding } from './busy.js';
import { GruError } from './errors.js';
import { Layer } from './layer.js';
import { currentBackend } from './loader.js';
import { trainingOutput } from './step-arrays.js';
import * as check from './validate.js';

export interface DenseOptions {
  inFeatures: number;
  outFeatures: number;
  /** Learnable bias (default true). */
  bias?: boolean;
  /**
   * Applied to x W^T + b in the same call (default 'linear': none); softmax normalizes each
   * row of outFeatures. backward() takes the gradient of the activation's output.
   */
  activation?: ActivationName;
  /** Seed of the initial parameters, U(-1/sqrt(in), 1/sqrt(in)); random if omitted. */
  seed?: number;
  /** Backend to hold the weights; default: the one chosen by init(). */
  backend?: Backend;
}

const DENSE_KEYS = ['inFeatures', 'outFeatures', 'bias', 'activation', 'seed', 'backend'] as const;

export class Dense extends Layer<DenseHandle> {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly bias: boolean;
  readonly activation: ActivationName;
  /** Rows of the last training forward that backward() has not consumed yet. */
  #trainedRows: number | null = null;

  constructor(options: DenseOptions) {
    const o = check.options('Dense options', options);
    check.knownKeys('Dense options', o, DENSE_KEYS);
    const inFeatures = check.positiveInt('inFeatures', o.inFeatures);
    const outFeatures = check.positiveInt('outFeatures', o.outFeatures);
    const bias = check.boolean('bias', o.bias, true);
    const activation = (o.activation === undefined ? 'linear' : o.activation) as ActivationName;
    const kind = activationKind('activation', activation);
    const seed = check.seedOption(o.seed);
    const backend = check.backendOption(o.backend, currentBackend);
    super(backend, 'Dense layer', backend.denseCreate(inFeatures, outFeatures, +bias, kind), seed);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.bias = bias;
    this.activation = activation;
  }

  protected override _disposed(): void {
    this.#trainedRows = null;
  }

  /**
   * x [rows, inFeatures] -> y [rows, outFeatures], the activation applied. train: keep x (and
   * what the activation's derivative needs) for backward().
   */
  forward(x: Float32Array, options: { train?: boolean } = {}): Float32Array {
    const layer = this._handle();
    const f = this.#prepareForward(x, options);
    if (f.train) this.#trainedRows = null;
    this.backend.denseForward(layer, f.rows, f.x, f.y, +f.train);
    if (f.train) this.#trainedRows = f.rows;
    return f.y;
  }

  /**
   * forward() off the event loop (native: a worker thread; wasm: synchronously inside the
   * promise). x is read as it is at the call (native copies it); the layer is busy
   * (ERR_GRU_BUSY) until the promise settles.
   */
  forwardAsync(x: Float32Array, options: { train?: boolean } = {}): Promise<Float32Array> {
    return holding('forwardAsync()', [this._busy], async (run) => {
      const { layer, f } = run(() => ({
        layer: this._handle(),
        f: this.#prepareForward(x, options),
      }));
      if (f.train) this.#trainedRows = null;
      await run(() => this.backend.denseForwardAsync(layer, f.rows, f.x, f.y, +f.train));
      if (f.train) this.#trainedRows = f.rows;
      return f.y;
    });
  }

  #prepareForward(
    x: Float32Array,
    options: { train?: boolean },
  ): { rows: number; x: Float32Array; y: Float32Array; train: boolean } {
    const input = check.float32Array('x', x);
    const o = check.options('forward options', options);
    check.knownKeys('forward options', o, ['train']);
    const train = check.boolean('train', o.train, false);
    if (input.length === 0 || input.length % this.inFeatures !== 0) {
      throw new GruError(
        'ERR_GRU_SHAPE',
        `x must hold rows x inFeatures (${this.inFeatures}) floats, a positive multiple of ${this.inFeatures}, got ${input.length}`,
      );
    }
    const rows = input.length / this.inFeatures;
    const n = rows * this.outFeatures;
    return {
      rows,
      x: input,
      y: train ? trainingOutput(this, 'y', n) : check.allocFloat32('y', n),
      train,
    };
  }

  /**
   * dy [rows, outFeatures], the gradient of the last training forward's output (after the
   * activation): adds into the gradients, returns dx [rows, inFeatures].
   */
  backward(dy: Float32Array): Float32Array {
    const layer = this._handle();
    const b = this.#prepareBackward(dy);
    this.backend.denseBackward(layer, b.dy, b.dx);
    this.#trainedRows = null;
    return b.dx;
  }

  /** backward() off the event loop, as forwardAsync() is to forward(). */
  backwardAsync(dy: Float32Array): Promise<Float32Array> {
    return holding('backwardAsync()', [this._busy], async (run) => {
      const { layer, b } = run(() => ({ layer: this._handle(), b: this.#prepareBackward(dy) }));
      await run(() => this.backend.denseBackwardAsync(layer, b.dy, b.dx));
      this.#trainedRows = null;
      return b.dx;
    });
  }

  #prepareBackward(dy: Float32Array): { dy: Float32Array; dx: Float32Array } {
    const rows = this.#trainedRows;
    if (rows === null) {
      throw new GruError(
        'ERR_GRU_STATE',
        'backward() needs a forward(x, { train: true }) first (once per training forward)',
      );
    }
    const grad = check.float32ArrayOfLength(
      'dy',
      dy,
      rows * this.outFeatures,
      `[${rows}, ${this.outFeatures}]`,
    );
    return { dy: grad, dx: trainingOutput(this, 'dx', rows * this.inFeatures) };
  }
}
