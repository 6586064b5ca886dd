/**
 * layers.layerNormalization: Keras's LayerNormalization over the core LayerNorm, on the last
 * axis (rows are batch x steps on 3-D input): (x - mean) / sqrt(var + epsilon) * gamma + beta,
 * epsilon 1e-3 by default as Keras (PyTorch's is 1e-5). Parameters 2 * features (gamma, beta),
 * or none with center and scale false.
 */
import { GruError } from '../errors.js';
import type { Layer } from '../layer.js';
import { LayerNorm } from '../layer-norm.js';
import * as check from '../validate.js';
import { ModelLayer, type BuildContext, type LayerArgs, type PendingOptions } from './layer.js';
import type { Shape, Tensor } from './tensor.js';

export interface LayerNormalizationLayerArgs extends LayerArgs {
  /** Added to the variance (default 1e-3, Keras's). */
  epsilon?: number;
  /** Learn beta (default true); the core has both or neither. */
  center?: boolean;
  /** Learn gamma (default true); the core has both or neither. */
  scale?: boolean;
  axis?: number;
}

const PENDING: PendingOptions = {
  axis: { allowed: [-1], why: 'the core normalises the last axis' },
};

export class LayerNormalizationLayer extends ModelLayer {
  readonly className = 'LayerNormalization';
  protected readonly prefix = 'layer_normalization';
  readonly epsilon: number;
  readonly affine: boolean;
  #norm: LayerNorm | null = null;

  constructor(args: LayerNormalizationLayerArgs = {}) {
    const o = { ...check.options('layers.layerNormalization options', args) }; // each option read once (ModelLayer records them)
    super('layers.layerNormalization options', o, ['epsilon', 'center', 'scale'], PENDING);
    this.epsilon =
      o.epsilon === undefined
        ? 1e-3
        : check.finiteNumber('epsilon', o.epsilon, { min: 0, minOpen: true });
    const center = check.boolean('center', o.center, true);
    const scale = check.boolean('scale', o.scale, true);
    if (center !== scale) {
      throw new GruError(
        'ERR_GRU_ARG',
        `layers.layerNormalization options: center ${center} with scale ${scale} is not available yet (the core LayerNorm learns both or neither)`,
      );
    }
    this.affine = center;
  }

  /** The core LayerNorm (built). */
  get core(): LayerNorm {
    if (this.#norm === null) throw new GruError('ERR_GRU_STATE', `${this.name} is not built`);
    return this.#norm;
  }

  protected build(input: Shape, ctx: BuildContext): Shape {
    const features = this.lastAxisFeatures(input);
    this.#norm = new LayerNorm({
      normalizedShape: features,
      eps: this.epsilon,
      elementwiseAffine: this.affine,
      backend: ctx.backend,
    });
    return [...input];
  }

  forward(x: Tensor, train: boolean): Tensor {
    const t = this.input(x, 'Float32Array', undefined, this.core.normalizedShape);
    return { data: this.core.forward(t.data as Float32Array, { train }), shape: t.shape };
  }

  backward(dy: Float32Array, _inputGrad: boolean): Float32Array {
    return this.core.backward(this.gradient(dy));
  }

  override async _forwardAsync(x: Tensor, train: boolean): Promise<Tensor> {
    const t = this.input(x, 'Float32Array', undefined, this.core.normalizedShape);
    return {
      data: await this.core.forwardAsync(t.data as Float32Array, { train }),
      shape: t.shape,
    };
  }

  override async _backwardAsync(dy: Float32Array, _inputGrad: boolean): Promise<Float32Array> {
    return this.core.backwardAsync(this.gradient(dy));
  }

  trainables(): Layer[] {
    return this.#norm ? [this.#norm] : [];
  }

  protected _release(): void {
    this.#norm = null;
  }
}
