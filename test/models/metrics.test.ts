/**
 * compile()'s metrics, on every backend: each name resolves to the core metric Keras 3 would use
 * ('accuracy' from the shapes), and its value in evaluate() (a list, or a dict with returnDict),
 * trainOnBatch(), and fit()'s History (per epoch, and val_ with validation data) equals the core
 * Metric updated with the same batches of the core Dense's outputs, bitwise (during fit, with
 * the parameters the model has before each batch's step).
 */
import assert from 'node:assert/strict';
import {
  Dense,
  layers,
  Metric,
  metrics,
  sequential,
  tensor,
  type DenseLayer,
  type LossConfig,
  type MetricConfig,
  type MetricName,
} from '../../ts/index.js';
import { forEachBackend } from '../backends.js';
import { assertThrowsCode, rng, uniform } from '../util.js';

const [N, T, F, K, B] = [10, 3, 4, 3, 4];

interface MetricCase {
  title: string;
  loss: LossConfig;
  activation: string;
  units: number;
  /** Per-sample input shape. */
  input: number[];
  y: Float32Array | Int32Array;
  yShape: number[];
  /** [name or config given to compile, the core metric it must be]. */
  metrics: [string | MetricConfig, MetricName][];
}

/** A metric's key in logs: the name given, or its config's name (default: its metric). */
const keyOf = (m: string | MetricConfig): string =>
  typeof m === 'string' ? m : (m.name ?? m.metric);
/** A config's options for the reference Metric. */
const optionsOf = (m: string | MetricConfig): Record<string, unknown> => {
  if (typeof m === 'string') return {};
  const { metric: _m, name: _n, ...options } = m;
  return options;
};

const rand = rng(5);
const bits = (n: number) => Float32Array.from({ length: n }, () => (rand() < 0.5 ? 0 : 1));
const ids = (n: number) => Int32Array.from({ length: n }, () => Math.floor(rand() * K));
const oneHot = (n: number) => {
  const t = new Float32Array(n * K);
  for (let i = 0; i < n; i++) t[i * K + Math.floor(rand() * K)] = 1;
  return t;
};

const CASES: MetricCase[] = [
  {
    title: 'binaryCrossentropy, one sigmoid output',
    loss: 'binaryCrossentropy',
    activation: 'sigmoid',
    units: 1,
    input: [F],
    y: bits(N),
    yShape: [1],
    metrics: [
      ['accuracy', 'binaryAccuracy'],
      ['binaryAccuracy', 'binaryAccuracy'],
      ['precision', 'precision'],
      ['recall', 'recall'],
      ['mae', 'meanAbsoluteError'],
      ['mse', 'meanSquaredError'],
      ['auc', 'auc'],
      [metrics.auc({ curve: 'PR', name: 'pr_auc', numThresholds: 50 }), 'auc'],
      [metrics.precision({ threshold: 0.3, name: 'precision_at_0.3' }), 'precision'],
      [{ metric: 'AUC', summationMethod: 'minoring' }, 'auc'],
    ],
  },
  {
    title: 'sparseCategoricalCrossentropy, ids [samples]',
    loss: 'sparseCategoricalCrossentropy',
    activation: 'softmax',
    units: K,
    input: [F],
    y: ids(N),
    yShape: [],
    metrics: [
      ['acc', 'sparseCategoricalAccuracy'],
      ['sparse_categorical_accuracy', 'sparseCategoricalAccuracy'],
    ],
  },
  {
    title: 'sparseCategoricalCrossentropy, ids [samples, 1]',
    loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true },
    activation: 'linear',
    units: K,
    input: [F],
    y: ids(N),
    yShape: [1],
    metrics: [['accuracy', 'sparseCategoricalAccuracy']],
  },
  {
    title: 'categoricalCrossentropy, one-hot',
    loss: 'categoricalCrossentropy',
    activation: 'softmax',
    units: K,
    input: [F],
    y: oneHot(N),
    yShape: [K],
    metrics: [
      ['accuracy', 'categoricalAccuracy'],
      ['categoricalAccuracy', 'categoricalAccuracy'],
      ['precision', 'precision'],
      ['recall', 'recall'],
      ['meanSquaredError', 'meanSquaredError'],
    ],
  },
  {
    // Keras 3 chooses from the shapes, not the loss: K > 1 outputs, y of their shape.
    title: 'binaryCrossentropy, K sigmoid outputs (multi-label)',
    loss: 'binaryCrossentropy',
    activation: 'sigmoid',
    units: K,
    input: [F],
    y: bits(N * K),
    yShape: [K],
    metrics: [
      ['accuracy', 'categoricalAccuracy'],
      ['binaryAccuracy', 'binaryAccuracy'],
      ['meanAbsoluteError', 'meanAbsoluteError'],
    ],
  },
  {
    title: 'sparseCategoricalCrossentropy per step, ids [samples, steps]',
    loss: 'sparseCategoricalCrossentropy',
    activation: 'softmax',
    units: K,
    input: [T, F],
    y: ids(N * T),
    yShape: [T],
    metrics: [['accuracy', 'sparseCategoricalAccuracy']],
  },
];

forEachBackend('models: metrics', (backend) => {
  for (const c of CASES) {
    it(`${c.title}: ${c.metrics.map(([n, m]) => `'${keyOf(n)}' -> ${m}`).join(', ')}; evaluate, trainOnBatch and fit's History equal the core metrics, bitwise`, async () => {
      const x = uniform(N * c.input.reduce((a, b) => a * b, 1), -2, 2, rng(6));
      const xs = tensor(x, [N, ...c.input]);
      const ys = tensor(c.y, [N, ...c.yShape]);
      const model = sequential({
        seed: 7,
        backend,
        layers: [layers.dense({ units: c.units, activation: c.activation, inputShape: c.input })],
      });
      const core = (model.layers[0] as DenseLayer).core;
      const twin = new Dense({
        inFeatures: F,
        outFeatures: c.units,
        activation: core.activation,
        backend,
      });
      twin.loadStateDict(core.stateDict());
      try {
        const names = c.metrics.map(([n]) => keyOf(n));
        model.compile({
          optimizer: { name: 'sgd', learningRate: 0.5 },
          loss: c.loss,
          metrics: c.metrics.map(([n]) => n),
        });
        assert.deepEqual(model.metricsNames, ['loss', ...names]);
        // The reference: core Metrics updated with batches of the core Dense's output, its
        // parameters copied from the model's first.
        const xRow = x.length / N;
        const yRow = c.y.length / N;
        const fresh = () =>
          c.metrics.map(([given, m]) => {
            const categorical = m === 'categoricalAccuracy' || m === 'sparseCategoricalAccuracy';
            return new Metric(m, {
              ...optionsOf(given),
              backend,
              ...(categorical ? { classes: c.units } : {}),
            });
          });
        const update = (ms: Metric[], s: number, e: number): void => {
          twin.loadStateDict(core.stateDict());
          const pred = twin.forward(x.subarray(s * xRow, e * xRow));
          for (const m of ms) m.update(c.y.subarray(s * yRow, e * yRow), pred);
        };
        const reference = (batch: number): number[] => {
          const ms = fresh();
          for (let s = 0; s < N; s += batch) update(ms, s, Math.min(N, s + batch));
          return ms.map((m) => m.result());
        };
        const values = reference(B);
        const evaluated = model.evaluate(xs, ys, { batchSize: B }) as number[];
        assert.deepEqual(evaluated.slice(1), values);
        const dict = model.evaluate(xs, ys, { batchSize: B, returnDict: true });
        assert.deepEqual(
          dict,
          Object.fromEntries(model.metricsNames.map((n, i) => [n, evaluated[i]])),
        );
        // Not weighted by sample weights (Keras 3's metrics); the loss is.
        const w = Float32Array.from({ length: N }, (_, i) => i % 2);
        const weighted = model.evaluate(xs, ys, { batchSize: B, sampleWeight: w }) as number[];
        assert.deepEqual(weighted.slice(1), values);
        assert.notEqual(weighted[0], evaluated[0]);

        // One step: the metrics of that batch, from the outputs before the step.
        const once = reference(N);
        const step = (await model.trainOnBatch(xs, ys)) as number[];
        assert.deepEqual(step.slice(1), once);

        // fit: each batch's training forward comes before its step, so the reference reads the
        // parameters at onBatchBegin; val_ after the epoch's last step.
        let running: Metric[] = [];
        const epochs: number[][] = [];
        const h = await model.fit(xs, ys, {
          epochs: 2,
          batchSize: B,
          shuffle: false,
          verbose: 0,
          validationData: [xs, ys],
          callbacks: {
            onEpochBegin: () => void (running = fresh()),
            onBatchBegin: (b) => update(running, b * B, Math.min(N, b * B + B)),
            onEpochEnd: () => {
              const val = model.evaluate(xs, ys, { batchSize: B }) as number[];
              epochs.push([...running.map((m) => m.result()), ...val]);
            },
          },
        });
        assert.deepEqual(Object.keys(h.history), [
          'loss',
          ...names,
          'val_loss',
          ...names.map((n) => `val_${n}`),
        ]);
        names.forEach((n, i) => {
          assert.deepEqual(h.history[n], [epochs[0]![i], epochs[1]![i]], n);
          const v = names.length + 1 + i;
          assert.deepEqual(h.history[`val_${n}`], [epochs[0]![v], epochs[1]![v]], `val_${n}`);
        });
        const l = names.length;
        assert.deepEqual(h.history.val_loss, [epochs[0]![l], epochs[1]![l]]);
      } finally {
        model.dispose();
        twin.dispose();
      }
    });
  }

  it('onBatchEnd logs carry the running metrics; a metric that cannot read the targets is refused before any step', async () => {
    const x = uniform(N * F, -1, 1, rng(8));
    const model = sequential({
      seed: 9,
      backend,
      layers: [layers.dense({ units: K, activation: 'softmax', inputShape: [F] })],
    });
    try {
      model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['acc'] });
      const seen: number[] = [];
      const h = await model.fit(tensor(x, [N, F]), tensor(oneHot(N), [N, K]), {
        batchSize: 3,
        verbose: 0,
        callbacks: { onBatchEnd: (_b, logs) => void seen.push(logs!.acc!) },
      });
      assert.equal(seen.length, 4);
      assert.equal(seen[3], h.history.acc![0]);

      const before = model.layers[0]!.trainables()[0]!.getParameter('weight');
      model.compile({
        optimizer: 'adam',
        loss: 'categoricalCrossentropy',
        metrics: ['sparseCategoricalAccuracy'],
      });
      await assert.rejects(model.fit(tensor(x, [N, F]), tensor(oneHot(N), [N, K])), (e: Error) => {
        assert.match(e.message, /'sparseCategoricalAccuracy' .* needs integer class ids/);
        return (e as { code?: string }).code === 'ERR_GRU_ARG';
      });
      assert.deepEqual(model.layers[0]!.trainables()[0]!.getParameter('weight'), before);
      model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['mae'] });
      assertThrowsCode(
        () => model.evaluate(tensor(x, [N, F]), tensor(ids(N), [N])),
        'ERR_GRU_ARG',
        ["metric 'mae' (meanAbsoluteError) needs y of the output's shape", "'accuracy'"],
      );
      model.compile({ optimizer: 'adam', loss: 'mse' });
      assert.equal(typeof model.evaluate(tensor(x, [N, F]), tensor(oneHot(N), [N, K])), 'number');
      assert.deepEqual(model.metricsNames, ['loss']);
    } finally {
      model.dispose();
    }
  });
});
