/**
 * layers.globalAveragePooling1d and layers.globalMaxPooling1d: Keras's GlobalAveragePooling1D
 * and GlobalMaxPooling1D, [batch, steps, features] -> [batch, features], over the core pooling
 * op (gru_pool_forward / gru_pool_backward): the mean or the max over the steps of each
 * feature. The max's gradient goes to the step holding it (split among ties, as JAX's).
 * With a mask (mask.ts), only the steps that count: a sample with none gives 0 (Keras's average
 * would be 0 / 0), and the max honours the mask too (Keras 3's GlobalMaxPooling1D ignores it, so
 * padding can win its max). No parameters; dataFormat 'channelsLast' and keepdims false only.
 */
import { GRU_POOL_AVERAGE, GRU_POOL_MAX } from '../backends/abi.generated.js';
import type { Backend } from '../backends/backend.js';
import { GruError } from '../errors.js';
import * as check from '../validate.js';
import { ModelLayer, type BuildContext, type LayerArgs, type PendingOptions } from './layer.js';
import { checkMask, type Mask } from './mask.js';
import type { Shape, Tensor } from './tensor.js';

export type GlobalPooling1DLayerArgs = LayerArgs;

const PENDING: PendingOptions = {
  dataFormat: { allowed: ['channelsLast'], why: 'the core pools [batch, steps, features]' },
  keepdims: { allowed: [false], why: 'the output is [batch, features]' },
};

abstract class GlobalPooling1D extends ModelLayer {
  protected abstract readonly kind: number;
  #backend: Backend | null = null;
  /** The training forward's input (the max's backward needs it) and its shape. */
  #last: { x: Float32Array; mask: Mask; shape: [number, number, number] } | null = null;

  protected constructor(what: string, args: GlobalPooling1DLayerArgs) {
    const o = { ...check.options(what, args) }; // each option read once (ModelLayer records them)
    super(what, o, [], PENDING);
  }

  protected build(input: Shape, ctx: BuildContext): Shape {
    const features = input[1];
    this.expect(
      input.length === 2 && typeof features === 'number',
      '(None, steps, features), 3-D with a known number of features',
      input,
    );
    this.#backend = ctx.backend;
    return [features as number];
  }

  #core(): Backend {
    if (this.#backend === null) throw new GruError('ERR_GRU_STATE', `${this.name} is not built`);
    return this.#backend;
  }

  forward(x: Tensor, train: boolean): Tensor {
    return this.#pool(x, train, null);
  }

  /** The mask is consumed: the output has no steps. */
  override _forwardMasked(x: Tensor, train: boolean, mask: Mask): { y: Tensor; mask: Mask } {
    return { y: this.#pool(x, train, mask), mask: null };
  }

  #pool(x: Tensor, train: boolean, mask: Mask): Tensor {
    const backend = this.#core();
    const t = this.input(x, 'Float32Array', 3);
    const [batch, steps, features] = t.shape as [number, number, number];
    if (mask !== null) checkMask(this.name, mask, batch, steps);
    const data = t.data as Float32Array;
    const y = new Float32Array(batch * features);
    backend.poolForward(this.kind, batch, steps, features, data, mask, y);
    if (train) this.#last = { x: data, mask, shape: [batch, steps, features] };
    return { data: y, shape: [batch, features] };
  }

  backward(dy: Float32Array, _inputGrad: boolean): Float32Array {
    const backend = this.#core();
    const last = this.#last;
    if (last === null) {
      throw new GruError(
        'ERR_GRU_STATE',
        `${this.name}: backward() needs a training forward first (once per training forward)`,
      );
    }
    const [batch, steps, features] = last.shape;
    const d = check.float32ArrayOfLength(
      `${this.name}: dy`,
      this.gradient(dy),
      batch * features,
      `[${batch}, ${features}]`,
    );
    const dx = new Float32Array(batch * steps * features);
    backend.poolBackward(this.kind, batch, steps, features, last.x, last.mask, d, dx);
    this.#last = null;
    return dx;
  }

  protected _release(): void {
    this.#backend = null;
    this.#last = null;
  }
}

export class GlobalAveragePooling1DLayer extends GlobalPooling1D {
  readonly className = 'GlobalAveragePooling1D';
  protected readonly prefix = 'global_average_pooling1d';
  protected readonly kind = GRU_POOL_AVERAGE;

  constructor(args: GlobalPooling1DLayerArgs = {}) {
    super('layers.globalAveragePooling1d options', args);
  }
}

export class GlobalMaxPooling1DLayer extends GlobalPooling1D {
  readonly className = 'GlobalMaxPooling1D';
  protected readonly prefix = 'global_max_pooling1d';
  protected readonly kind = GRU_POOL_MAX;

  constructor(args: GlobalPooling1DLayerArgs = {}) {
    super('layers.globalMaxPooling1d options', args);
  }
}
