/**
 * Learning-rate schedules with PyTorch's semantics (torch.optim.lr_scheduler), in closed form:
 * the base lr is the optimizer's lr at construction (epoch 0); each step() advances one epoch
 * and sets the optimizer's lr. Only the schedule is computed here; the update is the core's.
 */
import { GruError } from './errors.js';
import { Optimizer } from './optim.js';
import * as check from './validate.js';

export abstract class LRSchedule {
  readonly optimizer: Optimizer;
  /** The optimizer's lr when the schedule was made. */
  readonly baseLr: number;
  #epoch = 0;
  #lastLr: number;

  protected constructor(optimizer: Optimizer) {
    if (!Optimizer._is(optimizer)) {
      throw new GruError(
        'ERR_GRU_ARG',
        `optimizer must be an Adam, AdamW or SGD optimizer, got ${check.describe(optimizer)}`,
      );
    }
    // `new LRSchedule(opt)` from JavaScript (TypeScript's abstract does not exist at run time)
    // would make step() throw a TypeError: refused here, where the mistake is.
    if (typeof (this as unknown as { lrAt?: unknown }).lrAt !== 'function') {
      throw new GruError(
        'ERR_GRU_TYPE',
        'LRSchedule is abstract: construct a StepLR, ExponentialLR, CosineAnnealingLR or a subclass that defines lrAt(epoch)',
      );
    }
    this.optimizer = optimizer;
    this.baseLr = optimizer.lr;
    this.#lastLr = this.baseLr;
  }

  /** Epochs stepped so far. */
  get lastEpoch(): number {
    return this.#epoch;
  }

  /** The lr the last step() (or the construction) set. */
  getLastLr(): number {
    return this.#lastLr;
  }

  /** Advances one epoch and sets the optimizer's lr. */
  step(): void {
    if (this.optimizer.disposed)
      throw new GruError('ERR_GRU_DISPOSED', 'the optimizer of this schedule has been disposed');
    this.#epoch++;
    this.#lastLr = this.lrAt(this.#epoch);
    this.optimizer._setScheduledLr(this.#lastLr);
  }

  protected abstract lrAt(epoch: number): number;
}

function scheduleOptions(
  name: string,
  value: unknown,
  keys: readonly string[],
): Record<string, unknown> {
  const o = check.options(`${name} options`, value);
  check.knownKeys(`${name} options`, o, keys);
  return o;
}

/** lr = base * gamma^floor(epoch / stepSize). */
export class StepLR extends LRSchedule {
  readonly stepSize: number;
  readonly gamma: number;

  constructor(optimizer: Optimizer, options: { stepSize: number; gamma?: number }) {
    super(optimizer);
    const o = scheduleOptions('StepLR', options, ['stepSize', 'gamma']);
    this.stepSize = check.positiveInt('stepSize', o.stepSize, 2 ** 31 - 1);
    this.gamma =
      o.gamma === undefined ? 0.1 : check.finiteNumber('gamma', o.gamma, { min: 0, minOpen: true });
  }

  protected lrAt(epoch: number): number {
    return this.baseLr * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

/** lr = base * gamma^epoch. */
export class ExponentialLR extends LRSchedule {
  readonly gamma: number;

  constructor(optimizer: Optimizer, options: { gamma: number }) {
    super(optimizer);
    const o = scheduleOptions('ExponentialLR', options, ['gamma']);
    this.gamma = check.finiteNumber('gamma', o.gamma, { min: 0, minOpen: true });
  }

  protected lrAt(epoch: number): number {
    return this.baseLr * this.gamma ** epoch;
  }
}

/**
 * lr = etaMin + (base - etaMin) * (1 + cos(pi * epoch / tMax)) / 2: down to etaMin at tMax,
 * and on past it along the same cosine (period 2 tMax), as PyTorch without restarts.
 */
export class CosineAnnealingLR extends LRSchedule {
  readonly tMax: number;
  readonly etaMin: number;

  constructor(optimizer: Optimizer, options: { tMax: number; etaMin?: number }) {
    super(optimizer);
    const o = scheduleOptions('CosineAnnealingLR', options, ['tMax', 'etaMin']);
    this.tMax = check.positiveInt('tMax', o.tMax, 2 ** 31 - 1);
    // etaMin becomes the optimizer's lr: a float32 for the core.
    this.etaMin = o.etaMin === undefined ? 0 : check.float32('etaMin', o.etaMin, { min: 0 });
  }

  protected lrAt(epoch: number): number {
    return (
      this.etaMin +
      ((this.baseLr - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2
    );
  }
}
