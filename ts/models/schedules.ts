/**
 * Keras's learning-rate schedules for compile()'s learningRate (keras.optimizers.schedules):
 * the rate of optimizer step `step` (0 for the first, Keras's `optimizer.iterations`) as a
 * function of it. A schedule is a plain object in Keras's serialized form,
 * `{ className: 'ExponentialDecay', config: { initialLearningRate, decaySteps, ... } }` (tfjs's
 * camelCase), which the factories below build and check; compile() checks one written by hand
 * the same way. Only the rate is computed here; the update is the core's (ts/optim.ts).
 *
 * Formulas (Keras 3, keras/src/optimizers/schedules/learning_rate_schedule.py):
 *   ExponentialDecay   lr0 * rate^(step / decaySteps)       (staircase: floor of the exponent)
 *   InverseTimeDecay   lr0 / (1 + rate * step / decaySteps)  (staircase: floor of step / decaySteps)
 *   PiecewiseConstant  values[0] while step <= boundaries[0], values[i] while
 *                      boundaries[i-1] < step <= boundaries[i], values[n] after the last
 *   CosineDecay        s = min(step, decaySteps): lr0 * ((1 - alpha) (1 + cos(pi s / decaySteps)) / 2
 *                      + alpha); with warmupTarget, a linear rise from lr0 to warmupTarget over
 *                      warmupSteps first, then the same decay from warmupTarget.
 */
import { GruError } from '../errors.js';
import * as check from '../validate.js';

export interface ExponentialDecayConfig {
  initialLearningRate: number;
  decaySteps: number;
  decayRate: number;
  /** Decay in whole periods of decaySteps (default false). */
  staircase?: boolean;
}

export interface InverseTimeDecayConfig {
  initialLearningRate: number;
  decaySteps: number;
  decayRate: number;
  staircase?: boolean;
}

export interface PiecewiseConstantDecayConfig {
  /** Increasing step numbers. */
  boundaries: number[];
  /** One more than boundaries: the rate before, between and after them. */
  values: number[];
}

export interface CosineDecayConfig {
  initialLearningRate: number;
  decaySteps: number;
  /** The final rate as a fraction of the rate decayed from (default 0). */
  alpha?: number;
  /** Rise linearly from initialLearningRate to this first (default: no warmup). */
  warmupTarget?: number | null;
  /** Steps of the warmup (default 0). */
  warmupSteps?: number;
}

/** A schedule in Keras's serialized form, as compile() takes it for learningRate. */
export type LearningRateSchedule =
  | { className: 'ExponentialDecay'; config: ExponentialDecayConfig }
  | { className: 'InverseTimeDecay'; config: InverseTimeDecayConfig }
  | { className: 'PiecewiseConstantDecay'; config: PiecewiseConstantDecayConfig }
  | { className: 'CosineDecay'; config: CosineDecayConfig };

/** A checked schedule: its rate at a step. */
export type RateAt = (step: number) => number;

/** A rate: a finite number >= 0 (the core's step takes any rate >= 0 as a float32). */
const rate = (name: string, value: unknown): number => check.float32(name, value, { min: 0 });
const positive = (name: string, value: unknown): number =>
  check.finiteNumber(name, value, { min: 0, minOpen: true });

function options(what: string, value: unknown, keys: readonly string[]): Record<string, unknown> {
  const o = check.options(what, value);
  check.knownKeys(what, o, keys);
  return o;
}

/** The config of each class, checked, and its formula. */
const CLASSES: Record<string, (config: unknown) => { config: object; at: RateAt }> = {
  ExponentialDecay(value) {
    const o = options('ExponentialDecay config', value, [
      'initialLearningRate',
      'decaySteps',
      'decayRate',
      'staircase',
    ]);
    const config = {
      initialLearningRate: rate('initialLearningRate', o.initialLearningRate),
      decaySteps: positive('decaySteps', o.decaySteps),
      decayRate: check.finiteNumber('decayRate', o.decayRate, { min: 0 }),
      staircase: check.boolean('staircase', o.staircase, false),
    };
    return {
      config,
      at(step) {
        const p = step / config.decaySteps;
        return (
          config.initialLearningRate * config.decayRate ** (config.staircase ? Math.floor(p) : p)
        );
      },
    };
  },
  InverseTimeDecay(value) {
    const o = options('InverseTimeDecay config', value, [
      'initialLearningRate',
      'decaySteps',
      'decayRate',
      'staircase',
    ]);
    const config = {
      initialLearningRate: rate('initialLearningRate', o.initialLearningRate),
      decaySteps: positive('decaySteps', o.decaySteps),
      decayRate: check.finiteNumber('decayRate', o.decayRate, { min: 0 }),
      staircase: check.boolean('staircase', o.staircase, false),
    };
    return {
      config,
      at(step) {
        const p = step / config.decaySteps;
        return (
          config.initialLearningRate /
          (1 + config.decayRate * (config.staircase ? Math.floor(p) : p))
        );
      },
    };
  },
  PiecewiseConstantDecay(value) {
    const o = options('PiecewiseConstantDecay config', value, ['boundaries', 'values']);
    const list = (name: string, v: unknown): unknown[] => {
      if (!check.isArray(v) || v.length === 0)
        throw new GruError(
          'ERR_GRU_ARG',
          `${name} must be a non-empty array of numbers, got ${check.describe(v)}`,
        );
      return [...v];
    };
    const boundaries = list('boundaries', o.boundaries).map((b, i) => {
      const n = check.finiteNumber(`boundaries[${i}]`, b);
      return n;
    });
    for (let i = 1; i < boundaries.length; i++) {
      if (!(boundaries[i]! > boundaries[i - 1]!)) {
        throw new GruError(
          'ERR_GRU_ARG',
          `boundaries must increase: boundaries[${i}] is ${boundaries[i]} after ${boundaries[i - 1]}`,
        );
      }
    }
    const values = list('values', o.values).map((v, i) => rate(`values[${i}]`, v));
    if (values.length !== boundaries.length + 1) {
      throw new GruError(
        'ERR_GRU_ARG',
        `values must have one more element than boundaries (${boundaries.length + 1}), got ${values.length}`,
      );
    }
    return {
      config: { boundaries, values },
      at(step) {
        // The first boundary at or above step; past the last, the last value.
        const i = boundaries.findIndex((b) => step <= b);
        return values[i < 0 ? boundaries.length : i]!;
      },
    };
  },
  CosineDecay(value) {
    const o = options('CosineDecay config', value, [
      'initialLearningRate',
      'decaySteps',
      'alpha',
      'warmupTarget',
      'warmupSteps',
    ]);
    const config = {
      initialLearningRate: rate('initialLearningRate', o.initialLearningRate),
      decaySteps: positive('decaySteps', o.decaySteps),
      alpha: o.alpha === undefined ? 0 : check.finiteNumber('alpha', o.alpha, { min: 0, max: 1 }),
      warmupTarget:
        o.warmupTarget === undefined || o.warmupTarget === null
          ? null
          : rate('warmupTarget', o.warmupTarget),
      warmupSteps:
        o.warmupSteps === undefined
          ? 0
          : check.finiteNumber('warmupSteps', o.warmupSteps, { min: 0 }),
    };
    const { initialLearningRate: lr0, decaySteps, alpha, warmupTarget, warmupSteps } = config;
    const decay = (s: number, from: number): number =>
      from * ((1 - alpha) * 0.5 * (1 + Math.cos((Math.PI * s) / decaySteps)) + alpha);
    return {
      config,
      at(step) {
        if (warmupTarget === null) return decay(Math.min(step, decaySteps), lr0);
        const s = Math.min(step, decaySteps + warmupSteps);
        return s < warmupSteps
          ? (warmupTarget - lr0) * (s / warmupSteps) + lr0
          : decay(s - warmupSteps, warmupTarget);
      },
    };
  },
};

/** compile()'s learningRate as a schedule (a GruError naming what is wrong otherwise). */
export function resolveSchedule(value: unknown): { schedule: LearningRateSchedule; at: RateAt } {
  const o = options('learningRate schedule', value, ['className', 'config']);
  const names = Object.keys(CLASSES);
  const make = typeof o.className === 'string' ? CLASSES[o.className] : undefined;
  if (make === undefined || !Object.hasOwn(CLASSES, o.className as string)) {
    throw new GruError(
      'ERR_GRU_ARG',
      `learningRate.className must be one of ${names.map((n) => `'${n}'`).join(', ')}, got ${check.describe(o.className)}`,
    );
  }
  const { config, at } = make(o.config);
  const schedule = Object.freeze({
    className: o.className,
    config: Object.freeze(config),
  }) as LearningRateSchedule;
  return { schedule, at };
}

function build(className: string, config: unknown): LearningRateSchedule {
  return resolveSchedule({ className, config }).schedule;
}

/** Keras's keras.optimizers.schedules, as factories of the serialized form. */
export const schedules = {
  exponentialDecay(config: ExponentialDecayConfig): LearningRateSchedule {
    return build('ExponentialDecay', config);
  },
  inverseTimeDecay(config: InverseTimeDecayConfig): LearningRateSchedule {
    return build('InverseTimeDecay', config);
  },
  piecewiseConstantDecay(config: PiecewiseConstantDecayConfig): LearningRateSchedule {
    return build('PiecewiseConstantDecay', config);
  },
  cosineDecay(config: CosineDecayConfig): LearningRateSchedule {
    return build('CosineDecay', config);
  },
};
