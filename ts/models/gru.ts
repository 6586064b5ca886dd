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
  type GRUActivation,
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
  recurrentDropout?: number;
  /**
   * Carry each sequence's last state into the same row of the next batch (default false): the
   * batch size is then fixed until resetStates().
   */
  stateful?: boolean;
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
];
const RECURRENT_DROPOUT =
  "Keras's recurrent_dropout masks the state separately for each gate (three masks, and three on the input), which the core's fused step has no form for yet";
const PENDING: PendingOptions = {
  recurrentDropout: { allowed: [0], why: RECURRENT_DROPOUT },
  unroll: { allowed: [false], why: 'the core never unrolls' },
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
  #last: { batch: number; steps: number } | null = null;
  readonly stateful: boolean;
  readonly dropout: number;
  /** stateful: the state the last batch ended in, [batch, units]; null: zeros (reset). */
  #state: Float32Array | null = null;
  /** The valid runs of the last training forward's mask (mask.ts), null without one. */
  #runs: MaskRuns | null = null;

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
    const [F, U] = [features as number, this.units];
    initialize(gru, 'weight_ih_l0', this.#init.kernel, { fanIn: F, fanOut: 3 * U }, ctx.seed, 0);
    initialize(gru, 'weight_hh_l0', this.#init.recurrent, { fanIn: U, fanOut: 3 * U }, ctx.seed, 1);
    if (this.useBias) {
      // Keras's bias is [2, 3 units] (resetAfter: input and recurrent biases) or [3 units].
      const fans = this.resetAfter ? { fanIn: 2, fanOut: 3 * U } : { fanIn: 3 * U, fanOut: 3 * U };
      initialize(gru, 'bias_ih_l0', this.#init.bias, fans, ctx.seed, 2);
      if (this.resetAfter) initialize(gru, 'bias_hh_l0', this.#init.bias, fans, ctx.seed, 3);
    }
    if (!this.resetAfter && this.useBias) {
      this.#zeroBias = new Float32Array(3 * this.units);
      this._afterStep();
    }
    return this.returnSequences ? [input[0] as number | null, this.units] : [this.units];
  }

  forward(x: Tensor, train: boolean): Tensor {
    return this._forwardMasked(x, train, null).y;
  }

  override async _forwardAsync(x: Tensor, train: boolean): Promise<Tensor> {
    return (await this._forwardMaskedAsync(x, train, null)).y;
  }

  /**
   * With a mask (mask.ts): each sample runs over its valid steps only, so the state carries over
   * the padding, as Keras's; with returnSequences the output at padding is the state carried
   * (0 before the valid steps, the last state after them) and the mask goes on.
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

  /** The core call's input and options: steps reversed (goBackwards), packed (a mask), h0. */
  #forwardCall(x: Tensor, train: boolean, mask: Mask) {
    const t = this.input(x, 'Float32Array', 3, this.core.inputSize);
    const [batch, steps, features] = t.shape as [number, number, number];
    const data = t.data as Float32Array;
    let input = this.goBackwards ? reverseSteps(data, batch, steps, features) : data;
    let runs: MaskRuns | null = null;
    if (mask !== null) {
      runs = maskRuns(
        this.name,
        this.goBackwards ? reverseMask(mask, batch, steps) : mask,
        batch,
        steps,
      );
      input = packSteps(input, batch, steps, features, runs);
    }
    const h0 = this.stateful ? this.#carried(batch) : undefined;
    if (train) [this.#last, this.#runs] = [{ batch, steps }, runs];
    return {
      input,
      batch,
      steps,
      runs,
      mask: this.returnSequences ? mask : null,
      options: {
        batch,
        returnSequences: this.returnSequences,
        train,
        ...(train && this.dropout > 0 ? { inputDropout: this.dropout } : {}),
        ...(h0 ? { h0 } : {}),
        ...(runs ? { lengths: runs.lengths } : {}),
      },
    };
  }

  #output(
    c: { batch: number; steps: number; runs: MaskRuns | null },
    r: { output: Float32Array | null; hN: Float32Array },
  ): Tensor {
    if (this.stateful) this.#state = r.hN.slice();
    // hN is [1, batch, units]: the last state of each sequence, already batch-major.
    if (!this.returnSequences) return { data: r.hN, shape: [c.batch, this.units] };
    const out = r.output as Float32Array;
    const data = c.runs ? unpackSteps(out, c.batch, c.steps, this.units, c.runs, r.hN) : out;
    return { data, shape: [c.batch, c.steps, this.units] };
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

  #backwardCall(dy: Float32Array, inputGrad: boolean) {
    let d = this.gradient(dy);
    const last = this.#last;
    const runs = this.#runs;
    // Masked: the gradients of the valid outputs, packed as the forward ran (padding has none).
    if (runs && this.returnSequences && last && d.length === last.batch * last.steps * this.units)
      d = packSteps(d, last.batch, last.steps, this.units, runs);
    return { ...(this.returnSequences ? { dOutput: d } : { dHN: d }), inputGrad };
  }

  /** dx back in the input's layout: unpacked (a mask), steps reversed back (goBackwards). */
  #inputGrad(dx: Float32Array | null): Float32Array | null {
    const last = this.#last as { batch: number; steps: number };
    if (dx === null) return null;
    const per = dx.length / (last.batch * last.steps);
    let d = dx;
    if (this.#runs) d = unpackSteps(d, last.batch, last.steps, per, this.#runs, null);
    return this.goBackwards ? reverseSteps(d, last.batch, last.steps, per) : d;
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
    if (this.#state === null) return undefined;
    const carried = this.#state.length / this.units;
    if (carried !== batch) {
      throw new GruError(
        'ERR_GRU_SHAPE',
        `${this.name} is stateful and carries the states of ${carried} sequences, but this batch has ${batch}: a stateful layer needs the same batch size in every batch (as in Keras); call resetStates() to start over with another`,
      );
    }
    return this.#state;
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
    this.#last = null;
    this.#state = null;
    this.#runs = null;
  }
}
