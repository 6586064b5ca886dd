/**
 * layers.gru: Keras's GRU over the core GRU (one layer, batchFirst, as Keras is batch-major).
 *
 * resetAfter false with useBias: Keras has one bias (3 * units) and the core, as PyTorch, two
 * (bias_ih and bias_hh). Keras's equations are the core's with bias_hh = 0, so this layer sets
 * bias_hh to zero when built and again after every optimizer step, and does not count it:
 * parameters 3 * units * (input + units + 1), as Keras. (Its gradient still reaches the
 * optimizer, which leaves it out of gradient clipping: _notInKeras.)
 *
 * Initialised as Keras initialises a GRU (kernelInitializer glorotUniform, recurrentInitializer
 * orthogonal, biasInitializer zeros; ./initializers.ts), with Keras's fans: the kernel [in, 3
 * units], the recurrent kernel [units, 3 units], the bias [2, 3 units] (resetAfter) or [3 units].
 * The gates are in PyTorch's order (r, z, n), Keras's are (z, r, h): an orthogonal recurrent
 * kernel stays one (W^T W = I over all three gates), and importing Keras weights will have to
 * reorder them.
 *
 * stateful (Keras's rule): the state each sequence of a batch ends in is the initial state of
 * the sequence at the same index in the next batch (training, evaluate and predict alike), so
 * batches must keep their size until resetStates() (or the model's) sets the state to zeros.
 */
import { GruError } from '../errors.js';
import {
  GRU,
  GRU_ACTIVATIONS,
  GRU_RECURRENT_ACTIVATIONS,
  parsePrecision,
  type GRUActivation,
  type GRUPrecision,
  type GRURecurrentActivation,
} from '../gru.js';
import type { Layer } from '../layer.js';
import * as check from '../validate.js';
import { ModelLayer, type BuildContext, type LayerArgs, type PendingOptions } from './layer.js';
import {
  initialize,
  parseInitializer,
  type Initializer,
  type ParsedInitializer,
} from './initializers.js';
import { resolveGruActivation } from './names.js';
import type { Mask } from './mask.js';
import { gatherRows, scatterRows, stepPlan, type StepPlan } from './step-plan.js';
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
  /**
   * The candidate's activation: 'tanh' (default) or 'relu'. Keras's and tfjs's names
   * ('hard_sigmoid' = 'hardSigmoid').
   */
  activation?: string;
  /**
   * The gates' activation: 'sigmoid' (default, as Keras 3; tfjs defaults to its hard sigmoid),
   * 'hardSigmoid' (Keras 3's relu6(x + 3) / 6) or 'hardSigmoidKeras2' (clip(0.2 x + 0.5, 0, 1):
   * Keras 2's and tfjs's 'hardSigmoid', the default of Keras 2's GRU).
   */
  recurrentActivation?: string;
  /** Of the input kernel (default 'glorotUniform', as Keras). */
  kernelInitializer?: Initializer;
  /** Of the recurrent kernel (default 'orthogonal', as Keras). */
  recurrentInitializer?: Initializer;
  /** Of the biases (default 'zeros'); not 'orthogonal' (a vector). */
  biasInitializer?: Initializer;
  /**
   * Keras's dropout of the input features, in [0, 1) (default 0), in training only: one mask per
   * sequence and batch, shared by every step (the core GRU's inputDropout).
   */
  dropout?: number;
  /**
   * Keras's recurrent_dropout, in [0, 1) (default 0), in training only: each gate multiplies its
   * own masked copy of the state by its recurrent kernel, one mask per sequence and gate shared
   * by every step (the core GRU's recurrentDropout). With dropout too, the input gets one mask
   * per gate as well, as Keras's GRU then does.
   */
  recurrentDropout?: number;
  /**
   * Carry each sequence's last state into the same row of the next batch (default false): the
   * batch size is then fixed until resetStates().
   */
  stateful?: boolean;
  /**
   * Keras's zero_output_for_mask (default false): with a mask, the output at a masked step is
   * zeros instead of the carried state. (Keras's Bidirectional sets it when it returns
   * sequences; without returnSequences Keras's last output is then 0 where the last step is
   * masked, and so is this one's.)
   */
  zeroOutputForMask?: boolean;
  /**
   * How the core GRU stores the weights its forward reads (default 'fp32'): 'bf16' or 'int8'
   * for inference (GRUOptions.precision); fit() and trainOnBatch() need 'fp32'. Recorded in model
   * files; model.setPrecision() changes it for every recurrent layer.
   */
  precision?: GRUPrecision;
}

const KEYS = [
  'units',
  'returnSequences',
  'returnState',
  'goBackwards',
  'resetAfter',
  'useBias',
  'activation',
  'recurrentActivation',
  'kernelInitializer',
  'recurrentInitializer',
  'biasInitializer',
  'stateful',
  'dropout',
  'recurrentDropout',
  'zeroOutputForMask',
  'precision',
];
const PENDING: PendingOptions = {
  unroll: { allowed: [false], why: 'the core never unrolls' },
};

export class GRULayer extends ModelLayer {
  readonly className = 'GRU';
  protected readonly prefix = 'gru';
  readonly units: number;
  readonly returnSequences: boolean;
  readonly returnState: boolean;
  readonly goBackwards: boolean;
  readonly resetAfter: boolean;
  readonly useBias: boolean;
  readonly activation: GRUActivation;
  readonly recurrentActivation: GRURecurrentActivation;
  readonly #init: {
    kernel: ParsedInitializer;
    recurrent: ParsedInitializer;
    bias: ParsedInitializer;
  };
  #gru: GRU | null = null;
  /** bias_hh_l0 kept at zero (resetAfter false with useBias); null when there is none to keep. */
  #zeroBias: Float32Array | null = null;
  readonly stateful: boolean;
  readonly dropout: number;
  readonly recurrentDropout: number;
  /** stateful: the state the last batch ended in, [batch, units]; null: zeros (reset). */
  #state: Float32Array | null = null;
  readonly zeroOutputForMask: boolean;
  #precision: GRUPrecision;
  /** The row moves of the last training forward (step-plan.ts). */
  #plan: StepPlan | null = null;

  constructor(args: GRULayerArgs) {
    const o = { ...check.options('layers.gru options', args) }; // each option read once (ModelLayer records them)
    super('layers.gru options', o, KEYS, PENDING);
    this.units = check.positiveInt('units', o.units);
    this.returnSequences = check.boolean('returnSequences', o.returnSequences, false);
    this.returnState = check.boolean('returnState', o.returnState, false);
    this.goBackwards = check.boolean('goBackwards', o.goBackwards, false);
    this.resetAfter = check.boolean('resetAfter', o.resetAfter, true);
    this.useBias = check.boolean('useBias', o.useBias, true);
    this.stateful = check.boolean('stateful', o.stateful, false);
    this.dropout = o.dropout === undefined ? 0 : check.dropProbability('dropout', o.dropout);
    this.recurrentDropout =
      o.recurrentDropout === undefined
        ? 0
        : check.dropProbability('recurrentDropout', o.recurrentDropout);
    this.zeroOutputForMask = check.boolean('zeroOutputForMask', o.zeroOutputForMask, false);
    this.#precision = o.precision === undefined ? 'fp32' : parsePrecision('precision', o.precision);
    const what = 'layers.gru options';
    this.activation = resolveGruActivation(
      what,
      'activation',
      o.activation,
      GRU_ACTIVATIONS,
      'tanh',
    );
    this.recurrentActivation = resolveGruActivation(
      what,
      'recurrentActivation',
      o.recurrentActivation,
      GRU_RECURRENT_ACTIVATIONS,
      'sigmoid',
    );
    const init = (option: string, fallback: Parameters<typeof parseInitializer>[2]) =>
      parseInitializer(`${what}: ${option}`, o[option], fallback);
    this.#init = {
      kernel: init('kernelInitializer', 'glorotUniform'),
      recurrent: init('recurrentInitializer', 'orthogonal'),
      bias: init('biasInitializer', 'zeros'),
    };
    if (this.#init.bias.name === 'orthogonal') {
      throw new GruError(
        'ERR_GRU_ARG',
        `${what}: biasInitializer 'orthogonal' needs a matrix, and a bias is a vector (Keras refuses it too)`,
      );
    }
  }

  /** How the core GRU stores its weights ('fp32', 'bf16', 'int8'): model.setPrecision(). */
  get precision(): GRUPrecision {
    return this.#precision;
  }

  /** @internal model.setPrecision(): now on the core (when built), and for a later build. */
  _setPrecision(precision: GRUPrecision): void {
    this.#gru?.setPrecision(precision);
    this.#precision = precision;
  }

  /** @internal Records the precision it has now (model.setPrecision() may have changed it). */
  override _config(): Record<string, unknown> {
    const config = super._config();
    if (this.#precision === 'fp32') delete config.precision;
    else config.precision = this.#precision;
    return config;
  }

  /** The core GRU (built), e.g. to read its parameters in PyTorch's layout. */
  get core(): GRU {
    if (this.#gru === null) throw new GruError('ERR_GRU_STATE', `${this.name} is not built`);
    return this.#gru;
  }

  /** @internal Its dropout masks' position (model-file.ts). */
  override _streams(): number[] {
    return this.#gru === null ? [] : [this.#gru._dropoutCount];
  }

  override _setStreams(counts: number[]): void {
    if (this.#gru !== null) this.#gru._dropoutCount = counts[0]!;
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
      activation: this.activation,
      recurrentActivation: this.recurrentActivation,
      seed: ctx.seed,
      backend: ctx.backend,
    });
    this.#gru = gru;
    this._initializeCore(gru, '', ctx.seed, 0);
    if (!this.resetAfter && this.useBias) {
      this.#zeroBias = new Float32Array(3 * this.units);
      this._afterStep();
    }
    if (this.#precision !== 'fp32') gru.setPrecision(this.#precision);
    return this.returnSequences ? [input[0] as number | null, this.units] : [this.units];
  }

  /**
   * @internal Keras's initializers of this layer on the `_l0${suffix}` tensors of a core GRU
   * of its sizes (a Bidirectional initialises each direction from its layer), seed slots
   * slot..slot + 3.
   */
  _initializeCore(gru: GRU, suffix: string, seed: number, slot: number): void {
    const [F, U] = [gru.inputSize, this.units];
    const init = this.#init;
    const name = (n: string) => `${n}_l0${suffix}`;
    initialize(gru, name('weight_ih'), init.kernel, { fanIn: F, fanOut: 3 * U }, seed, slot);
    initialize(gru, name('weight_hh'), init.recurrent, { fanIn: U, fanOut: 3 * U }, seed, slot + 1);
    if (this.useBias) {
      // Keras's bias is [2, 3 units] (resetAfter: input and recurrent biases) or [3 units].
      const fans = this.resetAfter ? { fanIn: 2, fanOut: 3 * U } : { fanIn: 3 * U, fanOut: 3 * U };
      initialize(gru, name('bias_ih'), init.bias, fans, seed, slot + 2);
      if (this.resetAfter) initialize(gru, name('bias_hh'), init.bias, fans, seed, slot + 3);
    }
  }

  forward(x: Tensor, train: boolean): Tensor {
    return this._forwardMasked(x, train, null).y;
  }

  override async _forwardAsync(x: Tensor, train: boolean): Promise<Tensor> {
    return (await this._forwardMaskedAsync(x, train, null)).y;
  }

  /**
   * With a mask (mask.ts), Keras's rule (step-plan.ts): each sequence runs over its valid steps,
   * the state carries over the masked ones, and with returnSequences the output at a masked
   * step is the carried state (zeros with zeroOutputForMask); the mask goes on unchanged (not
   * reversed by goBackwards, as Keras's compute_mask).
   */
  override _forwardMasked(x: Tensor, train: boolean, mask: Mask): { y: Tensor; mask: Mask } {
    const c = this.#forwardCall(x, train, mask);
    return { y: this.#output(c, this.core.forward(c.input, c.options)), mask: c.mask };
  }

  override async _forwardMaskedAsync(
    x: Tensor,
    train: boolean,
    mask: Mask,
  ): Promise<{ y: Tensor; mask: Mask }> {
    const c = this.#forwardCall(x, train, mask);
    return { y: this.#output(c, await this.core.forwardAsync(c.input, c.options)), mask: c.mask };
  }

  /** The core call's input and options: steps reversed (goBackwards) and packed (a mask), h0. */
  #forwardCall(x: Tensor, train: boolean, mask: Mask) {
    const t = this.input(x, 'Float32Array', 3, this.core.inputSize);
    const [batch, steps, features] = t.shape as [number, number, number];
    const h0 = this.stateful ? this.#carried(batch) : undefined;
    const plan = stepPlan(this.name, mask, batch, steps, {
      reverse: this.goBackwards,
      zeroOutput: this.zeroOutputForMask,
      initial: h0 !== undefined,
    });
    const data = t.data as Float32Array;
    const backend = this.core.backend;
    const input = plan.pack ? gatherRows(backend, data, features, plan.pack) : data;
    if (train) this.#plan = plan;
    return {
      input,
      plan,
      h0,
      mask: this.returnSequences ? mask : null,
      options: {
        batch,
        returnSequences: this.returnSequences,
        train,
        ...(train && this.dropout > 0 ? { inputDropout: this.dropout } : {}),
        ...(train && this.recurrentDropout > 0 ? { recurrentDropout: this.recurrentDropout } : {}),
        ...(h0 ? { h0 } : {}),
        ...(plan.lengths ? { lengths: plan.lengths } : {}),
      },
    };
  }

  #output(
    c: { plan: StepPlan; h0: Float32Array | undefined },
    r: { output: Float32Array | null; hN: Float32Array },
  ): Tensor {
    const { batch, steps, output, last } = c.plan;
    const backend = this.core.backend;
    const u = this.units;
    if (this.stateful) this.#state = r.hN.slice();
    // hN is [1, batch, units]: the last state of each sequence, already batch-major.
    if (!this.returnSequences) {
      const data = last ? gatherRows(backend, r.hN, u, last) : r.hN;
      return { data, shape: [batch, u] };
    }
    let data = r.output as Float32Array;
    if (output) {
      // The masked steps' carried state may be the initial one: rows batch * steps + b.
      const from = c.h0 ? new Float32Array(data.length + c.h0.length) : data;
      if (c.h0) {
        from.set(data);
        from.set(c.h0, data.length);
      }
      data = gatherRows(backend, from, u, output);
    }
    return { data, shape: [batch, steps, u] };
  }

  backward(dy: Float32Array, inputGrad: boolean): Float32Array | null {
    return this.#inputGrad(this.core.backward(this.#backwardCall(dy, inputGrad)).dx);
  }

  override async _backwardAsync(
    dy: Float32Array,
    inputGrad: boolean,
  ): Promise<Float32Array | null> {
    return this.#inputGrad((await this.core.backwardAsync(this.#backwardCall(dy, inputGrad))).dx);
  }

  /** The core's output gradient: scattered back onto the packed rows that made each output. */
  #backwardCall(dy: Float32Array, inputGrad: boolean) {
    let d = this.gradient(dy);
    const plan = this.#plan;
    const u = this.units;
    const backend = this.core.backend;
    if (plan && this.returnSequences && plan.output && d.length === plan.output.length * u) {
      // Rows past batch * steps (an initial state's) take no gradient: scattered and dropped.
      const rows = plan.batch * plan.steps;
      d = scatterRows(backend, d, u, plan.output, rows + plan.batch).subarray(0, rows * u);
    } else if (plan && !this.returnSequences && plan.last && d.length === plan.batch * u) {
      d = gatherRows(backend, d, u, plan.last);
    }
    return { ...(this.returnSequences ? { dOutput: d } : { dHN: d }), inputGrad };
  }

  /** dx back at the input's steps: unpacked and reversed back (zeros at masked steps). */
  #inputGrad(dx: Float32Array | null): Float32Array | null {
    const plan = this.#plan;
    if (dx === null || plan === null || plan.unpack === null) return dx;
    return gatherRows(this.core.backend, dx, dx.length / plan.unpack.length, plan.unpack);
  }

  trainables(): Layer[] {
    return this.#gru ? [this.#gru] : [];
  }

  override countParams(): number {
    return super.countParams() - (this.#zeroBias?.length ?? 0);
  }

  override _notInKeras(): [Layer, string][] {
    return this.#zeroBias && this.#gru ? [[this.#gru, 'bias_hh_l0']] : [];
  }

  override _afterStep(): void {
    if (this.#zeroBias) this.core.setParameter('bias_hh_l0', this.#zeroBias);
  }

  /** stateful: the state carried into a batch of `batch` sequences (undefined: zeros). */
  #carried(batch: number): Float32Array | undefined {
    return carriedStates(this.name, this.#state, this.units, batch);
  }

  /**
   * The states a stateful layer carries into the next batch, [batch, units] (a copy); null
   * before its first batch, after resetStates(), and for a layer that is not stateful.
   */
  get states(): Float32Array | null {
    return this.#state === null ? null : this.#state.slice();
  }

  /** A stateful layer's next batch starts from zeros, of any batch size. (No-op otherwise.) */
  resetStates(): void {
    this.#state = null;
  }

  override _resetStates(): void {
    this.resetStates();
  }

  protected _release(): void {
    this.#gru = null;
    this.#zeroBias = null;
    this.#state = null;
    this.#plan = null;
  }
}

/**
 * A stateful recurrent layer's carried states (floatsPerSequence each) for a batch of `batch`
 * sequences: undefined (zeros) when there are none; ERR_GRU_SHAPE when they were carried from
 * a batch of another size (Keras's rule). Shared by GRULayer and BidirectionalLayer.
 */
export function carriedStates(
  name: string,
  state: Float32Array | null,
  floatsPerSequence: number,
  batch: number,
): Float32Array | undefined {
  if (state === null) return undefined;
  const carried = state.length / floatsPerSequence;
  if (carried !== batch) {
    throw new GruError(
      'ERR_GRU_SHAPE',
      `${name} is stateful and carries the states of ${carried} sequences, but this batch has ${batch}: a stateful layer needs the same batch size in every batch (as in Keras); call resetStates() to start over with another`,
    );
  }
  return state;
}
