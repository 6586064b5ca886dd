/**
 * layers.bidirectional: Keras's Bidirectional around a GRU layer, over the core's bidirectional
 * GRU (one object, both directions: gru_net_create with bidirectional = 1). The backward
 * direction's outputs are aligned with the input's steps (Keras flips them back, PyTorch keeps
 * them so), and the two are merged per step (returnSequences) or from the two last states:
 * mergeMode 'concat' (default) gives [forward, backward] (2 * units features); 'sum', 'ave' and
 * 'mul' run in the core (gru_merge_forward / _backward). Parameters as Keras counts them: twice
 * the GRU's. With a mask (mask.ts) both directions run over each sample's valid steps, and the
 * output at padding is 0 (Keras's Bidirectional sets zero_output_for_mask with returnSequences).
 */
import { GRU_MERGE_AVE, GRU_MERGE_MUL, GRU_MERGE_SUM } from '../backends/abi.generated.js';
import { GruError } from '../errors.js';
import { GRU } from '../gru.js';
import type { Layer } from '../layer.js';
import * as check from '../validate.js';
import { GRULayer } from './gru.js';
import { ModelLayer, type BuildContext, type LayerArgs, type PendingOptions } from './layer.js';
import { maskRuns, packSteps, unpackSteps, type Mask, type MaskRuns } from './mask.js';
import type { Shape, Tensor } from './tensor.js';

export type MergeMode = 'concat' | 'sum' | 'ave' | 'mul';

export interface BidirectionalLayerArgs extends LayerArgs {
  /** The recurrent layer, run forwards and backwards: a layers.gru({ ... }) not in a model. */
  layer: GRULayer;
  /** How the two directions' outputs combine (default 'concat'). */
  mergeMode?: MergeMode;
}

const MERGES: Record<Exclude<MergeMode, 'concat'>, number> = {
  sum: GRU_MERGE_SUM,
  ave: GRU_MERGE_AVE,
  mul: GRU_MERGE_MUL,
};

const PENDING: PendingOptions = {
  backwardLayer: { allowed: [], why: 'both directions are one core GRU with the same options' },
  weights: { allowed: [], why: 'set the weights through core.setParameter after building' },
};

/** What the inner GRU layer may hold that the core's bidirectional GRU does not honour. */
const GRU_DEFAULTS: Record<string, unknown> = {
  activation: 'tanh',
  recurrentActivation: 'sigmoid',
  dropout: 0,
  recurrentDropout: 0,
  stateful: false,
  returnState: false,
  goBackwards: false,
};

interface Trained {
  batch: number;
  steps: number;
  runs: MaskRuns | null;
  /** The two directions' outputs before merging (mul's backward needs them). */
  both: Float32Array;
}

export class BidirectionalLayer extends ModelLayer {
  readonly className = 'Bidirectional';
  protected readonly prefix = 'bidirectional';
  readonly layer: GRULayer;
  readonly mergeMode: MergeMode;
  #gru: GRU | null = null;
  /** bias_hh of both directions kept at zero (resetAfter false with useBias), as GRULayer's. */
  #zeroBias: Float32Array | null = null;
  #last: Trained | null = null;

  constructor(args: BidirectionalLayerArgs) {
    const what = 'layers.bidirectional options';
    const o = { ...check.options(what, args) }; // each option read once (ModelLayer records them)
    super(what, o, ['layer', 'mergeMode'], PENDING);
    const given: unknown = o.layer; // read once: a getter may answer differently each time
    if (check.isRevokedProxy(given) || !(given instanceof GRULayer)) {
      throw new GruError(
        'ERR_GRU_ARG',
        `${what}: layer must be a layers.gru({ ... }), got ${check.describe(given)}`,
      );
    }
    const inner = given;
    if (inner._owner !== null) {
      throw new GruError('ERR_GRU_ARG', `${what}: layer ${inner.name} is already in a model`);
    }
    if (inner.inputShape !== undefined) {
      throw new GruError(
        'ERR_GRU_ARG',
        `${what}: give inputShape to layers.bidirectional, not to the GRU inside it (Keras's input_shape goes on the Bidirectional)`,
      );
    }
    for (const [k, v] of Object.entries(GRU_DEFAULTS)) {
      const given = (inner as unknown as Record<string, unknown>)[k];
      if (given !== undefined && given !== v) {
        throw new GruError(
          'ERR_GRU_ARG',
          `${what}: a GRU with ${k} ${check.describe(given)} is not available in a Bidirectional yet (the core's bidirectional GRU runs the default)`,
        );
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
    this.mergeMode = mode as MergeMode;
    inner._owner = this;
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
    this.#gru = new GRU({
      inputSize: features as number,
      hiddenSize: g.units,
      bias: g.useBias,
      batchFirst: true,
      resetAfter: g.resetAfter,
      bidirectional: true,
      seed: ctx.seed,
      backend: ctx.backend,
    });
    if (!g.resetAfter && g.useBias) {
      this.#zeroBias = new Float32Array(3 * g.units);
      this._afterStep();
    }
    return g.returnSequences ? [input[0] as number | null, this.#width] : [this.#width];
  }

  forward(x: Tensor, train: boolean): Tensor {
    return this._forwardMasked(x, train, null).y;
  }

  override _forwardMasked(x: Tensor, train: boolean, mask: Mask): { y: Tensor; mask: Mask } {
    const core = this.core;
    const t = this.input(x, 'Float32Array', 3, core.inputSize);
    const [batch, steps, features] = t.shape as [number, number, number];
    const u = this.layer.units;
    const seq = this.layer.returnSequences;
    const runs = mask === null ? null : maskRuns(this.name, mask, batch, steps);
    const data = t.data as Float32Array;
    const input = runs ? packSteps(data, batch, steps, features, runs) : data;
    const r = core.forward(input, {
      batch,
      returnSequences: seq,
      train,
      ...(runs ? { lengths: runs.lengths } : {}),
    });
    let both: Float32Array;
    if (seq) {
      const out = r.output as Float32Array;
      both = runs ? unpackSteps(out, batch, steps, 2 * u, runs, null) : out;
    } else {
      // hN [2, batch, units] -> [batch, 2 * units]: forward state, then backward state.
      both = new Float32Array(batch * 2 * u);
      for (let b = 0; b < batch; b++) {
        both.set(r.hN.subarray(b * u, (b + 1) * u), b * 2 * u);
        both.set(r.hN.subarray((batch + b) * u, (batch + b + 1) * u), b * 2 * u + u);
      }
    }
    const rows = seq ? batch * steps : batch;
    let y = both;
    if (this.mergeMode !== 'concat') {
      y = new Float32Array(rows * u);
      core.backend.mergeForward(MERGES[this.mergeMode], rows, u, both, y);
    }
    if (train) this.#last = { batch, steps, runs, both };
    const shape = seq ? [batch, steps, this.#width] : [batch, this.#width];
    return { y: { data: y, shape }, mask: seq ? mask : null };
  }

  backward(dy: Float32Array, inputGrad: boolean): Float32Array | null {
    const core = this.core;
    const last = this.#last;
    if (last === null) {
      throw new GruError(
        'ERR_GRU_STATE',
        `${this.name}: backward() needs a training forward first (once per training forward)`,
      );
    }
    const { batch, steps, runs, both } = last;
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
      core.backend.mergeBackward(MERGES[this.mergeMode], rows, u, both, d, wide);
      d = wide;
    }
    let grad: { dOutput: Float32Array } | { dHN: Float32Array };
    if (seq) {
      grad = { dOutput: runs ? packSteps(d, batch, steps, 2 * u, runs) : d };
    } else {
      const dHN = new Float32Array(2 * batch * u);
      for (let b = 0; b < batch; b++) {
        dHN.set(d.subarray(b * 2 * u, b * 2 * u + u), b * u);
        dHN.set(d.subarray(b * 2 * u + u, (b + 1) * 2 * u), (batch + b) * u);
      }
      grad = { dHN };
    }
    this.#last = null;
    const { dx } = core.backward({ ...grad, inputGrad });
    if (dx === null || runs === null) return dx;
    return unpackSteps(dx, batch, steps, core.inputSize, runs, null);
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

  protected _release(): void {
    this.#gru = null;
    this.#zeroBias = null;
    this.#last = null;
  }
}
