/**
 * Compiled models against Keras 3 itself (JAX backend), on every backend:
 * test/fixtures/keras-models.json, written by scripts/gen-keras-model-fixtures.py (its header
 * says how to regenerate it), holds small Dense models with Keras's activation, loss and metric
 * names, their weights, and what Keras's evaluate (with and without sample weights) and one
 * train_on_batch with SGD (sample or class weights) return, and the weights after that step.
 * gru-simd's model API, given the same names and weights, must agree within float32 rounding.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  layers,
  sequential,
  tensor,
  type DenseLayer,
  type LossConfig,
  type Sequential,
} from '../../ts/index.js';
import { forEachBackend } from '../backends.js';

interface Case {
  title: string;
  layers: { units: number; activation: string }[];
  loss: string;
  metrics: string[];
  metricsNames: string[];
  x: number[];
  y: number[];
  yShape: number[];
  sampleWeight: number[];
  classWeight: Record<string, number> | null;
  /** Per layer: [weight [out, in], bias]. */
  weights: [number[], number[]][];
  evaluate: number[];
  evaluateWeighted: number[];
  trainOnBatch: number[];
  weightsAfter: [number[], number[]][];
}

const FIXTURES: { keras: string; features: number; cases: Case[] } = JSON.parse(
  readFileSync(new URL('../fixtures/keras-models.json', import.meta.url), 'utf8'),
);

/** Within float32 rounding of Keras's float32 results: |a - k| <= 1e-6 + 1e-5 |k|. */
function close(actual: ArrayLike<number>, keras: readonly number[], what: string): void {
  assert.equal(actual.length, keras.length, `${what}: length`);
  for (let i = 0; i < keras.length; i++) {
    const [a, k] = [actual[i]!, keras[i]!];
    assert.ok(Math.abs(a - k) <= 1e-6 + 1e-5 * Math.abs(k), `${what}[${i}]: ${a} vs Keras ${k}`);
  }
}

const list = (v: number | number[]): number[] => (Array.isArray(v) ? v : [v]);

function weightsOf(model: Sequential): number[] {
  return model.layers.flatMap((l) => {
    const core = (l as DenseLayer).core;
    return [...core.getParameter('weight'), ...core.getParameter('bias')];
  });
}

forEachBackend(`models: against Keras ${FIXTURES.keras} (JAX)`, (backend) => {
  for (const c of FIXTURES.cases) {
    it(`${c.title} (metrics ${c.metrics.join(', ') || 'none'}): evaluate, weighted evaluate, trainOnBatch and the weights after it`, async () => {
      const F = FIXTURES.features;
      const N = c.x.length / F;
      const model = sequential({
        backend,
        layers: c.layers.map((l, i) =>
          layers.dense({ ...l, ...(i === 0 ? { inputShape: [F] } : {}) }),
        ),
      });
      try {
        model.layers.forEach((l, i) => {
          const core = (l as DenseLayer).core;
          core.setParameter('weight', Float32Array.from(c.weights[i]![0]));
          core.setParameter('bias', Float32Array.from(c.weights[i]![1]));
        });
        model.compile({
          optimizer: { name: 'sgd', learningRate: 0.1 },
          loss: c.loss as LossConfig,
          metrics: c.metrics,
        });
        assert.deepEqual(model.metricsNames, c.metricsNames);
        const x = tensor(Float32Array.from(c.x), [N, F]);
        const sparse = c.loss === 'sparse_categorical_crossentropy';
        const y = tensor(sparse ? Int32Array.from(c.y) : Float32Array.from(c.y), [N, ...c.yShape]);
        const sampleWeight = Float32Array.from(c.sampleWeight);
        close(list(model.evaluate(x, y, { batchSize: 4 })), c.evaluate, 'evaluate');
        close(
          list(model.evaluate(x, y, { batchSize: 4, sampleWeight })),
          c.evaluateWeighted,
          'evaluate with sampleWeight',
        );
        const step = await model.trainOnBatch(
          x,
          y,
          c.classWeight ? { classWeight: c.classWeight } : { sampleWeight },
        );
        close(list(step), c.trainOnBatch, 'trainOnBatch');
        close(weightsOf(model), c.weightsAfter.flat(2), 'weights after the step');
      } finally {
        model.dispose();
      }
    });
  }
});
