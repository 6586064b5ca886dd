/**
 * Adam, AdamW, SGD, RMSprop, Adagrad (and Optimizer's members on each, and through
 * Optimizer.prototype), and the lr schedules. Bad, by the README and ts/optim.ts's documented rules: params not a non-empty
 * array of distinct live layers of one backend; lr not > 0 as a float32; betas not two floats in
 * [0, 1); eps or weightDecay < 0; nesterov without momentum > 0 and dampening 0; maxNorm not > 0
 * as a float32 (Infinity is valid: only measure); clip not > 0; RMSprop's alpha outside [0, 1] or
 * momentum < 0; Adagrad's lrDecay or initialAccumulatorValue < 0; a state dict of another type, a
 * step that is not a non-negative safe integer, a state of the wrong length or type, a step count
 * (state[0]) outside [0, 2^24] integers, an unknown key; any call (but dispose and getters) on a
 * disposed optimizer or one whose layers were disposed; new LRSchedule (abstract); a schedule's
 * optimizer that is not an optimizer, stepSize / tMax not integers in [1, 2^31), gamma not
 * finite > 0, etaMin not >= 0 as a float32.
 */
import { Adagrad, Adam, AdamW, Optimizer, RMSprop, SGD } from '../../ts/optim.js';
import { FLT_MAX } from '../../ts/validate.js';
import { CosineAnnealingLR, ExponentialLR, LRSchedule, StepLR } from '../../ts/schedules.js';
import { arg, bad, friendly, good, type Arg, type Ctx, type Op } from './call.js';
import { f32 } from './arrays.js';
import { getter, isDisposed, layerArg, objectArg, onPool } from './ops-common.js';
import { LAYER_KINDS, type Entry } from './pool.js';
import { bool, finite, float32, int, options, revoked, show } from './values.js';

/** A params array: distinct live layers of this backend, or a hostile one. */
function paramsArg(ctx: Ctx): Arg {
  const r = ctx.rng;
  const live = LAYER_KINDS.flatMap((k) => ctx.pool.all(k)).filter(
    (e) => !isDisposed(e.obj) && (e.obj as { backend: unknown }).backend === ctx.backend,
  );
  const some = r.pick([1, 1, 2, 3]);
  const chosen = [
    ...new Set(Array.from({ length: some }, () => (live.length ? r.pick(live).obj : null))),
  ].filter((x) => x !== null);
  if (friendly(ctx) && chosen.length > 0) return good(chosen, `params: ${chosen.length} layer(s)`);
  const how = r.pick(['element', 'duplicate', 'empty', 'not an array', 'mixed backends', 'hole']);
  if (how === 'element') {
    const el = layerArg(ctx, 'params[i]');
    return arg([...chosen, el.value], el.bad, `params: [..., ${el.what}]`);
  }
  if (how === 'duplicate' && chosen.length)
    return bad([chosen[0], chosen[0]], 'params: a layer twice');
  if (how === 'mixed backends') {
    const other = LAYER_KINDS.flatMap((k) => ctx.pool.all(k)).find(
      (e) => (e.obj as { backend: unknown }).backend === ctx.other,
    );
    if (other && chosen.length)
      return bad([chosen[0], other.obj], 'params: layers of two backends');
  }
  if (how === 'hole' && chosen.length)
    return bad(Object.assign(new Array(2), { 1: chosen[0] }), 'params: [<hole>, layer]');
  const v = r.pick<unknown>([[], null, {}, chosen[0] ?? 1, new Set(chosen)]);
  return bad(v, `params: ${show(v)}`);
}

function adamFields(ctx: Ctx): Record<string, Arg> {
  const r = ctx.rng;
  let betas: Arg = good(undefined, '');
  if (r.chance(0.3)) {
    const b0 = float32(ctx, 'betas[0]', { min: 0, max: 1, maxOpen: true, lo: 0, hi: 0.99 });
    const b1 = float32(ctx, 'betas[1]', { min: 0, max: 1, maxOpen: true, lo: 0.5, hi: 0.999 });
    betas = friendly(ctx)
      ? arg(
          [b0.value, b1.value],
          b0.bad || b1.bad || b0.value === undefined || b1.value === undefined,
          `betas: [${b0.what}, ${b1.what}]`,
        )
      : bad(
          r.pick<unknown>([
            [0.9],
            [0.9, 0.99, 0.5],
            0.9,
            '0.9,0.99',
            { 0: 0.9, 1: 0.99, length: 2 },
            revoked(),
          ]),
          'betas: not two numbers',
        );
  }
  return {
    lr: float32(ctx, 'lr', { min: 0, minOpen: true, lo: 1e-4, hi: 0.1, optional: true }),
    betas,
    eps: float32(ctx, 'eps', { min: 0, lo: 0, hi: 1e-6, optional: true }),
    weightDecay: float32(ctx, 'weightDecay', { min: 0, lo: 0, hi: 0.1, optional: true }),
    amsgrad: bool(ctx, 'amsgrad'),
    maximize: bool(ctx, 'maximize'),
  };
}

function sgdFields(ctx: Ctx): Record<string, Arg> {
  const f: Record<string, Arg> = {
    lr: float32(ctx, 'lr', { min: 0, minOpen: true, lo: 1e-4, hi: 0.1 }),
    momentum: float32(ctx, 'momentum', { min: 0, lo: 0, hi: 0.99, optional: true }),
    dampening: float32(ctx, 'dampening', { lo: 0, hi: 0.5, optional: true }),
    weightDecay: float32(ctx, 'weightDecay', { min: 0, lo: 0, hi: 0.1, optional: true }),
    nesterov: bool(ctx, 'nesterov'),
    maximize: bool(ctx, 'maximize'),
  };
  const num = (v: unknown) => (typeof v === 'number' ? Math.fround(v) : NaN);
  const m = num(f.momentum!.value ?? 0);
  const d = num(f.dampening!.value ?? 0);
  if (f.nesterov!.value === true && !(m > 0 && d === 0))
    f.nesterov = bad(true, `nesterov with momentum ${m}, dampening ${d}`);
  return f;
}

function rmspropFields(ctx: Ctx): Record<string, Arg> {
  return {
    lr: float32(ctx, 'lr', { min: 0, minOpen: true, lo: 1e-4, hi: 0.1, optional: true }),
    alpha: float32(ctx, 'alpha', { min: 0, max: 1, lo: 0.5, hi: 1, optional: true }),
    eps: float32(ctx, 'eps', { min: 0, lo: 0, hi: 1e-6, optional: true }),
    weightDecay: float32(ctx, 'weightDecay', { min: 0, lo: 0, hi: 0.1, optional: true }),
    momentum: float32(ctx, 'momentum', { min: 0, lo: 0, hi: 0.99, optional: true }),
    centered: bool(ctx, 'centered'),
    maximize: bool(ctx, 'maximize'),
  };
}

function adagradFields(ctx: Ctx): Record<string, Arg> {
  return {
    lr: float32(ctx, 'lr', { min: 0, minOpen: true, lo: 1e-4, hi: 0.1, optional: true }),
    lrDecay: float32(ctx, 'lrDecay', { min: 0, lo: 0, hi: 0.1, optional: true }),
    weightDecay: float32(ctx, 'weightDecay', { min: 0, lo: 0, hi: 0.1, optional: true }),
    initialAccumulatorValue: float32(ctx, 'initialAccumulatorValue', {
      min: 0,
      lo: 0,
      hi: 0.5,
      optional: true,
    }),
    eps: float32(ctx, 'eps', { min: 0, lo: 0, hi: 1e-6, optional: true }),
    maximize: bool(ctx, 'maximize'),
  };
}

const CLASSES = { Adam, AdamW, SGD, RMSprop, Adagrad } as const;
const FIELDS: Record<keyof typeof CLASSES, (ctx: Ctx) => Record<string, Arg>> = {
  Adam: adamFields,
  AdamW: adamFields,
  SGD: sgdFields,
  RMSprop: rmspropFields,
  Adagrad: adagradFields,
};

function newOptimizer(cls: keyof typeof CLASSES): Op {
  return {
    name: `new ${cls}`,
    make(ctx) {
      const params = paramsArg(ctx);
      const o = options(ctx, `${cls} options`, FIELDS[cls](ctx), cls !== 'SGD');
      const C = CLASSES[cls];
      return {
        args: [params, o],
        run: () => new C(params.value as never, o.value as never),
        done: (opt) => void ctx.pool.add('Optimizer', opt, { cls }),
      };
    },
  };
}

type OptEntry = Entry<Optimizer>;
const paramsGone = (e: OptEntry) =>
  e.obj.params.some((p) => p.disposed) ? 'a layer of it was disposed' : undefined;

/** A state dict for loadStateDict: its own (valid), changed (bad), or another's. */
function stateDictArg(ctx: Ctx, opt: Optimizer): Arg {
  const r = ctx.rng;
  let sd: Record<string, unknown>;
  try {
    sd = { ...opt.stateDict() };
  } catch {
    return arg(
      { type: opt.type, step: 0, lr: 0.1, state: new Float32Array(1) },
      false,
      'stateDict: a made-up one',
    );
  }
  if (friendly(ctx)) return good(sd, 'stateDict: its own');
  const state = sd.state as Float32Array;
  const how = r.pick(['type', 'step', 'lr', 'state', 'count', 'key', 'getter', 'betas']);
  switch (how) {
    case 'type':
      return bad(
        {
          ...sd,
          type: r.pick(
            ['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad', 5].filter((t) => t !== opt.type),
          ),
        },
        'stateDict.type: another',
      );
    case 'step': {
      const v = r.pick<unknown>([-1, 1.5, 2 ** 53, NaN, '3', null]);
      return bad({ ...sd, step: v }, `stateDict.step: ${show(v)}`);
    }
    case 'lr': {
      const v = r.pick<unknown>([-1, NaN, 4e38, Infinity, '0.1']);
      return bad({ ...sd, lr: v }, `stateDict.lr: ${show(v)}`);
    }
    case 'state': {
      const s = f32(ctx, 'stateDict.state', state.length);
      return arg({ ...sd, state: s.value }, s.bad, s.what);
    }
    case 'count': {
      const s = state.slice();
      const v = r.pick([2 ** 25, -1, 1.5, NaN, Infinity]);
      s[0] = v;
      return bad({ ...sd, state: s }, `stateDict.state[0]: ${v}`);
    }
    case 'key':
      return bad({ ...sd, bogus: 1 }, 'stateDict: + key');
    case 'betas':
      if (opt.type === 'sgd') return bad({ ...sd, momentum: -1 }, 'stateDict.momentum: -1');
      if (opt.type === 'rmsprop') return bad({ ...sd, alpha: 1.5 }, 'stateDict.alpha: 1.5');
      if (opt.type === 'adagrad') return bad({ ...sd, lrDecay: -1 }, 'stateDict.lrDecay: -1');
      return bad({ ...sd, betas: [1.5, 0.9] }, 'stateDict.betas: [1.5, 0.9]');
  }
  // Read once (README: all or nothing): a getter that changes must not matter.
  let reads = 0;
  const changing = { ...sd };
  Object.defineProperty(changing, 'state', {
    enumerable: true,
    get: () => (reads++ === 0 ? state : new Float32Array(1)),
  });
  return good(changing, 'stateDict: a state getter that changes');
}

const maxNormArg = (ctx: Ctx): Arg => {
  if (ctx.rng.chance(0.1)) return good(Infinity, 'maxNorm: Infinity');
  // Valid: > 0 as a float32 once capped at FLT_MAX (Infinity and 4e38 only measure).
  const a = float32(ctx, 'maxNorm', { min: 0, minOpen: true, lo: 0.1, hi: 10 });
  const v = a.value;
  return { ...a, bad: !(typeof v === 'number' && Math.fround(Math.min(v, FLT_MAX)) > 0) };
};

function optimizerOps(cls: string, filter?: (e: OptEntry) => boolean, proto = false): Op[] {
  const call = (e: OptEntry, m: string, ...a: unknown[]): unknown =>
    proto
      ? (Reflect.get(Optimizer.prototype, m) as (...b: unknown[]) => unknown).apply(e.obj, a)
      : (e.obj as unknown as Record<string, (...b: unknown[]) => unknown>)[m]!(...a);
  const o = { filter, badState: paramsGone };
  const m0 = (m: string, isAsync = false) =>
    onPool<Optimizer>(
      `${cls}.${m}`,
      'Optimizer',
      (_c, e) => ({ args: [], async: isAsync, run: () => call(e, m) }),
      o,
    );
  const withProto = proto ? { proto: Optimizer.prototype, filter } : { filter };
  return [
    m0('step'),
    m0('stepAsync', true),
    m0('zeroGrad'),
    m0('stateDict'),
    onPool<Optimizer>(
      `${cls}.clipGradNorm`,
      'Optimizer',
      (ctx, e) => {
        const a = maxNormArg(ctx);
        return { args: [a], run: () => call(e, 'clipGradNorm', a.value) };
      },
      o,
    ),
    onPool<Optimizer>(
      `${cls}.clipGradNormAsync`,
      'Optimizer',
      (ctx, e) => {
        const a = maxNormArg(ctx);
        return { args: [a], async: true, run: () => call(e, 'clipGradNormAsync', a.value) };
      },
      o,
    ),
    onPool<Optimizer>(
      `${cls}.clipGradValue`,
      'Optimizer',
      (ctx, e) => {
        const a = float32(ctx, 'clip', { min: 0, minOpen: true, lo: 0.01, hi: 10 });
        return { args: [a], run: () => call(e, 'clipGradValue', a.value) };
      },
      o,
    ),
    onPool<Optimizer>(
      `${cls}.loadStateDict`,
      'Optimizer',
      (ctx, e) => {
        const a = stateDictArg(ctx, e.obj);
        return { args: [a], run: () => call(e, 'loadStateDict', a.value) };
      },
      o,
    ),
    onPool<Optimizer>(
      `${cls}.dispose`,
      'Optimizer',
      (_c, e) => ({ args: [], run: () => call(e, 'dispose') }),
      { filter, disposedOk: true, weight: 0.2 },
    ),
    // lr: read it, or set it (a float32 > 0; a disposed optimizer must refuse).
    onPool<Optimizer>(
      `${cls}.lr`,
      'Optimizer',
      (ctx, e) => {
        if (ctx.rng.chance(0.3)) {
          const run = () => Reflect.get(proto ? Optimizer.prototype : e.obj, 'lr', e.obj);
          return { args: [], run, stateFree: true };
        }
        const v = float32(ctx, 'lr', { min: 0, minOpen: true, lo: 1e-4, hi: 0.1 });
        return {
          args: [v],
          run: () => Reflect.set(proto ? Optimizer.prototype : e.obj, 'lr', v.value, e.obj),
        };
      },
      { filter },
    ),
    getter(`${cls}.stepCount`, 'Optimizer', 'stepCount', withProto),
    getter(`${cls}.disposed`, 'Optimizer', 'disposed', withProto),
  ];
}

// ---- schedules ----------------------------------------------------------------------------

const SCHEDULES = { StepLR, ExponentialLR, CosineAnnealingLR } as const;

function newSchedule(cls: keyof typeof SCHEDULES | 'LRSchedule'): Op {
  return {
    name: `new ${cls}`,
    weight: cls === 'LRSchedule' ? 0.2 : 1,
    make(ctx) {
      const opt = objectArg(ctx, 'optimizer', ['Optimizer']);
      // A disposed optimizer: the schedule may be made (it only reads lr), its step() refuses.
      const optArg =
        opt.bad && opt.value instanceof Optimizer ? good(opt.value, 'optimizer: disposed') : opt;
      const fields: Record<string, Arg> =
        cls === 'StepLR'
          ? {
              stepSize: int(ctx, 'stepSize', { min: 1, max: 2 ** 31 - 1, hi: 5 }),
              gamma: finite(ctx, 'gamma', {
                min: 0,
                minOpen: true,
                lo: 0.1,
                hi: 1,
                optional: true,
              }),
            }
          : cls === 'ExponentialLR'
            ? { gamma: finite(ctx, 'gamma', { min: 0, minOpen: true, lo: 0.5, hi: 1 }) }
            : {
                tMax: int(ctx, 'tMax', { min: 1, max: 2 ** 31 - 1, hi: 20 }),
                etaMin: float32(ctx, 'etaMin', { min: 0, lo: 0, hi: 1e-4, optional: true }),
              };
      const o = options(ctx, `${cls} options`, fields);
      const C = (cls === 'LRSchedule' ? LRSchedule : SCHEDULES[cls]) as unknown as new (
        a: unknown,
        b: unknown,
      ) => LRSchedule;
      const args =
        cls === 'LRSchedule' ? [optArg, bad(undefined, 'LRSchedule is abstract')] : [optArg, o];
      return {
        args,
        run: () => new C(optArg.value, o.value),
        done: (s) => void ctx.pool.add('LRSchedule', s, {}),
      };
    },
  };
}

function scheduleOps(cls: string, filter?: (e: Entry<LRSchedule>) => boolean, proto = false): Op[] {
  const p = proto ? { proto: LRSchedule.prototype } : {};
  return [
    onPool<LRSchedule>(
      `${cls}.step`,
      'LRSchedule',
      (_c, e) => ({
        args: [],
        run: () => (proto ? LRSchedule.prototype.step.call(e.obj) : e.obj.step()),
      }),
      {
        filter,
        badState: (e) => (e.obj.optimizer.disposed ? 'its optimizer was disposed' : undefined),
      },
    ),
    onPool<LRSchedule>(
      `${cls}.getLastLr`,
      'LRSchedule',
      (_c, e) => ({ args: [], run: () => e.obj.getLastLr() }),
      { filter, disposedOk: true },
    ),
    getter(`${cls}.lastEpoch`, 'LRSchedule', 'lastEpoch', { filter, ...p }),
  ];
}

const is = (C: abstract new (...a: never[]) => unknown) => (e: Entry) => e.obj instanceof C;

export const OPTIM_OPS: Op[] = [
  newOptimizer('Adam'),
  newOptimizer('AdamW'),
  newOptimizer('SGD'),
  newOptimizer('RMSprop'),
  newOptimizer('Adagrad'),
  ...optimizerOps('Adam', (e) => e.obj.constructor === Adam),
  ...optimizerOps('AdamW', is(AdamW)),
  ...optimizerOps('SGD', is(SGD)),
  ...optimizerOps('RMSprop', is(RMSprop)),
  ...optimizerOps('Adagrad', is(Adagrad)),
  ...optimizerOps('Optimizer', undefined, true),
  newSchedule('StepLR'),
  newSchedule('ExponentialLR'),
  newSchedule('CosineAnnealingLR'),
  newSchedule('LRSchedule'),
  ...scheduleOps('StepLR', is(StepLR)),
  ...scheduleOps('ExponentialLR', is(ExponentialLR)),
  ...scheduleOps('CosineAnnealingLR', is(CosineAnnealingLR)),
  ...scheduleOps('LRSchedule', undefined, true),
];
