/**
 * init, loadBackend, backendInfo, setThreads, threadsReady and GruError. init() is only given the child's own
 * backend by name ('auto' would switch the default backend under the other calls of the child).
 * Bad, by the README's API section: a backend name that is none of 'auto', 'native',
 * 'wasm-relaxed', 'wasm-simd', 'wasm'; options not an object or with an unknown key; an option of
 * the wrong type (addonPath not a string, wasmSimdUrl / wasmScalarUrl / wasmRelaxedUrl not a
 * string or URL, quiet not a
 * boolean); setThreads n not an integer in [1, min(1024, 4 x CPUs)], or a backend that is not
 * one from loadBackend(); threadsReady with a backend that is not one. GruError takes anything (it checks nothing): never bad.
 */
import { availableParallelism } from 'node:os';
import { GruError } from '../../ts/errors.js';
import { Layer } from '../../ts/layer.js';
import { ModelLayer } from '../../ts/models/layer.js';
import { Optimizer } from '../../ts/optim.js';
import { backendInfo, init, loadBackend, setThreads, threadsReady } from '../../ts/loader.js';
import { arg, bad, friendly, good, type Arg, type Ctx, type Op } from './call.js';
import { backendArg } from './ops-common.js';
import { bool, choice, int, options, show } from './values.js';

const NAMES = ['native', 'wasm-relaxed', 'wasm-simd', 'wasm'];
const HOSTILE_NAMES = ['cuda', 'Native', 'wasm_simd', '', 5, null, {}];

/** A location option: a string or a URL (valid), or something else (bad). */
function location(ctx: Ctx, name: string): Arg {
  if (!ctx.rng.chance(0.1)) return good(undefined, '');
  if (friendly(ctx)) {
    const v = ctx.rng.pick<unknown>([
      '/nonexistent/x.wasm',
      new URL('file:///nonexistent/y.node'),
      'relative/path',
    ]);
    return good(v, `${name}: ${String(v)}`);
  }
  const v = ctx.rng.pick<unknown>([5, {}, null, true]);
  return bad(v, `${name}: ${show(v)}`);
}

function loadFields(ctx: Ctx): Record<string, Arg> {
  return {
    addonPath: location(ctx, 'addonPath'),
    wasmSimdUrl: location(ctx, 'wasmSimdUrl'),
    wasmScalarUrl: location(ctx, 'wasmScalarUrl'),
    wasmRelaxedUrl: location(ctx, 'wasmRelaxedUrl'),
  };
}

const initOp: Op = {
  name: 'init',
  weight: 0.3,
  make(ctx) {
    const f = {
      backend: choice(ctx, 'backend', [ctx.backend.name], HOSTILE_NAMES, true),
      quiet: bool(ctx, 'quiet'),
      ...loadFields(ctx),
    };
    // Without a backend option init() means 'auto': not in a child that tests one backend.
    if (f.backend.value === undefined) f.backend = good(ctx.backend.name, 'backend');
    const o = options(ctx, 'init options', f, false);
    if (o.value === undefined || o.value === null || typeof o.value !== 'object') return null;
    return { args: [o], run: () => init(o.value as never) };
  },
};

const loadOp: Op = {
  name: 'loadBackend',
  weight: 0.3,
  make(ctx) {
    const name = choice(ctx, 'name', NAMES, HOSTILE_NAMES);
    const o = options(ctx, 'loadBackend options', loadFields(ctx), true);
    return { args: [name, o], run: () => loadBackend(name.value as never, o.value as never) };
  },
};

const infoOp: Op = {
  name: 'backendInfo',
  weight: 0.3,
  make: () => ({ args: [], run: () => backendInfo() }),
};

const threadsOp: Op = {
  name: 'setThreads',
  weight: 0.3,
  make(ctx) {
    const max = Math.min(1024, 4 * availableParallelism());
    const n = int(ctx, 'n', { min: 1, max, hi: Math.min(max, 4) });
    const b = ctx.rng.chance(0.5) ? backendArg(ctx) : good(undefined, '');
    return { args: [n, b], run: () => setThreads(n.value as never, b.value as never) };
  },
};

const readyOp: Op = {
  name: 'threadsReady',
  weight: 0.2,
  make(ctx) {
    const b = ctx.rng.chance(0.5) ? backendArg(ctx) : good(undefined, '');
    return { args: [b], run: () => threadsReady(b.value as never) };
  },
};

const errorOp: Op = {
  name: 'new GruError',
  weight: 0.1,
  make(ctx) {
    const code = arg(
      ctx.rng.pick<unknown>(['ERR_GRU_ARG', 'whatever', 5, undefined]),
      false,
      'code',
    );
    const message = arg(ctx.rng.pick<unknown>(['m', '', {}, undefined]), false, 'message');
    return {
      args: [code, message],
      run: () => new GruError(code.value as never, message.value as never),
    };
  },
};

/**
 * The abstract classes, constructed from JavaScript (TypeScript's abstract and protected do not
 * exist at run time): always bad, as `new LRSchedule(opt)` is (a GruError, not a TypeError later).
 */
function abstractOp(name: string, C: unknown): Op {
  return {
    name: `new ${name}`,
    weight: 0.1,
    make(ctx) {
      const a = ctx.rng.pick<unknown[]>([
        [],
        [ctx.backend, name, 1, 0],
        [[], {}],
        ['x', {}, [], null],
      ]);
      const run = () => new (C as new (...b: unknown[]) => unknown)(...a);
      return { args: [bad(a, `${name} is abstract: ${a.map(show).join(', ')}`)], run };
    },
  };
}

export const ABSTRACT_OPS: Op[] = [
  abstractOp('Layer', Layer),
  abstractOp('Optimizer', Optimizer),
  abstractOp('ModelLayer', ModelLayer),
];

export const LOADER_OPS: Op[] = [
  initOp,
  loadOp,
  infoOp,
  threadsOp,
  readyOp,
  errorOp,
  ...ABSTRACT_OPS,
];
