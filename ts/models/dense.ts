/**
 * layers.dense: Keras's Dense over the core Dense, on the last axis: [batch, in] -> [batch,
 * units], and on 3-D input per step, [batch, steps, in] -> [batch, steps, units] (the rows are
 * batch x steps; nothing is copied). Parameters in * units + units, as Keras.
 *
 * The activation (a Keras or tfjs name, resolved in names.ts) runs in the core Dense, fused
 * after the GEMM, forward and backward: forward() returns the activation's output (softmax
 * over each row of units), on any layer of the model.
 */
import type { ActivationName } from '../activations.js';
import { Dense } from '../dense.js';
import { GruError } from '../errors.js';
import type { Layer } from '../layer.js';
import * as check from '../validate.js';
import { ModelLayer, type BuildContext, type LayerArgs, type PendingOptions } from './layer.js';
import { resolveActivation } from './names.js';
import type { Shape, Tensor } from './tensor.js';

export interface DenseLayerArgs extends LayerArgs {
  /** Output features. */
  units: number;
  /** By name, Keras's or tfjs's (default 'linear'); names.ts lists them. */
  activation?: string;
  /** Learnable bias (default true). */
  useBias?: boolean;
  /** tfjs's shorthand for inputShape: [inputDim]. */
  inputDim?: number;
}

const INIT = "the core initialises as PyTorch does; Keras's initializers are not available yet";
const PENDING: PendingOptions = {
  kernelInitializer: { allowed: [], why: INIT },
  biasInitializer: { allowed: [], why: INIT },
  kernelRegularizer: { allowed: [], why: 'regularizers come later' },
  biasRegularizer: { allowed: [], why: 'regularizers come later' },
};

export class DenseLayer extends ModelLayer {
  readonly className = 'Dense';
  protected readonly prefix = 'dense';
  readonly units: number;
  readonly useBias: boolean;
  /** The core Dense's activation (ts/activations.ts) that the name given resolved to. */
  readonly activation: ActivationName;
  #dense: Dense | null = null;

  constructor(args: DenseLayerArgs) {
    const o = { ...check.options('layers.dense options', args) }; // each option read once (ModelLayer records them)
    const { inputDim, ...rest } = o;
    if (inputDim !== undefined && rest.inputShape !== undefined) {
      throw new GruError(
        'ERR_GRU_ARG',
        'layers.dense options: give inputDim or inputShape, not both',
      );
    }
    const shaped = inputDim === undefined ? rest : { ...rest, inputShape: [inputDim] };
    super('layers.dense options', shaped, ['units', 'activation', 'useBias'], PENDING);
    this.units = check.positiveInt('units', o.units);
    this.useBias = check.boolean('useBias', o.useBias, true);
    this.activation = resolveActivation(o.activation);
  }

  /** The core Dense (built). */
  get core(): Dense {
    if (this.#dense === null) throw new GruError('ERR_GRU_STATE', `${this.name} is not built`);
    return this.#dense;
  }

  protected build(input: Shape, ctx: BuildContext): Shape {
    const features = this.lastAxisFeatures(input);
    this.#dense = new Dense({
      inFeatures: features,
      outFeatures: this.units,
      bias: this.useBias,
      activation: this.activation,
      seed: ctx.seed,
      backend: ctx.backend,
    });
    return [...input.slice(0, -1), this.units];
  }

  forward(x: Tensor, train: boolean): Tensor {
    const t = this.input(x, 'Float32Array', undefined, this.core.inFeatures);
    const y = this.core.forward(t.data as Float32Array, { train });
    return { data: y, shape: [...t.shape.slice(0, -1), this.units] };
  }

  backward(dy: Float32Array, _inputGrad: boolean): Float32Array | null {
    return this.core.backward(this.gradient(dy));
  }

  override async _forwardAsync(x: Tensor, train: boolean): Promise<Tensor> {
    const t = this.input(x, 'Float32Array', undefined, this.core.inFeatures);
    const y = await this.core.forwardAsync(t.data as Float32Array, { train });
    return { data: y, shape: [...t.shape.slice(0, -1), this.units] };
  }

  override async _backwardAsync(dy: Float32Array, _inputGrad: boolean): Promise<Float32Array> {
    return this.core.backwardAsync(this.gradient(dy));
  }

  trainables(): Layer[] {
    return this.#dense ? [this.#dense] : [];
  }

  protected _release(): void {
    this.#dense = null;
  }
}
