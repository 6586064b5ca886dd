/**
 * TensorFlow.js LayersModel files (ts/formats/tfjs-model.ts): tfjsModelArtifacts and
 * saveTfjsModel on the pool's models, loadTfjsModel of their artifacts (in memory, or the
 * files written), valid or mutated (a shard truncated or bit-flipped, model.json cut or changed:
 * test/formats/tfjs-hostile.test.ts is the parser fuzz; here it is reachable with the pool's
 * models). Bad, by the README's "TensorFlow.js files": a model that is not a Sequential, a
 * destination that is not a path (or 'indexeddb://'), a source that is neither a path, a URL
 * nor { modelJson, weights } (an unknown key, weights not bytes), unknown loading options.
 * A model the pool has not built, or whose layers tfjs has no name for, may be refused with a
 * GruError: never marked bad. A mutated file may load or be refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  loadTfjsModel,
  saveTfjsModel,
  tfjsModelArtifacts,
  type TfjsModelArtifacts,
} from '../../ts/formats/tfjs-model.js';
import type { Sequential } from '../../ts/models/index.js';
import type { ForgedModelJson } from '../formats/forged-model-json.js';
import { bad, friendly, good, type Arg, type Ctx, type Op } from './call.js';
import { backendArg } from './ops-common.js';
import { options, revoked, show } from './values.js';

let dir: string | null = null;
function scratch(name: string): string {
  if (dir === null) {
    const made = mkdtempSync(path.join(tmpdir(), 'gru-simd-fuzz-tfjs-'));
    dir = made;
    process.on('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  return path.join(dir, name);
}

/** Artifacts some models gave, to load again. */
const written: TfjsModelArtifacts[] = [];
/** Directories saveTfjsModel wrote into. */
const saved: string[] = [];

function artifactsOf(model: unknown): TfjsModelArtifacts | null {
  try {
    return tfjsModelArtifacts(model as never);
  } catch {
    return null;
  }
}

function modelArg(ctx: Ctx): Arg {
  const e = ctx.pool.pick<Sequential>(ctx.rng, 'Sequential');
  if (e !== undefined && friendly(ctx)) return good(e.obj, 'model: a Sequential of the pool');
  const v = ctx.rng.pick<unknown>([null, 5, {}, 'model', revoked(), []]);
  return bad(v, `model: ${show(v)}`);
}

/** A hostile variant of artifacts: one cut or flipped byte, or a changed manifest entry. */
function mutated(ctx: Ctx, a: TfjsModelArtifacts): { value: unknown; what: string } {
  const r = ctx.rng;
  const shard = a.weights[0]!.slice();
  const json = structuredClone(a.modelJson) as unknown as ForgedModelJson;
  const kind = r.pick(['truncate', 'bitflip', 'shape', 'dtype', 'units', 'text']);
  if (kind === 'truncate')
    return {
      value: { modelJson: json, weights: [shard.subarray(0, r.int(0, shard.length))] },
      what: kind,
    };
  if (kind === 'bitflip' && shard.length > 0)
    shard[r.int(0, shard.length - 1)]! ^= 1 << r.int(0, 7);
  const weights = json.weightsManifest[0].weights as { shape: number[]; dtype: string }[];
  if (kind === 'shape' && weights.length > 0)
    r.pick(weights).shape = [r.pick([2 ** 31, 1e15, 0, 3])];
  if (kind === 'dtype' && weights.length > 0) r.pick(weights).dtype = r.pick(['float16', 'int32']);
  if (kind === 'units') {
    const l = r.pick(json.modelTopology.config.layers as { config: Record<string, unknown> }[]);
    l.config.units = r.pick([2 ** 40, -1, 'x', 1e6]);
  }
  if (kind === 'text') {
    const text = JSON.stringify(json);
    return {
      value: { modelJson: text.slice(0, r.int(0, text.length)), weights: [shard] },
      what: kind,
    };
  }
  return { value: { modelJson: json, weights: [shard] }, what: kind };
}

function source(ctx: Ctx): Arg {
  const r = ctx.rng;
  const e = ctx.pool.pick<Sequential>(r, 'Sequential');
  const own = e !== undefined ? artifactsOf(e.obj) : null;
  const base = own ?? (written.length ? r.pick(written) : null);
  if (friendly(ctx) && base !== null) {
    if (saved.length > 0 && r.chance(0.3))
      return good(path.join(r.pick(saved), 'model.json'), 'source: a model.json written');
    return r.chance(0.5)
      ? good({ modelJson: base.modelJson, weights: base.weights }, 'source: artifacts')
      : good(
          { modelJson: JSON.stringify(base.modelJson), weights: base.weights[0]!.slice().buffer },
          'source: model.json text, one ArrayBuffer',
        );
  }
  if (base !== null && r.chance(0.6)) {
    const m = mutated(ctx, base);
    return good(m.value, `source: artifacts mutated (${m.what})`); // may load or be refused
  }
  const v = r.pick<unknown>([
    null,
    5,
    '',
    revoked(),
    { modelJson: base?.modelJson ?? {}, weights: 5 },
    { modelJson: base?.modelJson ?? {}, weights: [], extra: 1 },
    { modelJson: 7, weights: [] },
  ]);
  return bad(v, `source: ${show(v)}`);
}

export const TFJS_MODEL_OPS: Op[] = [
  {
    name: 'tfjsModelArtifacts',
    make(ctx) {
      const m = modelArg(ctx);
      return {
        args: [m],
        run: () => tfjsModelArtifacts(m.value as never),
        done: (a) => {
          const art = a as TfjsModelArtifacts;
          if (art.weights[0]!.length > 1 << 20) return;
          written.push(art);
          if (written.length > 8) written.shift();
        },
      };
    },
  },
  {
    name: 'saveTfjsModel',
    make(ctx) {
      const m = modelArg(ctx);
      const d = friendly(ctx)
        ? good(scratch(`t${ctx.rng.int(0, 3)}`), 'destination: a directory')
        : bad(
            ctx.rng.pick<unknown>(['', 5, null, 'indexeddb://m', revoked()]),
            'destination: not a path',
          );
      return {
        args: [m, d],
        async: true,
        run: () => saveTfjsModel(m.value as never, d.value as never),
        done: () => {
          if (!saved.includes(d.value as string)) saved.push(d.value as string);
        },
      };
    },
  },
  {
    name: 'loadTfjsModel',
    make(ctx) {
      const s = source(ctx);
      const o = options(ctx, 'loadTfjsModel options', { backend: backendArg(ctx) }, true);
      return {
        args: [s, o],
        async: true,
        run: () => loadTfjsModel(s.value as never, o.value as never),
        done: (model) => (model as Sequential).dispose(),
      };
    },
  },
];
