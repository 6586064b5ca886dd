/**
 * schedules.exponentialDecay, inverseTimeDecay, piecewiseConstantDecay, cosineDecay
 * (ts/models/schedules.ts). Bad, by that file's rules: a config that is not an object or has an
 * unknown key; initialLearningRate, values[i] or warmupTarget not a float32 >= 0; decaySteps not
 * finite > 0; decayRate not finite >= 0; alpha outside [0, 1]; warmupSteps not finite >= 0;
 * staircase not a boolean; boundaries not increasing finite numbers; values not one longer
 * than boundaries.
 */
import { schedules } from '../../ts/models/schedules.js';
import { arg, bad, friendly, good, type Arg, type Ctx, type Op } from './call.js';
import { bool, finite, float32, options, show } from './values.js';

const rate = (ctx: Ctx, name: string, optional = false): Arg =>
  float32(ctx, name, { min: 0, lo: 1e-4, hi: 0.1, optional });
/** An argument for which null is a valid value (a default), whatever the generator said. */
const nullValid = (a: Arg): Arg => (a.value === null ? arg(null, false, `${a.what}`) : a);
const steps = (ctx: Ctx): Arg =>
  finite(ctx, 'decaySteps', { min: 0, minOpen: true, lo: 1, hi: 100 });

function decayFields(ctx: Ctx): Record<string, Arg> {
  return {
    initialLearningRate: rate(ctx, 'initialLearningRate'),
    decaySteps: steps(ctx),
    decayRate: finite(ctx, 'decayRate', { min: 0, lo: 0.1, hi: 1 }),
    staircase: bool(ctx, 'staircase'),
  };
}

/** Increasing boundaries and one more value (valid), or a broken pair (bad). */
function piecewiseArgs(ctx: Ctx): [Arg, Arg] {
  const r = ctx.rng;
  const n = r.int(1, 3);
  // Strictly increasing: each one 1 to 5 steps after the one before.
  let at = 0;
  const boundaries = Array.from({ length: n }, () => (at += r.int(1, 5)));
  const values = Array.from({ length: n + 1 }, () => r.next() * 0.1);
  if (friendly(ctx)) return [good(boundaries, 'boundaries'), good(values, 'values')];
  const how = r.pick(['order', 'count', 'value', 'type']);
  if (how === 'order' && n > 1)
    return [bad([...boundaries].reverse(), 'boundaries: decreasing'), good(values, 'values')];
  if (how === 'count')
    return [good(boundaries, 'boundaries'), bad(values.slice(1), 'values: one short')];
  if (how === 'value') {
    const v = r.pick<unknown>([-1, NaN, 'x', 1e39]);
    return [good(boundaries, 'boundaries'), bad([v, ...values.slice(1)], `values[0]: ${show(v)}`)];
  }
  const v = r.pick<unknown>([[], 5, 'x', null, [NaN]]);
  return [bad(v, `boundaries: ${show(v)}`), good(values, 'values')];
}

function factory(name: keyof typeof schedules, fields: (ctx: Ctx) => Record<string, Arg>): Op {
  return {
    name: `schedules.${name}`,
    make(ctx) {
      const o = options(ctx, `${name} config`, fields(ctx));
      return { args: [o], run: () => schedules[name](o.value as never) };
    },
  };
}

export const KERAS_SCHEDULE_OPS: Op[] = [
  factory('exponentialDecay', decayFields),
  factory('inverseTimeDecay', decayFields),
  factory('piecewiseConstantDecay', (ctx) => {
    const [boundaries, values] = piecewiseArgs(ctx);
    return { boundaries, values };
  }),
  factory('cosineDecay', (ctx) => ({
    initialLearningRate: rate(ctx, 'initialLearningRate'),
    decaySteps: steps(ctx),
    alpha: finite(ctx, 'alpha', { min: 0, max: 1, lo: 0, hi: 0.5, optional: true }),
    // null is Keras's default (no warmup), and valid.
    warmupTarget: nullValid(rate(ctx, 'warmupTarget', true)),
    warmupSteps: finite(ctx, 'warmupSteps', { min: 0, lo: 0, hi: 10, optional: true }),
  })),
];
