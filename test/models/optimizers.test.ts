/**
 * compile()'s optimizers at the model level, against Keras 3 itself (JAX backend), on every
 * backend: a Sequential GRU -> Dense (mse) compiled with each optimizer name (options, a
 * schedule, clipping) and fit for 20 steps (batch 4 of 8 samples, 10 epochs, no shuffling) from
 * the same weights as Keras's (test/fixtures/optim-keras.json, written by
 * scripts/gen-optim-fixtures.py: Keras's GRU weights converted to the core's layout and gate
 * order). The weights after fit must agree within 1e-4 relative, and the loss of every epoch.
 * Also: compile()'s optimizer options refused with a GruError naming them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  layers,
  schedules,
  sequential,
  tensor,
  type DenseLayer,
  type GRULayer,
  type OptimizerConfig,
  type Sequential,
} from '../../ts/index.js';
import type { Backend } from '../../ts/backends/backend.js';
import { forEachBackend } from '../backends.js';
import { relativeError, RELATIVE } from '../optim-compare.js';
import { assertThrowsCode } from '../util.js';

interface ModelCase {
  optimizer: string;
  options: Record<string, unknown>;
  /** weight_ih, weight_hh, bias_ih, bias_hh of the GRU; weight, bias of the Dense. */
  weights: number[][];
  x: number[];
  y: number[];
  loss: number[];
  weightsAfter: number[][];
}

const FIXTURE: {
  keras: string;
  model: {
    samples: number;
    steps: number;
    features: number;
    units: number;
    outputs: number;
    batchSize: number;
    epochs: number;
    cases: ModelCase[];
  };
} = JSON.parse(readFileSync(new URL('../fixtures/optim-keras.json', import.meta.url), 'utf8'));
const M = FIXTURE.model;
const GRU_NAMES = ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0'];

function tensorsOf(
  model: Sequential,
): [
  { setParameter: (n: string, d: Float32Array) => void; getParameter: (n: string) => Float32Array },
  string,
][] {
  const gru = (model.layers[0] as GRULayer).core;
  const dense = (model.layers[1] as DenseLayer).core;
  return [
    ...GRU_NAMES.map((n): [typeof gru, string] => [gru, n]),
    [dense, 'weight'],
    [dense, 'bias'],
  ];
}

function build(backend: Backend): Sequential {
  return sequential({
    backend,
    layers: [
      layers.gru({ units: M.units, inputShape: [M.steps, M.features] }),
      layers.dense({ units: M.outputs }),
    ],
  });
}

const worst: Record<string, number> = {};

forEachBackend(
  `compile() optimizers: GRU -> Dense fit 20 steps against Keras ${FIXTURE.keras}`,
  (backend) => {
    for (const c of M.cases) {
      it(`${c.optimizer} ${JSON.stringify(c.options)}`, async () => {
        const model = build(backend);
        try {
          tensorsOf(model).forEach(([layer, name], i) =>
            layer.setParameter(name, Float32Array.from(c.weights[i]!)),
          );
          model.compile({
            optimizer: { name: c.optimizer, ...c.options } as OptimizerConfig,
            loss: 'mse',
          });
          const x = tensor(Float32Array.from(c.x), [M.samples, M.steps, M.features]);
          const y = tensor(Float32Array.from(c.y), [M.samples, M.outputs]);
          const history = await model.fit(x, y, {
            batchSize: M.batchSize,
            epochs: M.epochs,
            shuffle: false,
            verbose: 0,
          });
          const lossErr = relativeError(history.history.loss as number[], c.loss);
          assert.ok(lossErr <= RELATIVE, `epoch losses: relative error ${lossErr}`);
          tensorsOf(model).forEach(([layer, name], i) => {
            const err = relativeError(layer.getParameter(name), c.weightsAfter[i]!);
            worst[c.optimizer] = Math.max(worst[c.optimizer] ?? 0, err);
            assert.ok(err <= RELATIVE, `${name}: relative error ${err} > ${RELATIVE}`);
          });
        } finally {
          model.dispose();
        }
      });
    }

    it('a GRU with resetAfter false: its zero bias_hh stays out of globalClipnorm', async () => {
      // Two identical models but for the clipping threshold: one far above every gradient norm
      // (no clipping) and one far below; with bias_hh counted, a huge bias_hh gradient would
      // shrink the other gradients' share. Here: the clipped model's step is the unclipped one's
      // scaled by the same factor on every Keras tensor (SGD without momentum: the step is lr g).
      const steps: Float32Array[][] = [];
      for (const clip of [1e6, 1e-3]) {
        const model = sequential({
          backend,
          seed: 3,
          layers: [
            layers.gru({ units: 3, inputShape: [4, 2], resetAfter: false }),
            layers.dense({ units: 1 }),
          ],
        });
        model.compile({
          optimizer: { name: 'sgd', learningRate: 1, globalClipnorm: clip },
          loss: 'mse',
        });
        const before = tensorsOf(model).map(([l, n]) => l.getParameter(n));
        const x = tensor(
          Float32Array.from({ length: 16 }, (_, i) => Math.sin(i)),
          [2, 4, 2],
        );
        await model.trainOnBatch(x, tensor(Float32Array.of(5, -5), [2, 1]));
        steps.push(
          tensorsOf(model).map(([l, n], i) => {
            const after = l.getParameter(n);
            return after.map((v, j) => before[i]![j]! - v);
          }),
        );
        model.dispose();
      }
      const [free, clipped] = steps as [Float32Array[], Float32Array[]];
      const norm = (ts: Float32Array[]): number =>
        Math.sqrt(ts.reduce((s, t, i) => (i === 3 ? s : s + t.reduce((a, v) => a + v * v, 0)), 0));
      assert.ok(norm(free) > 1e-2, 'the unclipped step is not negligible');
      assert.ok(Math.abs(norm(clipped) - 1e-3) < 1e-6, `clipped norm ${norm(clipped)} is not 1e-3`);
      assert.ok(
        clipped[3]!.every((v) => v === 0),
        'bias_hh stays zero',
      );
    });

    it('refuses bad optimizer options with a GruError naming them', () => {
      const model = build(backend);
      const refuse = (optimizer: unknown, ...parts: string[]): void =>
        assertThrowsCode(
          () => model.compile({ optimizer: optimizer as OptimizerConfig, loss: 'mse' }),
          'ERR_GRU_ARG',
          parts,
        );
      try {
        refuse({ name: 'rmsprop', rho: 1.5 }, 'rho');
        refuse({ name: 'rmsprop', momentum: -1 }, 'momentum');
        refuse({ name: 'rmsprop', centered: 'yes' }, 'centered');
        refuse({ name: 'rmsprop', alpha: 0.9 }, 'alpha');
        refuse({ name: 'adagrad', initialAccumulatorValue: -0.1 }, 'initialAccumulatorValue');
        refuse({ name: 'adagrad', epsilon: Number.NaN }, 'epsilon');
        refuse({ name: 'sgd', momentum: 2 }, 'momentum');
        refuse({ name: 'sgd', weightDecay: -1 }, 'weightDecay');
        refuse({ name: 'adam', beta1: 1 }, 'beta1');
        refuse({ name: 'adam', clipnorm: 0 }, 'clipnorm');
        refuse({ name: 'adam', clipvalue: -1 }, 'clipvalue');
        refuse({ name: 'adam', globalClipnorm: Infinity }, 'globalClipnorm');
        refuse({ name: 'adam', clipnorm: 1, clipvalue: 1 }, 'at most one of clipnorm');
        refuse({ name: 'adam', useEma: true }, 'useEma', 'not available');
        refuse({ name: 'adam', learningRate: { className: 'StepDecay', config: {} } }, 'className');
        refuse({ name: 'adam', learningRate: 'fast' }, 'learningRate');
        refuse(
          {
            name: 'adam',
            learningRate: { className: 'ExponentialDecay', config: { decaySteps: 1 } },
          },
          'initialLearningRate',
        );
        refuse(
          {
            name: 'adam',
            learningRate: {
              className: 'PiecewiseConstantDecay',
              config: { boundaries: [2, 1], values: [1, 2, 3] },
            },
          },
          'boundaries must increase',
        );
        assertThrowsCode(
          () =>
            schedules.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 0, decayRate: 0.5 }),
          'ERR_GRU_ARG',
          ['decaySteps'],
        );
        assertThrowsCode(
          () => schedules.piecewiseConstantDecay({ boundaries: [1], values: [1] }),
          'ERR_GRU_ARG',
          ['values'],
        );
        assertThrowsCode(
          () => schedules.cosineDecay({ initialLearningRate: 0.1, decaySteps: 10, alpha: 2 }),
          'ERR_GRU_ARG',
          ['alpha'],
        );
        assertThrowsCode(
          () =>
            schedules.inverseTimeDecay({
              initialLearningRate: 0.1,
              decaySteps: 10,
              decayRate: 1,
              extra: 1,
            } as never),
          'ERR_GRU_ARG',
          ['extra'],
        );
      } finally {
        model.dispose();
      }
    });
  },
);

describe('schedules', () => {
  it("are Keras's serialized form, frozen, with defaults filled in", () => {
    const s = schedules.exponentialDecay({
      initialLearningRate: 0.1,
      decaySteps: 5,
      decayRate: 0.5,
    });
    assert.deepEqual(s, {
      className: 'ExponentialDecay',
      config: { initialLearningRate: 0.1, decaySteps: 5, decayRate: 0.5, staircase: false },
    });
    assert.ok(Object.isFrozen(s) && Object.isFrozen(s.config));
    assert.equal(
      schedules.cosineDecay({ initialLearningRate: 1, decaySteps: 2 }).className,
      'CosineDecay',
    );
    assert.equal(
      schedules.piecewiseConstantDecay({ boundaries: [1], values: [1, 0.5] }).className,
      'PiecewiseConstantDecay',
    );
    assert.equal(
      schedules.inverseTimeDecay({ initialLearningRate: 1, decaySteps: 2, decayRate: 1 }).className,
      'InverseTimeDecay',
    );
  });
});

after(() => {
  const rows = Object.entries(worst).map(([k, v]) => `${k}: ${v.toExponential(2)}`);
  if (rows.length > 0)
    console.log(`      max relative error of the weights after fit: ${rows.join(', ')}`);
});
