/**
 * The Backend object loadBackend() returns: one op per C ABI function of the generated table
 * (ts/backends/abi.generated.ts), and per `...Async` variant, so a new function is fuzzed as
 * soon as gen-abi.mjs adds it; plus the members makeBackend adds (isa, wasmMemoryBytes,
 * isaList, isaSupported). Arguments come from the argument kinds of the table and the plans of
 * abi-plans.ts. Handles: one of the kind asked (made by a create call of the fuzzer, or a
 * layer's own), or bad: another kind, a destroyed one, a forged number (a generation no handle
 * reached), not a uint32. Numbers: the plan's, or bad by type (not an integer of the C type, not
 * finite as a float32) or by the plan's rule. Arrays: as arrays.ts, with the plan's length.
 */
import { ABI } from '../../ts/backends/abi.generated.js';
import type { AbiArg, AbiFunction } from '../../ts/backends/abi.js';
import type { Backend, Handle } from '../../ts/backends/backend.js';
import { FLT_MAX } from '../../ts/validate.js';
import { PLANS, type HandleMeta, type Plan } from './abi-plans.js';
import { f32, i32, lengthOf, mutateInFlight } from './arrays.js';
import { arg, bad, friendly, good, type Arg, type Call, type Ctx, type Op } from './call.js';
import { LAYER_KINDS, type Entry } from './pool.js';
import { show } from './values.js';

/** A raw handle in the pool: the backend it lives on and its number. */
interface Raw {
  backend: Backend;
  handle: Handle;
}

const KIND_OF: Record<string, string> = {
  GRU: 'net',
  Dense: 'dense',
  Embedding: 'embedding',
  LayerNorm: 'layer_norm',
  BatchNorm: 'batch_norm',
};

/** A handle of kind `of` ('any': any kind), with its meta. */
function handleArg(ctx: Ctx, name: string, of: string): { a: Arg; meta?: HandleMeta } {
  const r = ctx.rng;
  const kinds =
    of === 'any' ? ['net', 'dense', 'embedding', 'layer_norm', 'batch_norm', 'optim'] : [of];
  const pick = (ks: string[]) =>
    ctx.pool.pickOf<Raw>(
      r,
      ks.map((k) => `h:${k}` as const),
    );
  if (friendly(ctx)) {
    // A layer's own handle now and then (the facade then finds its object changed under it).
    if (r.chance(0.1)) {
      const e = ctx.pool.pickOf<{ _handle(): Handle; backend: Backend }>(
        r,
        LAYER_KINDS.filter((k) => kinds.includes(KIND_OF[k]!)),
      );
      if (e && e.obj.backend === ctx.backend) {
        try {
          const meta = { of: KIND_OF[e.kind]!, ...e.meta } as HandleMeta;
          return { a: good(e.obj._handle(), `${name}: a ${e.kind}'s handle`), meta };
        } catch {
          // disposed or busy: a raw one instead
        }
      }
    }
    const e = pick(kinds);
    if (e)
      return {
        a: arg(
          e.obj.handle,
          e.meta.destroyed === true,
          `${name}: ${e.kind}${e.meta.destroyed ? ' (destroyed)' : ''}`,
        ),
        meta: e.meta as HandleMeta,
      };
  }
  const how = r.pick(['kind', 'destroyed', 'forged', 'type']);
  if (how === 'kind' && of !== 'any') {
    const e = pick(
      ['net', 'dense', 'embedding', 'layer_norm', 'batch_norm', 'optim'].filter((k) => k !== of),
    );
    if (e) return { a: bad(e.obj.handle, `${name}: a ${e.kind} handle`) };
  }
  if (how === 'destroyed') {
    const e = ctx.pool.pickOf<Raw>(
      r,
      kinds.map((k) => `h:${k}` as const),
      (x) => x.meta.destroyed === true,
    );
    if (e)
      return { a: bad(e.obj.handle, `${name}: destroyed ${e.kind}`), meta: e.meta as HandleMeta };
  }
  if (how === 'forged') {
    // Generation 3500..4095 of a low slot: never reached in a child (see native/core/handles.h).
    const v = ((r.int(3500, 4095) << 20) | r.int(1, 64)) >>> 0;
    return { a: bad(v, `${name}: forged ${v}`) };
  }
  const v = r.pick<unknown>([0, -1, 1.5, NaN, 2 ** 32, '1', null, undefined, {}]);
  return { a: bad(v, `${name}: ${show(v)}`) };
}

const INT_RANGE = { i32: [-(2 ** 31), 2 ** 31 - 1], u32: [0, 2 ** 32 - 1] } as const;
const DEFAULT_MUTATIONS = [0, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 16, 2 ** 20, 2 ** 30];

function intArg(ctx: Ctx, a: AbiArg, plan: Plan): Arg {
  const r = ctx.rng;
  const kind = a.kind as 'i32' | 'u32';
  const [lo, hi] = INT_RANGE[kind];
  const ok = plan.intOk?.[a.name] ?? (() => true);
  const proposed = plan.ints?.[a.name] ?? (kind === 'u32' ? r.u32() : r.int(0, 8));
  let v: unknown = proposed;
  if (!friendly(ctx)) {
    v = r.chance(0.7)
      ? r.pick(plan.mutations?.[a.name] ?? [proposed - 1, proposed + 1, ...DEFAULT_MUTATIONS])
      : r.pick<unknown>([1.5, NaN, Infinity, '1', null, undefined, hi + 1, lo - 1, true]);
  }
  const valid = typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi && ok(v);
  return arg(v, !valid, `${a.name}: ${show(v)}`);
}

function floatArg(ctx: Ctx, a: AbiArg, plan: Plan, ints: Record<string, number>): Arg {
  const r = ctx.rng;
  const [lo, hi, ok] = plan.floats?.[a.name] ?? [-2, 2, undefined];
  let v: unknown = lo + (hi - lo) * r.next();
  if (!friendly(ctx))
    v = r.pick<unknown>([NaN, Infinity, -Infinity, 4e38, 1e38, -1, 0, -0, 1, 5e-324, '0.5', null]);
  const f = typeof v === 'number' ? Math.fround(v) : NaN;
  const valid = typeof v === 'number' && Math.abs(v) <= FLT_MAX && (ok ? ok(f, ints) : true);
  return arg(v, !valid, `${a.name}: ${show(v)}`);
}

/**
 * At most this many elements are made for an array: a call whose sizes ask for more gets a
 * shorter array (bad), or null where null is allowed, so a valid call stays small (no training
 * state of hundreds of megabytes, no call near the hang limit). Past it a length wraps as 32-bit
 * (the sizes chosen to overflow ask for 2^32 or 2^64 elements: 0 then).
 */
const MAX_LEN = 1 << 12;

function arrayArg(
  ctx: Ctx,
  a: Extract<AbiArg, { kind: 'array' }>,
  plan: Plan,
  v: Record<string, number>,
): Arg {
  const r = ctx.rng;
  const free = plan.free?.includes(a.name) ?? false;
  let want = plan.lens?.(v)[a.name];
  // A size argument that is itself bad (negative, ...): no length to expect.
  if (want !== undefined && !(Number.isInteger(want) && want >= 0)) want = undefined;
  const known = want !== undefined && Number.isFinite(want) && !free;
  if (want !== undefined && want > MAX_LEN) {
    if (a.nullable) return good(null, `${a.name}: null (${want} elements would be needed)`);
    return bad(
      new (a.type === 'f32' ? Float32Array : Int32Array)(
        want % 2 ** 32 > MAX_LEN ? 0 : want % 2 ** 32,
      ),
      `${a.name}: ${want % 2 ** 32} elements for ${want}`,
    );
  }
  const n = want ?? r.int(0, 12);
  const loose = plan.loose?.includes(a.name) ?? false;
  // An empty array where null is allowed may be read as null ("may be null (with length 0)").
  const ok = (l: number) => !known || (a.nullable && l === 0) || (loose ? l >= n : l === n);
  const spec = { nullable: a.nullable, ok };
  let out: Arg;
  if (a.type === 'i32') {
    // Only an input's elements are judged (an output's are overwritten).
    const [lo, hi] = (a.dir === 'in' && plan.ids?.[a.name]) || [0, 4];
    const values = Array.from({ length: n }, () => r.int(lo, hi));
    const judged = a.dir === 'in' && plan.ids?.[a.name] !== undefined;
    out = i32(ctx, a.name, values, {
      ...spec,
      lo: judged ? lo : -(2 ** 31),
      hi: judged ? hi : 2 ** 31 - 1,
    });
  } else {
    const content = plan.content?.[a.name];
    out =
      content && friendly(ctx)
        ? good(content(n), `${a.name}: Float32Array(${n}) of valid content`)
        : f32(ctx, a.name, n, spec);
  }
  if (free) {
    const len = lengthOf(out.value);
    if (typeof len === 'number' && !out.bad) v[`len_${a.name}`] = len;
  }
  return out;
}

/** The op of one Backend method (`async`: its ...Async variant). */
function abiOp(fn: AbiFunction, isAsync: boolean): Op {
  const method = isAsync ? `${fn.method}Async` : fn.method;
  return {
    name: `Backend.${method}`,
    weight: fn.method.endsWith('Create') ? 1.5 : 1,
    make(ctx) {
      const args: Arg[] = [];
      let meta: HandleMeta | undefined;
      let handle: Handle | undefined;
      const slots: (AbiArg | null)[] = fn.args.map((a) => {
        if (a.kind !== 'handle') return a;
        const h = handleArg(ctx, a.name, a.of);
        if (meta === undefined && handle === undefined) {
          meta = h.meta;
          handle = typeof h.a.value === 'number' ? (h.a.value as Handle) : undefined;
        }
        args.push(h.a);
        return null;
      });
      const plan = (PLANS[fn.method] ?? (() => ({})))({
        rng: ctx.rng,
        backend: ctx.backend,
        h: meta,
        handle,
      });
      const v: Record<string, number> = {};
      let k = 0;
      const ordered: Arg[] = [];
      for (const s of slots) {
        if (s === null) {
          ordered.push(args[k++]!);
          continue;
        }
        let x: Arg;
        if (s.kind === 'i32' || s.kind === 'u32') x = intArg(ctx, s, plan);
        else if (s.kind === 'f32') x = floatArg(ctx, s, plan, v);
        else if (s.kind === 'str') {
          const st = plan.strs?.[s.name] ?? { valid: ['avx2', 'scalar', 'x'], bad: [] };
          x =
            friendly(ctx) || st.bad.length === 0
              ? good(ctx.rng.pick(st.valid), `${s.name}: string`)
              : bad(ctx.rng.pick<unknown>([...st.bad, 5, null]), `${s.name}: hostile`);
        } else if (s.kind === 'array') x = arrayArg(ctx, s, plan, v);
        else x = good(undefined, s.name);
        if ((s.kind === 'i32' || s.kind === 'u32') && typeof x.value === 'number')
          v[s.name] = x.value;
        ordered.push(x);
      }
      const backend = ctx.backend as unknown as Record<string, (...a: unknown[]) => unknown>;
      const call: Call = {
        args: ordered,
        async: isAsync,
        run: () => {
          const result = backend[method]!(...ordered.map((a) => a.value));
          if (isAsync)
            mutateInFlight(
              ctx,
              ordered.map((a) => a.value),
            );
          return result;
        },
        done: (result) => {
          plan.after?.(meta, v, result);
          if (fn.out?.type === 'handle') keepHandle(ctx, fn, v, result as Handle);
          if (fn.method === 'destroy' && meta) meta.destroyed = true;
        },
      };
      return call;
    },
  };
}

/** A handle a create call made: kept (small) or destroyed at once (over 16 MB). */
function keepHandle(ctx: Ctx, fn: AbiFunction, v: Record<string, number>, handle: Handle): void {
  const of = fn.out?.of ?? 'any';
  const meta: HandleMeta = { of };
  if (of === 'net')
    Object.assign(meta, {
      I: v.inputSize,
      H: v.hiddenSize,
      L: v.numLayers,
      D: v.bidirectional ? 2 : 1,
    });
  if (of === 'dense') Object.assign(meta, { in: v.inFeatures, out: v.outFeatures });
  if (of === 'embedding') Object.assign(meta, { num: v.numEmbeddings, dim: v.dim });
  if (of === 'layer_norm') Object.assign(meta, { dim: v.dim });
  if (of === 'batch_norm')
    Object.assign(meta, { features: v.features, unbiased: v.unbiasedRunningVar });
  const big = (() => {
    try {
      return ctx.backend.bytes(handle) > 16 * 2 ** 20;
    } catch {
      return false;
    }
  })();
  const raw: Raw = { backend: ctx.backend, handle };
  const entry: Entry = big
    ? ctx.pool.track(`h:${of}`, raw, meta)
    : ctx.pool.add(`h:${of}`, raw, meta);
  if (big) ctx.pool.dispose(entry);
}

/**
 * What makeBackend adds to the generated methods (isa, wasmMemoryBytes, threadsReady, the
 * tests' _wasmHelpers, and
 * isaList / isaSupported over them).
 */
const extras: Op[] = [
  { name: 'Backend.isa', weight: 0.3, make: (ctx) => ({ args: [], run: () => ctx.backend.isa() }) },
  {
    name: 'Backend.wasmMemoryBytes',
    weight: 0.3,
    make: (ctx) => ({ args: [], run: () => ctx.backend.wasmMemoryBytes() }),
  },
  {
    name: 'Backend.threadsReady',
    weight: 0.3,
    make: (ctx) => ({ args: [], run: () => ctx.backend.threadsReady() }),
  },
  {
    name: 'Backend._wasmHelpers',
    weight: 0.1,
    make: (ctx) => ({ args: [], run: () => ctx.backend._wasmHelpers() }),
  },
];

export const BACKEND_OPS: Op[] = [
  ...ABI.flatMap((fn) => (fn.async ? [abiOp(fn, false), abiOp(fn, true)] : [abiOp(fn, false)])),
  ...extras,
];
