/**
 * Layer normalization over the last dimension, as PyTorch's nn.LayerNorm(normalizedShape, eps,
 * elementwiseAffine): y = (x - mean) / sqrt(var + eps) * weight + bias per row of
 * normalizedShape features. Parameters 'weight' (ones) and 'bias' (zeros) when affine.
 */
import type { Backend, Handle } from './backends/backend.js';
import { currentBackend } from './loader.js';
import { RowLayer } from './row-layer.js';
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

/** forward(x [rows, normalizedShape]) -> y, same shape; backward(dy) -> dx (RowLayer, row-layer.ts). */
export class LayerNorm extends RowLayer<Handle<'layer_norm'>> {
  readonly normalizedShape: number;
  readonly eps: number;
  readonly elementwiseAffine: boolean;
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

  /** @internal */
  protected _rowWidths() {
    const D = this.normalizedShape;
    return { in: D, out: D, inName: 'normalizedShape' };
  }

  /** @internal */
  protected _forwardRows(
    layer: Handle<'layer_norm'>,
    rows: number,
    x: Float32Array,
    y: Float32Array,
    train: number,
  ): void {
    this.backend.layerNormForward(layer, rows, x, y, train);
  }

  /** @internal */
  protected _forwardRowsAsync(
    layer: Handle<'layer_norm'>,
    rows: number,
    x: Float32Array,
    y: Float32Array,
    train: number,
  ): Promise<void> {
    return this.backend.layerNormForwardAsync(layer, rows, x, y, train);
  }

  /** @internal */
  protected _backwardRows(layer: Handle<'layer_norm'>, dy: Float32Array, dx: Float32Array): void {
    this.backend.layerNormBackward(layer, dy, dx);
  }

  /** @internal */
  protected _backwardRowsAsync(
    layer: Handle<'layer_norm'>,
    dy: Float32Array,
    dx: Float32Array,
  ): Promise<void> {
    return this.backend.layerNormBackwardAsync(layer, dy, dx);
  }
}
