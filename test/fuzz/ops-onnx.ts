/**
 * ONNX files (ts/formats/onnx*.ts): onnxModelBytes and exportOnnx on the pool's models (an
 * unbuilt model or one with a layer that has no ONNX form may be refused: not bad),
 * loadOnnxModel and describeOnnx of their exports, valid or mutated (test/fuzz/hostile-files.ts:
 * may load or be refused, never bad). Bad, by the README's ONNX section: a model that is not a
 * Sequential or is disposed, unknown or mistyped options (sequenceLens other than 'computed' /
 * 'input', an empty output name), a destination that is not a path, a source that is not a
 * path, URL or bytes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeOnnx, exportOnnx, loadOnnxModel, onnxModelBytes } from '../../ts/formats/onnx.js';
import type { Sequential } from '../../ts/models/index.js';
import { bad, friendly, good, type Arg, type Ctx, type Op } from './call.js';
import { backendArg, isDisposed } from './ops-common.js';
import { hostileFile } from './hostile-files.js';
import { choice, options, revoked, show } from './values.js';

let dir: string | null = null;
function scratch(name: string): string {
  if (dir === null) {
    const made = mkdtempSync(path.join(tmpdir(), 'gru-simd-fuzz-onnx-'));
    dir = made;
    process.on('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  return path.join(dir, name);
}

/** Exports some models wrote, to read again. */
const written: Uint8Array[] = [];

/** A pool model, or not one (bad). */
function modelArg(ctx: Ctx): Arg {
  const e = ctx.pool.pick<Sequential>(ctx.rng, 'Sequential');
  if (e !== undefined && friendly(ctx))
    return isDisposed(e.obj) ? bad(e.obj, 'model: disposed') : good(e.obj, 'model');
  const v = ctx.rng.pick<unknown>([null, {}, 5, revoked(), e ? new Proxy(e.obj, {}) : []]);
  return bad(v, `model: ${show(v)}`);
}

function exportOptions(ctx: Ctx): Arg {
  return options(
    ctx,
    'ONNX export options',
    {
      sequenceLens: choice(ctx, 'sequenceLens', ['computed', 'input'], ['x', 1, null], true),
      inputName: choice(ctx, 'inputName', ['input', 'x'], ['', 5, 'sequence_lens'], true),
    },
    true,
  );
}

function source(ctx: Ctx): Arg {
  const r = ctx.rng;
  const base = written.length ? r.pick(written) : null;
  if (base !== null && friendly(ctx)) {
    if (r.chance(0.5)) return good(base, 'source: an export');
    const { kind, bytes } = hostileFile(() => r.next(), base);
    return good(bytes, `source: an export mutated (${kind})`);
  }
  const v = r.pick<unknown>([null, 5, '', new Float32Array(4), scratch('missing.onnx')]);
  return bad(v, `source: ${show(v)}`);
}

export const ONNX_OPS: Op[] = [
  {
    name: 'onnxModelBytes',
    make(ctx) {
      const m = modelArg(ctx);
      const o = exportOptions(ctx);
      return {
        args: [m, o],
        run: () => onnxModelBytes(m.value as never, o.value as never),
        done: (bytes) => {
          if (!(bytes instanceof Uint8Array) || bytes.length > 1 << 20) return;
          written.push(bytes);
          if (written.length > 8) written.shift();
        },
      };
    },
  },
  {
    name: 'exportOnnx',
    make(ctx) {
      const m = modelArg(ctx);
      const d = friendly(ctx)
        ? good(scratch(`m${ctx.rng.int(0, 3)}.onnx`), 'destination: a path')
        : ((v: unknown) => bad(v, `destination: ${show(v)}`))(
            ctx.rng.pick<unknown>(['', 5, null, 'https://example.com/m.onnx', revoked()]),
          );
      const o = exportOptions(ctx);
      return {
        args: [m, d, o],
        async: true,
        run: () => exportOnnx(m.value as never, d.value as never, o.value as never),
      };
    },
  },
  {
    name: 'loadOnnxModel',
    make(ctx) {
      const s = source(ctx);
      const o = options(
        ctx,
        'loadOnnxModel options',
        {
          backend: backendArg(ctx),
          output: choice(ctx, 'output', ['output'], ['', 5], true),
        },
        true,
      );
      return {
        args: [s, o],
        async: true,
        run: () => loadOnnxModel(s.value as never, o.value as never),
        done: (model) => (model as Sequential).dispose(),
      };
    },
  },
  {
    name: 'describeOnnx',
    make(ctx) {
      const s = source(ctx);
      return { args: [s], async: true, run: () => describeOnnx(s.value as never) };
    },
  },
];
