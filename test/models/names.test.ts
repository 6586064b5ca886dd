/**
 * The names of names.ts through a model, on every backend: each Dense activation name (Keras's
 * and tfjs's spellings) gives the core Dense with that activation (predict bitwise, and one
 * training step through it bitwise); each loss name and config gives the core Keras loss of
 * ts/losses.ts on the same batch (evaluate, with and without sample weights, and one
 * trainOnBatch, loss and parameters, bitwise).
 */
import assert from 'node:assert/strict';
import type { Backend } from '../../ts/backends/backend.js';
import {
  ACTIVATIONS,
  binaryCrossentropy,
  categoricalCrossentropy,
  Dense,
  huber,
  layers,
  meanAbsoluteError,
  meanSquaredError,
  SGD,
  sequential,
  sparseCategoricalCrossentropy,
  tensor,
  type ActivationName,
  type DenseLayer,
  type LossConfig,
  type LossResult,
  type Sequential,
} from '../../ts/index.js';
import { forEachBackend } from '../backends.js';
import { rng, uniform } from '../util.js';

/** Every Dense activation name the model API takes, and the core activation it must give. */
const ACTIVATION_NAMES: [string, ActivationName][] = [
  ['linear', 'linear'],
  ['relu', 'relu'],
  ['sigmoid', 'sigmoid'],
  ['tanh', 'tanh'],
  ['softmax', 'softmax'],
  ['gelu', 'gelu'],
  ['geluTanh', 'geluTanh'],
  ['gelu_new', 'geluTanh'], // tfjs's name of the tanh approximation
  ['elu', 'elu'],
  ['selu', 'selu'],
  ['softplus', 'softplus'],
  ['hard_sigmoid', 'hardSigmoid'], // Keras 3's relu6(x + 3) / 6
  ['hardSigmoid', 'hardSigmoid'],
  ['hardSigmoidKeras2', 'hardSigmoidKeras2'],
];

/** A core Dense with the same parameters as a model's Dense layer. */
function twinOf(layer: DenseLayer, activation: ActivationName, backend: Backend): Dense {
  const c = layer.core;
  const twin = new Dense({
    inFeatures: c.inFeatures,
    outFeatures: c.outFeatures,
    activation,
    backend,
  });
  twin.loadStateDict(c.stateDict());
  return twin;
}

function params(model: Sequential): Float32Array[] {
  return model.layers.flatMap((l) =>
    l.trainables().flatMap((t) => t.parameterNames().map((n) => t.getParameter(n))),
  );
}

const [N, T, F, K] = [6, 3, 4, 5];

forEachBackend('models: activation names', (backend) => {
  it('every core activation is reachable by a name', () => {
    assert.deepEqual(
      new Set(ACTIVATION_NAMES.map(([, core]) => core)),
      new Set(Object.keys(ACTIVATIONS)),
    );
    assert.equal(layers.dense({ units: 1 }).activation, 'linear');
    assert.equal(layers.dense({ units: 1, activation: null as never }).activation, 'linear');
  });

  for (const [name, core] of ACTIVATION_NAMES) {
    it(`'${name}': predict per step equals the core Dense with '${core}', and a training step through it equals the core's, bitwise`, async () => {
      const x = uniform(N * T * F, -2, 2, rng(1));
      const y = uniform(N * T * 2, -1, 1, rng(2));
      const model = sequential({
        seed: 3,
        backend,
        layers: [
          layers.dense({ units: K, activation: name, inputShape: [T, F] }),
          layers.dense({ units: 2 }),
        ],
      });
      const [hidden, head] = model.layers as [DenseLayer, DenseLayer];
      const twins = [twinOf(hidden, core, backend), twinOf(head, 'linear', backend)] as const;
      const alone = sequential({ backend, layers: [layers.dense({ units: K, activation: name })] });
      try {
        assert.equal(hidden.activation, core);
        assert.equal(hidden.core.activation, core);
        alone.build([null, T, F]);
        (alone.layers[0] as DenseLayer).core.loadStateDict(hidden.core.stateDict());
        const predicted = alone.predict(tensor(x, [N, T, F]));
        assert.deepEqual(predicted.shape, [N, T, K]);
        assert.deepEqual(predicted.data, twins[0].forward(x));

        model.compile({ optimizer: { name: 'sgd', learningRate: 0.1 }, loss: 'mse' });
        const opt = new SGD([...twins], { lr: 0.1 });
        opt.zeroGrad();
        const out = twins[1].forward(twins[0].forward(x, { train: true }), { train: true });
        const { loss, grad } = meanSquaredError(y, out, { backend });
        twins[0].backward(twins[1].backward(grad));
        opt.step();
        assert.equal(await model.trainOnBatch(tensor(x, [N, T, F]), tensor(y, [N, T, 2])), loss);
        assert.deepEqual(params(model), [
          ...twins.flatMap((t) => t.parameterNames().map((p) => t.getParameter(p))),
        ]);
        opt.dispose();
      } finally {
        model.dispose();
        alone.dispose();
        twins.forEach((t) => t.dispose());
      }
    });
  }
});

interface LossCase {
  loss: LossConfig;
  /** The last layer's activation. */
  activation: string;
  /** y for N samples (per-sample shape yShape), int32 ids or float32. */
  y: () => Float32Array | Int32Array;
  yShape: number[];
  /** The core function, as ts/losses.ts offers it. */
  core: (
    y: Float32Array | Int32Array,
    pred: Float32Array,
    o: { backend: Backend; sampleWeight?: Float32Array },
  ) => LossResult;
}

const rand = rng(9);
const oneHot = (): Float32Array => {
  const t = new Float32Array(N * K);
  for (let i = 0; i < N; i++) t[i * K + Math.floor(rand() * K)] = 1;
  return t;
};
const ids = (): Int32Array => Int32Array.from({ length: N }, () => Math.floor(rand() * K));
const bits = (): Float32Array => Float32Array.from({ length: N * K }, () => (rand() < 0.5 ? 0 : 1));
const values = (): Float32Array => uniform(N * K, -2, 2, rand);

const cat = (fromLogits: boolean): LossCase['core'] => {
  return (y, p, o) =>
    categoricalCrossentropy(y as Float32Array, p, { classes: K, fromLogits, ...o });
};
const sparse = (fromLogits: boolean): LossCase['core'] => {
  return (y, p, o) =>
    sparseCategoricalCrossentropy(y as Int32Array, p, { classes: K, fromLogits, ...o });
};
const bin = (fromLogits: boolean): LossCase['core'] => {
  return (y, p, o) => binaryCrossentropy(y as Float32Array, p, { fromLogits, ...o });
};

const LOSS_CASES: LossCase[] = [
  {
    loss: 'categoricalCrossentropy',
    activation: 'softmax',
    y: oneHot,
    yShape: [K],
    core: cat(false),
  },
  {
    loss: 'categorical_crossentropy',
    activation: 'softmax',
    y: oneHot,
    yShape: [K],
    core: cat(false),
  },
  {
    loss: { name: 'categoricalCrossentropy', fromLogits: true },
    activation: 'linear',
    y: oneHot,
    yShape: [K],
    core: cat(true),
  },
  {
    loss: 'sparseCategoricalCrossentropy',
    activation: 'softmax',
    y: ids,
    yShape: [],
    core: sparse(false),
  },
  {
    loss: 'sparse_categorical_crossentropy',
    activation: 'softmax',
    y: ids,
    yShape: [1],
    core: sparse(false),
  },
  {
    loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true },
    activation: 'linear',
    y: ids,
    yShape: [],
    core: sparse(true),
  },
  { loss: 'binaryCrossentropy', activation: 'sigmoid', y: bits, yShape: [K], core: bin(false) },
  { loss: 'bce', activation: 'sigmoid', y: bits, yShape: [K], core: bin(false) },
  {
    loss: { name: 'binary_crossentropy', fromLogits: true },
    activation: 'linear',
    y: bits,
    yShape: [K],
    core: bin(true),
  },
  {
    loss: 'meanSquaredError',
    activation: 'linear',
    y: values,
    yShape: [K],
    core: (y, p, o) => meanSquaredError(y as Float32Array, p, o),
  },
  {
    loss: 'mse',
    activation: 'tanh',
    y: values,
    yShape: [K],
    core: (y, p, o) => meanSquaredError(y as Float32Array, p, o),
  },
  {
    loss: 'meanAbsoluteError',
    activation: 'linear',
    y: values,
    yShape: [K],
    core: (y, p, o) => meanAbsoluteError(y as Float32Array, p, o),
  },
  {
    loss: 'mae',
    activation: 'linear',
    y: values,
    yShape: [K],
    core: (y, p, o) => meanAbsoluteError(y as Float32Array, p, o),
  },
  {
    loss: 'huber',
    activation: 'linear',
    y: values,
    yShape: [K],
    core: (y, p, o) => huber(y as Float32Array, p, o),
  },
  {
    loss: { name: 'huber', delta: 0.3 },
    activation: 'linear',
    y: values,
    yShape: [K],
    core: (y, p, o) => huber(y as Float32Array, p, { delta: 0.3, ...o }),
  },
];

forEachBackend('models: loss names', (backend) => {
  for (const c of LOSS_CASES) {
    it(`${JSON.stringify(c.loss)} after '${c.activation}': evaluate (with and without sampleWeight) and trainOnBatch equal the core loss, bitwise`, async () => {
      const x = uniform(N * F, -2, 2, rng(11));
      const y = c.y();
      const w = Float32Array.from({ length: N }, (_, i) => (i % 3) * 0.75);
      const make = () =>
        sequential({
          seed: 12,
          backend,
          layers: [layers.dense({ units: K, activation: c.activation, inputShape: [F] })],
        });
      const model = make();
      const layer = model.layers[0] as DenseLayer;
      const twin = twinOf(layer, layer.activation, backend);
      try {
        model.compile({ optimizer: { name: 'sgd', learningRate: 0.2 }, loss: c.loss });
        const xs = tensor(x, [N, F]);
        const ys = tensor(y, [N, ...c.yShape]);
        const pred = twin.forward(x);
        assert.equal(model.evaluate(xs, ys, { batchSize: N }), c.core(y, pred, { backend }).loss);
        assert.equal(
          model.evaluate(xs, ys, { batchSize: N, sampleWeight: tensor(w) }),
          c.core(y, pred, { backend, sampleWeight: w }).loss,
        );
        const opt = new SGD([twin], { lr: 0.2 });
        opt.zeroGrad();
        const { loss, grad } = c.core(y, twin.forward(x, { train: true }), {
          backend,
          sampleWeight: w,
        });
        twin.backward(grad);
        opt.step();
        assert.equal(await model.trainOnBatch(xs, ys, { sampleWeight: w }), loss);
        assert.deepEqual(params(model), [twin.getParameter('weight'), twin.getParameter('bias')]);
        opt.dispose();
      } finally {
        model.dispose();
        twin.dispose();
      }
    });
  }

  it('per step: sparse categorical cross-entropy on a softmax per step, weights per sample or per step, equals the core loss bitwise', () => {
    const x = uniform(N * T * F, -2, 2, rng(21));
    const labels = Int32Array.from({ length: N * T }, (_, i) => (i * 7) % K);
    const model = sequential({
      seed: 22,
      backend,
      layers: [layers.dense({ units: K, activation: 'softmax', inputShape: [T, F] })],
    });
    const twin = twinOf(model.layers[0] as DenseLayer, 'softmax', backend);
    try {
      model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
      const pred = twin.forward(x);
      const core = (sampleWeight?: Float32Array) =>
        sparseCategoricalCrossentropy(labels, pred, { classes: K, backend, sampleWeight }).loss;
      const xs = tensor(x, [N, T, F]);
      const ys = tensor(labels, [N, T]);
      const perSample = uniform(N, 0, 2, rng(23));
      const perStep = uniform(N * T, 0, 2, rng(24));
      assert.equal(model.evaluate(xs, ys, { batchSize: N }), core());
      assert.equal(
        model.evaluate(xs, ys, { batchSize: N, sampleWeight: tensor(perSample, [N]) }),
        core(perSample),
      );
      assert.equal(
        model.evaluate(xs, ys, { batchSize: N, sampleWeight: tensor(perStep, [N, T]) }),
        core(perStep),
      );
      assert.equal(
        model.evaluate(xs, ys, { batchSize: N, sampleWeight: tensor(perStep, [N, T, 1]) }),
        core(perStep),
      );
    } finally {
      model.dispose();
      twin.dispose();
    }
  });
});
