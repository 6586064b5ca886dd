/**
 * layers.activation: Keras's Activation, the core activation op (ts/activations.ts) on its own,
 * on input of any rank: element-wise, except softmax, which normalises over the last axis. The
 * training forward keeps what the derivative is computed from (the input for the GELUs, the
 * output for the others). No parameters.
 */
import { activationBackward, activationForward, activationSaves } from '../activations.js';
import type { ActivationName } from '../activations.js';
import type { Backend } from '../backends/backend.js';
import { GruError } from '../errors.js';
import * as check from '../validate.js';
import { ModelLayer, type BuildContext, type LayerArgs } from './layer.js';
import { resolveActivation } from './names.js';
import type { Shape, Tensor } from './tensor.js';

export interface ActivationLayerArgs extends LayerArgs {
  /** A Keras or tfjs activation name, as layers.dense takes ('relu', 'softmax', ...). */
  activation: string;
}

export class ActivationLayer extends ModelLayer {
  readonly className = 'Activation';
  protected readonly prefix = 'activation';
  readonly activation: ActivationName;
  #backend: Backend | null = null;
  /** The training forward's saved array (x or y) and the last axis, for backward(). */
  #saved: { x?: Float32Array; y?: Float32Array; cols: number; length: number } | null = null;

  constructor(args: ActivationLayerArgs) {
    const o = { ...check.options('layers.activation options', args) }; // each option read once (ModelLayer records them)
    super('layers.activation options', o, ['activation']);
    if (o.activation === undefined)
      throw new GruError('ERR_GRU_ARG', 'layers.activation options: activation is required');
    this.activation = resolveActivation(o.activation);
  }

  protected build(input: Shape, ctx: BuildContext): Shape {
    this.#backend = ctx.backend;
    return [...input];
  }

  #core(): Backend {
    if (this.#backend === null) throw new GruError('ERR_GRU_STATE', `${this.name} is not built`);
    return this.#backend;
  }

  forward(x: Tensor, train: boolean): Tensor {
    const backend = this.#core();
    const t = this.input(x, 'Float32Array');
    const data = t.data as Float32Array;
    const cols = t.shape[t.shape.length - 1]!;
    const y = activationForward(this.activation, data, { cols, backend });
    if (train) {
      const saves = activationSaves(this.activation);
      const arrays = saves === 'x' ? { x: data } : saves === 'y' ? { y } : {};
      this.#saved = { cols, length: y.length, ...arrays };
    }
    return { data: y, shape: t.shape };
  }

  backward(dy: Float32Array, _inputGrad: boolean): Float32Array {
    const backend = this.#core();
    const saved = this.#saved;
    if (saved === null) {
      throw new GruError(
        'ERR_GRU_STATE',
        `${this.name}: backward() needs a training forward first (once per training forward)`,
      );
    }
    const d = this.gradient(dy);
    const { cols, length, ...arrays } = saved;
    if (d.length !== length) {
      throw new GruError(
        'ERR_GRU_SHAPE',
        `${this.name}: dy must have the training forward's ${length} values, got ${d.length}`,
      );
    }
    const dx = activationBackward(this.activation, d, arrays, { cols, backend });
    this.#saved = null;
    return dx;
  }

  protected _release(): void {
    this.#backend = null;
    this.#saved = null;
  }
}
