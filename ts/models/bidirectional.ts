/**
 * layers.bidirectional: Keras's Bidirectional around a GRU layer, over the core's bidirectional
 * GRU (one object, both directions: gru_net_create with bidirectional = 1). The backward
 * direction's outputs are aligned with the input's steps (Keras flips them back, PyTorch keeps
 * them so), and the two are merged per step (returnSequences) or from the two last states:
 * mergeMode 'concat' (default) gives [forward, backward] (2 * units features); 'sum', 'ave' and
 * 'mul' run in the core (gru_merge_forward / _backward). Parameters as Keras counts them: twice
 * the GRU's. With a mask (step-plan.ts) both directions run over each sample's valid steps, and
 * the output at a masked step is 0 (Keras's Bidirectional sets zero_output_for_mask with
 * returnSequences).
 *
 * The inner GRU's options reach both directions (activations, resetAfter, useBias, dropout:
 * a mask per direction, stateful: both directions' states carried), and its initializers
 * initialise the forward direction; a backwardLayer (Keras's backward_layer: a layers.gru with
 * goBackwards) initialises the backward one and must otherwise match the layer, since one core
 * GRU runs both. Keras itself refuses a
 * layer with goBackwards (both directions would run backwards) and a backwardLayer whose
 * stateful, returnSequences or returnState differ.
 */
import { GRU_MERGE_AVE, GRU_MERGE_MUL, GRU_MERGE_SUM } from '../backends/abi.generated.js';
import { GruError } from '../errors.js';
import { GRU, type GRUPrecision } from '../gru.js';
import type { Layer } from '../layer.js';
import * as check from '../validate.js';
import { carriedStates, GRULayer } from './gru.js';
import { ModelLayer, type BuildContext, type LayerArgs, type PendingOptions } from './layer.js';
import type { Mask } from './mask.js';
import { gatherRows, stepPlan, type StepPlan } from './step-plan.js';
import type { Shape, Tensor } from './tensor.js';

export type MergeMode = 'concat' | 'sum' | 'ave' | 'mul';

export interface BidirectionalLayerArgs extends LayerArgs {
  /** The recurrent layer, run forwards and backwards: a layers.gru({ ... }) not in a model. */
  layer: GRULayer;
  /** How the two directions' outputs combine (default 'concat'). */
  mergeMode?: MergeMode;
  /**
   * Keras's backward_layer: a layers.gru({ ..., goBackwards: true }) not in a model, whose
   * initializers initialise the backward direction; its other options must equal layer's.
   */
  backwardLayer?: GRULayer;
}

const MERGES: Record<Exclude<MergeMode, 'concat'>, number> = {
  sum: GRU_MERGE_SUM,
  ave: GRU_MERGE_AVE,
  mul: GRU_MERGE_MUL,
};

const PENDING: PendingOptions = {
  weights: { allowed: [], why: 'set the weights through core.setParameter after building' },
};

/** Options a backwardLayer must share with the layer: one core GRU runs both directions. */
const SHARED = [
  'units',
  'activation',
  'recurrentActivation',
  'useBias',
  'resetAfter',
  'returnSequences',
  'returnState',
  'stateful',
  'dropout',
  'recurrentDropout',
  'precision',
] as const;

/** The GRU layer given as `option`, checked free to be wrapped; ERR_GRU_ARG naming it. */
function innerGru(what: string, option: string, given: unknown): GRULayer {
  if (check.isRevokedProxy(given) || !(given instanceof GRULayer)) {
    throw new GruError(
      'ERR_GRU_ARG',
      `${what}: ${option} must be a layers.gru({ ... }), got ${check.describe(given)}`,
    );
  }
  if (given._owner !== null) {
    throw new GruError('ERR_GRU_ARG', `${what}: ${option} ${given.name} is already in a model`);
  }
  if (given.inputShape !== undefined) {
    throw new GruError(
      'ERR_GRU_ARG',
      `${what}: give inputShape to layers.bidirectional, not to the GRU inside it (Keras's input_shape goes on the Bidirectional)`,
    );
  }
  return given;
}

interface Trained {
  plan: StepPlan;
  /** The two directions' outputs before merging (mul's backward needs them). */
  both: Float32Array;
}

/** Rows of [batch, 2 * units] <- rows of hN [2, batch, units]: b's forward, then backward. */
function sideBySide(batch: number): Int32Array {
  const index = new Int32Array(2 * batch);
  for (let b = 0; b < batch; b++) [index[2 * b], index[2 * b + 1]] = [b, batch + b];
  return index;
}

/** sideBySide's inverse: rows of dHN [2, batch, units] <- rows of d [batch, 2 * units]. */
function apart(batch: number): Int32Array {
  const index = new Int32Array(2 * batch);
  for (let b = 0; b < batch; b++) [index[b], index[batch + b]] = [2 * b, 2 * b + 1];
  return index;
}

export class BidirectionalLayer extends ModelLayer {
  readonly className = 'Bidirectional';
  protected readonly prefix = 'bidirectional';
  readonly layer: GRULayer;
  /** Keras's backward_layer, when given (it initialises the backward direction). */
  readonly backwardLayer: GRULayer | null;
  readonly mergeMode: MergeMode;
  /** stateful: both directions' last states [2, batch, units]; null: zeros (reset). */
  #state: Float32Array | null = null;
  #gru: GRU | null = null;
  /** bias_hh of both directions kept at zero (resetAfter false with useBias), as GRULayer's. */
  #zeroBias: Float32Array | null = null;
  #last: Trained | null = null;

  constructor(args: BidirectionalLayerArgs) {
    const what = 'layers.bidirectional options';
    const o = { ...check.options(what, args) }; // each option read once (ModelLayer records them)
    super(what, o, ['layer', 'mergeMode', 'backwardLayer'], PENDING);
    const inner = innerGru(what, 'layer', o.layer);
    if (inner.goBackwards) {
      throw new GruError(
        'ERR_GRU_ARG',
        `${what}: layer has goBackwards true, and the backward direction runs backwards too: Keras refuses a forward and a backward layer with the same goBackwards`,
      );
    }
    const backwardGiven: unknown = o.backwardLayer;
    let backward: GRULayer | null = null;
    if (backwardGiven !== undefined) {
      backward = innerGru(what, 'backwardLayer', backwardGiven);
      if (backward === inner)
        throw new GruError(
          'ERR_GRU_ARG',
          `${what}: backwardLayer must be another layer than layer`,
        );
      if (!backward.goBackwards) {
        throw new GruError(
          'ERR_GRU_ARG',
          `${what}: backwardLayer must have goBackwards true (Keras refuses a forward and a backward layer with the same goBackwards)`,
        );
      }
      for (const k of SHARED) {
        if (backward[k] !== inner[k]) {
          throw new GruError(
            'ERR_GRU_ARG',
            `${what}: backwardLayer has ${k} ${check.describe(backward[k])} and layer ${check.describe(inner[k])}: they must be equal (one core GRU runs both directions${k === 'stateful' || k === 'returnSequences' || k === 'returnState' ? '; Keras refuses it too' : ''})`,
          );
        }
      }
    }
    // null is Keras's merge_mode=None (two outputs, which a Sequential model cannot carry).
    const mergeMode: unknown = o.mergeMode;
    const mode = mergeMode === undefined ? 'concat' : mergeMode;
    if (mode !== 'concat' && !(typeof mode === 'string' && Object.hasOwn(MERGES, mode))) {
      throw new GruError(
        'ERR_GRU_ARG',
        `${what}: mergeMode must be 'concat', 'sum', 'ave' or 'mul', got ${check.describe(mode)}`,
      );
    }
    this.layer = inner;
    this.backwardLayer = backward;
    this.mergeMode = mode as MergeMode;
    inner._owner = this;
    if (backward) backward._owner = this;
  }

  /** The core bidirectional GRU (built): PyTorch's names, the backward direction's '_reverse'. */
  get core(): GRU {
    if (this.#gru === null) throw new GruError('ERR_GRU_STATE', `${this.name} is not built`);
    return this.#gru;
  }

  get #width(): number {
    return this.mergeMode === 'concat' ? 2 * this.layer.units : this.layer.units;
  }

  protected build(input: Shape, ctx: BuildContext): Shape {
    const features = input[1];
    this.expect(
      input.length === 2 && typeof features === 'number',
      '(None, steps, features), 3-D with a known number of features',
      input,
    );
    const g = this.layer;
    if (g.returnState) {
      throw new GruError(
        'ERR_GRU_ARG',
        `${this.name}: returnState gives several outputs (the output and the states), and a Sequential model carries one (Keras refuses it too)`,
      );
    }
    const gru = new GRU({
      inputSize: features as number,
      hiddenSize: g.units,
      bias: g.useBias,
      batchFirst: true,
      resetAfter: g.resetAfter,
      activation: g.activation,
      recurrentActivation: g.recurrentActivation,
      bidirectional: true,
      seed: ctx.seed,
      backend: ctx.backend,
    });
    this.#gru = gru;
    // Keras's initializers: the layer's for the forward direction, the backward layer's (else
    // the layer's again, with other seeds) for the backward one.
    g._initializeCore(gru, '', ctx.seed, 0);
    (this.backwardLayer ?? g)._initializeCore(gru, '_reverse', ctx.seed, 4);
    if (g.precision !== 'fp32') gru.setPrecision(g.precision);
    if (!g.resetAfter && g.useBias) {
      this.#zeroBias = new Float32Array(3 * g.units);
      this._afterStep();
    }
    return g.returnSequences ? [input[0] as number | null, this.#width] : [this.#width];
  }

  forward(x: Tensor, train: boolean): Tensor {
    return this._forwardMasked(x, train, null).y;
  }

  /**
   * With a mask, Keras's rule (step-plan.ts) in both directions: each runs over the valid steps
   * (the core's backward direction over them in reverse), and the output at a masked step is
   * zeros (Keras's Bidirectional forces zero_output_for_mask when it returns sequences).
   */
  override _forwardMasked(x: Tensor, train: boolean, mask: Mask): { y: Tensor; mask: Mask } {
    const core = this.core;
    const backend = core.backend;
    const t = this.input(x, 'Float32Array', 3, core.inputSize);
    const [batch, steps, features] = t.shape as [number, number, number];
    const u = this.layer.units;
    const seq = this.layer.returnSequences;
    const plan = stepPlan(this.name, mask, batch, steps, {
      reverse: false,
      zeroOutput: true,
      initial: false,
    });
    const data = t.data as Float32Array;
    const input = plan.pack ? gatherRows(backend, data, features, plan.pack) : data;
    const h0 = this.layer.stateful ? this.#carried(batch) : undefined;
    const r = core.forward(input, {
      batch,
      returnSequences: seq,
      train,
      // Keras's recurrent_dropout of the inner GRU: both directions masked, each with its own.
      ...(train && this.layer.recurrentDropout > 0
        ? { recurrentDropout: this.layer.recurrentDropout }
        : {}),
      // Keras's dropout: the core draws one mask per direction, as Keras's two layers do.
      ...(train && this.layer.dropout > 0 ? { inputDropout: this.layer.dropout } : {}),
      ...(h0 ? { h0 } : {}),
      ...(plan.lengths ? { lengths: plan.lengths } : {}),
    });
    if (this.layer.stateful) this.#state = r.hN.slice();
    let both: Float32Array;
    if (seq) {
      const out = r.output as Float32Array;
      both = plan.unpack ? gatherRows(backend, out, 2 * u, plan.unpack) : out;
    } else {
      // hN [2, batch, units] -> [batch, 2 * units]: forward state, then backward state.
      both = gatherRows(backend, r.hN, u, sideBySide(batch));
    }
    const rows = seq ? batch * steps : batch;
    let y = both;
    if (this.mergeMode !== 'concat') {
      y = new Float32Array(rows * u);
      backend.mergeForward(MERGES[this.mergeMode], rows, u, both, y);
    }
    if (train) this.#last = { plan, both };
    const shape = seq ? [batch, steps, this.#width] : [batch, this.#width];
    return { y: { data: y, shape }, mask: seq ? mask : null };
  }

  backward(dy: Float32Array, inputGrad: boolean): Float32Array | null {
    const core = this.core;
    const backend = core.backend;
    const last = this.#last;
    if (last === null) {
      throw new GruError(
        'ERR_GRU_STATE',
        `${this.name}: backward() needs a training forward first (once per training forward)`,
      );
    }
    const { plan, both } = last;
    const { batch, steps } = plan;
    const u = this.layer.units;
    const seq = this.layer.returnSequences;
    const rows = seq ? batch * steps : batch;
    let d = check.float32ArrayOfLength(
      `${this.name}: dy`,
      this.gradient(dy),
      rows * this.#width,
      `[${rows}, ${this.#width}]`,
    );
    if (this.mergeMode !== 'concat') {
      const wide = new Float32Array(rows * 2 * u);
      backend.mergeBackward(MERGES[this.mergeMode], rows, u, both, d, wide);
      d = wide;
    }
    let grad: { dOutput: Float32Array } | { dHN: Float32Array };
    if (seq) {
      // Each valid step's output is one packed row (unpack is one-to-one): its inverse, pack.
      grad = { dOutput: plan.pack ? gatherRows(backend, d, 2 * u, plan.pack) : d };
    } else {
      grad = { dHN: gatherRows(backend, d, u, apart(batch)) };
    }
    this.#last = null;
    const { dx } = core.backward({ ...grad, inputGrad });
    if (dx === null || plan.unpack === null) return dx;
    return gatherRows(backend, dx, core.inputSize, plan.unpack);
  }

  trainables(): Layer[] {
    return this.#gru ? [this.#gru] : [];
  }

  /** Keras's: twice the GRU's (bias_hh of each direction not counted with resetAfter false). */
  override countParams(): number {
    return super.countParams() - 2 * (this.#zeroBias?.length ?? 0);
  }

  override _afterStep(): void {
    if (this.#zeroBias === null) return;
    this.core.setParameter('bias_hh_l0', this.#zeroBias);
    this.core.setParameter('bias_hh_l0_reverse', this.#zeroBias);
  }

  /** stateful: the states carried into a batch of `batch` sequences (undefined: zeros). */
  #carried(batch: number): Float32Array | undefined {
    return carriedStates(this.name, this.#state, 2 * this.layer.units, batch);
  }

  /**
   * A stateful layer's carried states, [2, batch, units] (forward direction first, PyTorch's
   * h_n layout; a copy); null before its first batch, after resetStates(), and when not stateful.
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

  /** How the core GRU stores its weights: the wrapped layer's (model.setPrecision()). */
  get precision(): GRUPrecision {
    return this.layer.precision;
  }

  /** @internal model.setPrecision(): now on the core (when built), and for a later build. */
  _setPrecision(precision: GRUPrecision): void {
    this.#gru?.setPrecision(precision);
    this.layer._setPrecision(precision);
    this.backwardLayer?._setPrecision(precision);
  }

  /** @internal Records the wrapped layers' precision as it is now. */
  override _config(): Record<string, unknown> {
    const config = super._config();
    for (const key of ['layer', 'backwardLayer'] as const) {
      const inner = config[key] as { config?: Record<string, unknown> } | undefined;
      const from = key === 'layer' ? this.layer : this.backwardLayer;
      if (inner?.config && from) inner.config = from._config();
    }
    return config;
  }

  protected _release(): void {
    this.#state = null;
    this.#gru = null;
    this.#zeroBias = null;
    this.#last = null;
  }
}
