/**
 * The benchmark's round logic (bench/rounds.ts, bench/cases.ts): how interleaved rounds are
 * ordered and merged, and how a round's time budget shrinks. No timing here: the bench itself
 * is run by `npm run bench`, never by the tests.
 */
import assert from 'node:assert/strict';
import { GROUPS, settings, type CaseResult, type GroupResult } from '../bench/cases.js';
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
