/**
 * Two models of the Keras tutorials our users learn from (1: sequence labelling, two stacked
 * GRUs and a softmax head; 2: binary classification with a deep relu head), on every backend: they
 * build, fit a few epochs on small synthetic data with the loss going down and accuracy in the
 * History, and evaluate returns [loss, accuracy], the accuracy being the one Keras 3 picks
 * (categorical for model 1's one-hot targets, binary for model 2's single sigmoid) computed by
 * the core on predict's output. Model 2 keeps the tutorial's widths but gets short sequences of few
 * features, so that it runs in seconds (build.test.ts checks its full-size parameter counts).
 */
import assert from 'node:assert/strict';
import { layers, metric, sequential, tensor } from '../../ts/index.js';
import { forEachBackend } from '../backends.js';
import { rng, uniform } from '../util.js';

/** Sequences whose class c raises feature c at every step: [n, steps, features], one-hot [n, k]. */
function sequenceClasses(n: number, steps: number, features: number, k: number, seed: number) {
  const rand = rng(seed);
  const x = uniform(n * steps * features, -1, 1, rand);
  const y = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    const c = i % k;
    y[i * k + c] = 1;
    for (let t = 0; t < steps; t++) x[(i * steps + t) * features + c]! += 0.6;
  }
  return { x: tensor(x, [n, steps, features]), y: tensor(y, [n, k]) };
}

/** Whether the first feature sums above 0 over the steps: [n, steps, features], [n, 1]. */
function signOfSum(n: number, steps: number, features: number, seed: number) {
  const x = uniform(n * steps * features, -1, 1, rng(seed));
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < steps; t++) s += x[(i * steps + t) * features]!;
    y[i] = s > 0 ? 1 : 0;
  }
  return { x: tensor(x, [n, steps, features]), y: tensor(y, [n, 1]) };
}

forEachBackend('models: the tutorial models', (backend) => {
  it('model 1: GRU(64, returnSequences) -> GRU(32) -> Dense(K, softmax), categorical_crossentropy, accuracy', async () => {
    const [N, T, F, K] = [64, 8, 6, 4];
    const { x, y } = sequenceClasses(N, T, F, K, 101);
    const model = sequential({
      seed: 102,
      backend,
      layers: [
        layers.gru({ units: 64, inputShape: [T, F], returnSequences: true }),
        layers.gru({ units: 32 }),
        layers.dense({ units: K, activation: 'softmax' }),
      ],
    });
    try {
      model.compile({ optimizer: 'adam', loss: 'categorical_crossentropy', metrics: ['accuracy'] });
      assert.deepEqual(model.outputShape, [null, K]);
      const history = await model.fit(x, y, { epochs: 6, batchSize: 16, verbose: 0 });
      const { loss, accuracy } = history.history;
      assert.equal(loss.length, 6);
      assert.equal(accuracy!.length, 6);
      assert.ok(loss[5]! < loss[0]!, `loss ${loss}`);
      assert.ok(
        accuracy!.every((a) => a >= 0 && a <= 1) && accuracy![5]! > accuracy![0]!,
        `${accuracy}`,
      );
      const [l, a] = model.evaluate(x, y, { batchSize: N }) as number[];
      const p = model.predict(x, { batchSize: N });
      const rows = p.data as Float32Array;
      for (let i = 0; i < N; i++) {
        const sum = rows.subarray(i * K, i * K + K).reduce((s, v) => s + v, 0);
        assert.ok(Math.abs(sum - 1) < 1e-5, `softmax row ${i} sums to ${sum}`);
      }
      assert.equal(a, metric('categoricalAccuracy', y.data, rows, { classes: K, backend }));
      assert.ok(l! < loss[0]!, `evaluate ${l} after training, first epoch ${loss[0]}`);
    } finally {
      model.dispose();
    }
  });

  it('model 2: GRU(128) x3 -> Dense 64/32/16 relu -> Dense(1, sigmoid), binary_crossentropy, accuracy; loss, accuracy = evaluate(x_test, y_test)', async () => {
    const [N, T, F] = [48, 6, 8];
    const train = signOfSum(N, T, F, 201);
    const test = signOfSum(16, T, F, 202);
    const model = sequential({
      seed: 203,
      backend,
      layers: [
        layers.gru({ units: 128, inputShape: [T, F], returnSequences: true }),
        layers.gru({ units: 128, returnSequences: true }),
        layers.gru({ units: 128 }),
        layers.dense({ units: 64, activation: 'relu' }),
        layers.dense({ units: 32, activation: 'relu' }),
        layers.dense({ units: 16, activation: 'relu' }),
        layers.dense({ units: 1, activation: 'sigmoid' }),
      ],
    });
    try {
      model.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['accuracy'] });
      const history = await model.fit(train.x, train.y, {
        epochs: 5,
        batchSize: 16,
        verbose: 0,
        validationData: [test.x, test.y],
      });
      const { loss, accuracy, val_loss, val_accuracy } = history.history;
      assert.ok(loss[4]! < loss[0]!, `loss ${loss}`);
      for (const series of [accuracy, val_loss, val_accuracy]) assert.equal(series!.length, 5);
      const [testLoss, testAccuracy] = model.evaluate(test.x, test.y) as number[];
      assert.equal(testLoss, val_loss![4]);
      assert.equal(testAccuracy, val_accuracy![4]);
      const p = model.predict(test.x, { batchSize: 16 }).data as Float32Array;
      assert.ok(p.every((v) => v > 0 && v < 1));
      assert.equal(testAccuracy, metric('binaryAccuracy', test.y.data, p, { backend }));
    } finally {
      model.dispose();
    }
  });
});
