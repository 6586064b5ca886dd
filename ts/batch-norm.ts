/**
 * Batch normalization over the last dimension, as PyTorch's nn.BatchNorm1d(numFeatures, eps,
 * momentum, affine) on input [rows, numFeatures] (features last: a [batch, steps, features]
 * sequence is batch x steps rows; PyTorch's own [N, C, L] layout is channels first).
 * Training: y = (x - mean) / sqrt(var + eps) * weight + bias with this batch's mean and biased
 * variance per feature, and the running statistics move towards them:
 * running = (1 - momentum) * running + momentum * batch. Inference: the running statistics.
 *
 * The state dict holds PyTorch's names: weight, bias (parameters), running_mean, running_var,
 * num_batches_tracked (buffers: no optimizer updates them). running_var is PyTorch's unbiased
 * variance (rows / (rows - 1) times the batch's) unless unbiasedRunningVar is false, which
 * keeps the biased one, as Keras's moving_variance (layers.batchNormalization uses that).
 */
import type { Backend, Handle } from './backends/backend.js';
import { GruError } from './errors.js';
import { Layer } from './layer.js';
import { currentBackend } from './loader.js';
import { trainingOutput } from './step-arrays.js';
import * as check from './validate.js';

export interface BatchNormOptions {
  /** Features per row: the size of the last dimension. */
  numFeatures: number;
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Weight of each batch in the running statistics, in [0, 1] (default 0.1). */
  momentum?: number;
  /** Learnable weight and bias (default true). */
  affine?: boolean;
  /** running_var as PyTorch keeps it, unbiased (default true); false: biased, as Keras. */
  unbiasedRunningVar?: boolean;
  /** Backend to hold the parameters; default: the one chosen by init(). */
  backend?: Backend;
}

const KEYS = ['numFeatures', 'eps', 'momentum', 'affine', 'unbiasedRunningVar', 'backend'] as const;

/** The buffers of the state dict: state that training updates, not parameters. */
export const BATCH_NORM_BUFFERS = ['running_mean', 'running_var', 'num_batches_tracked'] as const;

export class BatchNorm1d extends Layer<Handle<'batch_norm'>> {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number;
  readonly affine: boolean;
  readonly unbiasedRunningVar: boolean;
  /** Rows of the last training forward that backward() has not consumed yet. */
  #trainedRows: number | null = null;

  constructor(options: BatchNormOptions) {
    const o = check.options('BatchNorm1d options', options);
    check.knownKeys('BatchNorm1d options', o, KEYS);
    const features = check.positiveInt('numFeatures', o.numFeatures);
    const eps = o.eps === undefined ? 1e-5 : check.float32('eps', o.eps, { min: 0, minOpen: true });
    const momentum =
      o.momentum === undefined ? 0.1 : check.float32('momentum', o.momentum, { min: 0, max: 1 });
    const affine = check.boolean('affine', o.affine, true);
    const unbiased = check.boolean('unbiasedRunningVar', o.unbiasedRunningVar, true);
    const backend = check.backendOption(o.backend, currentBackend);
    super(
      backend,
      'BatchNorm1d',
      backend.batchNormCreate(features, eps, momentum, +affine, +unbiased),
      0,
    );
    this.numFeatures = features;
    this.eps = eps;
    this.momentum = momentum;
    this.affine = affine;
    this.unbiasedRunningVar = unbiased;
  }

  protected override _disposed(): void {
    this.#trainedRows = null;
  }

  /**
   * x [rows, numFeatures] -> y, same shape. train: normalise with this batch's statistics,
   * update the running ones and keep what backward() needs (at least 2 rows with
   * unbiasedRunningVar, else 1); otherwise normalise with the running statistics. mask [rows]
   * (training, with unbiasedRunningVar false): the batch statistics over the rows whose mask is
   * not 0 (Keras's masked moments, divided by count + 1e-7); every row is normalised.
   */
  forward(
    x: Float32Array,
    options: { train?: boolean; mask?: Float32Array | null } = {},
  ): Float32Array {
    const layer = this._handle();
    const input = check.float32Array('x', x);
    const o = check.options('forward options', options);
    check.knownKeys('forward options', o, ['train', 'mask']);
    const train = check.boolean('train', o.train, false);
    const F = this.numFeatures;
    if (input.length === 0 || input.length % F !== 0) {
      throw new GruError(
        'ERR_GRU_SHAPE',
        `x must hold rows x numFeatures (${F}) floats, a positive multiple of ${F}, got ${input.length}`,
      );
    }
    const rows = input.length / F;
    const least = this.unbiasedRunningVar ? 2 : 1;
    if (train && rows < least) {
      throw new GruError(
        'ERR_GRU_SHAPE',
        `a training forward needs at least ${least} rows of ${F} features for the batch statistics${least === 2 ? ' (the unbiased running_var divides by rows - 1)' : ''}, got ${rows}`,
      );
    }
    let mask: Float32Array | null = null;
    if (o.mask !== undefined && o.mask !== null) {
      mask = check.float32ArrayOfLength('mask', o.mask, rows, `one per row, [${rows}]`);
      if (train && this.unbiasedRunningVar) {
        throw new GruError(
          'ERR_GRU_ARG',
          "mask: a masked training batch needs unbiasedRunningVar false (Keras's masked moments)",
        );
      }
    }
    const y = train
      ? trainingOutput(this, 'y', input.length)
      : check.allocFloat32('y', input.length);
    if (train) this.#trainedRows = null;
    this.backend.batchNormForward(layer, rows, input, mask, y, +train);
    if (train) this.#trainedRows = rows;
    return y;
  }

  /** dy of the last training forward: adds into the gradients of weight and bias, returns dx. */
  backward(dy: Float32Array): Float32Array {
    const layer = this._handle();
    const rows = this.#trainedRows;
    if (rows === null) {
      throw new GruError(
        'ERR_GRU_STATE',
        'backward() needs a forward(x, { train: true }) first (once per training forward)',
      );
    }
    const F = this.numFeatures;
    const grad = check.float32ArrayOfLength('dy', dy, rows * F, `[${rows}, ${F}]`);
    const dx = trainingOutput(this, 'dx', rows * F);
    this.backend.batchNormBackward(layer, grad, dx);
    this.#trainedRows = null;
    return dx;
  }
}
