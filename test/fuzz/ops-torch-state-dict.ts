/**
 * PyTorch state dicts (ts/formats/torch-state-dict.ts): torchStateDictBytes, saveTorchStateDict
 * and loadTorchStateDict on records of the pool's layers, loading their own bytes, another
 * record's (may be refused: not bad) or a mutated file (test/fuzz/hostile-files.ts: may load or
 * be refused). Bad, by the README's "Bring your model: PyTorch": modules that are not a record
 * of live GRU / Dense / Embedding / LayerNorm / BatchNorm1d layers (a Proxy of one, null, an
 * empty record, a prefix beginning or ending with '.'), a GRU nn.GRU cannot compute (resetAfter
 * false, other activations), a destination that is not a path, a source that is not one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GRU } from '../../ts/gru.js';
import {
  loadTorchStateDict,
  saveTorchStateDict,
  torchStateDictBytes,
} from '../../ts/formats/torch-state-dict.js';
import { bad, friendly, good, type Arg, type Ctx, type Op } from './call.js';
import { isDisposed } from './ops-common.js';
import { LAYER_KINDS } from './pool.js';
import { hostileFile } from './hostile-files.js';
import { revoked, show } from './values.js';

let dir: string | null = null;
function scratch(name: string): string {
  if (dir === null) {
    const made = mkdtempSync(path.join(tmpdir(), 'gru-simd-fuzz-torch-'));
    dir = made;
    process.on('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  return path.join(dir, name);
}

/** Bytes some records wrote, to load again. */
const written: Uint8Array[] = [];

const PREFIXES = ['gru', 'head', '', 'enc.norm', 'a'];

/** Whether a layer has no nn.GRU-incompatible variant and is live. */
function fits(obj: unknown): boolean {
  if (isDisposed(obj)) return false;
  if (!(obj instanceof GRU)) return true;
  return obj.resetAfter && obj.activation === 'tanh' && obj.recurrentActivation === 'sigmoid';
}

/** A record of prefix -> layer (good when every layer fits), or not one (bad). */
function modulesArg(ctx: Ctx): Arg {
  const r = ctx.rng;
  if (friendly(ctx)) {
    const record: Record<string, unknown> = {};
    const n = 1 + r.int(0, 2);
    for (const prefix of PREFIXES.slice(0, n)) {
      const e = ctx.pool.pickOf(r, LAYER_KINDS);
      if (e !== undefined) record[prefix] = e.obj;
    }
    const values = Object.values(record);
    if (values.length > 0) {
      const ok = values.every(fits);
      return {
        value: record,
        bad: !ok,
        what: `modules: ${values.length} layers${ok ? '' : ' (one disposed or not nn.GRU)'}`,
      };
    }
  }
  const e = ctx.pool.pickOf(r, LAYER_KINDS);
  const v = r.pick<() => [unknown, string]>([
    () => [null, 'null'],
    () => [5, '5'],
    () => [{}, '{}'],
    () => [{ x: {} }, '{ x: {} }'],
    () => [revoked(), 'a revoked Proxy'],
    () => (e ? [{ x: new Proxy(e.obj as object, {}) }, '{ x: a Proxy of a layer }'] : [[], '[]']),
    () => (e ? [{ '.x': e.obj }, "{ '.x': a layer }"] : ['gru', '"gru"']),
  ])();
  return bad(v[0], `modules: ${v[1]}`);
}

function destination(ctx: Ctx): Arg {
  if (friendly(ctx))
    return good(scratch(`t${ctx.rng.int(0, 3)}.safetensors`), 'destination: a path');
  const v = ctx.rng.pick<unknown>(['', 5, null, 'https://example.com/m', revoked()]);
  return bad(v, `destination: ${show(v)}`);
}

function source(ctx: Ctx, own: Uint8Array | null): Arg {
  const r = ctx.rng;
  const base = own !== null && r.chance(0.6) ? own : written.length ? r.pick(written) : own;
  if (base !== null && friendly(ctx))
    return good(base, base === own ? 'source: its own state dict' : 'source: another state dict');
  if (base !== null && r.chance(0.6)) {
    const { kind, bytes } = hostileFile(() => r.next(), base);
    return good(bytes, `source: a state dict mutated (${kind})`);
  }
  const v = r.pick<unknown>([null, 5, '', new Float32Array(4), scratch('missing.safetensors')]);
  return bad(v, `source: ${show(v)}`);
}

function bytesOf(modules: unknown): Uint8Array | null {
  try {
    return torchStateDictBytes(modules as never);
  } catch {
    return null;
  }
}

export const TORCH_STATE_DICT_OPS: Op[] = [
  {
    name: 'torchStateDictBytes',
    make(ctx) {
      const m = modulesArg(ctx);
      return {
        args: [m],
        run: () => torchStateDictBytes(m.value as never),
        done: (bytes) => {
          if (!(bytes instanceof Uint8Array) || bytes.length > 1 << 20) return;
          written.push(bytes);
          if (written.length > 8) written.shift();
        },
      };
    },
  },
  {
    name: 'saveTorchStateDict',
    make(ctx) {
      const m = modulesArg(ctx);
      const d = destination(ctx);
      return {
        args: [m, d],
        async: true,
        run: () => saveTorchStateDict(m.value as never, d.value as never),
      };
    },
  },
  {
    name: 'loadTorchStateDict',
    make(ctx) {
      const m = modulesArg(ctx);
      const s = source(ctx, m.bad ? null : bytesOf(m.value));
      return {
        args: [m, s],
        async: true,
        run: () => loadTorchStateDict(m.value as never, s.value as never),
      };
    },
  },
];
