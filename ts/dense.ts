/**
 * A dense (linear) layer, y = x W^T + b with W [outFeatures, inFeatures] and b [outFeatures],
 * as PyTorch's nn.Linear, optionally followed by an activation (ts/activations.ts) applied by
 * the core in the same call. Weights and gradients live in a backend; names and layouts are
 * nn.Linear's state_dict ('weight', 'bias').
 */
import { activationKind, type ActivationName } from './activations.js';
import type { Backend, DenseHandle } from './backends/backend.js';
import { currentBackend } from './loader.js';
import { RowLayer } from './row-layer.js';
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

/**
 * forward(x [rows, inFeatures]) -> y [rows, outFeatures] with the activation applied; backward(dy)
 * takes the gradient of the activation's output (RowLayer, row-layer.ts).
 */
export class Dense extends RowLayer<DenseHandle> {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly bias: boolean;
  readonly activation: ActivationName;
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

  /** @internal */
  protected _rowWidths() {
    return { in: this.inFeatures, out: this.outFeatures, inName: 'inFeatures' };
  }

  /** @internal The activation is applied in the same call; dy is after the activation. */
  protected _forwardRows(
    layer: DenseHandle,
    rows: number,
    x: Float32Array,
    y: Float32Array,
    train: number,
  ): void {
    this.backend.denseForward(layer, rows, x, y, train);
  }

  /** @internal */
  protected _forwardRowsAsync(
    layer: DenseHandle,
    rows: number,
    x: Float32Array,
    y: Float32Array,
    train: number,
  ): Promise<void> {
    return this.backend.denseForwardAsync(layer, rows, x, y, train);
  }

  /** @internal */
  protected _backwardRows(layer: DenseHandle, dy: Float32Array, dx: Float32Array): void {
    this.backend.denseBackward(layer, dy, dx);
  }

  /** @internal */
  protected _backwardRowsAsync(
    layer: DenseHandle,
    dy: Float32Array,
    dx: Float32Array,
  ): Promise<void> {
    return this.backend.denseBackwardAsync(layer, dy, dx);
  }
}
