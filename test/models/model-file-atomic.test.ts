/**
 * Atomic saves (ts/models/storage-node.ts): a child process (save-child/saver.ts, bundled here
 * with esbuild: it starts in milliseconds) saves a 1 MiB model file again and again through
 * save()'s writer; it is killed with SIGKILL at a random point, 50 times.
 * After each kill the file must load, whole: every weight equal to the same save's number, that
 * number at least the last save the child reported finished.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { layers, loadModel, sequential } from '../../ts/index.js';
import { LOADED } from '../backends.js';
import { rng } from '../util.js';

const TRIALS = 50;
// The first backend the suite loaded (test/backends.ts): the saves are the file system's, the
// backend only makes and loads the model.
const backend = LOADED.find((l) => l.backend !== null)?.backend;

/** Runs the saver until it has finished `after` saves, then kills it `delayMs` later. */
function killDuringSaves(
  saver: string,
  file: string,
  template: string,
  after: number,
  delayMs: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [saver, file, template], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let last = 0;
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const lines = text.split('\n');
      text = lines.pop()!;
      for (const line of lines) {
        const n = Number(/^saved (\d+)$/.exec(line)?.[1]);
        if (!Number.isInteger(n)) continue;
        last = n;
        if (n === after) setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`the saver exited (${code}) before the kill`));
      else resolve(last);
    });
  });
}

describe('model file: atomic saves', function () {
  it(`${TRIALS} saves killed at random points each leave a whole file`, async function () {
    assert.ok(backend, 'no backend loaded');
    this.timeout(TRIALS * 4_000);
    const dir = mkdtempSync(path.join(tmpdir(), 'gru-simd-atomic-'));
    const r = rng(0xa70);
    try {
      const file = path.join(dir, 'model.safetensors');
      const template = path.join(dir, 'template');
      const model = sequential({
        backend,
        layers: [layers.dense({ units: 512, inputShape: [512] })],
      });
      writeFileSync(template, model.toBytes());
      model.dispose();
      const saver = path.join(dir, 'saver.mjs');
      await build({
        entryPoints: ['test/models/save-child/saver.ts'],
        bundle: true,
        platform: 'node',
        format: 'esm',
        outfile: saver,
        logLevel: 'silent',
      });
      for (let trial = 0; trial < TRIALS; trial++) {
        // A save of 1 MiB takes milliseconds: kill within the next few saves.
        const reported = await killDuringSaves(saver, file, template, 1, r() * 30);
        const model = await loadModel(file, { backend });
        const dense = model.layers[0]!.trainables()[0]!;
        const w = dense.getParameter('weight');
        const b = dense.getParameter('bias');
        const k = w[0]!;
        assert.ok(
          Number.isInteger(k) && k >= reported,
          `trial ${trial}: save ${k}, reported ${reported}`,
        );
        assert.ok(
          w.every((v) => v === k) && b.every((v) => v === k),
          `trial ${trial}: a mix of saves`,
        );
        model.dispose();
      }
      // What a kill may leave: the file, and temporary files of saves cut short (never the file);
      // some kills must have landed inside a save, or the test proved nothing.
      const cut = readdirSync(dir).filter((n) => n.endsWith('.tmp')).length;
      assert.ok(cut >= 5, `only ${cut} of ${TRIALS} kills landed inside a save`);
      for (const name of readdirSync(dir))
        assert.ok(
          ['model.safetensors', 'template', 'saver.mjs'].includes(name) ||
            /^\.model\.safetensors\.\d+\.[0-9a-f]+\.tmp$/.test(name),
          name,
        );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
