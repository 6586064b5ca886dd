/**
 * What the operation files share: an op on an object of the pool (its receiver disposed makes
 * the call bad, unless the member is documented to work then), getters, and the generators of
 * arguments that are objects of the library: a backend, a layer, a GRU.
 */
import type { Backend } from '../../ts/backends/backend.js';
import { arg, bad, friendly, good, type Arg, type Call, type Ctx, type Op } from './call.js';
import type { Entry, Kind } from './pool.js';
import { LAYER_KINDS } from './pool.js';

export function isDisposed(obj: unknown): boolean {
  return (obj as { disposed?: unknown }).disposed === true;
}

export interface OnPoolOptions<T> {
  weight?: number;
  /** The member works on a disposed receiver (dispose, getters): no bad state. */
  disposedOk?: boolean;
  /** Only receivers that pass. */
  filter?: (e: Entry<T>) => boolean;
  /** Another reason the receiver must refuse. */
  badState?: (e: Entry<T>) => string | undefined;
}

/** An op whose receiver is an object of the pool. */
export function onPool<T>(
  name: string,
  kinds: Kind | readonly Kind[],
  body: (ctx: Ctx, e: Entry<T>) => Call | null,
  o: OnPoolOptions<T> = {},
): Op {
  const list = typeof kinds === 'string' ? [kinds] : kinds;
  return {
    name,
    weight: o.weight,
    make(ctx) {
      const e = ctx.pool.pickOf<T>(ctx.rng, list, o.filter);
      if (e === undefined) return null;
      const call = body(ctx, e);
      if (call === null) return null;
      if (call.stateFree) return call;
      if (!o.disposedOk && isDisposed(e.obj)) call.badState ??= 'disposed';
      call.badState ??= o.badState?.(e);
      return call;
    },
  };
}

/** Reading (and, for a setter, writing) a property: `set` gives the value to write. */
export function getter<T>(
  name: string,
  kinds: Kind | readonly Kind[],
  prop: string,
  o: OnPoolOptions<T> & { proto?: object } = {},
): Op {
  return onPool<T>(
    name,
    kinds,
    (_ctx, e) => ({
      args: [],
      run: () =>
        o.proto ? Reflect.get(o.proto, prop, e.obj) : (e.obj as Record<string, unknown>)[prop],
    }),
    { disposedOk: true, ...o },
  );
}

/** A backend option: this child's backend, the other one, omitted (optional), or not one. */
export function backendArg(ctx: Ctx, optional = true): Arg {
  const r = ctx.rng;
  if (friendly(ctx)) {
    if (optional && r.chance(0.4)) return good(undefined, 'backend: default');
    return r.chance(0.9) ? good(ctx.backend, 'backend') : good(ctx.other, 'backend: the other one');
  }
  const fake = r.pick<() => unknown>([
    () => ({ ...ctx.backend }),
    () => new Proxy(ctx.backend, {}),
    () => ctx.backend.name,
    () => null,
    () => ({ netCreate() {} }),
  ])();
  return bad(fake, `backend: ${typeof fake === 'string' ? fake : 'a look-alike'}`);
}

/** An object where `kinds` are expected: one of them (live), or another thing (bad). */
export function objectArg(ctx: Ctx, name: string, kinds: readonly Kind[], backend?: Backend): Arg {
  const r = ctx.rng;
  const live = (e: Entry) => !isDisposed(e.obj) && (!backend || objBackend(e.obj) === backend);
  if (friendly(ctx)) {
    const e = ctx.pool.pickOf(r, kinds);
    if (e !== undefined) return arg(e.obj, !live(e), `${name}: a ${e.kind}`);
  }
  const other = ctx.pool.pickOf(
    r,
    ctx.pool.kinds().filter((k) => !kinds.includes(k)),
  );
  const same = ctx.pool.pickOf(r, kinds);
  const v = r.pick<() => [unknown, string]>([
    () => (other ? [other.obj, `a ${other.kind}`] : [{}, '{}']),
    () => (same ? [new Proxy(same.obj as object, {}), `a Proxy of a ${same.kind}`] : [1, '1']),
    () => [{}, '{}'],
    () => [null, 'null'],
    () => ['GRU', '"GRU"'],
  ])();
  // A disposed one of the right kind is picked above too (bad through live()).
  return bad(v[0], `${name}: ${v[1]}`);
}

function objBackend(obj: unknown): Backend | undefined {
  return (obj as { backend?: Backend }).backend;
}

/** A layer (GRU, Dense, Embedding, LayerNorm) for an optimizer's params. */
export function layerArg(ctx: Ctx, name: string): Arg {
  return objectArg(ctx, name, LAYER_KINDS);
}

/** Sizes for valid calls: small, so every valid call takes well under the 1 s hang limit. */
export const SMALL = { batch: 3, steps: 4, features: 12, hidden: 20 } as const;

/** n values drawn in [lo, hi]. */
export function ints(ctx: Ctx, n: number, lo: number, hi: number): number[] {
  return Array.from({ length: n }, () => ctx.rng.int(lo, hi));
}
