/**
 * The members every layer has from Layer (ts/layer.ts): parameters by name, gradients, state
 * dicts, dispose. Generated for each layer class (GRU.getParameter, Dense.getParameter, ...)
 * and for Layer itself (Layer.prototype.getParameter called on any layer).
 *
 * Bad: a name that is not one of the layer's parameterNames() (README: "in PyTorch's names";
 * 'weight_ih_l00' and '__proto__' included), a data array of the wrong length or type, a state
 * dict missing or adding a name with strict (the default), an entry of the wrong length or type,
 * a non-boolean strict, any call but dispose() on a disposed layer.
 */
import { Layer } from '../../ts/layer.js';
import { arg, bad, friendly, FuzzThrow, good, type Arg, type Ctx, type Op } from './call.js';
import { f32 } from './arrays.js';
import { getter, onPool } from './ops-common.js';
import { LAYER_KINDS, type Entry, type Kind } from './pool.js';
import { bool, options, show } from './values.js';

export interface LayerMeta {
  names: string[];
  sizes: Record<string, number>;
}

/** Names and sizes of a live layer's parameters, for the generators. */
export function layerMeta(layer: Layer): LayerMeta {
  const names = layer.parameterNames();
  const sizes: Record<string, number> = {};
  for (const n of names) sizes[n] = layer.parameterShape(n).reduce((a, b) => a * b, 1);
  return { names, sizes };
}

/** A parameter name of the layer, or one that is not. */
export function paramName(ctx: Ctx, meta: LayerMeta): Arg {
  const r = ctx.rng;
  if (friendly(ctx) && meta.names.length > 0) {
    const n = r.pick(meta.names);
    return good(n, `name: ${n}`);
  }
  const first = meta.names[0] ?? 'weight';
  const v = r.pick<unknown>([
    first + '0',
    first.replace(/l0$/, 'l00'),
    first.toUpperCase(),
    ' ' + first,
    'bias_ih_l9',
    '__proto__',
    'constructor',
    'toString',
    '',
    5,
    null,
    undefined,
    { toString: () => first },
  ]);
  const known = typeof v === 'string' && meta.names.includes(v);
  return arg(v, !known, `name: ${show(v)}`);
}

function dictArg(ctx: Ctx, meta: LayerMeta, strict: boolean): Arg {
  const r = ctx.rng;
  const dict: Record<string, unknown> = {};
  const badEntries = new Map<string, string>();
  let shapeBad = false; // a name missing or extra, with strict
  for (const n of meta.names) {
    const a = f32(ctx, n, meta.sizes[n]!);
    dict[n] = a.value;
    if (a.bad) badEntries.set(n, a.what);
  }
  const notes: string[] = [];
  if (!friendly(ctx)) {
    const some = meta.names.length > 0;
    const how = r.pick(
      some
        ? ['missing', 'extra', 'throwing', 'changing', 'proxy', 'not an object']
        : ['extra', 'proxy', 'not an object'],
    );
    const key = some ? r.pick(meta.names) : 'weight';
    notes.push(`${how} ${key}`);
    if (how === 'missing') {
      delete dict[key];
      badEntries.delete(key);
      shapeBad = strict;
    } else if (how === 'extra') {
      dict[key + '_extra'] = new Float32Array(1);
      shapeBad = strict;
    } else if (how === 'throwing' || how === 'changing') {
      // Read once (README: each value read once and copied): a second read must not matter.
      const first = dict[key];
      let reads = 0;
      Object.defineProperty(dict, key, {
        enumerable: true,
        get() {
          if (how === 'throwing') throw new FuzzThrow();
          return reads++ === 0 ? first : new Float32Array(1);
        },
      });
    } else if (how !== 'proxy') {
      const v = r.pick<unknown>([null, 3, [], new Float32Array(2)]);
      return bad(v, `stateDict: ${show(v)}`);
    }
  }
  const isBad = shapeBad || badEntries.size > 0;
  const what = [...badEntries.values(), ...notes].join('; ');
  if (notes[0]?.startsWith('proxy'))
    return arg(new Proxy(dict, {}), isBad, `stateDict: a Proxy (${what})`);
  return arg(dict, isBad, `stateDict: {${what}}`);
}

/** Layer's members on the layers of `kinds`, named `cls.member`; proto: call through Layer. */
export function layerOps(cls: string, kinds: readonly Kind[], viaLayer = false): Op[] {
  const call = <R>(e: Entry, m: string, ...a: unknown[]): R =>
    viaLayer
      ? (Reflect.get(Layer.prototype, m) as (...b: unknown[]) => R).apply(e.obj, a)
      : (e.obj as Record<string, (...b: unknown[]) => R>)[m]!(...a);
  const meta = (e: Entry) => e.meta as unknown as LayerMeta;
  const named = (m: string, body: Parameters<typeof onPool>[2], o = {}) =>
    onPool(`${cls}.${m}`, kinds, body, o);
  return [
    named('parameterNames', (_ctx, e) => ({ args: [], run: () => call(e, 'parameterNames') })),
    named('parameterShape', (ctx, e) => {
      const n = paramName(ctx, meta(e));
      return { args: [n], run: () => call(e, 'parameterShape', n.value) };
    }),
    named('getParameter', (ctx, e) => {
      const n = paramName(ctx, meta(e));
      return { args: [n], run: () => call(e, 'getParameter', n.value) };
    }),
    named('getGradient', (ctx, e) => {
      const n = paramName(ctx, meta(e));
      return { args: [n], run: () => call(e, 'getGradient', n.value) };
    }),
    named('setParameter', (ctx, e) => {
      const n = paramName(ctx, meta(e));
      const size = typeof n.value === 'string' ? (meta(e).sizes[n.value] ?? 1) : 1;
      const d = f32(ctx, 'data', size);
      return { args: [n, d], run: () => call(e, 'setParameter', n.value, d.value) };
    }),
    named('zeroGrad', (_ctx, e) => ({ args: [], run: () => call(e, 'zeroGrad') })),
    named('stateDict', (_ctx, e) => ({ args: [], run: () => call(e, 'stateDict') })),
    named('loadStateDict', (ctx, e) => {
      const s = bool(ctx, 'strict');
      const o = options(ctx, 'options', { strict: s }, true);
      const d = dictArg(ctx, meta(e), s.value !== false || s.bad);
      return { args: [d, o], run: () => call(e, 'loadStateDict', d.value, o.value) };
    }),
    named('dispose', (_ctx, e) => ({ args: [], run: () => call(e, 'dispose') }), {
      disposedOk: true,
      weight: 0.3,
    }),
    getter(`${cls}.disposed`, kinds, 'disposed', viaLayer ? { proto: Layer.prototype } : {}),
  ];
}

/** Layer.* on any layer. */
export const LAYER_BASE_OPS: Op[] = layerOps('Layer', LAYER_KINDS, true);
