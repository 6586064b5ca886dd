/**
 * Keras files (ts/formats/keras*.ts): kerasModelBytes, saveKerasModel and loadKerasWeights on the
 * pool's models, loadKerasModel and describeKerasFile of their `.keras` files and of the
 * committed Keras fixtures, valid or mutated (test/fuzz/hostile-keras-files.ts: may load or be
 * refused, never marked bad; any refusal must be a GruError). Bad, by the README's "Keras
 * files": a model that is not a Sequential, a destination that is not a path, a source that is
 * not a path, URL or bytes, unknown options, loadKerasWeights into a model not built.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeKerasFile } from '../../ts/formats/keras-describe.js';
import { kerasModelBytes, saveKerasModel } from '../../ts/formats/keras-save.js';
import { loadKerasModel, loadKerasWeights } from '../../ts/formats/keras.js';
import type { Sequential } from '../../ts/models/index.js';
import { arg, bad, friendly, good, type Arg, type Ctx, type Op } from './call.js';
import { backendArg, onPool } from './ops-common.js';
import { hostileKerasFile } from './hostile-keras-files.js';
import type { Entry } from './pool.js';
import { int, options, revoked, show } from './values.js';

let dir: string | null = null;
function scratch(name: string): string {
  if (dir === null) {
    const made = mkdtempSync(path.join(tmpdir(), 'gru-simd-fuzz-keras-'));
    dir = made;
    process.on('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  return path.join(dir, name);
}

/** The committed Keras files (model files and weights files), read once. */
let committed: Uint8Array[] | null = null;
function fixtures(): Uint8Array[] {
  if (committed === null) {
    const at = new URL('../fixtures/keras-files/', import.meta.url);
    committed = readdirSync(at)
      .filter((f) => f.endsWith('.keras') || f.endsWith('.h5'))
      .slice(0, 12)
      .map((f) => new Uint8Array(readFileSync(new URL(f, at))));
  }
  return committed;
}

/** .keras files the pool's models wrote, to load again. */
const written: Uint8Array[] = [];

function source(ctx: Ctx): Arg {
  const r = ctx.rng;
  const list = fixtures();
  const base = written.length > 0 && r.chance(0.5) ? r.pick(written) : r.pick(list);
  if (friendly(ctx)) return good(base, 'source: a Keras file');
  if (r.chance(0.6)) {
    const { kind, bytes } = hostileKerasFile(() => r.next(), base);
    return good(bytes, `source: a Keras file mutated (${kind})`); // may load or be refused
  }
  const v = r.pick<unknown>([
    null,
    5,
    '',
    new Float32Array(4),
    scratch('missing.keras'),
    revoked(),
  ]);
  return bad(v, `source: ${show(v)}`);
}

type SeqEntry = Entry<Sequential>;

const on = (name: string, body: (ctx: Ctx, e: SeqEntry) => ReturnType<Op['make']>) =>
  onPool<Sequential>(name, 'Sequential', body);

function modelOrNot(ctx: Ctx, model: Sequential): Arg {
  if (friendly(ctx)) return good(model, 'model: a Sequential');
  const v = ctx.rng.pick<unknown>([null, {}, 5, revoked()]);
  return bad(v, `model: ${show(v)}`);
}

/** kerasModelBytes's options: batchSize (a stateful model needs it; may then be refused). */
function saveArgs(ctx: Ctx): Arg {
  return options(
    ctx,
    'kerasModelBytes options',
    { batchSize: int(ctx, 'batchSize', { min: 1, max: 1 << 30, hi: 8, optional: true }) },
    true,
  );
}

export const KERAS_FILE_OPS: Op[] = [
  on('kerasModelBytes', (ctx, e) => {
    const m = modelOrNot(ctx, e.obj);
    const o = saveArgs(ctx);
    return {
      args: [m, o],
      async: true,
      run: () => kerasModelBytes(m.value as never, o.value as never),
      done: (bytes) => {
        if (!(bytes instanceof Uint8Array) || bytes.length > 1 << 20) return;
        written.push(bytes);
        if (written.length > 6) written.shift();
      },
    };
  }),
  on('saveKerasModel', (ctx, e) => {
    const m = modelOrNot(ctx, e.obj);
    const d = friendly(ctx)
      ? good(scratch(`k${ctx.rng.int(0, 3)}.keras`), 'destination: a path')
      : ((v: unknown) => bad(v, `destination: ${show(v)}`))(
          ctx.rng.pick<unknown>(['', 5, null, 'https://example.com/m.keras', revoked()]),
        );
    const o = saveArgs(ctx);
    return {
      args: [m, d, o],
      async: true,
      run: () => saveKerasModel(m.value as never, d.value as never, o.value as never),
    };
  }),
  on('loadKerasWeights', (ctx, e) => {
    const s = source(ctx);
    const call = {
      args: [s],
      async: true,
      run: async () => loadKerasWeights(e.obj, s.value as never),
    };
    return e.obj.built || s.bad
      ? call
      : { ...call, args: [arg(s.value, true, `${s.what}, into a model not built`)] };
  }),
  {
    name: 'loadKerasModel',
    make(ctx) {
      const s = source(ctx);
      const o = options(ctx, 'loadKerasModel options', { backend: backendArg(ctx) }, true);
      return {
        args: [s, o],
        async: true,
        run: () => loadKerasModel(s.value as never, o.value as never),
        done: (model) => {
          const e = ctx.pool.pick<Sequential>(ctx.rng, 'Sequential');
          if (e !== undefined) void ctx.pool.add('Sequential', model, e.meta);
          else (model as Sequential).dispose();
        },
      };
    },
  },
  {
    name: 'describeKerasFile',
    make(ctx) {
      const s = source(ctx);
      return { args: [s], async: true, run: () => describeKerasFile(s.value as never) };
    },
  },
];
