/**
 * The fuzzer (scripts/fuzz.ts, test/fuzz/) in the suite: its coverage of the public surface, and
 * a bounded slice of seeded calls on every backend (env GRU_SIMD_BACKENDS, default all three),
 * each batch in a child process. Fails on any crash, hang, wasm trap, error that is not a
 * GruError, silent acceptance of a bad argument, canary change or leak, printing the seed and
 * the command that replays the call. GRU_SIMD_FUZZ_SEED and GRU_SIMD_FUZZ_CALLS change the slice.
 */
import assert from 'node:assert/strict';
import type { BackendName } from '../ts/backends/backend.js';
import { BACKEND_NAMES, LOADED } from './backends.js';
import { COVERED } from './fuzz/ops.js';
import { runFuzz } from './fuzz/parent.js';
import { bugList, knownList, newBugs, outcomeTable } from './fuzz/report.js';
import { publicSurface } from './fuzz/surface.js';

const SEED = Number(process.env.GRU_SIMD_FUZZ_SEED ?? 1);
const CALLS = Number(process.env.GRU_SIMD_FUZZ_CALLS ?? 1500);

describe('fuzz', function () {
  this.timeout(180_000);

  it('covers every public function and method, and every Backend method', () => {
    const backend = LOADED.find((l) => l.backend !== null)?.backend;
    assert.ok(backend, 'no backend loaded');
    const surface = publicSurface(backend);
    const missing = surface.filter((name) => !COVERED.has(name));
    assert.deepEqual(
      missing,
      [],
      'public API the fuzzer does not cover: add ops for it in test/fuzz/',
    );
    const stale = [...COVERED].filter((name) => !surface.includes(name));
    assert.deepEqual(stale, [], 'ops named after no public API');
    assert.ok(
      surface.length > 300,
      `the surface read at run time looks too small: ${surface.length}`,
    );
  });

  it(`${CALLS} seeded calls per backend (seed ${SEED}): no crash, hang, trap, non-GruError, silent acceptance, corruption or leak`, async () => {
    const reports = await runFuzz({
      seed: SEED,
      calls: CALLS,
      start: 0,
      backends: BACKEND_NAMES as BackendName[],
      batch: CALLS,
      canaryEvery: 1,
      verbose: false,
      stallMs: 30_000,
    });
    const bugs = newBugs(reports).length;
    const known = knownList(reports);
    if (known) console.log(`      ${known.replace(/\n/g, '\n      ')}`);
    const calls = reports.reduce((n, r) => n + r.calls, 0);
    assert.ok(calls >= CALLS * reports.length, `only ${calls} calls ran`);
    assert.equal(
      bugs,
      0,
      `fuzz seed ${SEED}:\n${outcomeTable(reports)}\n${bugList(SEED, reports)}`,
    );
  });
});
