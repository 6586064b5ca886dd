/**
 * Keras 3's metrics (gru_metric_mean, _sparse_accuracy, _confusion) on every backend: one
 * batch's sums against the float64 reference, with and without sample weights; a Metric
 * accumulating several batches; thresholds and argmax ties; bad input refused by the facade and
 * by the core. Keras's own numbers: test/keras-compute.test.ts.
 */
import assert from 'node:assert/strict';
import type { Backend } from '../ts/backends/backend.js';
import { Metric, metric, type MetricName } from '../ts/index.js';
import { forEachBackend } from './backends.js';
import { confusion64, meanMetric64 } from './reference-keras.js';
import { ErrorTable, assertThrowsCode, rng, uniform } from './util.js';

/** One batch's sums are rounded to float32 once; counts are exact. */
const SUMS = { abs: 1e-6, rel: 1e-6 } as const;
const errors = new ErrorTable();

interface Batch {
  yTrue: Float32Array | Int32Array;
  yPred: Float32Array;
  sampleWeight: Float32Array | null;
}

/** A batch of `rows` rows of C columns for a metric, weights per sample of `block` rows. */
function batch(name: MetricName, rows: number, C: number, seed: number, block: number): Batch {
  const r = rng(seed);
  const yPred = uniform(rows * C, 0, 1, r);
  let yTrue: Float32Array | Int32Array;
  if (name === 'sparseCategoricalAccuracy') {
    yTrue = Int32Array.from({ length: rows }, () => Math.floor(r() * C));
  } else if (name === 'categoricalAccuracy') {
    yTrue = new Float32Array(rows * C);
    for (let i = 0; i < rows; i++) yTrue[i * C + Math.floor(r() * C)] = 1;
  } else if (name === 'meanAbsoluteError' || name === 'meanSquaredError') {
    yTrue = uniform(rows * C, -1, 2, r);
  } else {
    yTrue = Float32Array.from({ length: rows * C }, () => (r() < 0.5 ? 0 : 1));
    yPred[0] = 0.5; // exactly the threshold: a negative prediction
  }
  if (C > 1) yPred.fill(0.25, 0, C); // a tie in row 0: the first index wins
  const units =
    name === 'categoricalAccuracy' || name === 'sparseCategoricalAccuracy' ? rows : rows * C;
  const sampleWeight = block > 0 ? uniform(units / block, 0, 2, r) : null;
  return { yTrue, yPred, sampleWeight };
}

/** The reference sums of a batch, as the core returns them. */
function reference(name: MetricName, b: Batch, C: number, threshold: number): number[] {
  switch (name) {
    case 'precision':
    case 'recall':
      return confusion64(b.yTrue, b.yPred, b.sampleWeight, threshold);
    case 'binaryAccuracy':
      return meanMetric64('binaryAccuracy', b.yTrue, b.yPred, 1, b.sampleWeight, threshold);
    case 'meanAbsoluteError':
      return meanMetric64('mae', b.yTrue, b.yPred, 1, b.sampleWeight);
    case 'meanSquaredError':
      return meanMetric64('mse', b.yTrue, b.yPred, 1, b.sampleWeight);
    case 'auc':
      throw new Error('AUC has its own tests: test/metrics-auc.test.ts');
    default:
      return meanMetric64(name, b.yTrue, b.yPred, C, b.sampleWeight);
  }
}

const NAMES: MetricName[] = [
  'binaryAccuracy',
  'categoricalAccuracy',
  'sparseCategoricalAccuracy',
  'precision',
  'recall',
  'meanAbsoluteError',
  'meanSquaredError',
];

describe('Keras metrics', () => {
  after(() => errors.print("Keras metrics: one batch's sums vs float64, worst of every backend"));

  forEachBackend('backend', (backend: Backend) => {
    for (const name of NAMES) {
      it(`${name}: batch sums against float64 (no weights, per row, per block), accumulated over batches`, () => {
        const categorical = name === 'categoricalAccuracy' || name === 'sparseCategoricalAccuracy';
        const C = categorical ? 5 : 3;
        for (const threshold of name.startsWith('mean') || categorical ? [0.5] : [0.5, 0.3]) {
          const options = categorical
            ? { classes: C, backend }
            : name.startsWith('mean')
              ? { backend }
              : { threshold, backend };
          for (const block of [0, 1, 3]) {
            const m = new Metric(name, options);
            const total = new Float64Array(m.sums.length);
            for (let k = 0; k < 3; k++) {
              const b = batch(name, 12 + 3 * k, C, 100 * k + block + C, block);
              const before = Float64Array.from(m.sums);
              m.update(b.yTrue, b.yPred, { sampleWeight: b.sampleWeight });
              const ref = reference(name, b, C, threshold);
              ref.forEach((v, i) => {
                const got = m.sums[i]! - before[i]!;
                const diff = Math.abs(got - v);
                errors.record(name, 'max|diff|/|ref|', v === 0 ? diff : diff / Math.abs(v));
                assert.ok(
                  diff <= SUMS.abs + SUMS.rel * Math.abs(v),
                  `${name} sums[${i}]: ${got} vs ${v}`,
                );
                total[i] += v;
              });
            }
            const expected =
              name === 'precision'
                ? total[0]! / (total[0]! + total[1]!)
                : name === 'recall'
                  ? total[0]! / (total[0]! + total[3]!)
                  : total[0]! / total[1]!;
            assert.ok(
              Math.abs(m.result() - expected) <= 1e-6,
              `${name}: ${m.result()} vs ${expected}`,
            );
            m.reset();
            assert.equal(m.result(), 0, 'nothing counted: 0, as Keras');
          }
        }
      });
    }

    it('exact cases: ties, the threshold itself, a sequence with one weight per sequence', () => {
      // Row 0 ties between classes 0 and 2: argmax is 0 (first), so label 0 is right, 2 wrong.
      const p = Float32Array.of(0.4, 0.2, 0.4, 0.1, 0.7, 0.2);
      const opts = { classes: 3, backend };
      assert.equal(metric('sparseCategoricalAccuracy', [0, 1], p, opts), 1);
      assert.equal(metric('sparseCategoricalAccuracy', [2, 1], p, opts), 0.5);
      // p > threshold: 0.5 is negative at threshold 0.5.
      assert.equal(
        metric('binaryAccuracy', Float32Array.of(0, 1), Float32Array.of(0.5, 0.51), { backend }),
        1,
      );
      const t = Float32Array.of(1, 1, 0, 0);
      const q = Float32Array.of(0.9, 0.2, 0.8, 0.1);
      assert.equal(metric('precision', t, q, { backend }), 0.5);
      assert.equal(metric('recall', t, q, { backend }), 0.5);
      assert.equal(metric('recall', t, q, { backend, threshold: 0.1 }), 1);
      // [batch 2, T 3] sparse labels, weights [2]: sample accuracies 2/3 and 1/3, weights 1, 3.
      const seq = Float32Array.of(1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0);
      const acc = metric('sparseCategoricalAccuracy', [0, 0, 1, 0, 1, 1], seq, {
        classes: 2,
        backend,
        sampleWeight: Float32Array.of(1, 3),
      });
      assert.ok(Math.abs(acc - (2 / 3 + 3 * (1 / 3)) / 4) < 1e-7, `${acc}`);
    });

    it('bad input: names, options, shapes, labels out of range; the core refuses what bypasses the facade', () => {
      const p = Float32Array.of(0.2, 0.8, 0.5, 0.5);
      const t = Float32Array.of(0, 1, 1, 0);
      assertThrowsCode(() => new Metric('f1' as never, { backend }), 'ERR_GRU_ARG', ['metric']);
      assertThrowsCode(() => new Metric('categoricalAccuracy', { backend }), 'ERR_GRU_ARG', [
        'classes',
      ]);
      assertThrowsCode(
        () => new Metric('meanSquaredError', { threshold: 1, backend }),
        'ERR_GRU_ARG',
        ['threshold'],
      );
      const m = new Metric('sparseCategoricalAccuracy', { classes: 2, backend });
      assertThrowsCode(() => m.update(Int32Array.of(0, 2), p), 'ERR_GRU_RANGE', ['targets[1]']);
      assertThrowsCode(() => m.update([0, 7], p), 'ERR_GRU_RANGE', ['yTrue[1]']);
      assertThrowsCode(() => m.update([0], p), 'ERR_GRU_SHAPE', ['yTrue']);
      assertThrowsCode(() => m.update([], new Float32Array(0)), 'ERR_GRU_SHAPE', ['yPred']);
      assertThrowsCode(
        () => m.update([0, 1], p, { sampleWeight: Float32Array.of(1, 1, 1) }),
        'ERR_GRU_SHAPE',
        ['sampleWeight'],
      );
      assert.deepEqual([...m.sums], [0, 0], 'a refused update adds nothing');
      const b = new Metric('binaryAccuracy', { backend });
      assertThrowsCode(() => b.update(t.subarray(1), p), 'ERR_GRU_SHAPE', ['yTrue']);
      assertThrowsCode(
        () => b.update(t, p, { sampleWeight: Float32Array.of(1, -2) }),
        'ERR_GRU_RANGE',
        ['sample_weight[1]'],
      );
      // The core, called directly.
      const s2 = new Float32Array(2);
      assertThrowsCode(() => backend.metricMean(4, 1, 0.5, p, t, null, s2), 'ERR_GRU_ARG', [
        'kind',
      ]);
      assertThrowsCode(
        () => backend.metricMean(0, 1, 0.5, p, t, null, new Float32Array(3)),
        'ERR_GRU_SHAPE',
        ['sums'],
      );
      assertThrowsCode(() => backend.metricMean(1, 3, 0.5, p, t, null, s2), 'ERR_GRU_SHAPE', [
        'pred',
      ]);
      assertThrowsCode(
        () => backend.metricSparseAccuracy(2, p, Int32Array.of(-1, 0), null, s2),
        'ERR_GRU_RANGE',
        ['targets[0]'],
      );
      assertThrowsCode(() => backend.metricConfusion(0.5, p, t, null, s2), 'ERR_GRU_SHAPE', [
        'counts',
      ]);
      assertThrowsCode(
        () => backend.metricConfusion(0.5, p, t, Float32Array.of(1, 1, 1), new Float32Array(4)),
        'ERR_GRU_SHAPE',
        ['sample_weight'],
      );
    });
  });
});
