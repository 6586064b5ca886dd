/**
 * Keras 3's AUC (gru_metric_auc_update, gru_metric_auc_result) on every backend: the counts and
 * the area over two batches against test/fixtures/keras-auc.json (written by
 * scripts/gen-keras-auc-fixtures.py from Keras itself), for both curves and the three summation
 * methods, with sample weights and logits; exact small cases; bad input refused by the facade
 * and by the core.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Backend } from '../ts/backends/backend.js';
import { Metric, metric, type MetricOptions } from '../ts/index.js';
import { forEachBackend } from './backends.js';
import { ErrorTable, assertThrowsCode } from './util.js';

interface AucCase {
  curve: 'ROC' | 'PR';
  summationMethod: 'interpolation' | 'minoring' | 'majoring';
  numThresholds: number;
  fromLogits: boolean;
  batches: { yTrue: number[]; yPred: number[]; sampleWeight: number[] | null }[];
  result: number;
  truePositives: number[];
  falsePositives: number[];
}

const FIXTURES = JSON.parse(readFileSync('test/fixtures/keras-auc.json', 'utf8')) as {
  keras: string;
  cases: AucCase[];
};
const f32 = (a: readonly number[]) => Float32Array.from(a);
const errors = new ErrorTable();

function aucOf(backend: Backend, c: AucCase): Metric {
  const m = new Metric('auc', {
    backend,
    curve: c.curve,
    summationMethod: c.summationMethod,
    numThresholds: c.numThresholds,
    fromLogits: c.fromLogits,
  });
  for (const b of c.batches) {
    m.update(f32(b.yTrue), f32(b.yPred), {
      sampleWeight: b.sampleWeight ? f32(b.sampleWeight) : null,
    });
  }
  return m;
}

describe(`AUC against Keras ${FIXTURES.keras}`, () => {
  after(() => errors.print('AUC vs Keras'));
  forEachBackend('backend', (backend: Backend) => {
    it('the counts at every threshold and the area, over two batches (24 configurations)', () => {
      for (const c of FIXTURES.cases) {
        const m = aucOf(backend, c);
        const T = c.numThresholds;
        const what = `${c.curve} ${c.summationMethod} T=${T}${c.fromLogits ? ' logits' : ''}`;
        for (let i = 0; i < T; i++) {
          // Counts of weights 0..2 summed in float32 (Keras's variables): a few ulps at most.
          const tol = 1e-5 * Math.max(1, c.truePositives[i]!, c.falsePositives[i]!);
          assert.ok(Math.abs(m.sums[i]! - c.truePositives[i]!) <= tol, `${what}: tp[${i}]`);
          assert.ok(Math.abs(m.sums[T + i]! - c.falsePositives[i]!) <= tol, `${what}: fp[${i}]`);
        }
        const diff = Math.abs(m.result() - c.result);
        errors.record(`auc ${c.curve} ${c.summationMethod}`, 'max|diff|', diff);
        assert.ok(diff <= 1e-5, `${what}: ${m.result()} vs Keras ${c.result}`);
      }
    });

    it('exact cases: a perfect ranking, a reversed one, nothing counted, reset', () => {
      const yTrue = Float32Array.of(0, 0, 1, 1);
      const good = Float32Array.of(0.1, 0.2, 0.8, 0.9);
      const bad = Float32Array.of(0.9, 0.8, 0.2, 0.1);
      const opts: MetricOptions = { backend };
      assert.ok(Math.abs(metric('auc', yTrue, good, opts) - 1) < 1e-6);
      assert.ok(Math.abs(metric('auc', yTrue, bad, opts)) < 1e-6);
      assert.ok(Math.abs(metric('auc', yTrue, good, { ...opts, curve: 'PR' }) - 1) < 1e-6);
      // A constant prediction: ROC's diagonal, area 1/2.
      const flat = Float32Array.of(0.5, 0.5, 0.5, 0.5);
      assert.ok(Math.abs(metric('auc', yTrue, flat, opts) - 0.5) < 1e-6);
      const m = new Metric('auc', { backend, numThresholds: 3 });
      assert.equal(m.result(), 0, 'nothing counted: 0, as Keras');
      m.update(yTrue, good);
      // Thresholds {-eps, 0.5, 1 + eps}: tp [2, 2, 0], fp [2, 0, 0], tn [0, 2, 2], fn [0, 0, 2].
      assert.deepEqual([...m.sums], [2, 2, 0, 2, 0, 0, 0, 2, 2, 0, 0, 2]);
      m.reset();
      assert.deepEqual([...m.sums], new Array(12).fill(0));
    });

    it('bad input: options refused with their names; the core refuses what bypasses the facade', () => {
      const p = Float32Array.of(0.2, 0.8);
      const t = Float32Array.of(0, 1);
      assertThrowsCode(() => new Metric('auc', { backend, numThresholds: 1 }), 'ERR_GRU_ARG', [
        'numThresholds',
      ]);
      assertThrowsCode(
        () => new Metric('auc', { backend, curve: 'PRGAIN' as never }),
        'ERR_GRU_ARG',
        ['curve'],
      );
      assertThrowsCode(
        () => new Metric('auc', { backend, summationMethod: 'trapezoid' as never }),
        'ERR_GRU_ARG',
        ['summationMethod'],
      );
      assertThrowsCode(() => new Metric('auc', { backend, multiLabel: true }), 'ERR_GRU_ARG', [
        'multiLabel',
      ]);
      assertThrowsCode(
        () => new Metric('auc', { backend, thresholds: [0.5] } as never),
        'ERR_GRU_ARG',
        ['thresholds'],
      );
      assertThrowsCode(() => new Metric('auc', { backend, threshold: 0.5 }), 'ERR_GRU_ARG', [
        'threshold',
      ]);
      const m = new Metric('auc', { backend, numThresholds: 4 });
      assertThrowsCode(() => m.update(t.subarray(1), p), 'ERR_GRU_SHAPE', ['yTrue']);
      assertThrowsCode(
        () => m.update(t, p, { sampleWeight: Float32Array.of(-1) }),
        'ERR_GRU_RANGE',
        ['sample_weight[0]'],
      );
      assert.deepEqual([...m.sums], new Array(16).fill(0), 'a refused update adds nothing');
      // The core, called directly.
      const c = new Float32Array(16);
      assertThrowsCode(() => backend.metricAucUpdate(1, 0, p, t, null, c, c), 'ERR_GRU_ARG', [
        'num_thresholds',
      ]);
      assertThrowsCode(() => backend.metricAucUpdate(4, 2, p, t, null, c, c), 'ERR_GRU_ARG', [
        'from_logits',
      ]);
      assertThrowsCode(
        () => backend.metricAucUpdate(4, 0, p, t, null, c, new Float32Array(15)),
        'ERR_GRU_SHAPE',
        ['updated'],
      );
      assertThrowsCode(
        () => backend.metricAucUpdate(4, 0, p, t, null, new Float32Array(12), c),
        'ERR_GRU_SHAPE',
        ['counts'],
      );
      assertThrowsCode(
        () => backend.metricAucUpdate(4, 0, p, t.subarray(1), null, c, c),
        'ERR_GRU_SHAPE',
        ['targets'],
      );
      assertThrowsCode(() => backend.metricAucResult(2, 0, c), 'ERR_GRU_ARG', ['curve']);
      assertThrowsCode(() => backend.metricAucResult(0, 3, c), 'ERR_GRU_ARG', ['summation']);
      assertThrowsCode(() => backend.metricAucResult(0, 0, new Float32Array(6)), 'ERR_GRU_SHAPE', [
        'counts',
      ]);
      assertThrowsCode(() => backend.metricAucResult(0, 0, new Float32Array(4)), 'ERR_GRU_SHAPE', [
        'counts',
      ]);
    });
  });
});
