/**
 * layers.bidirectional on every backend: the core merge op (sum, ave, mul) and its gradient
 * against finite differences; Keras's parameter counts (twice the GRU's, resetAfter false
 * included); outputs equal to the core bidirectional GRU's, fit() training through it, masks
 * (zeros at padding, garbage there changing nothing), and bad options refused with named
 * GruErrors. (Numbers against Keras itself: test/models/keras-layers.test.ts.)
 */
import assert from 'node:assert/strict';
import type { Backend } from '../../ts/backends/backend.js';
import { GRU_MERGE_AVE, GRU_MERGE_MUL, GRU_MERGE_SUM } from '../../ts/backends/abi.generated.js';
import { layers, sequential, tensor, type BidirectionalLayer } from '../../ts/index.js';
import { forEachBackend } from '../backends.js';
import { GRADIENT, LAYERS } from '../tolerance.js';
import { assertClose, assertThrowsCode, rng, uniform } from '../util.js';

/** The merge in float64: rows of [a, b] -> a + b, (a + b) / 2, a * b. */
function merge64(kind: number, x: ArrayLike<number>, rows: number, u: number): Float64Array {
  const y = new Float64Array(rows * u);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < u; j++) {
      const [a, b] = [x[r * 2 * u + j]!, x[r * 2 * u + u + j]!];
      y[r * u + j] = kind === GRU_MERGE_SUM ? a + b : kind === GRU_MERGE_AVE ? (a + b) / 2 : a * b;
    }
  return y;
}

forEachBackend('models: bidirectional', (backend: Backend) => {
  for (const [name, kind] of [
    ['sum', GRU_MERGE_SUM],
    ['ave', GRU_MERGE_AVE],
    ['mul', GRU_MERGE_MUL],
  ] as const) {
    it(`core merge ${name}: forward equals float64, backward equals finite differences`, () => {
      const [rows, u] = [3, 5];
      const r = rng(kind + 1);
      const x = uniform(rows * 2 * u, -2, 2, r);
      const dy = uniform(rows * u, -1, 1, r);
      const y = new Float32Array(rows * u);
      backend.mergeForward(kind, rows, u, x, y);
      assertClose(y, merge64(kind, x, rows, u), LAYERS, 'y', [rows, u]);
      const dx = new Float32Array(rows * 2 * u);
      backend.mergeBackward(kind, rows, u, x, dy, dx);
      const x64 = Float64Array.from(x);
      const loss = (v: Float64Array) =>
        merge64(kind, v, rows, u).reduce((a, w, i) => a + w * dy[i]!, 0);
      const fd = Float64Array.from(x64, (_, i) => {
        const [p, m] = [x64.slice(), x64.slice()];
        p[i]! += 1e-6;
        m[i]! -= 1e-6;
        return (loss(p) - loss(m)) / 2e-6;
      });
      assertClose(dx, fd, GRADIENT, 'dx', [rows, 2 * u]);
    });
  }

  it('core merge refuses bad kinds and lengths, naming them', () => {
    const x = new Float32Array(12);
    assertThrowsCode(() => backend.mergeForward(3, 2, 3, x, new Float32Array(6)), 'ERR_GRU_ARG', [
      'kind',
    ]);
    assertThrowsCode(() => backend.mergeForward(0, 2, 3, x, new Float32Array(5)), 'ERR_GRU_SHAPE', [
      'y',
    ]);
    assertThrowsCode(
      () => backend.mergeForward(0, 2, 3, x.subarray(1), new Float32Array(6)),
      'ERR_GRU_SHAPE',
      ['x'],
    );
    assertThrowsCode(
      () =>
        backend.mergeBackward(2, 2, 3, x.subarray(2), new Float32Array(6), new Float32Array(12)),
      'ERR_GRU_SHAPE',
      ['x'],
    );
    assertThrowsCode(() => backend.mergeForward(0, 0, 3, x, new Float32Array(6)), 'ERR_GRU_ARG', [
      'rows',
    ]);
  });

  it("Keras's parameter counts and shapes; concat equals the core bidirectional GRU's output", () => {
    const model = sequential({
      seed: 3,
      backend,
      layers: [
        layers.bidirectional({
          layer: layers.gru({ units: 4, returnSequences: true }),
          inputShape: [5, 3],
        }),
        layers.bidirectional({
          layer: layers.gru({ units: 2, resetAfter: false }),
          mergeMode: 'sum',
        }),
        layers.dense({ units: 1 }),
      ],
    });
    try {
      assert.deepEqual(
        model.layers.map((l) => [l.className, l.outputShape, l.countParams()]),
        [
          ['Bidirectional', [5, 8], 2 * (3 * 4 * (3 + 4) + 6 * 4)],
          ['Bidirectional', [2], 2 * 3 * 2 * (8 + 2 + 1)],
          ['Dense', [1], 3],
        ],
      );
      const first = model.layers[0] as BidirectionalLayer;
      const x = uniform(2 * 5 * 3, -1, 1, rng(6));
      const y = first.forward(tensor(x, [2, 5, 3]), false);
      assert.deepEqual(y.data, first.core.forward(x, { batch: 2 }).output);
      // resetAfter false: both directions' bias_hh stay at zero, uncounted.
      const second = model.layers[1] as BidirectionalLayer;
      assert.deepEqual(second.core.getParameter('bias_hh_l0_reverse'), new Float32Array(6));
    } finally {
      model.dispose();
    }
  });

  it('fit() trains through each merge mode; with a mask, padding outputs are 0 and garbage targets there change nothing', async () => {
    const [N, T] = [24, 5];
    const r = rng(12);
    const x = uniform(N * T * 2, -1, 1, r);
    for (let i = 0; i < N; i++) x.fill(0, (i * T + T - 1 - (i % 3)) * 2, (i + 1) * T * 2); // right padding
    const y = new Float32Array(N * T);
    for (let i = 0; i < N; i++)
      for (let t = 0; t < T; t++) y[i * T + t] = x[(i * T + T - 1 - t) * 2]!;
    for (const mergeMode of ['concat', 'sum', 'ave', 'mul'] as const) {
      const model = sequential({
        seed: 4,
        backend,
        layers: [
          layers.masking({ inputShape: [T, 2] }),
          layers.bidirectional({
            layer: layers.gru({ units: 6, returnSequences: true }),
            mergeMode,
          }),
          layers.dense({ units: 1 }),
        ],
      });
      try {
        model.compile({ optimizer: { name: 'adam', learningRate: 0.03 }, loss: 'mse' });
        const xs = tensor(x, [N, T, 2]);
        const before = model.evaluate(xs, tensor(y, [N, T, 1])) as number;
        await model.fit(xs, tensor(y, [N, T, 1]), { epochs: 25, batchSize: 8, verbose: 0 });
        const after = model.evaluate(xs, tensor(y, [N, T, 1])) as number;
        assert.ok(after < before / 2, `${mergeMode}: loss ${before} -> ${after}`);
        const bi = model.layers[1]!;
        const masked = model.layers[0]!._forwardMasked(xs, false, null);
        const h = bi._forwardMasked(masked.y, false, masked.mask).y;
        const width = h.shape[2]!;
        for (let i = 0; i < N; i++) {
          const from = (i * T + T - 1 - (i % 3)) * width;
          assert.ok(
            h.data.subarray(from, (i + 1) * T * width).every((v) => v === 0),
            `${mergeMode}: padding of sample ${i}`,
          );
        }
        const dirty = y.slice();
        for (let i = 0; i < N; i++) dirty.fill(1e4, i * T + T - 1 - (i % 3), (i + 1) * T);
        assert.equal(
          model.evaluate(xs, tensor(dirty, [N, T, 1])),
          model.evaluate(xs, tensor(y, [N, T, 1])),
        );
      } finally {
        model.dispose();
      }
    }
  });

  it('bad options are refused, named', () => {
    assertThrowsCode(
      () => layers.bidirectional({ layer: layers.dense({ units: 2 }) } as never),
      'ERR_GRU_ARG',
      ['layer must be a layers.gru'],
    );
    assertThrowsCode(
      () => layers.bidirectional({ layer: layers.gru({ units: 2 }), mergeMode: 'max' } as never),
      'ERR_GRU_ARG',
      ['mergeMode'],
    );
    assertThrowsCode(
      () => layers.bidirectional({ layer: layers.gru({ units: 2, goBackwards: true }) }),
      'ERR_GRU_ARG',
      ['goBackwards'],
    );
    assertThrowsCode(
      () =>
        layers.bidirectional({
          layer: layers.gru({ units: 2 }),
          backwardLayer: layers.gru({ units: 2 }),
        }),
      'ERR_GRU_ARG',
      ['backwardLayer must have goBackwards true'],
    );
    assertThrowsCode(
      () =>
        layers.bidirectional({
          layer: layers.gru({ units: 2 }),
          backwardLayer: layers.gru({ units: 3, goBackwards: true }),
        }),
      'ERR_GRU_ARG',
      ['backwardLayer has units 3 and layer 2'],
    );
    assertThrowsCode(
      () =>
        layers.bidirectional({
          layer: layers.gru({ units: 2, stateful: true }),
          backwardLayer: layers.gru({ units: 2, goBackwards: true }),
        }),
      'ERR_GRU_ARG',
      ['backwardLayer has stateful false', 'Keras refuses it too'],
    );
    assertThrowsCode(
      () => layers.bidirectional({ layer: layers.gru({ units: 2 }), backwardLayer: {} as never }),
      'ERR_GRU_ARG',
      ['backwardLayer must be a layers.gru'],
    );
    assertThrowsCode(
      () =>
        layers.bidirectional({
          layer: layers.gru({ units: 2, dropout: 0.2 }),
          backwardLayer: layers.gru({ units: 2, goBackwards: true }),
        }),
      'ERR_GRU_ARG',
      ['backwardLayer has dropout 0 and layer 0.2'],
    );
    assertThrowsCode(
      () => layers.bidirectional({ layer: layers.gru({ units: 2, inputShape: [3, 2] }) }),
      'ERR_GRU_ARG',
      ['give inputShape to layers.bidirectional'],
    );
    const inner = layers.gru({ units: 2 });
    layers.bidirectional({ layer: inner });
    assertThrowsCode(() => layers.bidirectional({ layer: inner }), 'ERR_GRU_ARG', [
      'already in a model',
    ]);
    const m = sequential({
      backend,
      layers: [layers.bidirectional({ layer: layers.gru({ units: 2 }) })],
    });
    try {
      assertThrowsCode(() => m.build([null, 4]), 'ERR_GRU_SHAPE', ['(None, steps, features)']);
    } finally {
      m.dispose();
    }
  });

  it("the GRU's options reach both directions: activations, initializers (backwardLayer's for the backward one), returnState refused", () => {
    const gru = layers.gru({
      units: 3,
      activation: 'relu',
      recurrentActivation: 'hardSigmoid',
      biasInitializer: 'ones',
      kernelInitializer: 'ones',
    });
    const backwardLayer = layers.gru({
      units: 3,
      goBackwards: true,
      activation: 'relu',
      recurrentActivation: 'hardSigmoid',
      kernelInitializer: 'zeros',
    });
    const layer = layers.bidirectional({ layer: gru, backwardLayer });
    const m = sequential({ backend, seed: 2, layers: [layer] });
    try {
      m.build([null, 4, 2]);
      const core = layer.core;
      assert.equal(core.activation, 'relu');
      assert.equal(core.recurrentActivation, 'hardSigmoid');
      const all = (name: string, v: number) => core.getParameter(name).every((w) => w === v);
      assert.ok(all('weight_ih_l0', 1), 'the layer initialises the forward direction');
      assert.ok(all('bias_ih_l0', 1) && all('bias_hh_l0', 1));
      assert.ok(all('weight_ih_l0_reverse', 0), "backwardLayer's initializer on the backward one");
      assert.ok(all('bias_ih_l0_reverse', 0), "backwardLayer's default bias initializer (zeros)");
      assert.ok(!all('weight_hh_l0_reverse', 0), 'orthogonal recurrent kernel');
    } finally {
      m.dispose();
    }
    assertThrowsCode(
      () =>
        sequential({
          backend,
          layers: [
            layers.bidirectional({
              layer: layers.gru({ units: 2, returnState: true }),
              inputShape: [3, 2],
            }),
          ],
        }),
      'ERR_GRU_ARG',
      ['returnState'],
    );
  });

  it('stateful: both directions start from the states the last batch ended in, until resetStates()', () => {
    const [B, T, F, U] = [2, 3, 2, 3];
    const layer = layers.bidirectional({
      layer: layers.gru({ units: U, stateful: true, returnSequences: true }),
      inputShape: [T, F],
    });
    const m = sequential({ backend, seed: 5, layers: [layer] });
    try {
      const x1 = uniform(B * T * F, -1, 1, rng(11));
      const x2 = uniform(B * T * F, -1, 1, rng(12));
      assert.equal(layer.states, null);
      const first = m.predict(tensor(x1, [B, T, F])).data;
      const core = layer.core;
      const fresh = core.forward(x1, { batch: B, returnSequences: true });
      assert.deepEqual(first, fresh.output);
      assert.deepEqual(layer.states, fresh.hN);
      const second = m.predict(tensor(x2, [B, T, F])).data;
      const carried = core.forward(x2, { batch: B, returnSequences: true, h0: fresh.hN });
      assert.deepEqual(second, carried.output);
      assertThrowsCode(() => m.predict(tensor(x1.subarray(0, T * F), [1, T, F])), 'ERR_GRU_SHAPE', [
        'resetStates()',
      ]);
      m.resetStates();
      assert.equal(layer.states, null);
      assert.deepEqual(m.predict(tensor(x1, [B, T, F])).data, first);
    } finally {
      m.dispose();
    }
  });

  it('dropout (a mask per direction, in the core) in training only: predict equals the model without it', async () => {
    const [N, T, F, U] = [3, 4, 2, 3];
    const build = (dropout: number) =>
      sequential({
        backend,
        seed: 8,
        layers: [
          layers.bidirectional({
            layer: layers.gru({ units: U, dropout, returnSequences: true }),
            inputShape: [T, F],
          }),
        ],
      });
    const [a, b] = [build(0.4), build(0)];
    try {
      const x = tensor(uniform(N * T * F, -1, 1, rng(21)), [N, T, F]);
      assert.deepEqual(a.predict(x).data, b.predict(x).data, 'inference never drops');
      const layer = a.layers[0]!;
      const trained = layer._forwardMasked(x, true, null).y.data;
      assert.notDeepEqual(trained, a.predict(x).data, 'training drops');
      const dx = layer.backward(new Float32Array(trained.length).fill(1), true)!;
      assert.ok(dx.length === N * T * F && dx.every(Number.isFinite), 'dx');
    } finally {
      a.dispose();
      b.dispose();
    }
  });
});
