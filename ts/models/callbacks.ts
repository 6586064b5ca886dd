/**
 * fit()'s built-in callbacks, Keras 3's semantics under tfjs's factory names (the `callbacks`
 * namespace): earlyStopping, reduceLROnPlateau, learningRateScheduler. Each is an object with
 * the hooks of a custom callback (fit.ts's CustomCallbackArgs) that fit() binds to its model
 * first. They see the logs every callback sees, in the order given, and what they add to them
 * (learning_rate) reaches the History, as in Keras (whose History runs last).
 *
 * Monitoring (Keras's MonitorCallback): mode 'min' improves when value + |minDelta| < best, 'max'
 * when value - |minDelta| > best ('auto': 'min' for a loss, a metric's own direction otherwise:
 * accuracies, precision, recall and AUC go up; mae and mse down). The first value is always an
 * improvement. A monitor missing from an epoch's logs is skipped with a warning, as Keras.
 */
import { GruError } from '../errors.js';
import * as check from '../validate.js';
import type { Logs } from './compiled.js';

/** What a built-in callback needs of the model being fit (Sequential gives it). */
export interface CallbackModel {
  stopTraining: boolean;
  /** 'min' or 'max' for a value in the logs the model writes ('loss', 'val_acc'), else null. */
  _monitorMode(name: string): 'min' | 'max' | null;
  /** The optimizer's learning rate (ERR_GRU_STATE when a schedule drives it). */
  _getLearningRate(): number;
  _setLearningRate(value: number): void;
  /** A copy of every parameter, from the core's state dicts, and its restoration. */
  _saveWeights(): unknown;
  _loadWeights(saved: unknown): void;
  /** Writes the model (or its weights alone) to a file: modelCheckpoint (model-checkpoint.ts). */
  _saveCheckpoint(path: string, weightsOnly: boolean): Promise<void>;
}

type Mode = 'auto' | 'min' | 'max';

/** The base of the built-in callbacks: the model they act on, bound by fit(). */
export abstract class BuiltinCallback {
  #model: CallbackModel | null = null;

  /** @internal Whether value is one of them (not a Proxy of one); never throws. */
  static _is(value: unknown): value is BuiltinCallback {
    return typeof value === 'object' && value !== null && #model in value;
  }

  /** @internal fit() binds the model before onTrainBegin. */
  _bind(model: CallbackModel): void {
    this.#model = model;
  }

  protected get boundModel(): CallbackModel {
    if (this.#model === null)
      throw new GruError('ERR_GRU_STATE', 'this callback runs inside fit(): pass it in callbacks');
    return this.#model;
  }
}

export interface MonitorArgs {
  /** The logged value to watch (default 'val_loss'). */
  monitor?: string;
  /** 'auto' (default), 'min' or 'max'. */
  mode?: Mode;
  /** The least change that counts as an improvement (its absolute value is used). */
  minDelta?: number;
}

/** Keras's MonitorCallback: is a value an improvement over the best so far. */
export abstract class MonitorCallback extends BuiltinCallback {
  readonly monitor: string;
  readonly mode: Mode;
  readonly minDelta: number;
  #better: ((value: number, reference: number) => boolean) | null = null;
  #warned = false;

  protected constructor(what: string, o: Record<string, unknown>, minDelta: number) {
    super();
    this.monitor = o.monitor === undefined ? 'val_loss' : nonEmpty(`${what}: monitor`, o.monitor);
    const mode = o.mode === undefined ? 'auto' : o.mode;
    if (mode !== 'auto' && mode !== 'min' && mode !== 'max') {
      throw new GruError(
        'ERR_GRU_ARG',
        `${what}: mode must be 'auto', 'min' or 'max', got ${check.describe(mode)}`,
      );
    }
    this.mode = mode;
    this.minDelta = Math.abs(
      o.minDelta === undefined ? minDelta : check.finiteNumber(`${what}: minDelta`, o.minDelta),
    );
  }

  /** Resolves 'auto' against the model (ERR_GRU_ARG when it cannot tell, as Keras). */
  protected resolveMode(): void {
    let mode = this.mode;
    if (mode === 'auto') {
      const m = this.boundModel._monitorMode(this.monitor);
      if (m === null) {
        throw new GruError(
          'ERR_GRU_ARG',
          `cannot tell whether monitor '${this.monitor}' should go down or up (not the loss or a compiled metric, or their val_): give mode 'min' or 'max'`,
        );
      }
      mode = m;
    }
    const delta = this.minDelta;
    this.#better =
      mode === 'min' ? (v, ref) => v + delta < ref : (v: number, ref: number) => v - delta > ref;
  }

  /** The monitored value of these logs, or undefined (warned once) when it is not there. */
  protected current(logs: Logs | undefined): number | undefined {
    const v = logs?.[this.monitor];
    if (typeof v === 'number') return v;
    if (!this.#warned) {
      this.#warned = true;
      console.warn(
        `${this.constructor.name}: monitor '${this.monitor}' is not in the logs (they have: ${Object.keys(logs ?? {}).join(', ')}); skipped`,
      );
    }
    return undefined;
  }

  protected improves(value: number, reference: number | null): boolean {
    return reference === null || this.#better!(value, reference);
  }
}

export interface EarlyStoppingArgs extends MonitorArgs {
  /** Epochs without improvement after which training stops (default 0). */
  patience?: number;
  /** A value to beat: until the monitor improves on it, epochs count as without improvement. */
  baseline?: number;
  /** At the end, put back the weights of the best epoch (default false). */
  restoreBestWeights?: boolean;
  /** Epochs to let pass before watching (default 0). */
  startFromEpoch?: number;
  /** 1: print when it stops and restores (default 0). */
  verbose?: 0 | 1;
}

/** Keras's EarlyStopping: stops fit() once the monitor stops improving for `patience` epochs. */
export class EarlyStopping extends MonitorCallback {
  readonly patience: number;
  readonly baseline: number | null;
  readonly restoreBestWeights: boolean;
  readonly startFromEpoch: number;
  readonly verbose: 0 | 1;
  #wait = 0;
  #best: number | null = null;
  #bestWeights: unknown = null;
  /** The epoch it stopped fit() at (0 if it did not), and the best epoch, as Keras's. */
  stoppedEpoch = 0;
  bestEpoch = 0;

  constructor(args: EarlyStoppingArgs = {}) {
    const what = 'callbacks.earlyStopping';
    const o = check.options(`${what} options`, args);
    check.knownKeys(`${what} options`, o, [
      'monitor',
      'mode',
      'minDelta',
      'patience',
      'baseline',
      'restoreBestWeights',
      'startFromEpoch',
      'verbose',
    ]);
    super(what, o, 0);
    this.patience = o.patience === undefined ? 0 : check.uint32(`${what}: patience`, o.patience);
    this.baseline =
      o.baseline === undefined || o.baseline === null
        ? null
        : check.finiteNumber(`${what}: baseline`, o.baseline);
    this.restoreBestWeights = check.boolean(
      `${what}: restoreBestWeights`,
      o.restoreBestWeights,
      false,
    );
    this.startFromEpoch =
      o.startFromEpoch === undefined
        ? 0
        : check.uint32(`${what}: startFromEpoch`, o.startFromEpoch);
    this.verbose = verboseOption(what, o.verbose);
  }

  onTrainBegin(): void {
    this.resolveMode();
    this.#wait = 0;
    this.#best = null;
    this.#bestWeights = null;
    this.stoppedEpoch = 0;
    this.bestEpoch = 0;
  }

  onEpochEnd(epoch: number, logs?: Logs): void {
    const current = this.current(logs);
    if (current === undefined || epoch < this.startFromEpoch) return;
    const model = this.boundModel;
    if (this.restoreBestWeights && this.#bestWeights === null) {
      this.#bestWeights = model._saveWeights();
      this.bestEpoch = epoch;
    }
    this.#wait++;
    if (this.improves(current, this.#best)) {
      this.#best = current;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights) this.#bestWeights = model._saveWeights();
      // With a baseline, only beating it resets the count.
      if (this.baseline === null || this.improves(current, this.baseline)) this.#wait = 0;
      return;
    }
    if (this.#wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      model.stopTraining = true;
    }
  }

  onTrainEnd(): void {
    if (this.stoppedEpoch > 0 && this.verbose > 0)
      console.log(`Epoch ${this.stoppedEpoch + 1}: early stopping`);
    if (this.restoreBestWeights && this.#bestWeights !== null) {
      if (this.verbose > 0)
        console.log(
          `Restoring model weights from the end of the best epoch: ${this.bestEpoch + 1}.`,
        );
      this.boundModel._loadWeights(this.#bestWeights);
    }
    this.#bestWeights = null;
  }
}

export interface ReduceLROnPlateauArgs extends MonitorArgs {
  /** The learning rate is multiplied by it, in (0, 1) (default 0.1). */
  factor?: number;
  /** Epochs without improvement before a reduction (default 10). */
  patience?: number;
  /** Epochs to wait after a reduction before counting again (default 0). */
  cooldown?: number;
  /** The learning rate never goes below it (default 0). */
  minLr?: number;
  /** 1: print each reduction (default 0). */
  verbose?: 0 | 1;
}

/**
 * Keras's ReduceLROnPlateau: multiplies the optimizer's learning rate by `factor` (not below
 * minLr) once the monitor has not improved for `patience` epochs. minDelta defaults to 1e-4.
 * Logs learning_rate (before this epoch's reduction) at each epoch's end.
 */
export class ReduceLROnPlateau extends MonitorCallback {
  readonly factor: number;
  readonly patience: number;
  readonly cooldown: number;
  readonly minLr: number;
  readonly verbose: 0 | 1;
  #wait = 0;
  #cooldownLeft = 0;
  #best: number | null = null;

  constructor(args: ReduceLROnPlateauArgs = {}) {
    const what = 'callbacks.reduceLROnPlateau';
    const o = check.options(`${what} options`, args);
    check.knownKeys(`${what} options`, o, [
      'monitor',
      'mode',
      'minDelta',
      'factor',
      'patience',
      'cooldown',
      'minLr',
      'verbose',
    ]);
    super(what, o, 1e-4);
    this.factor =
      o.factor === undefined
        ? 0.1
        : check.finiteNumber(`${what}: factor`, o.factor, {
            min: 0,
            max: 1,
            minOpen: true,
            maxOpen: true,
          });
    this.patience = o.patience === undefined ? 10 : check.uint32(`${what}: patience`, o.patience);
    this.cooldown = o.cooldown === undefined ? 0 : check.uint32(`${what}: cooldown`, o.cooldown);
    this.minLr =
      o.minLr === undefined ? 0 : check.finiteNumber(`${what}: minLr`, o.minLr, { min: 0 });
    this.verbose = verboseOption(what, o.verbose);
  }

  onTrainBegin(): void {
    this.resolveMode();
    this.#best = null;
    this.#cooldownLeft = 0;
    this.#wait = 0;
  }

  onEpochEnd(epoch: number, logs?: Logs): void {
    const model = this.boundModel;
    if (logs) logs.learning_rate = model._getLearningRate();
    const current = this.current(logs);
    if (current === undefined) return;
    if (this.#cooldownLeft > 0) {
      this.#cooldownLeft--;
      this.#wait = 0;
    }
    if (this.improves(current, this.#best)) {
      this.#best = current;
      this.#wait = 0;
    } else if (this.#cooldownLeft === 0 && ++this.#wait >= this.patience) {
      // Keras compares with min_lr as a float32.
      const lr = model._getLearningRate();
      if (lr > Math.fround(this.minLr)) {
        const next = Math.max(lr * this.factor, this.minLr);
        model._setLearningRate(next);
        if (this.verbose > 0)
          console.log(`Epoch ${epoch + 1}: ReduceLROnPlateau reducing learning rate to ${next}.`);
        this.#cooldownLeft = this.cooldown;
        this.#wait = 0;
      }
    }
  }
}

/** (epoch, current learning rate) -> the learning rate of this epoch (may return a promise). */
export type LearningRateSchedulerFn = (epoch: number, lr: number) => number | Promise<number>;

/**
 * Keras's LearningRateScheduler: sets the learning rate to schedule(epoch, lr) at each epoch's
 * start; logs learning_rate at its end.
 */
export class LearningRateScheduler extends BuiltinCallback {
  readonly schedule: LearningRateSchedulerFn;
  readonly verbose: 0 | 1;

  constructor(schedule: LearningRateSchedulerFn, args: { verbose?: 0 | 1 } = {}) {
    super();
    const what = 'callbacks.learningRateScheduler';
    if (typeof schedule !== 'function') {
      throw new GruError(
        'ERR_GRU_ARG',
        `${what}: schedule must be a function (epoch, lr) => lr, got ${check.describe(schedule)}`,
      );
    }
    const o = check.options(`${what} options`, args);
    check.knownKeys(`${what} options`, o, ['verbose']);
    this.schedule = schedule;
    this.verbose = verboseOption(what, o.verbose);
  }

  async onEpochBegin(epoch: number): Promise<void> {
    const model = this.boundModel;
    const lr: unknown = await this.schedule(epoch, model._getLearningRate());
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
      throw new GruError(
        'ERR_GRU_ARG',
        `callbacks.learningRateScheduler: the schedule must return a finite learning rate >= 0, got ${check.describe(lr)} for epoch ${epoch}`,
      );
    }
    model._setLearningRate(lr);
    if (this.verbose > 0)
      console.log(`Epoch ${epoch + 1}: LearningRateScheduler setting learning rate to ${lr}.`);
  }

  onEpochEnd(_epoch: number, logs?: Logs): void {
    if (logs) logs.learning_rate = this.boundModel._getLearningRate();
  }
}

export function nonEmpty(what: string, value: unknown): string {
  if (typeof value !== 'string' || value === '')
    throw new GruError(
      'ERR_GRU_ARG',
      `${what} must be a non-empty string, got ${check.describe(value)}`,
    );
  return value;
}

export function verboseOption(what: string, value: unknown): 0 | 1 {
  if (value === undefined) return 0;
  if (value !== 0 && value !== 1)
    throw new GruError(
      'ERR_GRU_ARG',
      `${what}: verbose must be 0 or 1, got ${check.describe(value)}`,
    );
  return value;
}
