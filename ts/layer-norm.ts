/**
 * Layer normalization over the last dimension, as PyTorch's nn.LayerNorm(normalizedShape, eps,
 * elementwiseAffine): y = (x - mean) / sqrt(var + eps) * weight + bias per row of
 * normalizedShape features. Parameters 'weight' (ones) and 'bias' (zeros) when affine.
 */
import type { Backend, Handle } from './backends/backend.js';
import { holding } from './busy.js';
import { GruError } from './errors.js';
import { Layer } from './layer.js';
import { currentBackend } from './loader.js';
import { trainingOutput } from './step-arrays.js';
import * as check from './validate.js';

export interface LayerNormOptions {
  /** Features per row: the size of the last dimension. */
  normalizedShape: number;
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Learnable weight and bias (default true). */
  elementwiseAffine?: boolean;
  /** Backend to hold the parameters; default: the one chosen by init(). */
  backend?: Backend;
}

const KEYS = ['normalizedShape', 'eps', 'elementwiseAffine', 'backend'] as const;

export class LayerNorm extends Layer<Handle<'layer_norm'>> {
  readonly normalizedShape: number;
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  /** Rows of the last training forward that backward() has not consumed yet. */
  #trainedRows: number | null = null;

  constructor(options: LayerNormOptions) {
    const o = check.options('LayerNorm options', options);
    check.knownKeys('LayerNorm options', o, KEYS);
    const dim = check.positiveInt('normalizedShape', o.normalizedShape);
    const eps = o.eps === undefined ? 1e-5 : check.float32('eps', o.eps, { min: 0, minOpen: true });
    const affine = check.boolean('elementwiseAffine', o.elementwiseAffine, true);
    const backend = check.backendOption(o.backend, currentBackend);
    super(backend, 'LayerNorm', backend.layerNormCreate(dim, eps, +affine), 0);
    this.normalizedShape = dim;
    this.eps = eps;
    this.elementwiseAffine = affine;
  }

  protected override _disposed(): void {
    this.#trainedRows = null;
  }

  /** x [rows, normalizedShape] -> y, same shape. train: keep what backward() needs. */
  forward(x: Float32Array, options: { train?: boolean } = {}): Float32Array {
    const layer = this._handle();
    const f = this.#prepareForward(x, options);
    if (f.train) this.#trainedRows = null;
    this.backend.layerNormForward(layer, f.rows, f.x, f.y, +f.train);
    if (f.train) this.#trainedRows = f.rows;
    return f.y;
  }

  /**
   * forward() off the event loop (native: a worker thread; wasm: synchronously inside the
   * promise); the layer is busy (ERR_GRU_BUSY) until the promise settles.
   */
  forwardAsync(x: Float32Array, options: { train?: boolean } = {}): Promise<Float32Array> {
    return holding('forwardAsync()', [this._busy], async (run) => {
      const { layer, f } = run(() => ({
        layer: this._handle(),
        f: this.#prepareForward(x, options),
      }));
      if (f.train) this.#trainedRows = null;
      await run(() => this.backend.layerNormForwardAsync(layer, f.rows, f.x, f.y, +f.train));
      if (f.train) this.#trainedRows = f.rows;
      return f.y;
    });
  }

  #prepareForward(x: Float32Array, options: { train?: boolean }) {
    const input = check.float32Array('x', x);
    const o = check.options('forward options', options);
    check.knownKeys('forward options', o, ['train']);
    const train = check.boolean('train', o.train, false);
    const D = this.normalizedShape;
    if (input.length === 0 || input.length % D !== 0) {
      throw new GruError(
        'ERR_GRU_SHAPE',
        `x must hold rows x normalizedShape (${D}) floats, a positive multiple of ${D}, got ${input.length}`,
      );
    }
    const rows = input.length / D;
    const y = train
      ? trainingOutput(this, 'y', input.length)
      : check.allocFloat32('y', input.length);
    return { rows, x: input, y, train };
  }

  /** dy of the last training forward: adds into the gradients, returns dx. */
  backward(dy: Float32Array): Float32Array {
    const layer = this._handle();
    const b = this.#prepareBackward(dy);
    this.backend.layerNormBackward(layer, b.dy, b.dx);
    this.#trainedRows = null;
    return b.dx;
  }

  /** backward() off the event loop, as forwardAsync() is to forward(). */
  backwardAsync(dy: Float32Array): Promise<Float32Array> {
    return holding('backwardAsync()', [this._busy], async (run) => {
      const { layer, b } = run(() => ({ layer: this._handle(), b: this.#prepareBackward(dy) }));
      await run(() => this.backend.layerNormBackwardAsync(layer, b.dy, b.dx));
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
    const D = this.normalizedShape;
    const grad = check.float32ArrayOfLength('dy', dy, rows * D, `[${rows}, ${D}]`);
    return { dy: grad, dx: trainingOutput(this, 'dx', rows * D) };
  }
}
