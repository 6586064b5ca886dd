/**
 * The benchmark's round logic (bench/rounds.ts, bench/cases.ts): how interleaved rounds are
 * ordered and merged, and how a round's time budget shrinks; and the per-case measuring
 * (bench/measure.ts): the check before timing, on fake contestants. No timing here: the bench itself
 * is run by `npm run bench`, never by the tests.
 */
import assert from 'node:assert/strict';
import { GROUPS, makeCase, settings, type CaseResult, type GroupResult } from '../bench/cases.js';
import type { Contestant, Prepared } from '../bench/contestants/types.js';
import { batchTimed, runCase, TOLERANCE, type Runtime } from '../bench/measure.js';
import { mergeRounds, roundOrder } from '../bench/rounds.js';

function ok(caseId: string, median: number, samples = 5): CaseResult {
  return { caseId, status: 'ok', note: '', median, samples, check: `round with ${median}` };
}

function run(results: CaseResult[], extra: Partial<GroupResult> = {}): GroupResult {
  return {
    group: 'native',
    name: 'gru-simd native',
    threads: 2,
    detail: 'avx512',
    results,
    wallSeconds: 10,
    ...extra,
  };
}

describe('bench rounds', () => {
  it('merges rounds per case: the smallest median, its samples and check, every median kept', () => {
    const merged = mergeRounds([
      run([ok('A', 3e-4), ok('B', 0.03, 7)]),
      run([ok('A', 2e-4, 9), ok('B', 0.026, 4)]),
      run([ok('A', 2.5e-4), ok('B', 0.028)]),
    ]);
    const a = merged.results.find((r) => r.caseId === 'A') as CaseResult;
    const b = merged.results.find((r) => r.caseId === 'B') as CaseResult;
    assert.equal(a.median, 2e-4);
    assert.equal(a.samples, 9);
    assert.equal(a.check, 'round with 0.0002');
    assert.deepEqual(a.roundMedians, [3e-4, 2e-4, 2.5e-4]);
    assert.equal(b.median, 0.026);
    assert.deepEqual(b.roundMedians, [0.03, 0.026, 0.028]);
    assert.equal(merged.wallSeconds, 30);
  });

  it('ignores rounds where a case failed or the contestant did not load', () => {
    const failed: CaseResult = { caseId: 'A', status: 'failed', note: 'boom' };
    const merged = mergeRounds([
      run([failed]),
      run([], { error: 'could not load' }),
      run([ok('A', 0.5)]),
    ]);
    assert.equal(merged.error, undefined);
    assert.equal(merged.results[0]?.status, 'ok');
    assert.deepEqual(merged.results[0]?.roundMedians, [0.5]);
  });

  it('keeps the failure when no round of a case succeeded, and the error when none loaded', () => {
    const failed: CaseResult = { caseId: 'A', status: 'failed', note: 'boom' };
    assert.equal(mergeRounds([run([failed]), run([failed])]).results[0]?.status, 'failed');
    const none = mergeRounds([run([], { error: 'no addon' }), run([], { error: 'no addon' })]);
    assert.equal(none.error, 'no addon');
    assert.equal(none.wallSeconds, 20);
  });

  it('runs everyone in round 1, then only the every-round contestants, rotated', () => {
    const first = roundOrder(GROUPS, 0).map((g) => g.id);
    assert.deepEqual(
      first,
      GROUPS.map((g) => g.id),
    );
    const every = GROUPS.filter((g) => g.everyRound).map((g) => g.id);
    assert.ok(
      every.includes('native') &&
        every.includes('ort-node-1') &&
        every.includes('wasm-simd') &&
        every.includes('ort-web-1'),
    );
    assert.ok(!every.includes('tfjs-cpu') && !every.includes('wasm'));
    const second = roundOrder(GROUPS, 1).map((g) => g.id);
    const third = roundOrder(GROUPS, 2).map((g) => g.id);
    assert.deepEqual([...second].sort(), [...every].sort());
    assert.deepEqual([...third].sort(), [...every].sort());
    assert.notDeepEqual(second, every);
    assert.notDeepEqual(third, second);
  });

  it('gives each round its share of the time budget', () => {
    const one = settings('full');
    const three = settings('full', 3);
    assert.equal(three.maxTime, one.maxTime / 3);
    assert.equal(three.slowBudget, one.slowBudget / 3);
    assert.ok(three.maxCalls >= three.minCalls && three.maxCalls < one.maxCalls);
    assert.equal(three.minSamples, one.minSamples);
    assert.deepEqual(settings('quick', 1), settings('quick'));
  });
});

/** A contestant whose forward probe is `output`; counts its timed calls. */
function fake(output: Float32Array): { contestant: Contestant; calls: () => number } {
  let calls = 0;
  const contestant: Contestant = {
    detail: 'fake',
    threads: 1,
    resetAfter: true,
    unsupported: (c) => (c.kind === 'train' ? 'no training API' : null),
    prepare: async (): Promise<Prepared> => ({
      async: false,
      run: () => void calls++,
      probe: async () => ({ probe: { kind: 'output', data: output }, calls: 1 }),
      dispose: () => {},
    }),
  };
  return { contestant, calls: () => calls };
}

describe('bench measure (bench/measure.ts, shared by the Node and browser benches)', () => {
  const c = makeCase('tiny', 'A', 'forward', 1, 2, 2, 2, 'tiny');
  const want = new Float32Array([0.1, 0.2, 0.3, 0.4]);
  const runtime: Runtime = {
    reference: async () => ({ probe: { kind: 'output', data: want }, name: 'gru-simd test' }),
    sampled: batchTimed,
  };
  const s = settings('quick');

  it('times a contestant that matches the reference (batch-timed, no Benchmark.js)', async () => {
    const f = fake(want.map((v) => v + 5e-5));
    const r = await runCase(f.contestant, 'peer', c, s, [], runtime);
    assert.equal(r.status, 'ok', r.note);
    assert.equal(r.method, 'batch-timed');
    assert.ok(r.samples! >= s.minSamples && r.median! > 0 && f.calls() > 0);
    assert.match(r.check!, /^max \|diff\| 5\.\de-5 vs gru-simd test$/);
  });

  it('reports one that differs by more than the tolerance failed, without timing it', async () => {
    const f = fake(want.map((v, i) => (i === 3 ? v + 2 * TOLERANCE.output : v)));
    const r = await runCase(f.contestant, 'peer', c, s, [], runtime);
    assert.equal(r.status, 'failed');
    assert.match(r.note, /^does not match gru-simd: max \|diff\| 2\.0e-4/);
    assert.equal(r.median, undefined);
    assert.equal(f.calls(), 0, 'never timed');
    const nan = fake(want.map((v, i) => (i === 0 ? NaN : v)));
    assert.equal((await runCase(nan.contestant, 'peer', c, s, [], runtime)).status, 'failed');
  });

  it('judges a call fast or slow warm: a slow first call (the probe) does not make it hand-timed', async () => {
    const f = fake(want);
    const contestant: Contestant = {
      ...f.contestant,
      prepare: async () => {
        const p = await f.contestant.prepare(c);
        const probe = p.probe;
        // The first call compiles, grows memory, touches pages: far over slowCall.
        return {
          ...p,
          probe: async () => {
            await new Promise((done) => setTimeout(done, 1000 * s.slowCall * 3));
            return probe();
          },
        };
      },
    };
    const r = await runCase(contestant, 'peer', c, s, [], runtime);
    assert.equal(r.status, 'ok', r.note);
    assert.equal(r.method, 'batch-timed');
  });

  it('skips what the contestant does not support, with its reason', async () => {
    const train = makeCase('tiny-train', 'D', 'train', 1, 2, 2, 2, 'tiny train');
    const r = await runCase(fake(want).contestant, 'peer', train, s, [], runtime);
    assert.deepEqual(r, { caseId: 'tiny-train', status: 'skipped', note: 'no training API' });
  });
});
