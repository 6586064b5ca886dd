/**
 * layers.masking: Keras's Masking. A step whose features all equal maskValue (default 0) is
 * padding: its output is 0 and its mask 0 (mask.ts), so the layers after skip it (a GRU carries
 * its state over it), pooling leaves it out and the loss and metrics do not count it. The mask
 * and the output come from one core call (gru_masking_forward); backward passes dy through at
 * the steps kept and 0 at padding (a fill per padding step). No parameters.
 */
import type { Backend } from '../backends/backend.js';
import { GruError } from '../errors.js';
import * as check from '../validate.js';
import { ModelLayer, type BuildContext, type LayerArgs } from './layer.js';
import type { Mask } from './mask.js';
import type { Shape, Tensor } from './tensor.js';

export interface MaskingLayerArgs extends LayerArgs {
  /** The value of every feature of a padding step (default 0). */
  maskValue?: number;
}

export class MaskingLayer extends ModelLayer {
  readonly className = 'Masking';
  protected readonly prefix = 'masking';
  readonly maskValue: number;
  #backend: Backend | null = null;
  /** The training forward's mask, for backward(). */
  #mask: { mask: Float32Array; features: number } | null = null;

  constructor(args: MaskingLayerArgs = {}) {
    const o = { ...check.options('layers.masking options', args) }; // each option read once (ModelLayer records them)
    super('layers.masking options', o, ['maskValue']);
    this.maskValue = o.maskValue === undefined ? 0 : check.float32('maskValue', o.maskValue);
  }

  protected build(input: Shape, ctx: BuildContext): Shape {
    this.expect(
      input.length === 2 && typeof input[1] === 'number',
      '(None, steps, features), 3-D with a known number of features',
      input,
    );
    this.#backend = ctx.backend;
    return [...input];
  }

  #core(): Backend {
    if (this.#backend === null) throw new GruError('ERR_GRU_STATE', `${this.name} is not built`);
    return this.#backend;
  }

  forward(x: Tensor, train: boolean): Tensor {
    return this._forwardMasked(x, train, null).y;
  }

  /** A new mask from x (an incoming one is replaced, as Keras's Masking does). */
  override _forwardMasked(x: Tensor, train: boolean, _mask: Mask): { y: Tensor; mask: Mask } {
    const backend = this.#core();
    const t = this.input(x, 'Float32Array', 3);
    const [batch, steps, features] = t.shape as [number, number, number];
    const y = new Float32Array(t.data.length);
    const mask = new Float32Array(batch * steps);
    backend.maskingForward(
      batch * steps,
      features,
      this.maskValue,
      t.data as Float32Array,
      y,
      mask,
    );
    if (train) this.#mask = { mask, features };
    return { y: { data: y, shape: t.shape }, mask };
  }

  backward(dy: Float32Array, _inputGrad: boolean): Float32Array {
    const saved = this.#mask;
    if (saved === null) {
      throw new GruError(
        'ERR_GRU_STATE',
        `${this.name}: backward() needs a training forward first (once per training forward)`,
      );
    }
    const { mask, features } = saved;
    const dx = check
      .float32ArrayOfLength(
        `${this.name}: dy`,
        this.gradient(dy),
        mask.length * features,
        `[${mask.length} steps x ${features}]`,
      )
      .slice();
    for (let r = 0; r < mask.length; r++)
      if (mask[r] === 0) dx.fill(0, r * features, (r + 1) * features);
    this.#mask = null;
    return dx;
  }

  protected _release(): void {
    this.#backend = null;
    this.#mask = null;
  }
}
