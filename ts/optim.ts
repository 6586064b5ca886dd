/**
 * Optimizers with PyTorch's semantics (torch.optim.Adam, AdamW, SGD, RMSprop, Adagrad), fused in
 * the core: one pass over every parameter tensor of the layers given, per step. The moment
 * buffers live in the backend next to the weights; stateDict() copies them out as one
 * Float32Array. (The model API's Keras formulas are specs of the same class: ts/models/optimizers.ts.)
 *
 * Over 400 lines: the options, state dicts and async steps of five optimizers share one class;
 * their specs are short tables.
 */
import {
  GRU_OPTIM_ADAGRAD,
  GRU_OPTIM_AMSGRAD,
  GRU_OPTIM_CENTERED,
  GRU_OPTIM_MAXIMIZE,
  GRU_OPTIM_NESTEROV,
  GRU_OPTIM_ADAM,
  GRU_OPTIM_ADAMW,
  GRU_OPTIM_RMSPROP,
  GRU_OPTIM_SGD,
} from './backends/abi.generated.js';
import type { Backend, OptimHandle } from './backends/backend.js';
import { Busy, holding } from './busy.js';
import { GruError } from './errors.js';
import { adopt, Layer, release } from './layer.js';
import * as check from './validate.js';

/** @internal The arguments of gru_optim_create after the kind-independent learning rate. */
export interface OptimConfig {
  kind: number;
  /** beta1 (Adam), momentum (SGD), alpha (RMSprop), initial accumulator value (Adagrad). */
  a: number;
  /** beta2 (Adam), dampening (SGD), momentum (RMSprop), lr decay (Adagrad). */
  b: number;
  eps: number;
  weightDecay: number;
  /** Bitwise OR of GRU_OPTIM_AMSGRAD, _MAXIMIZE, _NESTEROV, _CENTERED, _KERAS. */
  flags: number;
}
const OPTIM_KIND = { adam: GRU_OPTIM_ADAM, adamw: GRU_OPTIM_ADAMW } as const;

/** A layer with parameters an optimizer can update: GRU, Dense, Embedding, LayerNorm, ... */
export type Trainable = Layer;

export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** Decay of the first and second moment estimates, each in [0, 1) (default [0.9, 0.999]). */
  betas?: readonly [number, number];
  /** Added to the denominator (default 1e-8). */
  eps?: number;
  /** L2 penalty added to the gradient (Adam) or decoupled decay (AdamW; default 0 / 1e-2). */
  weightDecay?: number;
  /** Use the maximum of past second moments (default false). */
  amsgrad?: boolean;
  /** Ascend instead of descend (default false). */
  maximize?: boolean;
}

export interface SGDOptions {
  /** Learning rate (required). */
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  /** Nesterov momentum; needs momentum > 0 and dampening 0. */
  nesterov?: boolean;
  maximize?: boolean;
}

export interface RMSpropOptions {
  /** Learning rate (default 1e-2). */
  lr?: number;
  /** Decay of the mean square, in [0, 1] (default 0.99). */
  alpha?: number;
  /** Added to the square root of the mean square (default 1e-8). */
  eps?: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
  /** Momentum of the scaled step (default 0). */
  momentum?: number;
  /** Divide by the variance estimate (mean square minus squared mean) (default false). */
  centered?: boolean;
  maximize?: boolean;
}

export interface AdagradOptions {
  /** Learning rate (default 1e-2). */
  lr?: number;
  /** Step t uses lr / (1 + (t - 1) lrDecay) (default 0). */
  lrDecay?: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
  /** Where the sum of squared gradients starts (default 0). */
  initialAccumulatorValue?: number;
  /** Added to the square root of the sum (default 1e-10). */
  eps?: number;
  maximize?: boolean;
}

export interface AdamStateDict {
  type: 'adam' | 'adamw';
  step: number;
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
  /** The backend's state: [step count, then every moment buffer]. */
  state: Float32Array;
}

export interface SGDStateDict {
  type: 'sgd';
  step: number;
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
  state: Float32Array;
}

export interface RMSpropStateDict {
  type: 'rmsprop';
  step: number;
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
  maximize: boolean;
  state: Float32Array;
}

export interface AdagradStateDict {
  type: 'adagrad';
  step: number;
  lr: number;
  lrDecay: number;
  weightDecay: number;
  initialAccumulatorValue: number;
  eps: number;
  maximize: boolean;
  state: Float32Array;
}

export type OptimizerStateDict = AdamStateDict | SGDStateDict | RMSpropStateDict | AdagradStateDict;
export type OptimizerType = OptimizerStateDict['type'];

/** @internal Options without lr, as validated; what stateDict() reports besides type, step, lr, state. */
export type Hyper = Record<string, number | boolean | [number, number]>;

/** @internal How one optimizer type reads its options and maps them onto the core's config. */
export interface Spec {
  type: OptimizerType;
  name: string;
  /** lr when omitted; undefined: required. */
  defaultLr: number | undefined;
  /** Option names besides lr. */
  keys: readonly string[];
  /** Validates the options besides lr (already checked against keys). */
  parse(o: Record<string, unknown>): Hyper;
  config(hyper: Hyper): OptimConfig;
}

/** The core's largest step count: step counts are stored as a float32 in the state (exact to 2^24). */
const MAX_STEP = 2 ** 24;

/** @internal The float32 option `name` >= 0 (or > 0 with `positive`), `d` when undefined. */
export function optionalFloat(
  o: Record<string, unknown>,
  name: string,
  d: number,
  range: Parameters<typeof check.float32>[2] = { min: 0 },
): number {
  return o[name] === undefined ? d : check.float32(name, o[name], range);
}

function lrOption(value: unknown): number {
  return check.float32('lr', value, { min: 0, minOpen: true });
}

function adamSpec(type: 'adam' | 'adamw', name: string, defaultDecay: number): Spec {
  return {
    type,
    name,
    defaultLr: 1e-3,
    keys: ['betas', 'eps', 'weightDecay', 'amsgrad', 'maximize'],
    parse(o) {
      let betas: [number, number] = [0.9, 0.999];
      if (o.betas !== undefined) {
        const b = o.betas;
        if (!check.isArray(b) || b.length !== 2) {
          throw new GruError(
            'ERR_GRU_ARG',
            `betas must be an array of two numbers in [0, 1), got ${check.describe(b)}`,
          );
        }
        const range = { min: 0, max: 1, maxOpen: true };
        betas = [check.float32('betas[0]', b[0], range), check.float32('betas[1]', b[1], range)];
      }
      return {
        betas,
        eps: o.eps === undefined ? 1e-8 : check.float32('eps', o.eps, { min: 0 }),
        weightDecay:
          o.weightDecay === undefined
            ? defaultDecay
            : check.float32('weightDecay', o.weightDecay, { min: 0 }),
        amsgrad: check.boolean('amsgrad', o.amsgrad, false),
        maximize: check.boolean('maximize', o.maximize, false),
      };
    },
    config(h) {
      const [a, b] = h.betas as [number, number];
      const flags = (h.amsgrad ? GRU_OPTIM_AMSGRAD : 0) | (h.maximize ? GRU_OPTIM_MAXIMIZE : 0);
      return {
        kind: OPTIM_KIND[type],
        a,
        b,
        eps: h.eps as number,
        weightDecay: h.weightDecay as number,
        flags,
      };
    },
  };
}

const SGD_SPEC: Spec = {
  type: 'sgd',
  name: 'SGD',
  defaultLr: undefined,
  keys: ['momentum', 'dampening', 'weightDecay', 'nesterov', 'maximize'],
  parse(o) {
    const momentum =
      o.momentum === undefined ? 0 : check.float32('momentum', o.momentum, { min: 0 });
    const dampening = o.dampening === undefined ? 0 : check.float32('dampening', o.dampening);
    const nesterov = check.boolean('nesterov', o.nesterov, false);
    if (nesterov && (!(Math.fround(momentum) > 0) || Math.fround(dampening) !== 0)) {
      throw new GruError(
        'ERR_GRU_ARG',
        `nesterov requires momentum > 0 and dampening 0, got momentum ${momentum} and dampening ${dampening}`,
      );
    }
    return {
      momentum,
      dampening,
      weightDecay:
        o.weightDecay === undefined ? 0 : check.float32('weightDecay', o.weightDecay, { min: 0 }),
      nesterov,
      maximize: check.boolean('maximize', o.maximize, false),
    };
  },
  config(h) {
    const flags = (h.nesterov ? GRU_OPTIM_NESTEROV : 0) | (h.maximize ? GRU_OPTIM_MAXIMIZE : 0);
    return {
      kind: GRU_OPTIM_SGD,
      a: h.momentum as number,
      b: h.dampening as number,
      eps: 0,
      weightDecay: h.weightDecay as number,
      flags,
    };
  },
};

const RMSPROP_SPEC: Spec = {
  type: 'rmsprop',
  name: 'RMSprop',
  defaultLr: 1e-2,
  keys: ['alpha', 'eps', 'weightDecay', 'momentum', 'centered', 'maximize'],
  parse(o) {
    return {
      alpha: optionalFloat(o, 'alpha', 0.99, { min: 0, max: 1 }),
      eps: optionalFloat(o, 'eps', 1e-8),
      weightDecay: optionalFloat(o, 'weightDecay', 0),
      momentum: optionalFloat(o, 'momentum', 0),
      centered: check.boolean('centered', o.centered, false),
      maximize: check.boolean('maximize', o.maximize, false),
    };
  },
  config(h) {
    const flags = (h.centered ? GRU_OPTIM_CENTERED : 0) | (h.maximize ? GRU_OPTIM_MAXIMIZE : 0);
    return {
      kind: GRU_OPTIM_RMSPROP,
      a: h.alpha as number,
      b: h.momentum as number,
      eps: h.eps as number,
      weightDecay: h.weightDecay as number,
      flags,
    };
  },
};

const ADAGRAD_SPEC: Spec = {
  type: 'adagrad',
  name: 'Adagrad',
  defaultLr: 1e-2,
  keys: ['lrDecay', 'weightDecay', 'initialAccumulatorValue', 'eps', 'maximize'],
  parse(o) {
    return {
      lrDecay: optionalFloat(o, 'lrDecay', 0),
      weightDecay: optionalFloat(o, 'weightDecay', 0),
      initialAccumulatorValue: optionalFloat(o, 'initialAccumulatorValue', 0),
      eps: optionalFloat(o, 'eps', 1e-10),
      maximize: check.boolean('maximize', o.maximize, false),
    };
  },
  config(h) {
    return {
      kind: GRU_OPTIM_ADAGRAD,
      a: h.initialAccumulatorValue as number,
      b: h.lrDecay as number,
      eps: h.eps as number,
      weightDecay: h.weightDecay as number,
      flags: h.maximize ? GRU_OPTIM_MAXIMIZE : 0,
    };
  },
};

/** The layers to optimize: non-empty, distinct, live, all on one backend. */
function checkParams(name: string, params: unknown): { layers: Trainable[]; backend: Backend } {
  if (check.isRevokedProxy(params) || !Array.isArray(params) || params.length === 0) {
    throw new GruError(
      'ERR_GRU_ARG',
      `${name} params must be a non-empty array of layers (GRU, Dense, Embedding, LayerNorm, ...), got ${check.describe(params)}`,
    );
  }
  const layers: Trainable[] = [];
  for (let i = 0; i < params.length; i++) {
    const p: unknown = params[i];
    if (!Layer._isLayer(p)) {
      throw new GruError(
        'ERR_GRU_ARG',
        `params[${i}] must be a layer (GRU, Dense, Embedding, LayerNorm, ...), got ${check.describe(p)}`,
      );
    }
    if (p.disposed)
      throw new GruError(
        'ERR_GRU_DISPOSED',
        `params[${i}] (a ${p.constructor.name}) has been disposed`,
      );
    if (layers.includes(p as Trainable))
      throw new GruError('ERR_GRU_ARG', `params[${i}] appears more than once in params`);
    if (layers.length > 0 && p.backend !== layers[0]!.backend) {
      throw new GruError(
        'ERR_GRU_ARG',
        `params must all live on one backend: params[0] is on ${layers[0]!.backend.name}, params[${i}] on ${p.backend.name}`,
      );
    }
    layers.push(p as Trainable);
  }
  return { layers, backend: layers[0]!.backend };
}

/** The shared part of Adam, AdamW, SGD, RMSprop and Adagrad. */
export abstract class Optimizer {
  readonly type: OptimizerType;
  readonly backend: Backend;
  /** The layers this optimizer updates, in the order given. */
  readonly params: readonly Trainable[];
  readonly #spec: Spec;
  #hyper: Hyper;
  #handle: OptimHandle | null;
  #lr: number;
  #step = 0;
  /** @internal Set while an async call (stepAsync, a model's) holds this optimizer. */
  readonly _busy: Busy;

  protected constructor(spec: Spec, params: readonly Trainable[], options: unknown) {
    check.notAbstract(
      new.target,
      Optimizer,
      'Optimizer',
      'an Adam, AdamW, SGD, RMSprop or Adagrad',
    );
    const { layers, backend } = checkParams(spec.name, params);
    const o = check.options(`${spec.name} options`, options);
    check.knownKeys(`${spec.name} options`, o, ['lr', ...spec.keys]);
    let lr: number;
    if (o.lr !== undefined) lr = lrOption(o.lr);
    else if (spec.defaultLr !== undefined) lr = spec.defaultLr;
    else throw new GruError('ERR_GRU_ARG', `lr is required for ${spec.name} (a finite number > 0)`);
    const hyper = spec.parse(o);
    this.type = spec.type;
    this.backend = backend;
    this.params = layers;
    this.#spec = spec;
    this._busy = new Busy(`this ${spec.name} optimizer`);
    this.#hyper = hyper;
    this.#lr = lr;
    this.#handle = this.#create(hyper);
    adopt(this, backend, this.#handle);
  }

  /** @internal Whether value is an optimizer (not a Proxy of one); never throws. */
  static _is(value: unknown): value is Optimizer {
    return typeof value === 'object' && value !== null && #handle in value;
  }

  /** Learning rate of the next step(): a finite number > 0 (a schedule may drive it to 0). */
  get lr(): number {
    return this.#lr;
  }

  set lr(value: number) {
    if (this.#handle === null)
      throw new GruError('ERR_GRU_DISPOSED', `this ${this.#spec.name} optimizer has been disposed`);
    this.#lr = lrOption(value);
  }

  /** @internal for schedules, which may reach 0 (CosineAnnealingLR with etaMin 0). */
  _setScheduledLr(value: number): void {
    this.#lr = check.float32('lr', value, { min: 0 });
  }

  /** step() calls so far (restored by loadStateDict). */
  get stepCount(): number {
    return this.#step;
  }

  get disposed(): boolean {
    return this.#handle === null;
  }

  /** One update of every parameter from its gradient, with the current lr. */
  step(): void {
    this.backend.optimStep(this.#live(), this.#lr);
    this.#step++;
  }

  /**
   * step() off the event loop (native: a worker thread; wasm: synchronously inside the
   * promise). The optimizer and its layers are busy (ERR_GRU_BUSY) until it settles.
   */
  stepAsync(): Promise<void> {
    return holding('stepAsync()', this.#guards(), async (run) => {
      const { handle, lr } = run(() => ({ handle: this.#live(), lr: this.#lr }));
      await run(() => this.backend.optimStepAsync(handle, lr));
      this.#step++;
    });
  }

  /** Sets the gradients of every parameter to zero. */
  zeroGrad(): void {
    this.backend.optimZeroGrad(this.#live());
  }

  /**
   * clip_grad_norm_: scales all gradients by maxNorm / (norm + 1e-6) when their total 2-norm
   * is above maxNorm (> 0; Infinity only measures). Returns the total norm before clipping.
   */
  clipGradNorm(maxNorm: number): number {
    const max = this.#maxNorm(maxNorm);
    return this.backend.optimClipGradNorm(this.#live(), max);
  }

  /** clipGradNorm() off the event loop, as stepAsync() is to step(). */
  clipGradNormAsync(maxNorm: number): Promise<number> {
    return holding('clipGradNormAsync()', this.#guards(), async (run) => {
      const { handle, max } = run(() => ({ handle: this.#live(), max: this.#maxNorm(maxNorm) }));
      return run(() => this.backend.optimClipGradNormAsync(handle, max));
    });
  }

  #maxNorm(maxNorm: number): number {
    // Infinity (only measure) becomes FLT_MAX; what is > 0 must stay > 0 as a float32.
    const max = typeof maxNorm === 'number' ? Math.min(maxNorm, check.FLT_MAX) : NaN;
    if (!(Math.fround(max) > 0)) {
      throw new GruError(
        'ERR_GRU_ARG',
        `maxNorm must be a number > 0 as a float32 (Infinity to only measure), got ${check.describe(maxNorm)}`,
      );
    }
    return max;
  }

  /** The optimizer and every layer it updates: what an async call of it holds. */
  #guards(): Busy[] {
    return [this._busy, ...this.params.map((p) => p._busy)];
  }

  /**
   * @internal Keras's clipping before its update (ts/models/optimizers.ts): mode a GRU_CLIP_*
   * constant, value > 0 (checked by the caller), skip the tensors Keras does not have.
   */
  _clipKeras(mode: number, value: number, skip: Int32Array): void {
    this.backend.optimClipKeras(this.#live(), mode, value, skip);
  }

  /** clip_grad_value_: clamps every gradient to [-clip, clip]. */
  clipGradValue(clip: number): void {
    const c = check.float32('clip', clip, { min: 0, minOpen: true });
    this.backend.optimClipGradValue(this.#live(), c);
  }

  /** type, step count, lr, hyperparameters, and the backend state (moments) as one array. */
  stateDict(): OptimizerStateDict {
    const handle = this.#live();
    const state = new Float32Array(this.backend.optimStateSize(handle));
    this.backend.optimGetState(handle, state);
    const hyper = { ...this.#hyper };
    if (Array.isArray(hyper.betas)) hyper.betas = [...hyper.betas] as [number, number];
    return {
      type: this.type,
      step: this.#step,
      lr: this.#lr,
      ...hyper,
      state,
    } as OptimizerStateDict;
  }

  /**
   * Restores a stateDict() of an optimizer of the same type over layers of the same shapes.
   * All or nothing: every field is read once and checked (the core's rules included) and a
   * replacement with new hyperparameters is built and loaded before anything changes; on any
   * failure the optimizer is as it was.
   */
  loadStateDict(stateDict: OptimizerStateDict): void {
    const handle = this.#live();
    // Each field read exactly once: a getter answering differently later cannot matter.
    const {
      type,
      step,
      lr: lrValue,
      state,
      ...rest
    } = { ...check.options('stateDict', stateDict) };
    if (type !== this.type) {
      throw new GruError(
        'ERR_GRU_ARG',
        `stateDict.type must be '${this.type}' for this optimizer, got ${check.describe(type)}`,
      );
    }
    if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0) {
      throw new GruError(
        'ERR_GRU_ARG',
        `stateDict.step must be a non-negative integer, got ${check.describe(step)}`,
      );
    }
    // 0 is allowed here: a schedule may have driven lr there before the state was saved.
    const lr = check.float32('stateDict.lr', lrValue, { min: 0 });
    check.knownKeys('stateDict', rest, this.#spec.keys);
    const hyper = this.#spec.parse(rest);
    const data = check.float32Array('stateDict.state', state);
    // The core fixes hyperparameters at creation (and the state's size follows them: amsgrad,
    // SGD momentum): new ones need a new optimizer over the same layers, loaded before the swap.
    const rebuild = JSON.stringify(hyper) !== JSON.stringify(this.#hyper);
    const target = rebuild ? this.#create(hyper) : handle;
    try {
      const size = this.backend.optimStateSize(target);
      check.float32ArrayOfLength('stateDict.state', data, size, "this optimizer's state size");
      const count = data[0] as number;
      if (!(Number.isInteger(count) && count >= 0 && count <= MAX_STEP)) {
        throw new GruError(
          'ERR_GRU_ARG',
          `stateDict.state[0] (the step count) must be an integer in [0, 2^24], got ${count}`,
        );
      }
      this.backend.optimSetState(target, data); // all or nothing in the core too
    } catch (e) {
      if (rebuild) this.backend.destroy(target);
      throw e;
    }
    if (rebuild) {
      release(this);
      this.#handle = target;
      adopt(this, this.backend, target);
      this.#hyper = hyper;
      this.backend.destroy(handle);
    }
    this.#lr = lr;
    this.#step = step;
  }

  /** Frees the moment buffers. Every later call throws ERR_GRU_DISPOSED. Idempotent. */
  dispose(): void {
    if (this.#handle !== null) {
      this._busy.check();
      const handle = this.#handle;
      this.#handle = null;
      release(this);
      this.backend.destroy(handle);
    }
  }

  #create(hyper: Hyper): OptimHandle {
    const c = this.#spec.config(hyper);
    // Every step passes its own lr; the one at creation is only checked (> 0 as a float32), and
    // the current one may have been annealed to 0.
    const handle = this.backend.optimCreate(
      c.kind,
      Math.fround(this.#lr) > 0 ? this.#lr : 1,
      c.a,
      c.b,
      c.eps,
      c.weightDecay,
      c.flags,
    );
    try {
      for (const p of this.params) this.backend.optimAdd(handle, p._handle());
    } catch (e) {
      this.backend.destroy(handle);
      throw e;
    }
    return handle;
  }

  #live(): OptimHandle {
    if (this.#handle === null)
      throw new GruError('ERR_GRU_DISPOSED', `this ${this.#spec.name} optimizer has been disposed`);
    const gone = this.params.findIndex((p) => p.disposed);
    if (gone >= 0) {
      throw new GruError(
        'ERR_GRU_STATE',
        `params[${gone}] of this ${this.#spec.name} optimizer has been disposed`,
      );
    }
    // Every call reads or writes the layers' parameters or gradients.
    this._busy.check();
    for (const p of this.params) p._busy.check();
    return this.#handle;
  }
}

/** torch.optim.Adam: weightDecay is an L2 penalty added to the gradient. */
export class Adam extends Optimizer {
  constructor(params: readonly Trainable[], options: AdamOptions = {}) {
    super(adamSpec('adam', 'Adam', 0), params, options);
  }
}

/** torch.optim.AdamW: decoupled weight decay (default 1e-2), p *= 1 - lr * weightDecay. */
export class AdamW extends Optimizer {
  constructor(params: readonly Trainable[], options: AdamOptions = {}) {
    super(adamSpec('adamw', 'AdamW', 1e-2), params, options);
  }
}

/** torch.optim.SGD with momentum, dampening, Nesterov, weight decay. */
export class SGD extends Optimizer {
  constructor(params: readonly Trainable[], options: SGDOptions) {
    super(SGD_SPEC, params, options);
  }
}

/** torch.optim.RMSprop: alpha, eps outside the square root, momentum, centered, L2 weightDecay. */
export class RMSprop extends Optimizer {
  constructor(params: readonly Trainable[], options: RMSpropOptions = {}) {
    super(RMSPROP_SPEC, params, options);
  }
}

/** torch.optim.Adagrad: lrDecay, initialAccumulatorValue, eps, L2 weightDecay. */
export class Adagrad extends Optimizer {
  constructor(params: readonly Trainable[], options: AdagradOptions = {}) {
    super(ADAGRAD_SPEC, params, options);
  }
}
