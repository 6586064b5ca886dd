/**
 * The layers of the model API beyond Dense against Keras 3 itself (JAX backend), on every
 * backend: test/fixtures/keras-layers.json, written by scripts/gen-keras-layers-fixtures.py
 * (its header says how to regenerate it and how Keras's weights map to the core layers'),
 * holds small Sequential models (BatchNormalization, Activation, pooling, Masking and Embedding
 * maskZero with right, left and middle padding and holes between valid steps, GRU goBackwards
 * and zeroOutputForMask, Bidirectional with each merge mode and its GRU's options (activations,
 * stateful, a backwardLayer), ...), their weights, Keras's predict,
 * one train_on_batch with SGD (training mode: batch statistics, moving statistics updated), the
 * weights after it and predict again, and Keras's parameter counts. gru-simd's model, given the
 * same layers and weights, must agree within 1e-5.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { layers, sequential, tensor, type LossConfig, type ModelLayer } from '../../ts/index.js';
import { forEachBackend } from '../backends.js';

interface Case {
  title: string;
  inputShape: number[];
  layers: { type: string; args: Record<string, unknown>; weights: Record<string, number[]> }[];
  loss: string;
  x: number[];
  /** x holds integer ids (an Embedding first). */
  xInt: boolean;
  y: number[];
  yShape: number[];
  predict: number[];
  trainOnBatch: number;
  weightsAfter: Record<string, number[]>[];
  predictAfter: number[];
  params: number;
  nonTrainableParams: number;
}

const FIXTURES: { keras: string; cases: Case[] } = JSON.parse(
  readFileSync(new URL('../fixtures/keras-layers.json', import.meta.url), 'utf8'),
);

/** |a - k| <= 1e-5 (1 + |k|): Keras's float32 results within float32 rounding of sums. */
function close(actual: ArrayLike<number>, keras: readonly number[], what: string): number {
  assert.equal(actual.length, keras.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < keras.length; i++) {
    const [a, k] = [actual[i]!, keras[i]!];
    const err = Math.abs(a - k) / (1 + Math.abs(k));
    worst = Math.max(worst, err);
    assert.ok(err <= 1e-5, `${what}[${i}]: ${a} vs Keras ${k}`);
  }
  return worst;
}

/** The one core layer holding a model layer's weights (none for a layer without weights). */
function coreOf(layer: ModelLayer) {
  const [core] = layer.trainables();
  return core;
}

const factories = layers as unknown as Record<string, (args: object) => ModelLayer>;

/** A layer from its fixture spec (a Bidirectional's inner GRU is a spec too). */
function make(type: string, args: Record<string, unknown>): ModelLayer {
  if (type === 'bidirectional') {
    const { backwardLayer, layer, ...rest } = args as {
      layer: { units: number };
      backwardLayer?: { units: number };
    };
    return layers.bidirectional({
      ...rest,
      layer: layers.gru(layer),
      ...(backwardLayer ? { backwardLayer: layers.gru(backwardLayer) } : {}),
    });
  }
  return factories[type]!(args);
}

forEachBackend(`models: layers against Keras ${FIXTURES.keras} (JAX)`, (backend) => {
  for (const c of FIXTURES.cases) {
    it(`${c.title}: predict, trainOnBatch, the weights after it, predict again, parameter counts`, async () => {
      const N = c.x.length / c.inputShape.reduce((a, b) => a * b, 1);
      const model = sequential({
        backend,
        layers: c.layers.map((l, i) =>
          make(l.type, { ...l.args, ...(i === 0 ? { inputShape: c.inputShape } : {}) }),
        ),
      });
      try {
        assert.equal(model.countParams(), c.params, 'countParams');
        const fixed = model.layers.reduce((n, l) => n + l.nonTrainableParams(), 0);
        assert.equal(fixed, c.nonTrainableParams, 'non-trainable parameters');
        model.layers.forEach((l, i) => {
          for (const [name, v] of Object.entries(c.layers[i]!.weights))
            coreOf(l)!.setParameter(name, Float32Array.from(v));
        });
        model.compile({
          optimizer: { name: 'sgd', learningRate: 0.1 },
          loss: c.loss as LossConfig,
        });
        const xs = c.xInt ? Int32Array.from(c.x) : Float32Array.from(c.x);
        const x = tensor(xs, [N, ...c.inputShape]);
        const y = tensor(Float32Array.from(c.y), [N, ...c.yShape]);
        close(model.predict(x).data, c.predict, 'predict');
        // Keras 3.15 on JAX never writes a stateful layer's states back (neither predict nor
        // train_on_batch: each call starts from zeros there), gru-simd carries them from call to
        // call (test/models/stateful.test.ts, bidirectional.test.ts): start each call over.
        const stateful = JSON.stringify(c.layers).includes('"stateful":true');
        if (stateful) model.resetStates();
        close([(await model.trainOnBatch(x, y)) as number], [c.trainOnBatch], 'trainOnBatch loss');
        model.layers.forEach((l, i) => {
          for (const [name, v] of Object.entries(c.weightsAfter[i]!))
            close(coreOf(l)!.getParameter(name), v, `${l.name} ${name} after the step`);
        });
        if (stateful) model.resetStates();
        close(model.predict(x).data, c.predictAfter, 'predict after the step');
      } finally {
        model.dispose();
      }
    });
  }
});
