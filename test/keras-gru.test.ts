/**
 * The GRU's activations against Keras 3 itself (JAX backend), on every backend and ISA:
 * test/fixtures/keras-gru.json, written by scripts/gen-keras-gru-fixtures.py (its header says
 * how to regenerate it), holds Keras GRU layers with each activation (tanh, relu) and
 * recurrent_activation (sigmoid, hard_sigmoid, Keras 2's hard sigmoid), reset_after true and
 * false, their weights in the core's layout, an input and Keras's outputs. The core GRU given
 * the same options and weights must agree within 1e-5. Also: the options' validation in the
 * facade and in the core (gru_net_set_activations).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  GRU,
  layers,
  sequential,
  tensor,
  type GRUActivation,
  type GRULayer,
  type GRURecurrentActivation,
} from '../ts/index.js';
import {
  GRU_ACT_HARD_SIGMOID,
  GRU_ACT_RELU,
  GRU_ACT_SIGMOID,
  GRU_ACT_SOFTMAX,
  GRU_ACT_TANH,
} from '../ts/backends/abi.generated.js';
import { forEachBackend, forEachIsa } from './backends.js';

interface Case {
  activation: string;
  recurrentActivation: string;
  resetAfter: boolean;
  x: number[];
  weight_ih_l0: number[];
  weight_hh_l0: number[];
  bias_ih_l0: number[];
  bias_hh_l0: number[];
  output: number[];
  state: number[];
}

export const KERAS_GRU: {
  keras: string;
  batch: number;
  steps: number;
  features: number;
  units: number;
  cases: Case[];
} = JSON.parse(readFileSync(new URL('./fixtures/keras-gru.json', import.meta.url), 'utf8'));

/** Keras's snake_case names -> GRUOptions'. */
export const RECURRENT: Record<string, GRURecurrentActivation> = {
  sigmoid: 'sigmoid',
  hard_sigmoid: 'hardSigmoid',
  hard_sigmoid_keras2: 'hardSigmoidKeras2',
};

/** max |a - k|, asserting each |a - k| <= 1e-5 (1 + |k|). */
export function within1e5(actual: ArrayLike<number>, keras: readonly number[], what: string) {
  assert.equal(actual.length, keras.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < keras.length; i++) {
    const d = Math.abs(actual[i]! - keras[i]!);
    worst = Math.max(worst, d);
    assert.ok(
      d <= 1e-5 * (1 + Math.abs(keras[i]!)),
      `${what}[${i}]: ${actual[i]} vs Keras ${keras[i]}`,
    );
  }
  return worst;
}

export const caseTitle = (c: Case) =>
  `activation ${c.activation}, recurrent_activation ${c.recurrentActivation}, reset_after ${c.resetAfter}`;

const worstByCase = new Map<string, number>();

forEachBackend(`GRU activations against Keras ${KERAS_GRU.keras} (JAX)`, (backend) => {
  const { batch, units } = KERAS_GRU;
  forEachIsa(backend, (isa) => {
    for (const c of KERAS_GRU.cases) {
      it(`${caseTitle(c)}: output sequence and state within 1e-5`, () => {
        const gru = new GRU({
          inputSize: KERAS_GRU.features,
          hiddenSize: units,
          batchFirst: true,
          resetAfter: c.resetAfter,
          activation: c.activation as GRUActivation,
          recurrentActivation: RECURRENT[c.recurrentActivation],
          backend,
        });
        try {
          for (const name of ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0'] as const)
            gru.setParameter(name, Float32Array.from(c[name]));
          const r = gru.forward(Float32Array.from(c.x), { batch });
          const worst = Math.max(
            within1e5(r.output!, c.output, 'output'),
            within1e5(r.hN, c.state, 'state'),
          );
          const key = `${backend.name}/${isa} ${caseTitle(c)}`;
          worstByCase.set(key, Math.max(worstByCase.get(key) ?? 0, worst));
        } finally {
          gru.dispose();
        }
      });
    }
  });

  it('activation and recurrentActivation are checked by name (ERR_GRU_ARG naming the option)', () => {
    const base = { inputSize: 2, hiddenSize: 3, backend };
    for (const [key, value] of [
      ['activation', 'sigmoid'],
      ['activation', 'Relu'],
      ['activation', 3],
      ['recurrentActivation', 'hard_sigmoid'],
      ['recurrentActivation', 'tanh'],
      ['recurrentActivation', null],
    ] as const) {
      assert.throws(
        () => new GRU({ ...base, [key]: value } as never),
        (e: unknown) => {
          const err = e as { code?: string; message: string };
          return err.code === 'ERR_GRU_ARG' && err.message.startsWith(`${key} must be one of`);
        },
        `${key}: ${String(value)}`,
      );
    }
    const g = new GRU({ ...base, activation: 'relu', recurrentActivation: 'hardSigmoidKeras2' });
    assert.equal(g.activation, 'relu');
    assert.equal(g.recurrentActivation, 'hardSigmoidKeras2');
    g.dispose();
  });

  it('the core refuses other kinds (GRU_ERR_ARG) and keeps the activations it had', () => {
    const gru = new GRU({ inputSize: 2, hiddenSize: 3, backend, seed: 3 });
    try {
      const x = Float32Array.from([0.5, -1, 2, 0.25, -0.75, 1.5]);
      const before = gru.forward(x).output!;
      const net = gru._handle();
      for (const [a, r] of [
        [GRU_ACT_SIGMOID, GRU_ACT_SIGMOID],
        [GRU_ACT_SOFTMAX, GRU_ACT_SIGMOID],
        [GRU_ACT_TANH, GRU_ACT_TANH],
        [GRU_ACT_TANH, GRU_ACT_RELU],
        [GRU_ACT_TANH, 99],
        [-1, GRU_ACT_SIGMOID],
      ]) {
        assert.throws(
          () => backend.netSetActivations(net, a!, r!),
          (e: unknown) => (e as { code?: string }).code === 'ERR_GRU_ARG',
          `kinds ${a}, ${r}`,
        );
      }
      assert.deepEqual(gru.forward(x).output, before, 'unchanged after the refusals');
      backend.netSetActivations(net, GRU_ACT_RELU, GRU_ACT_HARD_SIGMOID);
      assert.notDeepEqual(gru.forward(x).output, before, 'changed by a valid call');
    } finally {
      gru.dispose();
    }
  });

  it('changing the activations drops the last training forward: backward is ERR_GRU_STATE', () => {
    const gru = new GRU({ inputSize: 2, hiddenSize: 3, backend, seed: 4 });
    try {
      gru.forward(Float32Array.from([1, 2, 3, 4]), { train: true });
      backend.netSetActivations(gru._handle(), GRU_ACT_RELU, GRU_ACT_SIGMOID);
      assert.throws(
        () => backend.netBackward(gru._handle(), new Float32Array(6), null, null, null),
        (e: unknown) => (e as { code?: string }).code === 'ERR_GRU_STATE',
      );
    } finally {
      gru.dispose();
    }
  });
});

after(() => {
  if (worstByCase.size === 0) return;
  const worst = Math.max(...worstByCase.values());
  console.log(
    `  keras-gru: max |gru-simd - Keras| over ${worstByCase.size} runs: ${worst.toExponential(2)}`,
  );
});

forEachBackend(`layers.gru activations against Keras ${KERAS_GRU.keras} (JAX)`, (backend) => {
  const { batch, steps, features, units } = KERAS_GRU;
  for (const c of KERAS_GRU.cases) {
    it(`${caseTitle(c)}, by Keras's names: predict within 1e-5`, () => {
      const model = sequential({
        backend,
        layers: [
          layers.gru({
            units,
            inputShape: [steps, features],
            returnSequences: true,
            resetAfter: c.resetAfter,
            activation: c.activation,
            recurrentActivation: c.recurrentActivation, // snake_case, as Keras writes it
          }),
        ],
      });
      try {
        const gru = model.layers[0] as GRULayer;
        assert.equal(gru.activation, c.activation);
        assert.equal(gru.recurrentActivation, RECURRENT[c.recurrentActivation]);
        const core = gru.core;
        for (const name of ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0'] as const)
          core.setParameter(name, Float32Array.from(c[name]));
        const y = model.predict(tensor(Float32Array.from(c.x), [batch, steps, features]));
        assert.deepEqual(y.shape, [batch, steps, units]);
        within1e5(y.data as Float32Array, c.output, 'predict');
      } finally {
        model.dispose();
      }
    });
  }
});
