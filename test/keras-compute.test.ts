/**
 * The core against Keras 3 itself (JAX backend): test/fixtures/keras-compute.json, written by
 * scripts/gen-keras-compute-fixtures.py (its header says how to regenerate it), holds Keras's
 * outputs and JAX's gradients for the activations, Dense layers with an activation, the losses
 * with sample weights, and the metrics over two batches. Every backend must reproduce them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Backend } from '../ts/backends/backend.js';
import {
  Dense,
  Metric,
  activationBackward,
  activationForward,
  binaryCrossentropy,
  categoricalCrossentropy,
  huber,
  meanAbsoluteError,
  meanSquaredError,
  sparseCategoricalCrossentropy,
  type ActivationName,
  type LossResult,
  type MetricName,
} from '../ts/index.js';
import { forEachBackend } from './backends.js';
import { GRADIENT, LAYERS, LOSS } from './tolerance.js';
import { ErrorTable, assertClose } from './util.js';

interface Fixtures {
  keras: string;
  activations: {
    activation: ActivationName;
    cols: number;
    x: number[];
    y: number[];
    dy: number[];
    dx: number[];
  }[];
  dense: {
    activation: ActivationName;
    in: number;
    out: number;
    x: number[];
    weight: number[];
    bias: number[];
    y: number[];
    dy: number[];
    dx: number[];
    dweight: number[];
    db: number[];
  }[];
  losses: {
    loss: string;
    options: { classes?: number; fromLogits?: boolean; delta?: number };
    shape: number[];
    yTrue: number[];
    yPred: number[];
    sampleWeight: number[] | null;
    loss_value: number;
    grad: number[];
  }[];
  metrics: {
    metric: MetricName;
    options: { classes?: number; threshold?: number };
    result: number;
    batches: { yTrue: number[]; yPred: number[]; sampleWeight: number[] | null }[];
  }[];
}

const FIXTURES: Fixtures = JSON.parse(
  readFileSync(new URL('./fixtures/keras-compute.json', import.meta.url), 'utf8'),
);
const f32 = (a: readonly number[]) => Float32Array.from(a);

/**
 * Where Keras 2's hard sigmoid, clip(0.2 x + 0.5, 0, 1), reaches a bound exactly (x = +-2.5),
 * its slope is a convention: JAX's clip gives 0.1 (half of each side), TensorFlow's 0.2, the
 * core 0 (the slope where the output is 0 or 1, as for Keras 3's hard sigmoid). Only there.
 */
const skipDerivative = (a: ActivationName, x: number) =>
  a === 'hardSigmoidKeras2' && Math.abs(x) === 2.5;

function loss(
  backend: Backend,
  c: Fixtures['losses'][number],
  weight: Float32Array | null,
): LossResult {
  const yPred = f32(c.yPred);
  const o = { backend, sampleWeight: weight, ...c.options };
  switch (c.loss) {
    case 'categoricalCrossentropy':
      return categoricalCrossentropy(f32(c.yTrue), yPred, o as never);
    case 'sparseCategoricalCrossentropy':
      return sparseCategoricalCrossentropy(Int32Array.from(c.yTrue), yPred, o as never);
    case 'binaryCrossentropy':
      return binaryCrossentropy(f32(c.yTrue), yPred, o);
    case 'meanSquaredError':
      return meanSquaredError(f32(c.yTrue), yPred, o);
    case 'meanAbsoluteError':
      return meanAbsoluteError(f32(c.yTrue), yPred, o);
    default:
      return huber(f32(c.yTrue), yPred, o);
  }
}

const errors = new ErrorTable();

describe(`Keras ${FIXTURES.keras} fixtures`, () => {
  after(() => errors.print(`against Keras ${FIXTURES.keras} (JAX), worst of every backend`));

  forEachBackend('backend', (backend: Backend) => {
    it('activations: outputs and gradients', () => {
      for (const a of FIXTURES.activations) {
        const x = f32(a.x);
        const y = activationForward(a.activation, x, { cols: a.cols, backend });
        const shape = [a.x.length / a.cols, a.cols];
        const e1 = assertClose(y, a.y, LAYERS, `${a.activation} y`, shape);
        const dx = activationBackward(a.activation, f32(a.dy), { x, y }, { cols: a.cols, backend });
        const keep = a.x.map((v) => !skipDerivative(a.activation, v));
        const e2 = assertClose(
          dx.filter((_, i) => keep[i]),
          a.dx.filter((_, i) => keep[i]),
          LAYERS,
          `${a.activation} dx`,
          [keep.filter(Boolean).length],
        );
        errors.record(`act ${a.activation}`, 'max|diff|', Math.max(e1.maxAbs, e2.maxAbs));
        errors.record(`act ${a.activation}`, 'worst/tol', Math.max(e1.worst, e2.worst));
      }
    });

    it('Dense with an activation: outputs and gradients of x, kernel and bias', () => {
      for (const c of FIXTURES.dense) {
        const d = new Dense({
          inFeatures: c.in,
          outFeatures: c.out,
          activation: c.activation,
          backend,
        });
        try {
          d.loadStateDict({ weight: f32(c.weight), bias: f32(c.bias) });
          const rows = c.x.length / c.in;
          const y = d.forward(f32(c.x), { train: true });
          const e = [
            assertClose(y, c.y, LAYERS, `${c.activation} y`, [rows, c.out]),
            assertClose(d.backward(f32(c.dy)), c.dx, GRADIENT, `${c.activation} dx`, [rows, c.in]),
            assertClose(d.getGradient('weight'), c.dweight, GRADIENT, 'dweight', [c.out, c.in]),
            assertClose(d.getGradient('bias'), c.db, GRADIENT, 'dbias', [c.out]),
          ];
          errors.record(`Dense ${c.activation}`, 'max|diff|', Math.max(...e.map((s) => s.maxAbs)));
          errors.record(`Dense ${c.activation}`, 'worst/tol', Math.max(...e.map((s) => s.worst)));
        } finally {
          d.dispose();
        }
      }
    });

    it('losses: values and gradients, with sample weights (and one weight per sequence)', () => {
      for (const c of FIXTURES.losses) {
        const name = `${c.loss}${c.options.fromLogits ? ' (logits)' : ''}${c.sampleWeight ? ' weighted' : ''}`;
        const weights = [c.sampleWeight ? f32(c.sampleWeight) : null];
        // [batch, T, ...] with weights [batch, T] equal per sequence: also as weights [batch].
        if (c.shape.length === 3 && c.sampleWeight) {
          const T = c.shape[1]!;
          weights.push(f32(c.sampleWeight.filter((_, i) => i % T === 0)));
        }
        // mae'(0): the core's sign(0) = 0 where JAX's abs gives -1 (gru_simd.h, gru_loss).
        const keep = c.yPred.map((p, i) => c.loss !== 'meanAbsoluteError' || p !== c.yTrue[i]);
        for (const w of weights) {
          const got = loss(backend, c, w);
          const e1 = assertClose([got.loss], [c.loss_value], LOSS, `${name} loss`, [1]);
          const e2 = assertClose(
            got.grad.filter((_, i) => keep[i]),
            c.grad.filter((_, i) => keep[i]),
            LOSS,
            `${name} grad`,
            [keep.filter(Boolean).length],
          );
          errors.record(
            `loss ${c.loss}${c.options.fromLogits ? ' (logits)' : ''}`,
            'max|diff|',
            Math.max(e1.maxAbs, e2.maxAbs),
          );
          errors.record(
            `loss ${c.loss}${c.options.fromLogits ? ' (logits)' : ''}`,
            'worst/tol',
            Math.max(e1.worst, e2.worst),
          );
        }
      }
    });

    it('metrics: the result over two batches', () => {
      for (const c of FIXTURES.metrics) {
        const m = new Metric(c.metric, { ...c.options, backend });
        for (const b of c.batches) {
          const yTrue =
            c.metric === 'sparseCategoricalAccuracy' ? Int32Array.from(b.yTrue) : f32(b.yTrue);
          m.update(yTrue, f32(b.yPred), {
            sampleWeight: b.sampleWeight ? f32(b.sampleWeight) : null,
          });
        }
        const diff = Math.abs(m.result() - c.result);
        errors.record(`metric ${c.metric}`, 'max|diff|', diff);
        assert.ok(
          diff <= 1e-6,
          `${c.metric} ${JSON.stringify(c.options)}: ${m.result()} vs Keras ${c.result}`,
        );
      }
    });
  });
});
