/**
 * Scalar and option-object generators: each returns a valid value most of the time and a
 * hostile one otherwise, marked bad only by the documented rule of that kind of argument:
 *
 * - int(): an integer in [min, max] (positiveInt, uint32, seeds, sizes). Bad: not a number,
 *   not an integer (1.5, NaN, +-Inf), out of [min, max]; undefined unless optional. Hostile
 *   values never include a large valid number (no allocation of gigabytes by accident).
 * - float32(): a number the core takes as a float (validate.ts float32): bad when not a number,
 *   |v| > FLT_MAX, or outside its range as Math.fround(v) sees it (5e-324 > 0 is 0 there).
 * - finite(): a number TypeScript uses itself: bad when not finite or out of range.
 * - bool(): bad unless true, false (or undefined when optional).
 * - choice(): one of some strings; bad otherwise (callers give the strings that are surely not
 *   names: the model API resolves names case- and underscore-insensitively).
 * - options(): an object of fields; bad when a field is bad, a key is unknown, or the object is
 *   not a plain object (null, a number, an array, a typed array, a function, a revoked Proxy).
 *   A Proxy of an object, inherited fields (they may be read or not) and getters that change
 *   are not bad; a getter that
 *   throws makes the call throw the fuzzer's own exception (FuzzThrow), which is passed through.
 */
import { FLT_MAX } from '../../ts/validate.js';
import { arg, bad, friendly, FuzzThrow, good, type Arg, type Ctx } from './call.js';

export interface Range {
  min?: number;
  max?: number;
  minOpen?: boolean;
  maxOpen?: boolean;
}

export function inRange(v: number, r: Range): boolean {
  const { min = -Infinity, max = Infinity, minOpen = false, maxOpen = false } = r;
  return (minOpen ? v > min : v >= min) && (maxOpen ? v < max : v <= max);
}

export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 24 ? v.slice(0, 24) + '…' : v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'symbol') return 'a symbol';
  if (typeof v === 'function') return 'a function';
  if (v === null || v === undefined) return String(v);
  try {
    if (Array.isArray(v))
      return v.length <= 4 ? `[${v.map(show).join(', ')}]` : `Array(${v.length})`;
    if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as { length?: number }).length})`;
    return 'an object';
  } catch {
    return 'a revoked Proxy (or one whose traps throw)';
  }
}

export const revoked = (): object => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
};

/** Values of other types than a number, for any numeric argument. */
function notANumber(ctx: Ctx): unknown {
  return ctx.rng.pick<() => unknown>([
    () => '2',
    () => 2n,
    () => true,
    () => null,
    () => ({ valueOf: () => 2 }),
    () => [2],
    () => Symbol('s'),
    () => () => 2,
    () => revoked(),
    () => new Float32Array(2),
  ])();
}

export interface IntSpec {
  min: number;
  max: number;
  /** Typical valid values are drawn from [lo, hi] (default [min, min + 7]). */
  lo?: number;
  hi?: number;
  optional?: boolean;
}

export function int(ctx: Ctx, name: string, spec: IntSpec): Arg {
  const { min, max, optional = false } = spec;
  const lo = spec.lo ?? min;
  const hi = spec.hi ?? Math.min(max, lo + 7);
  const r = ctx.rng;
  const ok = (v: unknown): boolean =>
    (v === undefined && optional) ||
    (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max);
  let v: unknown;
  const roll = friendly(ctx) ? -1 : r.next();
  if (roll < 0) v = r.int(lo, hi);
  else if (roll < 0.2) v = undefined;
  else if (roll < 0.36) v = notANumber(ctx);
  else {
    const near = [min - 1, 0, -1, -0, 1.5, 0.5, NaN, Infinity, -Infinity, max + 1];
    const far = [2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 1e300, -(2 ** 31), Number.MAX_VALUE];
    v = r.pick([...near, ...far].filter((x) => x < 2 ** 20 || x > max));
  }
  return arg(v, !ok(v), `${name}: ${show(v)}`);
}

export function uint32(ctx: Ctx, name: string, optional = true): Arg {
  if (friendly(ctx)) return good(ctx.rng.u32(), `${name}: u32`);
  return int(ctx, name, { min: 0, max: 0xffffffff, optional });
}

export interface FloatSpec extends Range {
  /** Typical valid values are drawn from [lo, hi]. */
  lo: number;
  hi: number;
  optional?: boolean;
}

const HOSTILE_FLOATS = [
  NaN,
  Infinity,
  -Infinity,
  4e38,
  -4e38,
  3.4e38,
  1e-46,
  5e-324,
  -0,
  0,
  -1,
  1,
  0.99999999999,
  1e10,
];

function numberArg(ctx: Ctx, name: string, spec: FloatSpec, ok: (v: number) => boolean): Arg {
  const r = ctx.rng;
  let v: unknown;
  if (friendly(ctx)) v = spec.lo + (spec.hi - spec.lo) * r.next();
  else if (r.chance(0.15)) v = undefined;
  else if (r.chance(0.2)) v = notANumber(ctx);
  else v = r.pick(HOSTILE_FLOATS);
  const valid = v === undefined ? spec.optional === true : typeof v === 'number' && ok(v);
  return arg(v, !valid, `${name}: ${show(v)}`);
}

/** A number the core takes as a float32 (see the file's comment). */
export function float32(ctx: Ctx, name: string, spec: FloatSpec): Arg {
  return numberArg(ctx, name, spec, (v) => Math.abs(v) <= FLT_MAX && inRange(Math.fround(v), spec));
}

/** A finite number TypeScript uses itself. */
export function finite(ctx: Ctx, name: string, spec: FloatSpec): Arg {
  return numberArg(ctx, name, spec, (v) => Number.isFinite(v) && inRange(v, spec));
}

export function bool(ctx: Ctx, name: string, optional = true): Arg {
  const r = ctx.rng;
  if (friendly(ctx)) return good(r.chance(0.5), `${name}: boolean`);
  if (optional && r.chance(0.5)) return good(undefined, `${name}: undefined`);
  const v = r.pick<unknown>([0, 1, 'true', null, {}, NaN]);
  return bad(v, `${name}: ${show(v)}`);
}

export function choice(
  ctx: Ctx,
  name: string,
  valid: readonly unknown[],
  hostile: readonly unknown[] = ['bogus', '', 5, null, {}],
  optional = false,
): Arg {
  const r = ctx.rng;
  if (friendly(ctx)) {
    const v = r.pick(valid);
    return good(v, `${name}: ${show(v)}`);
  }
  if (r.chance(0.3)) return arg(undefined, !optional, `${name}: undefined`);
  const v = r.pick(hostile);
  return bad(v, `${name}: ${show(v)}`);
}

/** A function (valid), or something else (bad), or one that throws FuzzThrow (not bad). */
export function callback(ctx: Ctx, name: string, fn: (...a: unknown[]) => unknown): Arg {
  const r = ctx.rng;
  if (friendly(ctx)) return good(fn, `${name}: a function`);
  if (r.chance(0.5))
    return good(() => {
      throw new FuzzThrow();
    }, `${name}: a function that throws`);
  const v = r.pick<unknown>([5, 'f', {}, null]);
  return bad(v, `${name}: ${show(v)}`);
}

/**
 * An options object of `fields` (an absent field: undefined). optional: the whole object may
 * be omitted (undefined).
 */
export function options(
  ctx: Ctx,
  name: string,
  fields: Record<string, Arg>,
  optional = false,
): Arg {
  const r = ctx.rng;
  const entries = Object.entries(fields).filter(([, a]) => a.value !== undefined || r.chance(0.1));
  const plain: Record<string, unknown> = Object.fromEntries(entries.map(([k, a]) => [k, a.value]));
  const badFields = Object.values(fields).filter((a) => a.bad);
  const isBad = badFields.length > 0;
  const what = (how: string): string =>
    `${name}: ${how}${isBad ? ` (${badFields.map((a) => a.what).join('; ')})` : ''}`;
  const variant = friendly(ctx)
    ? 'plain'
    : r.weighted<string>([
        [10, 'plain'],
        [4, 'unknown key'],
        [3, 'proxy'],
        [2, 'throwing getter'],
        [3, 'changing getter'],
        [2, 'inherited'],
        [4, 'not an object'],
      ]);
  const keys = entries.map(([k]) => k);
  switch (variant) {
    case 'unknown key':
      return bad({ ...plain, [r.pick(['bogusKey', 'Batch', 'strictt', 'lR'])]: 1 }, what('+ key'));
    case 'proxy':
      return arg(new Proxy(plain, {}), isBad, what('a Proxy of'));
    case 'throwing getter':
    case 'changing getter': {
      if (keys.length === 0) break;
      const key = r.pick(keys);
      const value = plain[key];
      const other = r.pick<unknown>([undefined, -1, NaN, null, 'x', 2 ** 31]);
      let reads = 0;
      const o = { ...plain };
      Object.defineProperty(o, key, {
        enumerable: true,
        get() {
          if (variant === 'throwing getter') throw new FuzzThrow();
          return reads++ % 2 === 0 ? value : other;
        },
      });
      const others = Object.entries(fields).filter(([k, a]) => k !== key && a.bad);
      return arg(o, others.length > 0, what(`${variant} on ${key},`));
    }
    case 'inherited':
      // Reading inherited keys (o.k) or only own ones (spread) are both defensible: not bad.
      return good(Object.create(plain) as object, what('inherited'));
    case 'not an object': {
      if (optional && r.chance(0.3)) return good(undefined, `${name}: undefined`);
      const v = r.pick<unknown>([null, 7, 'opts', [], new Float32Array(2), revoked(), () => 1]);
      return bad(v, `${name}: ${show(v)}`);
    }
  }
  return arg(plain, isBad, what('{…}'));
}
