/**
 * layers.gru: Keras's GRU over the core GRU (one layer, batchFirst, as Keras is batch-major).
 *
 * resetAfter false with useBias: Keras has one bias (3 * units) and the core, as PyTorch, two
 * (bias_ih and bias_hh). Keras's equations are the core's with bias_hh = 0, so this layer sets
 * bias_hh to zero when built and again after every optimizer step, and does not count it:
 * parameters 3 * units * (input + units + 1), as Keras. (Its gradient still reaches the
 * optimizer: gradient clipping, once compile() offers it, must leave it out.)
 *
 * The core initialises as PyTorch does (uniform in +-1/sqrt(units)); Keras's glorotUniform,
 * orthogonal and zeros initializers are not available yet. The gates are in PyTorch's order
 * (r, z, n), Keras's are (z, r, h): importing Keras weights will have to reorder them.
 */
import { GruError } from '../errors.js';
import { GRU } from '../gru.js';
import type { Layer } from '../layer.js';
import * as check from '../validate.js';
import { ModelLayer, type BuildContext, type LayerArgs, type PendingOptions } from './layer.js';
import { maskRuns, packSteps, reverseMask, unpackSteps, type Mask, type MaskRuns } from './mask.js';
import type { Shape, Tensor } from './tensor.js';

export interface GRULayerArgs extends LayerArgs {
  /** Features of the state (and of each output step). */
  units: number;
  /** Output every step, [batch, steps, units] (default false: the last state, [batch, units]). */
  returnSequences?: boolean;
  /** Also return the state: two outputs, which a Sequential model cannot carry (as in Keras). */
  returnState?: boolean;
  /** Run over the sequence reversed; with returnSequences the output is in that reversed order. */
  goBackwards?: boolean;
  /** Keras 2+'s and PyTorch's equation of the candidate state (default true). */
  resetAfter?: boolean;
  /** Learnable biases (default true). */
  useBias?: boolean;
  activation?: 'tanh';
  recurrentActivation?: 'sigmoid';
  dropout?: number;
  recurrentDropout?: number;
  stateful?: boolean;
}

const KEYS = ['units', 'returnSequences', 'returnState', 'goBackwards', 'resetAfter', 'useBias'];
const CORE_GRU = 'the core GRU has no such option yet';
const INIT = "the core initialises as PyTorch does; Keras's initializers are not available yet";
const PENDING: PendingOptions = {
  activation: { allowed: ['tanh'], why: CORE_GRU },
  recurrentActivation: { allowed: ['sigmoid'], why: CORE_GRU },
  dropout: { allowed: [0], why: 'the core has no Keras-style per-sequence input mask yet' },
  recurrentDropout: { allowed: [0], why: CORE_GRU },
  stateful: { allowed: [false], why: 'state carried across batches comes later' },
  unroll: { allowed: [false], why: 'the core never unrolls' },
  kernelInitializer: { allowed: [], why: INIT },
  recurrentInitializer: { allowed: [], why: INIT },
  biasInitializer: { allowed: [], why: INIT },
};

/** Steps reversed in each sequence of [batch, steps, features], one row copy per step. */
function reverseSteps(x: Float32Array, batch: number, steps: number, f: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < steps; t++) {
      const from = (b * steps + t) * f;
      out.set(x.subarray(from, from + f), (b * steps + steps - 1 - t) * f);
    }
  }
  return out;
}

export class GRULayer extends ModelLayer {
  readonly className = 'GRU';
  protected readonly prefix = 'gru';
  readonly units: number;
  readonly returnSequences: boolean;
  readonly returnState: boolean;
  readonly goBackwards: boolean;
  readonly resetAfter: boolean;
  readonly useBias: boolean;
  #gru: GRU | null = null;
  /** bias_hh_l0 kept at zero (resetAfter false with useBias); null when there is none to keep. */
  #zeroBias: Float32Array | null = null;
  #last: { batch: number; steps: number } | null = null;
  /** The valid runs of the last training forward's mask (mask.ts), null without one. */
  #runs: MaskRuns | null = null;

  constructor(args: GRULayerArgs) {
    const o = check.options('layers.gru options', args);
    super('layers.gru options', o, KEYS, PENDING);
    this.units = check.positiveInt('units', o.units);
    this.returnSequences = check.boolean('returnSequences', o.returnSequences, false);
    this.returnState = check.boolean('returnState', o.returnState, false);
    this.goBackwards = check.boolean('goBackwards', o.goBackwards, false);
    this.resetAfter = check.boolean('resetAfter', o.resetAfter, true);
    this.useBias = check.boolean('useBias', o.useBias, true);
  }

  /** The core GRU (built), e.g. to read its parameters in PyTorch's layout. */
  get core(): GRU {
    if (this.#gru === null) throw new GruError('ERR_GRU_STATE', `${this.name} is not built`);
    return this.#gru;
  }

  protected build(input: Shape, ctx: BuildContext): Shape {
    if (this.returnState) {
      throw new GruError(
        'ERR_GRU_ARG',
        `${this.name}: returnState gives two outputs (the output and the state), and a Sequential model carries one (Keras refuses it too)`,
      );
    }
    const features = input[1];
    this.expect(
      input.length === 2 && typeof features === 'number',
      '(None, steps, features), 3-D with a known number of features',
      input,
    );
    const gru = new GRU({
      inputSize: features as number,
      hiddenSize: this.units,
      bias: this.useBias,
      batchFirst: true,
      resetAfter: this.resetAfter,
      seed: ctx.seed,
      backend: ctx.backend,
    });
    this.#gru = gru;
    if (!this.resetAfter && this.useBias) {
      this.#zeroBias = new Float32Array(3 * this.units);
      this._afterStep();
    }
    return this.returnSequences ? [input[0] as number | null, this.units] : [this.units];
  }

  forward(x: Tensor, train: boolean): Tensor {
    const t = this.input(x, 'Float32Array', 3, this.core.inputSize);
    const [batch, steps, features] = t.shape as [number, number, number];
    const data = t.data as Float32Array;
    const input = this.goBackwards ? reverseSteps(data, batch, steps, features) : data;
    const r = this.core.forward(input, { batch, returnSequences: this.returnSequences, train });
    if (train) [this.#last, this.#runs] = [{ batch, steps }, null];
    // hN is [1, batch, units]: the last state of each sequence, already batch-major.
    return this.returnSequences
      ? { data: r.output as Float32Array, shape: [batch, steps, this.units] }
      : { data: r.hN, shape: [batch, this.units] };
  }

  /**
   * With a mask (mask.ts): each sample runs over its valid steps only, so the state carries over
   * the padding, as Keras's; with returnSequences the output at padding is the state carried
   * (0 before the valid steps, the last state after them) and the mask goes on.
   */
  override _forwardMasked(x: Tensor, train: boolean, mask: Mask): { y: Tensor; mask: Mask } {
    if (mask === null) return { y: this.forward(x, train), mask: null };
    const t = this.input(x, 'Float32Array', 3, this.core.inputSize);
    const [batch, steps, features] = t.shape as [number, number, number];
    const data = t.data as Float32Array;
    const input = this.goBackwards ? reverseSteps(data, batch, steps, features) : data;
    const m = this.goBackwards ? reverseMask(mask, batch, steps) : mask;
    const runs = maskRuns(this.name, m, batch, steps);
    const packed = packSteps(input, batch, steps, features, runs);
    const options = { batch, returnSequences: this.returnSequences, train, lengths: runs.lengths };
    const r = this.core.forward(packed, options);
    if (train) [this.#last, this.#runs] = [{ batch, steps }, runs];
    const u = this.units;
    const y = this.returnSequences
      ? {
          data: unpackSteps(r.output as Float32Array, batch, steps, u, runs, r.hN),
          shape: [batch, steps, u],
        }
      : { data: r.hN, shape: [batch, u] };
    return { y, mask: this.returnSequences ? mask : null };
  }

  backward(dy: Float32Array, inputGrad: boolean): Float32Array | null {
    let d = this.gradient(dy);
    const last = this.#last as { batch: number; steps: number };
    const runs = this.#runs;
    // Masked: the gradients of the valid outputs, packed as the forward ran (padding has none).
    if (runs && this.returnSequences && last && d.length === last.batch * last.steps * this.units)
      d = packSteps(d, last.batch, last.steps, this.units, runs);
    const grad = this.returnSequences ? { dOutput: d } : { dHN: d };
    let { dx } = this.core.backward({ ...grad, inputGrad });
    if (dx !== null && runs) {
      dx = unpackSteps(
        dx,
        last.batch,
        last.steps,
        dx.length / (last.batch * last.steps),
        runs,
        null,
      );
    }
    if (dx === null || !this.goBackwards) return dx;
    return reverseSteps(dx, last.batch, last.steps, dx.length / (last.batch * last.steps));
  }

  trainables(): Layer[] {
    return this.#gru ? [this.#gru] : [];
  }

  override countParams(): number {
    return super.countParams() - (this.#zeroBias?.length ?? 0);
  }

  override _afterStep(): void {
    if (this.#zeroBias) this.core.setParameter('bias_hh_l0', this.#zeroBias);
  }

  protected _release(): void {
    this.#gru = null;
    this.#zeroBias = null;
    this.#last = null;
    this.#runs = null;
  }
}
