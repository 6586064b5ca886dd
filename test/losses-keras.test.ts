/**
 * Keras 3's losses (gru_loss, gru_loss_sparse) on every backend: loss and gradient against the
 * float64 reference (its gradients checked by central finite differences), sample weights
 * (per row, per block of rows, all equal), probabilities 0 and 1 clipped as Keras clips them,
 * and bad input refused by the facade and by the core. Keras's own numbers:
 * test/keras-compute.test.ts.
 */
import assert from 'node:assert/strict';
import type { Backend } from '../ts/backends/backend.js';
import {
  activationForward,
  binaryCrossentropy,
  categoricalCrossentropy,
  huber,
  meanAbsoluteError,
  meanSquaredError,
  sparseCategoricalCrossentropy,
  type LossResult,
} from '../ts/index.js';
import { forEachBackend } from './backends.js';
import {
  CLIP_HI,
  CLIP_LO,
  kerasLoss64,
  kerasLossValue64,
  type KerasLossCase,
} from './reference-keras.js';
import { finiteDifferences } from './reference-train.js';
import { LOSS, REFERENCE_FD } from './tolerance.js';
import { ErrorTable, assertClose, assertThrowsCode, measure, rng, uniform } from './util.js';

const errors = new ErrorTable();

/** Random cases of every loss, with the given weights per row (null: none). */
function cases(rows: number, C: number, seed: number, avoidKinks = false): KerasLossCase[] {
  const r = rng(seed);
  const labels = Array.from({ length: rows }, () => Math.floor(r() * C));
  const onehot = new Float32Array(rows * C);
  labels.forEach((l, i) => (onehot[i * C + l] = 1));
  const soft = uniform(rows * C, 0, 1, r);
  const logits = uniform(rows * C, -4, 4, r);
  const probs = uniform(rows * C, avoidKinks ? 0.05 : 0, 1, r); // rows need not sum to 1
  const bin = Float32Array.from({ length: rows * C }, () => (r() < 0.5 ? 0 : 1));
  const yr = uniform(rows * C, -2, 2, r);
  const pr = uniform(rows * C, -2, 2, r);
  if (!avoidKinks && C > 1) {
    // Clipped to [1e-7, 1 - 1e-7]. (With one class a zero row sums to 0: NaN, as in Keras.)
    probs[0] = 0;
    probs[1] = 1;
    pr[0] = yr[0]!; // e = 0: mae's and huber's kink
  }
  const base = { classes: C, yPred: probs };
  return [
    { loss: 'categoricalCrossentropy', ...base, yTrue: onehot },
    { loss: 'categoricalCrossentropy', ...base, yTrue: soft },
    { loss: 'categoricalCrossentropy', classes: C, fromLogits: true, yTrue: soft, yPred: logits },
    { loss: 'sparseCategoricalCrossentropy', ...base, yTrue: labels },
    {
      loss: 'sparseCategoricalCrossentropy',
      classes: C,
      fromLogits: true,
      yTrue: labels,
      yPred: logits,
    },
    { loss: 'binaryCrossentropy', classes: 1, yTrue: bin, yPred: probs },
    { loss: 'binaryCrossentropy', classes: 1, fromLogits: true, yTrue: soft, yPred: logits },
    { loss: 'meanSquaredError', classes: 1, yTrue: yr, yPred: pr },
    { loss: 'meanAbsoluteError', classes: 1, yTrue: yr, yPred: pr },
    { loss: 'huber', classes: 1, yTrue: yr, yPred: pr },
    { loss: 'huber', classes: 1, delta: 0.3, yTrue: yr, yPred: pr },
  ];
}

/** A case through the facade on a backend. */
function run(backend: Backend, c: KerasLossCase): LossResult {
  const yPred = Float32Array.from(c.yPred);
  const sampleWeight = c.sampleWeight ? Float32Array.from(c.sampleWeight) : null;
  const common = { backend, sampleWeight };
  switch (c.loss) {
    case 'categoricalCrossentropy':
      return categoricalCrossentropy(Float32Array.from(c.yTrue), yPred, {
        ...common,
        classes: c.classes,
        fromLogits: c.fromLogits,
      });
    case 'sparseCategoricalCrossentropy':
      return sparseCategoricalCrossentropy(Int32Array.from(c.yTrue), yPred, {
        ...common,
        classes: c.classes,
        fromLogits: c.fromLogits,
      });
    case 'binaryCrossentropy':
      return binaryCrossentropy(Float32Array.from(c.yTrue), yPred, {
        ...common,
        fromLogits: c.fromLogits,
      });
    case 'meanSquaredError':
      return meanSquaredError(Float32Array.from(c.yTrue), yPred, common);
    case 'meanAbsoluteError':
      return meanAbsoluteError(Float32Array.from(c.yTrue), yPred, common);
    default:
      return huber(Float32Array.from(c.yTrue), yPred, { ...common, delta: c.delta });
  }
}

const label = (c: KerasLossCase) =>
  `${c.loss}${c.fromLogits ? ' (logits)' : ''}${c.delta ? ` delta ${c.delta}` : ''}`;

describe('Keras losses', () => {
  after(() =>
    errors.print(
      `Keras losses vs float64, worst of every backend (tolerance ${LOSS.abs} + ${LOSS.rel}*|ref|)`,
    ),
  );

  it('the float64 reference gradients equal central finite differences', () => {
    for (const c of cases(4, 3, 1, true)) {
      for (const sampleWeight of [null, [0.5, 2, 0, 1.5]]) {
        const cw = { ...c, sampleWeight };
        const at = Array.from(c.yPred);
        const fd = finiteDifferences(() => kerasLossValue64(cw, at), at);
        const { grad } = kerasLoss64(cw);
        for (let i = 0; i < at.length; i++) {
          assert.ok(
            Math.abs(fd[i]! - grad[i]!) <= REFERENCE_FD.abs + REFERENCE_FD.rel * Math.abs(fd[i]!),
            `${label(c)} grad[${i}] ${grad[i]} vs fd ${fd[i]}`,
          );
        }
      }
    }
  });

  forEachBackend('backend', (backend: Backend) => {
    for (const [rows, C] of [
      [1, 1],
      [6, 4],
      [30, 7],
    ] as const) {
      it(`every loss against float64, without and with sample weights (${rows} x ${C})`, () => {
        const r = rng(rows + C);
        for (const c of cases(rows, C, rows * 7 + C)) {
          const units = c.yPred.length / c.classes;
          for (const sampleWeight of [null, uniform(units, 0, 2, r), Float32Array.of(0.7)]) {
            const cw = { ...c, sampleWeight };
            const got = run(backend, cw);
            const ref = kerasLoss64(cw);
            const name = `${label(c)}${sampleWeight ? ` weights[${sampleWeight.length}]` : ''}`;
            const e1 = assertClose([got.loss], [ref.loss], LOSS, `${name} loss`, [1]);
            const e2 = assertClose(got.grad, ref.grad, LOSS, `${name} grad`, [units, c.classes]);
            errors.record(label(c), 'loss max|diff|', e1.maxAbs);
            errors.record(label(c), 'grad max|diff|', e2.maxAbs);
            errors.record(label(c), 'worst/tol', Math.max(e1.worst, e2.worst));
          }
        }
      });
    }

    it('sample weights of a block of rows equal the same weight repeated on each row, bitwise', () => {
      // A sequence [batch 2, T 3, classes 4]: weights [2] broadcast over T, as Keras's [2, 3].
      for (const c of cases(6, 4, 3)) {
        const perSample = Float32Array.of(0.25, 1.75);
        const units = c.yPred.length / c.classes;
        const repeated = Float32Array.from({ length: units }, (_, i) =>
          i < units / 2 ? 0.25 : 1.75,
        );
        const a = run(backend, { ...c, sampleWeight: perSample });
        const b = run(backend, { ...c, sampleWeight: repeated });
        assert.equal(a.loss, b.loss, label(c));
        assert.deepEqual(a.grad, b.grad, label(c));
        // Weights all 1 are no weights; weight 0 on everything is loss 0, like Keras.
        const ones = run(backend, { ...c, sampleWeight: new Float32Array(units).fill(1) });
        assert.equal(ones.loss, run(backend, c).loss, label(c));
        const zero = run(backend, { ...c, sampleWeight: new Float32Array(units) });
        assert.equal(zero.loss, 0);
        assert.ok(zero.grad.every((g) => g === 0));
      }
    });

    it('probabilities 0 and 1 are clipped to [1e-7, 1 - 1e-7] (gradient 0 there), as Keras', () => {
      // Certain and right: -log(1 - 1e-7); certain and wrong: -log(1e-7) = 16.118.
      const cce = categoricalCrossentropy(
        Float32Array.of(0, 1, 0, 0, 0, 1),
        Float32Array.of(0, 1, 0, 1, 0, 0),
        { classes: 3, backend },
      );
      const expected = (-Math.log(CLIP_HI) - Math.log(CLIP_LO)) / 2;
      assert.ok(Math.abs(cce.loss - expected) <= 1e-6 * expected, `${cce.loss} vs ${expected}`);
      assert.deepEqual([...cce.grad], [0, 0, 0, 0, 0, 0]);
      const bce = binaryCrossentropy(Float32Array.of(1, 0, 1, 0), Float32Array.of(1, 0, 0, 1), {
        backend,
      });
      // log(1 - c) of the clipped c: 1 - (1 - 1e-7 as float32) is 1.19e-7, not 1e-7.
      const bceExpected =
        -(Math.log(CLIP_HI) + Math.log(1 - CLIP_LO) + Math.log(CLIP_LO) + Math.log(1 - CLIP_HI)) /
        4;
      assert.ok(Math.abs(bce.loss - bceExpected) <= 1e-6 * bceExpected, `${bce.loss}`);
      assert.deepEqual([...bce.grad], [0, 0, 0, 0]);
      assert.ok(Number.isFinite(bce.loss));
    });

    it('the async forms (GRU_ASYNC: a worker thread on native) give the same bits', async () => {
      const c = cases(6, 4, 12)[0]!;
      const p = Float32Array.from(c.yPred);
      const t = Float32Array.from(c.yTrue);
      const w = uniform(6, 0, 2, rng(1));
      const [g1, g2] = [new Float32Array(p.length), new Float32Array(p.length)];
      const sync = backend.loss(0, 4, 1, p, t, w, g1);
      assert.equal(await backend.lossAsync(0, 4, 1, p, t, w, g2), sync);
      assert.deepEqual(g2, g1);
      const y = new Float32Array(p.length);
      await backend.activationForwardAsync(4, 4, p, y);
      assert.deepEqual(y, activationForward('softmax', p, { cols: 4, backend }));
    });

    it('a grad buffer is written in place and returned', () => {
      const grad = new Float32Array(4);
      const res = meanSquaredError(Float32Array.of(1, 2, 3, 4), Float32Array.of(2, 2, 2, 2), {
        backend,
        grad,
      });
      assert.equal(res.grad, grad);
      assert.deepEqual([...grad], [0.5, 0, -0.5, -1]);
      assert.equal(res.loss, 1.5);
    });

    it('bad input: empty, shapes, labels out of range, weights, delta; the core refuses what bypasses the facade', () => {
      const p = Float32Array.of(0.2, 0.8, 0.5, 0.5);
      const t = Float32Array.of(0, 1, 1, 0);
      const e = new Float32Array(0);
      assertThrowsCode(() => meanSquaredError(e, e, { backend }), 'ERR_GRU_SHAPE', ['yPred']);
      assertThrowsCode(
        () => categoricalCrossentropy(t, p, { classes: 3, backend }),
        'ERR_GRU_SHAPE',
        ['yPred', 'classes'],
      );
      assertThrowsCode(
        () => sparseCategoricalCrossentropy(Int32Array.of(0, 2), p, { classes: 2, backend }),
        'ERR_GRU_RANGE',
        ['targets[1]'],
      );
      assertThrowsCode(
        () => sparseCategoricalCrossentropy([0, -1], p, { classes: 2, backend }),
        'ERR_GRU_RANGE',
        ['yTrue[1]'],
      );
      assertThrowsCode(
        () => sparseCategoricalCrossentropy(Int32Array.of(0), p, { classes: 2, backend }),
        'ERR_GRU_SHAPE',
        ['yTrue'],
      );
      assertThrowsCode(
        () => binaryCrossentropy(t, p, { sampleWeight: Float32Array.of(1, 1, 1), backend }),
        'ERR_GRU_SHAPE',
        ['sampleWeight'],
      );
      assertThrowsCode(
        () => binaryCrossentropy(t, p, { sampleWeight: Float32Array.of(1, -1), backend }),
        'ERR_GRU_RANGE',
        ['sample_weight[1]'],
      );
      assertThrowsCode(
        () => binaryCrossentropy(t, p, { sampleWeight: Float32Array.of(NaN, 1), backend }),
        'ERR_GRU_RANGE',
        ['sample_weight[0]'],
      );
      assertThrowsCode(
        () => binaryCrossentropy(Float32Array.of(0, 1, 2, 0), p, { backend }),
        'ERR_GRU_RANGE',
        ['targets[2]', '[0, 1]'],
      );
      assertThrowsCode(
        () => meanAbsoluteError(Float32Array.of(0, NaN, 2, 0), p, { backend }),
        'ERR_GRU_RANGE',
        ['targets[1]', 'finite'],
      );
      assertThrowsCode(() => huber(t, p, { delta: 0, backend }), 'ERR_GRU_ARG', ['delta']);
      assertThrowsCode(() => huber(t, p, { bogus: 1, backend } as never), 'ERR_GRU_ARG', ['bogus']);
      assertThrowsCode(
        () => binaryCrossentropy(t, p, { fromLogits: 1, backend } as never),
        'ERR_GRU_ARG',
        ['fromLogits'],
      );
      // The core, called directly.
      const g = new Float32Array(4);
      assertThrowsCode(() => backend.loss(7, 1, 1, p, t, null, g), 'ERR_GRU_ARG', ['kind']);
      assertThrowsCode(() => backend.loss(6, 1, -1, p, t, null, g), 'ERR_GRU_ARG', ['delta']);
      assertThrowsCode(() => backend.loss(0, 3, 1, p, t, null, g), 'ERR_GRU_SHAPE', ['pred']);
      assertThrowsCode(() => backend.loss(4, 1, 1, p, t.subarray(1), null, g), 'ERR_GRU_SHAPE', [
        'targets',
      ]);
      assertThrowsCode(() => backend.loss(4, 1, 1, p, t, null, g.subarray(1)), 'ERR_GRU_SHAPE', [
        'grad',
      ]);
      assertThrowsCode(
        () => backend.loss(4, 2, 1, p, t, Float32Array.of(1, 1, 1), g),
        'ERR_GRU_SHAPE',
        ['sample_weight'],
      );
      assertThrowsCode(
        () => backend.lossSparse(2, 2, p, Int32Array.of(0, 1), null, g),
        'ERR_GRU_ARG',
        ['kind'],
      );
      assertThrowsCode(
        () => backend.lossSparse(1, 2, p, Int32Array.of(0, 5), null, g),
        'ERR_GRU_RANGE',
        ['targets[1]'],
      );
      // The core with nothing to reduce: loss 0 (Keras's divide_no_nan), not NaN.
      assert.equal(backend.loss(4, 1, 1, e, e, null, e), 0);
    });

    it('the measured loss is a mean: doubling the batch with a copy keeps it', () => {
      const c = cases(5, 3, 8)[2]!;
      const once = run(backend, c);
      const twice = run(backend, {
        ...c,
        yTrue: [...Array.from(c.yTrue), ...Array.from(c.yTrue)],
        yPred: [...Array.from(c.yPred), ...Array.from(c.yPred)],
      });
      assert.ok(measure([twice.loss], [once.loss], LOSS).worst <= 1);
    });
  });
});
