/**
 * The model API's numbers, on every backend: fit() learns; predict() and evaluate() equal the
 * forward through the underlying core layers bitwise; one trainOnBatch() equals the same step
 * made by hand with the core layers and optimizer bitwise; optimizers named by Keras's names get
 * Keras's defaults; GRU resetAfter false keeps PyTorch's extra bias at zero while training.
 */
import assert from 'node:assert/strict';
import type { Backend } from '../../ts/backends/backend.js';
import {
  binaryCrossentropy,
  layers,
  meanSquaredError,
  SGD,
  sequential,
  sparseCategoricalCrossentropy,
  tensor,
  type DenseLayer,
  type EmbeddingLayer,
  type GRULayer,
  type Layer,
  type LayerNormalizationLayer,
  type Sequential,
} from '../../ts/index.js';
import { parseKerasOptimizer } from '../../ts/models/optimizers.js';
import { forEachBackend } from '../backends.js';
import { rng, uniform } from '../util.js';

/** [batch, steps, f] with the steps of each sequence reversed (the reference of goBackwards). */
function reverseSteps(x: Float32Array, batch: number, steps: number): Float32Array {
  const f = x.length / (batch * steps);
  const out = new Float32Array(x.length);
  for (let b = 0; b < batch; b++)
    for (let t = 0; t < steps; t++)
      for (let j = 0; j < f; j++)
        out[(b * steps + steps - 1 - t) * f + j] = x[(b * steps + t) * f + j]!;
  return out;
}

/** Every parameter of every core layer of a model, in order. */
function params(model: Sequential): Float32Array[] {
  return model.layers.flatMap((l) =>
    l.trainables().flatMap((t) => t.parameterNames().map((n) => t.getParameter(n))),
  );
}

/** The sign-of-the-sum task: y = 1 when the first feature sums above 0 over the steps. */
function signTask(n: number, steps: number, seed: number): { x: Float32Array; y: Float32Array } {
  const x = uniform(n * steps * 2, -1, 1, rng(seed));
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < steps; t++) s += x[(i * steps + t) * 2]!;
    y[i] = s > 0 ? 1 : 0;
  }
  return { x, y };
}

forEachBackend('models: training', (backend: Backend) => {
  it('fit() learns the sign of a sum (binaryCrossentropy on the sigmoid probabilities): the loss falls by half', async () => {
    const [N, T] = [128, 8];
    const { x, y } = signTask(N, T, 5);
    const model = sequential({
      seed: 7,
      backend,
      layers: [
        layers.gru({ units: 12, inputShape: [T, 2] }),
        layers.dense({ units: 1, activation: 'sigmoid' }),
      ],
    });
    try {
      model.compile({
        optimizer: { name: 'adam', learningRate: 0.02 },
        loss: 'binary_crossentropy',
      });
      const before = model.evaluate(tensor(x, [N, T, 2]), tensor(y, [N, 1])) as number;
      const history = await model.fit(tensor(x, [N, T, 2]), tensor(y, [N, 1]), {
        epochs: 30,
        batchSize: 16,
        verbose: 0,
      });
      const after = model.evaluate(tensor(x, [N, T, 2]), tensor(y, [N, 1])) as number;
      assert.deepEqual(
        history.epoch,
        Array.from({ length: 30 }, (_, i) => i),
      );
      assert.equal(history.history.loss.length, 30);
      assert.ok(before > 0.6, `before ${before}`);
      assert.ok(after < before / 2, `evaluate: ${before} -> ${after}`);
      assert.ok(
        history.history.loss[29]! < history.history.loss[0]! / 2,
        `${history.history.loss}`,
      );
    } finally {
      model.dispose();
    }
  });

  it('predict() and evaluate() equal the forward through the core layers bitwise (GRU -> Dropout -> GRU goBackwards -> Dense sigmoid)', async () => {
    const [N, T, F] = [10, 6, 3];
    const { x: x0 } = signTask(N, T, 11);
    const x = uniform(N * T * F, -1, 1, rng(12));
    const y = new Float32Array(N).map((_, i) => (x0[i * T * 2]! > 0 ? 1 : 0));
    const model = sequential({
      seed: 13,
      backend,
      layers: [
        layers.gru({ units: 6, inputShape: [T, F], returnSequences: true }),
        layers.dropout({ rate: 0.5 }),
        layers.gru({ units: 5, goBackwards: true }),
        layers.dense({ units: 1, activation: 'sigmoid' }),
      ],
    });
    try {
      model.compile({ optimizer: 'sgd', loss: 'binaryCrossentropy' });
      await model.fit(tensor(x, [N, T, F]), tensor(y, [N, 1]), {
        epochs: 2,
        batchSize: 4,
        verbose: 0,
      });
      const [g1, , g2, d] = model.layers as [GRULayer, unknown, GRULayer, DenseLayer];
      const h1 = g1.core.forward(x, { batch: N }).output as Float32Array;
      const h2 = g2.core.forward(reverseSteps(h1, N, T), { batch: N, returnSequences: false }).hN;
      const probs = d.core.forward(h2); // the core Dense with its sigmoid
      assert.equal(d.core.activation, 'sigmoid');
      const predicted = model.predict(tensor(x, [N, T, F]), { batchSize: N });
      assert.deepEqual(predicted.shape, [N, 1]);
      assert.deepEqual(predicted.data, probs);
      assert.equal(
        model.evaluate(tensor(x, [N, T, F]), tensor(y, [N, 1]), { batchSize: N }),
        binaryCrossentropy(y, probs, { backend }).loss,
      );
      // In batches: the same rows, and the loss the mean over samples of the batch losses.
      assert.deepEqual(model.predict(tensor(x, [N, T, F]), { batchSize: 4 }).data, probs);
      const rows = (a: number, b: number) => [y.subarray(a, b), probs.subarray(a, b)] as const;
      const weighted =
        [
          [0, 4],
          [4, 8],
          [8, 10],
        ].reduce(
          (s, [a, b]) => s + binaryCrossentropy(...rows(a!, b!), { backend }).loss * (b! - a!),
          0,
        ) / N;
      assert.equal(
        model.evaluate(tensor(x, [N, T, F]), tensor(y, [N, 1]), { batchSize: 4 }),
        weighted,
      );
    } finally {
      model.dispose();
    }
  });

  it('Embedding -> GRU -> LayerNormalization -> Dense per step, sparse labels: predict, evaluate and one trainOnBatch equal the core by hand, bitwise', async () => {
    const [N, L, V, K] = [5, 7, 11, 4];
    const rand = rng(21);
    const ids = Int32Array.from({ length: N * L }, () => Math.floor(rand() * V));
    const labels = Int32Array.from({ length: N * L }, () => Math.floor(rand() * K));
    const make = (): Sequential =>
      sequential({
        seed: 22,
        backend,
        layers: [
          layers.embedding({ inputDim: V, outputDim: 6, inputLength: L }),
          layers.gru({ units: 8, returnSequences: true }),
          layers.layerNormalization({ epsilon: 1e-3 }),
          layers.dense({ units: K }),
        ],
      });
    const model = make();
    const twin = make();
    try {
      // Plain SGD: compile() runs Keras's formulas, and Keras's momentum update equals PyTorch's
      // only up to rounding (which builds fuse into an FMA differs: the ASan build does not);
      // optimizers.test.ts checks each formula against its own framework.
      model.compile({
        optimizer: { name: 'sgd', learningRate: 0.5 },
        loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true },
      });
      const [emb, gru, norm, dense] = [
        (twin.layers[0] as EmbeddingLayer).core,
        (twin.layers[1] as GRULayer).core,
        (twin.layers[2] as LayerNormalizationLayer).core,
        (twin.layers[3] as DenseLayer).core,
      ];
      const opt = new SGD([emb, gru, norm, dense], { lr: 0.5 });
      const manualStep = (): number => {
        opt.zeroGrad();
        const e = emb.forward(ids, { train: true });
        const g = gru.forward(e, { batch: N, train: true }).output as Float32Array;
        const out = dense.forward(norm.forward(g, { train: true }), { train: true });
        const { loss, grad } = sparseCategoricalCrossentropy(labels, out, {
          classes: K,
          fromLogits: true,
          backend,
        });
        const { dx } = gru.backward({ dOutput: norm.backward(dense.backward(grad)) });
        emb.backward(dx as Float32Array);
        opt.step();
        return loss;
      };
      for (let step = 0; step < 2; step++) {
        const loss = await model.trainOnBatch(tensor(ids, [N, L]), tensor(labels, [N, L]));
        assert.equal(loss, manualStep(), `loss of step ${step}`);
        assert.deepEqual(params(model), params(twin), `parameters after step ${step}`);
      }
      const g = gru.forward(emb.forward(ids), { batch: N }).output as Float32Array;
      const logits = dense.forward(norm.forward(g));
      const predicted = model.predict(tensor(ids, [N, L]), { batchSize: N });
      assert.deepEqual(predicted.shape, [N, L, K]);
      assert.deepEqual(predicted.data, logits);
      const labelsAs = tensor(labels, [N, L, 1]); // Keras also takes a trailing 1
      const expected = sparseCategoricalCrossentropy(labels, logits, {
        classes: K,
        fromLogits: true,
        backend,
      }).loss;
      assert.equal(model.evaluate(tensor(ids, [N, L]), labelsAs, { batchSize: N }), expected);
      opt.dispose();
    } finally {
      model.dispose();
      twin.dispose();
    }
  });

  it('trainOnBatch with a GRU going backwards and mse per step equals the core step by hand, bitwise', async () => {
    const [N, T, F] = [4, 5, 3];
    const x = uniform(N * T * F, -1, 1, rng(31));
    const y = uniform(N * T * 2, -1, 1, rng(32));
    const make = (): Sequential =>
      sequential({
        seed: 33,
        backend,
        layers: [
          layers.gru({ units: 7, inputShape: [T, F], returnSequences: true, goBackwards: true }),
          layers.dense({ units: 2 }),
        ],
      });
    const model = make();
    const twin = make();
    try {
      model.compile({ optimizer: 'sgd', loss: 'mse' });
      const [gru, dense] = [(twin.layers[0] as GRULayer).core, (twin.layers[1] as DenseLayer).core];
      const opt = new SGD([gru, dense], { lr: 0.01 }); // Keras's SGD default learning rate
      opt.zeroGrad();
      const h = gru.forward(reverseSteps(x, N, T), { batch: N, train: true })
        .output as Float32Array;
      const { loss, grad } = meanSquaredError(y, dense.forward(h, { train: true }), { backend });
      gru.backward({ dOutput: dense.backward(grad) });
      opt.step();
      assert.equal(await model.trainOnBatch(tensor(x, [N, T, F]), tensor(y, [N, T, 2])), loss);
      assert.deepEqual(params(model), params(twin));
      opt.dispose();
    } finally {
      model.dispose();
      twin.dispose();
    }
  });

  // Keras's formulas themselves are checked against Keras in test/models/optimizers.test.ts.
  const kerasDefaults = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
  for (const [name, make] of [
    [
      'adam',
      (cores: Layer[]) => parseKerasOptimizer('adam', kerasDefaults)(cores, new Int32Array(0)),
    ],
    [
      'adamw',
      (cores: Layer[]) =>
        parseKerasOptimizer('adamw', { ...kerasDefaults, weightDecay: 0.004 })(
          cores,
          new Int32Array(0),
        ),
    ],
  ] as const) {
    it(`optimizer '${name}' by name gets Keras's defaults (the same steps as Keras's ${name === 'adam' ? 'Adam' : 'AdamW'} given them)`, async () => {
      const [N, T, F] = [3, 4, 2];
      const x = uniform(N * T * F, -1, 1, rng(41));
      const y = uniform(N, -1, 1, rng(42));
      const build = (): Sequential =>
        sequential({
          seed: 43,
          backend,
          layers: [layers.gru({ units: 3, inputShape: [T, F] }), layers.dense({ units: 1 })],
        });
      const model = build();
      const twin = build();
      try {
        model.compile({ optimizer: name, loss: 'meanSquaredError' });
        const [gru, dense] = [
          (twin.layers[0] as GRULayer).core,
          (twin.layers[1] as DenseLayer).core,
        ];
        const opt = make([gru, dense]);
        for (let step = 0; step < 3; step++) {
          await model.trainOnBatch(tensor(x, [N, T, F]), tensor(y, [N, 1]));
          opt.zeroGrad();
          const { grad } = meanSquaredError(
            y,
            dense.forward(gru.forward(x, { batch: N, train: true, returnSequences: false }).hN, {
              train: true,
            }),
            { backend },
          );
          gru.backward({ dHN: dense.backward(grad) });
          opt.step();
        }
        assert.deepEqual(params(model), params(twin));
        opt.dispose();
      } finally {
        model.dispose();
        twin.dispose();
      }
    });
  }

  it("GRU resetAfter false: PyTorch's bias_hh stays zero through fit (Keras has one bias) while bias_ih learns", async () => {
    const [N, T] = [16, 5];
    const { x, y } = signTask(N, T, 51);
    const model = sequential({
      seed: 52,
      backend,
      layers: [
        layers.gru({ units: 4, inputShape: [T, 2], resetAfter: false }),
        layers.dense({ units: 1 }),
      ],
    });
    try {
      model.compile({ optimizer: 'adam', loss: { name: 'binaryCrossentropy', fromLogits: true } });
      const core = (model.layers[0] as GRULayer).core;
      const bias = core.getParameter('bias_ih_l0');
      await model.fit(tensor(x, [N, T, 2]), tensor(y, [N, 1]), {
        epochs: 2,
        batchSize: 8,
        verbose: 0,
      });
      assert.deepEqual(core.getParameter('bias_hh_l0'), new Float32Array(12));
      assert.notDeepEqual(core.getParameter('bias_ih_l0'), bias);
      // Its gradient is not zero: without the reset, the optimizer would have moved it.
      assert.ok(core.getGradient('bias_hh_l0').some((v) => v !== 0));
    } finally {
      model.dispose();
    }
  });
});
