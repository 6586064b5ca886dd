/**
 * Model files (ts/models/model-file.ts, storage.ts, model-checkpoint.ts): toBytes, save,
 * saveWeights and loadWeights on the pool's models, loadModel of their files, valid or mutated
 * (test/fuzz/hostile-files.ts: the parser fuzz, reachable here), and the modelCheckpoint factory.
 * Bad, by the README's "Save and load" section: a destination that is not a path (or a URL,
 * which cannot be written; 'indexeddb://' outside browsers), a source that is not a path, URL
 * or bytes, a file that is no model file (too short, another model's weights for loadWeights),
 * unknown or mistyped options, loadWeights into a model not built. A mutated file may load or
 * be refused: it is never marked bad, and any refusal must be a GruError.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { callbacks, loadModel, type Sequential } from '../../ts/models/index.js';
import { arg, bad, friendly, good, type Arg, type Ctx, type Op } from './call.js';
import { backendArg, onPool } from './ops-common.js';
import type { Entry } from './pool.js';
import { hostileFile } from './hostile-files.js';
import { bool, choice, finite, int, options, revoked, show } from './values.js';

let dir: string | null = null;
/** A fresh path in this process's scratch directory (removed at exit). */
function scratch(name: string): string {
  if (dir === null) {
    const made = mkdtempSync(path.join(tmpdir(), 'gru-simd-fuzz-'));
    dir = made;
    process.on('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  return path.join(dir, name);
}

let files = 0;

/** Files a model wrote (its bytes), to load again. */
const written: Uint8Array[] = [];
function remember(bytes: unknown): void {
  if (!(bytes instanceof Uint8Array) || bytes.length > 1 << 20) return;
  written.push(bytes);
  if (written.length > 8) written.shift();
}

type SeqEntry = Entry<Sequential>;

/** A model's file, or null when it cannot give one now (disposed, busy). */
function bytesOf(make: () => Uint8Array | null): Uint8Array | null {
  try {
    return make();
  } catch {
    return null;
  }
}

const on = (
  name: string,
  body: (ctx: Ctx, e: SeqEntry) => ReturnType<Op['make']>,
  o: { filter?: (e: SeqEntry) => boolean } = {},
) => onPool<Sequential>(`Sequential.${name}`, 'Sequential', body, o);

function destination(ctx: Ctx): Arg {
  if (friendly(ctx)) return good(scratch(`m${files++ % 4}.safetensors`), 'destination: a path');
  const v = ctx.rng.pick<unknown>([
    '',
    5,
    null,
    'https://example.com/m',
    'indexeddb://m',
    revoked(),
  ]);
  return bad(v, `destination: ${show(v)}`);
}

/** A source of model bytes: a file some model wrote, mutated or not, or not a source at all. */
function source(ctx: Ctx, own: Uint8Array | null): Arg {
  const r = ctx.rng;
  const base = own ?? (written.length ? r.pick(written) : null);
  if (friendly(ctx) && base !== null) {
    return r.chance(0.5)
      ? good(base, 'source: a model file')
      : good(
          base.buffer.slice(base.byteOffset, base.byteOffset + base.length),
          'source: its ArrayBuffer',
        );
  }
  if (base !== null && r.chance(0.6)) {
    const { kind, bytes } = hostileFile(() => r.next(), base);
    return good(bytes, `source: a file mutated (${kind})`); // may load or be refused
  }
  const v = r.pick<unknown>([
    null,
    5,
    '',
    new Uint8Array(3),
    new Float32Array(4),
    scratch('missing.safetensors'),
    revoked(),
  ]);
  return bad(v, `source: ${show(v)}`);
}

const fileOps: Op[] = [
  on('toBytes', (ctx, e) => {
    const o = options(
      ctx,
      'save options',
      { includeOptimizer: bool(ctx, 'includeOptimizer') },
      true,
    );
    return { args: [o], run: () => e.obj.toBytes(o.value as never), done: remember };
  }),
  on('save', (ctx, e) => {
    const d = destination(ctx);
    const o = options(
      ctx,
      'save options',
      { includeOptimizer: bool(ctx, 'includeOptimizer') },
      true,
    );
    return { args: [d, o], async: true, run: () => e.obj.save(d.value as never, o.value as never) };
  }),
  on('saveWeights', (ctx, e) => {
    const d = destination(ctx);
    return { args: [d], async: true, run: () => e.obj.saveWeights(d.value as never) };
  }),
  on('loadWeights', (ctx, e) => {
    // Its own file (when built) fits; another model's may not: not marked bad, may be refused.
    const own = bytesOf(() => (e.obj.built ? e.obj.toBytes({ includeOptimizer: false }) : null));
    const s = source(ctx, own);
    const call = { args: [s], async: true, run: () => e.obj.loadWeights(s.value as never) };
    return e.obj.built || s.bad
      ? call
      : { ...call, args: [arg(s.value, true, `${s.what}, into a model not built`)] };
  }),
];

const loadModelOp: Op = {
  name: 'loadModel',
  make(ctx) {
    const e = ctx.pool.pick<Sequential>(ctx.rng, 'Sequential');
    const own = bytesOf(() => (e ? e.obj.toBytes() : null));
    const s = source(ctx, own);
    const o = options(ctx, 'loadModel options', { backend: backendArg(ctx) }, true);
    return {
      args: [s, o],
      async: true,
      run: () => loadModel(s.value as never, o.value as never),
      done: (model) => {
        if (e !== undefined) void ctx.pool.add('Sequential', model, e.meta);
        else (model as Sequential).dispose();
      },
    };
  },
};

const checkpointOp: Op = {
  name: 'callbacks.modelCheckpoint',
  make(ctx) {
    const r = ctx.rng;
    const f: Record<string, Arg> = {
      filepath: choice(
        ctx,
        'filepath',
        [scratch('c{epoch}'), scratch('c{epoch:02d}-{loss:.3f}'), 'indexeddb://c'],
        ['', 5, null, 'c{epoch:x}', 'c{loss:.2z}'],
      ),
      monitor: r.chance(0.4)
        ? choice(ctx, 'monitor', ['loss', 'val_loss'], ['', 5], true)
        : good(undefined, ''),
      mode: r.chance(0.3)
        ? choice(ctx, 'mode', ['auto', 'min', 'max'], ['up', 1], true)
        : good(undefined, ''),
      saveBestOnly: r.chance(0.4) ? bool(ctx, 'saveBestOnly') : good(undefined, ''),
      saveWeightsOnly: r.chance(0.4) ? bool(ctx, 'saveWeightsOnly') : good(undefined, ''),
      saveFreq: r.chance(0.3)
        ? r.chance(0.5)
          ? choice(ctx, 'saveFreq', ['epoch'], ['batch', 0, -1, 1.5], true)
          : int(ctx, 'saveFreq', { min: 1, max: 2 ** 31 - 1, hi: 4, optional: true })
        : good(undefined, ''),
      initialValueThreshold: r.chance(0.2)
        ? finite(ctx, 'initialValueThreshold', {
            min: -1e300,
            max: 1e300,
            lo: 0,
            hi: 1,
            optional: true,
          })
        : good(undefined, ''),
      verbose: r.chance(0.2)
        ? choice(ctx, 'verbose', [0, 1], [2, true], true)
        : good(undefined, ''),
    };
    // null is Keras's initial_value_threshold=None: valid.
    if (f.initialValueThreshold!.value === null) f.initialValueThreshold = good(null, 'null');
    if (r.chance(0.05)) f.minDelta = bad(0.1, 'minDelta: not an option of modelCheckpoint');
    const o = options(ctx, 'callbacks.modelCheckpoint options', f);
    return { args: [o], run: () => callbacks.modelCheckpoint(o.value as never) };
  },
};

export const MODEL_FILE_OPS: Op[] = [...fileOps, loadModelOp, checkpointOp];
