/**
 * A seeded fuzz of the TensorFlow.js reader (ts/formats/tfjs-model.ts: model.json + shards):
 * valid files (saved by tfjs-layers, test/fixtures/tfjs-files/) mutated one of many ways
 * (truncations and bit flips of model.json and of the shards, huge declared sizes, wrong dtypes,
 * values of the wrong type in layer configs and the manifest, deep nesting, a functional graph
 * whose nodes form a cycle, hostile shard paths). Every outcome is a model or a GruError (no other
 * exception, no crash), none takes over 1 s, and a model loaded never holds more parameters than
 * twice the files' bytes pay for.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GruError } from '../../ts/errors.js';
import { loadTfjsModel } from '../../ts/index.js';
import type { ForgedModelJson } from './forged-model-json.js';
import { forEachBackend } from '../backends.js';
import { FUZZ_CASE_MS, rng } from '../util.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/tfjs-files/', import.meta.url));
const CASES = readdirSync(FIXTURES).filter((d) => existsSync(path.join(FIXTURES, d, 'model.json')));

interface Files {
  json: string;
  shards: Uint8Array[];
}

function read(name: string): Files {
  const dir = path.join(FIXTURES, name);
  const json = readFileSync(path.join(dir, 'model.json'), 'utf8');
  const paths = (
    JSON.parse(json) as { weightsManifest: { paths: string[] }[] }
  ).weightsManifest.flatMap((g) => g.paths);
  return { json, shards: paths.map((p) => new Uint8Array(readFileSync(path.join(dir, p)))) };
}

type Rand = () => number;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rand, list: readonly T[]): T => list[Math.floor(r() * list.length)]!;

const HUGE = [2 ** 31, 2 ** 32 + 4, 2 ** 53, 1e300, -4, 1.5, 0, 1e9, NaN];
const DTYPES = ['float16', 'int32', 'bool', 'string', 'complex64', 'FLOAT32', '', null, 7];
const VALUES: unknown[] = [null, true, -1, 0, 1e12, 'x', [], {}, [1, [2]], { class_name: 'GRU' }];

/** Every object and array inside `v` (to pick one to change). */
function nodes(v: unknown, out: Record<string, unknown>[] = []): Record<string, unknown>[] {
  if (v !== null && typeof v === 'object') {
    out.push(v as Record<string, unknown>);
    for (const c of Object.values(v)) nodes(c, out);
  }
  return out;
}

/** One hostile variant of the files and the name of its mutation. */
function mutate(r: Rand, valid: Files): { kind: string; files: Files } {
  const shards = valid.shards.map((s) => s.slice());
  const j = JSON.parse(valid.json) as ForgedModelJson;
  const kind = pick(r, [
    'truncate-json',
    'bitflip-json',
    'truncate-shard',
    'bitflip-shard',
    'append-shard',
    'huge-shape',
    'huge-units',
    'dtype',
    'value',
    'delete',
    'nesting',
    'cycle',
    'path',
    'many-weights',
  ]);
  const text = ((): string | null => {
    switch (kind) {
      case 'truncate-json':
        return valid.json.slice(0, int(r, 0, valid.json.length - 1));
      case 'bitflip-json': {
        const b = new TextEncoder().encode(valid.json);
        for (let n = int(r, 1, 4); n > 0; n--) b[int(r, 0, b.length - 1)]! ^= 1 << int(r, 0, 7);
        return new TextDecoder().decode(b);
      }
      case 'truncate-shard': {
        const i = int(r, 0, shards.length - 1);
        shards[i] = shards[i]!.subarray(0, int(r, 0, Math.max(0, shards[i]!.length - 1)));
        return null;
      }
      case 'bitflip-shard': {
        // Values change, the structure does not: the model loads with other numbers.
        const s = shards[int(r, 0, shards.length - 1)]!;
        if (s.length > 0) s[int(r, 0, s.length - 1)]! ^= 1 << int(r, 0, 7);
        return null;
      }
      case 'append-shard': {
        const i = int(r, 0, shards.length - 1);
        const more = new Uint8Array(shards[i]!.length + int(r, 1, 64));
        more.set(shards[i]!);
        shards[i] = more;
        return null;
      }
      case 'huge-shape': {
        const w = pick(r, j.weightsManifest[0].weights as { shape: number[] }[]);
        w.shape[int(r, 0, w.shape.length - 1)] = pick(r, HUGE);
        if (r() < 0.3) w.shape = [pick(r, HUGE), pick(r, HUGE), pick(r, HUGE)];
        return null;
      }
      case 'huge-units': {
        const cfgs = nodes(j.modelTopology).filter((o) => 'units' in o || 'input_dim' in o);
        const c = pick(r, cfgs);
        if ('units' in c) c.units = pick(r, HUGE);
        else c.input_dim = pick(r, HUGE);
        return null;
      }
      case 'dtype':
        pick(r, j.weightsManifest[0].weights as { dtype: unknown }[]).dtype = pick(r, DTYPES);
        return null;
      case 'value': {
        const o = pick(r, nodes(j));
        const keys = Object.keys(o);
        if (keys.length > 0) o[pick(r, keys)] = pick(r, VALUES);
        return null;
      }
      case 'delete': {
        const o = pick(r, nodes(j));
        const keys = Object.keys(o);
        if (keys.length > 0 && !Array.isArray(o)) delete o[pick(r, keys)];
        return null;
      }
      case 'nesting': {
        // Deep arrays in a random object of the text (JSON.stringify could not write them).
        const depth = int(r, 10, 100000);
        const text = JSON.stringify(j);
        const at = pick(
          r,
          [...text.matchAll(/\{/g)].map((m) => m.index!),
        );
        return `${text.slice(0, at + 1)}"deep":${'['.repeat(depth)}${']'.repeat(depth)},${text.slice(at + 1)}`;
      }
      case 'cycle': {
        // A functional graph whose two layers feed each other.
        j.modelTopology.class_name = 'Functional';
        const ls = j.modelTopology.config.layers;
        ls.forEach((l, i) => {
          l.inbound_nodes = [[[ls[(i + 1) % ls.length]!.config.name, 0, 0, {}]]];
        });
        j.modelTopology.config.input_layers = [[ls[0]!.config.name, 0, 0]];
        j.modelTopology.config.output_layers = [[ls[0]!.config.name, 0, 0]];
        return null;
      }
      case 'path':
        j.weightsManifest[0].paths[0] = pick(r, [
          '../../etc/passwd',
          '/etc/passwd',
          'https://example.com/w.bin',
          'a/../../b',
          '',
          'C:\\w.bin',
          'file:///etc/passwd',
        ]);
        return null;
      case 'many-weights': {
        const w = j.weightsManifest[0].weights as unknown[];
        const n = int(r, 1000, 10000);
        for (let i = 0; i < n; i++) w.push({ name: `extra/${i}`, shape: [0], dtype: 'float32' });
        return null;
      }
    }
    return null;
  })();
  return { kind, files: { json: text ?? JSON.stringify(j), shards } };
}

forEachBackend('tfjs files: seeded fuzz of model.json + shards', (backend) => {
  const valid = CASES.map(read);
  const r = rng(20261203);
  const ITERATIONS = 300;

  it(`${ITERATIONS} mutated files: each a model or a GruError, none over 1 s, no model beyond 2x the file's size`, async function () {
    this.timeout(120_000);
    const kinds = new Map<string, { loaded: number; refused: number }>();
    for (let i = 0; i < ITERATIONS; i++) {
      const base = pick(r, valid);
      const { kind, files } = mutate(r, base);
      const size = files.json.length + files.shards.reduce((a, s) => a + s.length, 0);
      const tally = kinds.get(kind) ?? { loaded: 0, refused: 0 };
      kinds.set(kind, tally);
      const started = performance.now();
      try {
        const model = await loadTfjsModel(
          { modelJson: files.json, weights: files.shards },
          { backend },
        );
        try {
          assert.ok(
            model.countParams() * 4 <= 2 * size,
            `${kind}: a model of ${model.countParams()} parameters from ${size} bytes`,
          );
        } finally {
          model.dispose();
        }
        tally.loaded++;
      } catch (e) {
        if (!(e instanceof GruError))
          assert.fail(`${kind} (iteration ${i}): ${(e as Error)?.stack ?? String(e)}`);
        tally.refused++;
      }
      const ms = performance.now() - started;
      assert.ok(ms < FUZZ_CASE_MS, `${kind} (iteration ${i}) took ${ms.toFixed(0)} ms`);
    }
    // Every mutation was drawn, and the structural ones are refused.
    assert.equal(kinds.size, 14, [...kinds.keys()].join(', '));
    for (const k of [
      'huge-shape',
      'truncate-shard',
      'append-shard',
      'cycle',
      'path',
      'many-weights',
      'nesting',
    ])
      assert.equal(kinds.get(k)!.loaded, 0, `${k} loaded a model`);
  });
});

forEachBackend('tfjs files: model.json bounded by its size', (backend) => {
  it('a model.json dense in tiny values is refused before it is parsed (2x its size + 1 MiB)', async () => {
    const { json, shards } = read(CASES[0]!);
    const j = JSON.parse(json) as Record<string, unknown>;
    // an extra key tfjs ignores, holding 200,000 empty arrays: 600 KB parsed into ~8 MB
    j.userDefinedMetadata = { padding: new Array(200_000).fill([]) };
    await assert.rejects(
      loadTfjsModel({ modelJson: JSON.stringify(j), weights: shards }, { backend }),
      (e: unknown) =>
        e instanceof GruError &&
        e.code === 'ERR_GRU_FORMAT' &&
        /model\.json would take ~\d+ bytes parsed/.test(e.message),
    );
    // the same key with a little padding loads
    j.userDefinedMetadata = { padding: new Array(2_000).fill([]) };
    const model = await loadTfjsModel(
      { modelJson: JSON.stringify(j), weights: shards },
      { backend },
    );
    model.dispose();
  });
});
