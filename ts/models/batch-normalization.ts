/**
 * layers.batchNormalization: Keras's BatchNormalization over the core BatchNorm1d, on the last
 * axis (rows are batch x steps on 3-D input). In training (fit, trainOnBatch) it normalises with
 * the batch's mean and biased variance per feature and moves the moving statistics:
 *   moving = moving * momentum + batch * (1 - momentum)   (momentum 0.99)
 * (the core's momentum, PyTorch's convention, is 1 - momentum); in evaluate and predict it
 * uses the moving statistics. moving_variance holds the biased variance, as Keras 3 stores it
 * (the core's running_var with unbiasedRunningVar false; PyTorch's would be unbiased).
 * Parameters as Keras counts them: gamma and beta (trainable) and moving_mean and
 * moving_variance (non-trainable): 4 * features, 2 * features of them non-trainable. With a
 * mask (mask.ts), the training statistics are over the steps it lets through, as Keras's.
 */
import { BatchNorm1d } from '../batch-norm.js';
import { GruError } from '../errors.js';
import type { Layer } from '../layer.js';
import * as check from '../validate.js';
import { ModelLayer, type BuildContext, type LayerArgs, type PendingOptions } from './layer.js';
import type { Mask } from './mask.js';
import type { Shape, Tensor } from './tensor.js';

export interface BatchNormalizationLayerArgs extends LayerArgs {
  /** Weight of the old moving statistics in each update, in [0, 1] (default 0.99, Keras's). */
  momentum?: number;
  /** Added to the variance (default 1e-3, Keras's; PyTorch's is 1e-5). */
  epsilon?: number;
  /** Learn beta (default true); the core has both gamma and beta or neither. */
  center?: boolean;
  /** Learn gamma (default true); the core has both gamma and beta or neither. */
  scale?: boolean;
  axis?: number;
}

const INIT = "the core initialises as Keras's defaults do";
const NONE = 'not available yet';
const PENDING: PendingOptions = {
  axis: { allowed: [-1], why: 'the core normalises the last axis' },
  betaInitializer: { allowed: ['zeros'], why: INIT },
  gammaInitializer: { allowed: ['ones'], why: INIT },
  movingMeanInitializer: { allowed: ['zeros'], why: INIT },
  movingVarianceInitializer: { allowed: ['ones'], why: INIT },
  betaRegularizer: { allowed: [null], why: NONE },
  gammaRegularizer: { allowed: [null], why: NONE },
  betaConstraint: { allowed: [null], why: NONE },
  gammaConstraint: { allowed: [null], why: NONE },
  renorm: { allowed: [false], why: 'batch renormalization is not in the core' },
  synchronized: { allowed: [false], why: 'there is one device' },
};

export class BatchNormalizationLayer extends ModelLayer {
  readonly className = 'BatchNormalization';
  protected readonly prefix = 'batch_normalization';
  readonly momentum: number;
  readonly epsilon: number;
  readonly affine: boolean;
  #norm: BatchNorm1d | null = null;

  constructor(args: BatchNormalizationLayerArgs = {}) {
    const what = 'layers.batchNormalization options';
    const o = { ...check.options(what, args) }; // each option read once (ModelLayer records them)
    super(what, o, ['momentum', 'epsilon', 'center', 'scale'], PENDING);
    this.momentum =
      o.momentum === undefined ? 0.99 : check.float32('momentum', o.momentum, { min: 0, max: 1 });
    this.epsilon =
      o.epsilon === undefined
        ? 1e-3
        : check.float32('epsilon', o.epsilon, { min: 0, minOpen: true });
    const center = check.boolean('center', o.center, true);
    const scale = check.boolean('scale', o.scale, true);
    if (center !== scale) {
      throw new GruError(
        'ERR_GRU_ARG',
        `${what}: center ${center} with scale ${scale} is not available yet (the core BatchNorm1d learns both or neither)`,
      );
    }
    this.affine = center;
  }

  /** The core BatchNorm1d (built). */
  get core(): BatchNorm1d {
    if (this.#norm === null) throw new GruError('ERR_GRU_STATE', `${this.name} is not built`);
    return this.#norm;
  }

  protected build(input: Shape, ctx: BuildContext): Shape {
    const features = this.lastAxisFeatures(input);
    this.#norm = new BatchNorm1d({
      numFeatures: features,
      eps: this.epsilon,
      momentum: 1 - this.momentum,
      affine: this.affine,
      unbiasedRunningVar: false,
      backend: ctx.backend,
    });
    return [...input];
  }

  forward(x: Tensor, train: boolean): Tensor {
    const t = this.input(x, 'Float32Array', undefined, this.core.numFeatures);
    return { data: this.core.forward(t.data as Float32Array, { train }), shape: t.shape };
  }

  backward(dy: Float32Array, _inputGrad: boolean): Float32Array {
    return this.core.backward(this.gradient(dy));
  }

  /** With a mask, training statistics over the steps it lets through (Keras's masked moments). */
  override _forwardMasked(x: Tensor, train: boolean, mask: Mask): { y: Tensor; mask: Mask } {
    const t = this.input(x, 'Float32Array', undefined, this.core.numFeatures);
    const data = t.data as Float32Array;
    const y = this.core.forward(data, { train, mask: train ? mask : null });
    return { y: { data: y, shape: t.shape }, mask };
  }

  trainables(): Layer[] {
    return this.#norm ? [this.#norm] : [];
  }

  /** gamma, beta, moving_mean, moving_variance: num_batches_tracked is not Keras's. */
  override countParams(): number {
    return this.#norm ? (this.affine ? 4 : 2) * this.#norm.numFeatures : 0;
  }

  override nonTrainableParams(): number {
    return this.#norm ? 2 * this.#norm.numFeatures : 0;
  }

  protected _release(): void {
    this.#norm = null;
  }
}
