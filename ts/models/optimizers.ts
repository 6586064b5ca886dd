/**
 * compile()'s optimizers: Keras 3's SGD, Adam, AdamW, RMSprop and Adagrad with Keras's option
 * names, defaults and formulas (the core's GRU_OPTIM_KERAS: Adam's epsilon added to sqrt(v) with
 * the bias corrections folded into the rate, RMSprop's and Adagrad's epsilon inside the square
 * root, SGD's velocity holding -lr g, weight decay decoupled for all: formulas in
 * native/include/gru_simd.h). They are the same core optimizer as ts/optim.ts's PyTorch classes,
 * with Keras specs.
 *
 * Each step does what Keras's optimizer.apply() does, in the core: clip the gradients
 * (clipnorm per tensor, globalClipnorm over all, or clipvalue; one of them, as Keras), then
 * update with the rate of this step (learningRate, or a schedule of the step count:
 * ts/models/schedules.ts), the weight decay using that same rate.
 */
import {
  GRU_CLIP_GLOBAL_NORM,
  GRU_CLIP_NORM,
  GRU_CLIP_VALUE,
  GRU_OPTIM_ADAGRAD,
  GRU_OPTIM_ADAM,
  GRU_OPTIM_ADAMW,
  GRU_OPTIM_AMSGRAD,
  GRU_OPTIM_CENTERED,
  GRU_OPTIM_KERAS,
  GRU_OPTIM_NESTEROV,
  GRU_OPTIM_RMSPROP,
  GRU_OPTIM_SGD,
} from '../backends/abi.generated.js';
import { GruError } from '../errors.js';
import type { Layer } from '../layer.js';
import { optionalFloat, Optimizer, type Hyper, type OptimConfig, type Spec } from '../optim.js';
import * as check from '../validate.js';
import { resolveSchedule, type RateAt } from './schedules.js';

/** Options every Keras optimizer takes (besides its own). */
export const COMMON_KEYS = [
  'learningRate',
  'weightDecay',
  'clipnorm',
  'clipvalue',
  'globalClipnorm',
];

/** How a Keras optimizer's own options map onto the core. */
export interface KerasSpec {
  type: Spec['type'];
  name: string;
  defaultLr: number;
  defaultDecay: number;
  /** Its own option names (beyond COMMON_KEYS). */
  keys: readonly string[];
  parse(o: Record<string, unknown>): Hyper;
  config(h: Hyper): Omit<OptimConfig, 'weightDecay'>;
}

const flagIf = (on: unknown, flag: number): number => (on ? flag : 0);

const adamLike = (type: 'adam' | 'adamw', name: string, defaultDecay: number): KerasSpec => ({
  type,
  name,
  defaultLr: 1e-3,
  defaultDecay,
  keys: ['beta1', 'beta2', 'epsilon', 'amsgrad'],
  parse: (o) => ({
    beta1: optionalFloat(o, 'beta1', 0.9, { min: 0, max: 1, maxOpen: true }),
    beta2: optionalFloat(o, 'beta2', 0.999, { min: 0, max: 1, maxOpen: true }),
    epsilon: optionalFloat(o, 'epsilon', 1e-7),
    amsgrad: check.boolean('amsgrad', o.amsgrad, false),
  }),
  config: (h) => ({
    kind: type === 'adam' ? GRU_OPTIM_ADAM : GRU_OPTIM_ADAMW,
    a: h.beta1 as number,
    b: h.beta2 as number,
    eps: h.epsilon as number,
    flags: flagIf(h.amsgrad, GRU_OPTIM_AMSGRAD),
  }),
});

/** Keras's optimizers by compile() name. */
export const KERAS_SPECS: Record<string, KerasSpec> = {
  sgd: {
    type: 'sgd',
    name: 'SGD',
    defaultLr: 0.01,
    defaultDecay: 0,
    keys: ['momentum', 'nesterov'],
    parse: (o) => ({
      momentum: optionalFloat(o, 'momentum', 0, { min: 0, max: 1 }),
      nesterov: check.boolean('nesterov', o.nesterov, false),
    }),
    config: (h) => ({
      kind: GRU_OPTIM_SGD,
      a: h.momentum as number,
      b: 0,
      eps: 0,
      flags: flagIf(h.nesterov, GRU_OPTIM_NESTEROV),
    }),
  },
  adam: adamLike('adam', 'Adam', 0),
  adamw: adamLike('adamw', 'AdamW', 0.004),
  rmsprop: {
    type: 'rmsprop',
    name: 'RMSprop',
    defaultLr: 1e-3,
    defaultDecay: 0,
    keys: ['rho', 'momentum', 'epsilon', 'centered'],
    parse: (o) => ({
      rho: optionalFloat(o, 'rho', 0.9, { min: 0, max: 1 }),
      momentum: optionalFloat(o, 'momentum', 0),
      epsilon: optionalFloat(o, 'epsilon', 1e-7),
      centered: check.boolean('centered', o.centered, false),
    }),
    config: (h) => ({
      kind: GRU_OPTIM_RMSPROP,
      a: h.rho as number,
      b: h.momentum as number,
      eps: h.epsilon as number,
      flags: flagIf(h.centered, GRU_OPTIM_CENTERED),
    }),
  },
  adagrad: {
    type: 'adagrad',
    name: 'Adagrad',
    defaultLr: 1e-3,
    defaultDecay: 0,
    keys: ['initialAccumulatorValue', 'epsilon'],
    parse: (o) => ({
      initialAccumulatorValue: optionalFloat(o, 'initialAccumulatorValue', 0.1),
      epsilon: optionalFloat(o, 'epsilon', 1e-7),
    }),
    config: (h) => ({
      kind: GRU_OPTIM_ADAGRAD,
      a: h.initialAccumulatorValue as number,
      b: 0,
      eps: h.epsilon as number,
      flags: 0,
    }),
  },
};

/** A Keras spec as the core optimizer's: weightDecay (decoupled) added, the Keras flag set. */
function coreSpec(k: KerasSpec): Spec {
  return {
    type: k.type,
    name: k.name,
    defaultLr: k.defaultLr,
    keys: [...k.keys, 'weightDecay'],
    parse: (o) => ({
      ...k.parse(o),
      weightDecay: optionalFloat(o, 'weightDecay', k.defaultDecay),
    }),
    config: (h) => {
      const c = k.config(h);
      return { ...c, weightDecay: h.weightDecay as number, flags: c.flags | GRU_OPTIM_KERAS };
    },
  };
}

interface Clip {
  mode: number;
  value: number;
}

/** The optimizer of a compiled model: Keras's apply() as one kerasStep(). */
export class KerasOptimizer extends Optimizer {
  readonly #clip: Clip | null;
  readonly #rateAt: RateAt | null;
  readonly #skip: Int32Array;

  constructor(
    spec: Spec,
    layers: readonly Layer[],
    options: Record<string, unknown>,
    clip: Clip | null,
    rateAt: RateAt | null,
    skip: Int32Array,
  ) {
    super(spec, layers, options);
    this.#clip = clip;
    this.#rateAt = rateAt;
    this.#skip = skip;
  }

  /** Clips (leaving out the tensors Keras does not have), sets this step's rate, updates. */
  kerasStep(): void {
    this.#beforeStep();
    this.step();
  }

  /** kerasStep() with the update on the addon's worker threads (native); same numbers. */
  async kerasStepAsync(): Promise<void> {
    this.#beforeStep();
    await this.stepAsync();
  }

  /** Whether a schedule sets the rate at every step (then callbacks may not set it: Keras). */
  get scheduled(): boolean {
    return this.#rateAt !== null;
  }

  #beforeStep(): void {
    if (this.#clip) this._clipKeras(this.#clip.mode, this.#clip.value, this.#skip);
    // Keras evaluates the schedule at optimizer.iterations: 0 for the first step.
    if (this.#rateAt) this._setScheduledLr(this.#rateAt(this.stepCount));
  }
}

/** Makes the optimizer once the model's layers exist; skip: tensor indices Keras has not. */
export type MakeOptimizer = (layers: Layer[], skip: Int32Array) => KerasOptimizer;

const CLIPS = {
  clipnorm: GRU_CLIP_NORM,
  globalClipnorm: GRU_CLIP_GLOBAL_NORM,
  clipvalue: GRU_CLIP_VALUE,
};

/** Checks compile()'s options of the Keras optimizer `name` now (keys already checked). */
export function parseKerasOptimizer(name: string, o: Record<string, unknown>): MakeOptimizer {
  const k = KERAS_SPECS[name]!;
  const spec = coreSpec(k);
  const own: Record<string, unknown> = {};
  for (const key of spec.keys) if (o[key] !== undefined) own[key] = o[key];
  spec.parse(own); // refused now, not at the first step
  let clip: Clip | null = null;
  for (const [key, mode] of Object.entries(CLIPS)) {
    if (o[key] === undefined || o[key] === null) continue;
    if (clip !== null) {
      throw new GruError(
        'ERR_GRU_ARG',
        'give at most one of clipnorm, clipvalue and globalClipnorm (as Keras)',
      );
    }
    clip = { mode, value: check.float32(key, o[key], { min: 0, minOpen: true }) };
  }
  let lr = k.defaultLr;
  let rateAt: RateAt | null = null;
  const rate = o.learningRate;
  if (typeof rate === 'number' || rate === undefined) {
    if (rate !== undefined) lr = check.float32('learningRate', rate, { min: 0, minOpen: true });
  } else {
    rateAt = resolveSchedule(rate).at;
    // The core checks the rate given at creation (> 0); every step passes the schedule's.
    lr = 1;
  }
  return (layers, skip) => new KerasOptimizer(spec, layers, { lr, ...own }, clip, rateAt, skip);
}
