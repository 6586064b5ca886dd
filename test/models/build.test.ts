/**
 * The model API's building, on every backend: Keras's parameter counts (the deep binary classifier of the Keras tutorials and
 * each layer alone, by Keras's formulas), summary(), shape errors naming the layer, and what
 * is refused for now (names that wait for the core) with a GruError code.
 */
import assert from 'node:assert/strict';
import type { Backend } from '../../ts/backends/backend.js';
import { GruError, layers, sequential, Sequential, tensor } from '../../ts/index.js';
import { forEachBackend } from '../backends.js';
import { assertThrowsCode } from '../util.js';

/** The deep binary classifier of the Keras tutorials, exactly as written there. */
function model2(backend: Backend): Sequential {
  return sequential({
    seed: 1,
    backend,
    layers: [
      layers.gru({ units: 128, inputShape: [100, 64], returnSequences: true }),
      layers.gru({ units: 128, returnSequences: true }),
      layers.gru({ units: 128 }),
      layers.dense({ units: 64, activation: 'relu' }),
      layers.dense({ units: 32, activation: 'relu' }),
      layers.dense({ units: 16, activation: 'relu' }),
      layers.dense({ units: 1, activation: 'sigmoid' }),
    ],
  });
}

forEachBackend('models: building', (backend) => {
  it("the deep binary classifier (3 GRU(128), Dense 64/32/16/1): summary() prints Keras's output shapes and parameter counts", () => {
    const model = model2(backend);
    try {
      const lines: string[] = [];
      model.summary((l) => lines.push(l));
      const rows = lines.filter((l) => / \((GRU|Dense)\)/.test(l));
      const table = rows.map((l) => l.trim().split(/\s{2,}/));
      assert.deepEqual(table, [
        // GRU reset_after=True: 3 * units * (input + units) + 6 * units
        ['gru (GRU)', '(None, 100, 128)', '74,496'], // 3*128*(64+128) + 6*128
        ['gru_1 (GRU)', '(None, 100, 128)', '99,072'], // 3*128*(128+128) + 6*128
        ['gru_2 (GRU)', '(None, 128)', '99,072'], // 3*128*(128+128) + 6*128
        // Dense: in * units + units
        ['dense (Dense)', '(None, 64)', '8,256'], // 128*64 + 64
        ['dense_1 (Dense)', '(None, 32)', '2,080'], // 64*32 + 32
        ['dense_2 (Dense)', '(None, 16)', '528'], // 32*16 + 16
        ['dense_3 (Dense)', '(None, 1)', '17'], // 16*1 + 1
      ]);
      // 74,496 + 2 * 99,072 + 8,256 + 2,080 + 528 + 17 = 283,521 floats = 1,134,084 bytes
      assert.ok(lines.includes('Total params: 283,521 (1.08 MB)'), lines.join('\n'));
      assert.ok(lines.includes('Trainable params: 283,521 (1.08 MB)'));
      assert.ok(lines.includes('Non-trainable params: 0 (0.00 B)'));
      assert.equal(lines[0], 'Model: "sequential"');
      assert.equal(model.countParams(), 283521);
      assert.deepEqual(model.inputShape, [null, 100, 64]);
      assert.deepEqual(model.outputShape, [null, 1]);
    } finally {
      model.dispose();
    }
  });

  it('each layer counts as Keras: GRU resetAfter false and useBias false, Embedding, LayerNormalization, Dropout', () => {
    const model = sequential({
      seed: 2,
      backend,
      layers: [
        layers.embedding({ inputDim: 1000, outputDim: 16, inputLength: 12 }),
        layers.gru({ units: 8, resetAfter: false, returnSequences: true }),
        layers.gru({ units: 5, useBias: false, returnSequences: true }),
        layers.layerNormalization(),
        layers.dropout({ rate: 0.5 }),
        layers.dense({ units: 3 }),
      ],
    });
    try {
      assert.deepEqual(
        model.layers.map((l) => [l.name, l.outputShape, l.countParams()]),
        [
          ['embedding', [12, 16], 16000], // inputDim * outputDim = 1000*16
          ['gru', [12, 8], 600], // reset_after=False: 3*units*(input+units+1) = 3*8*(16+8+1)
          ['gru_1', [12, 5], 195], // use_bias=False: 3*units*(input+units) = 3*5*(8+5)
          ['layer_normalization', [12, 5], 10], // gamma + beta: 2*5
          ['dropout', [12, 5], 0],
          ['dense', [12, 3], 18], // per step: 5*3 + 3
        ],
      );
      assert.equal(model.countParams(), 16000 + 600 + 195 + 10 + 0 + 18);
      // The core GRU keeps PyTorch's second bias, at zero and uncounted (Keras has one bias).
      const gru = model.layers[1] as ReturnType<typeof layers.gru>;
      assert.deepEqual(gru.core.getParameter('bias_hh_l0'), new Float32Array(24));
      // Keras's default biasInitializer, zeros (test/models/initializers.test.ts checks the rest).
      assert.deepEqual(gru.core.getParameter('bias_ih_l0'), new Float32Array(24));
    } finally {
      model.dispose();
    }
  });

  it('builds from the first data without an inputShape, and from build()', () => {
    const a = sequential({
      seed: 3,
      backend,
      layers: [layers.gru({ units: 4 }), layers.dense({ units: 2 })],
    });
    const b = new Sequential({ seed: 3, backend });
    b.add(layers.gru({ units: 4 }));
    b.add(layers.dense({ units: 2 }));
    try {
      assert.equal(a.built, false);
      assertThrowsCode(() => a.summary(() => {}), 'ERR_GRU_STATE', ['not built']);
      const y = a.predict(tensor(new Float32Array(2 * 5 * 3), [2, 5, 3]));
      assert.deepEqual(y.shape, [2, 2]);
      assert.deepEqual(a.inputShape, [null, 5, 3]);
      b.build([null, 5, 3]);
      assert.equal(b.countParams(), 3 * 4 * (3 + 4) + 6 * 4 + 4 * 2 + 2);
      // The same seed gives the same parameters, built either way.
      assert.deepEqual(
        b.predict(tensor(new Float32Array(30).fill(0.5), [2, 5, 3])),
        a.predict(tensor(new Float32Array(30).fill(0.5), [2, 5, 3])),
      );
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('a variable number of steps (inputShape [null, features]) takes any length', () => {
    const model = sequential({
      seed: 4,
      backend,
      layers: [
        layers.gru({ units: 3, inputShape: [null, 2], returnSequences: true }),
        layers.dense({ units: 1 }),
      ],
    });
    try {
      assert.deepEqual(model.outputShape, [null, null, 1]);
      assert.deepEqual(model.predict(tensor(new Float32Array(14), [1, 7, 2])).shape, [1, 7, 1]);
      assert.deepEqual(model.predict(tensor(new Float32Array(8), [2, 2, 2])).shape, [2, 2, 1]);
    } finally {
      model.dispose();
    }
  });

  it('a layer whose input does not fit is refused at add(), naming it, and not added', () => {
    const model = sequential({
      backend,
      layers: [layers.gru({ units: 8, inputShape: [10, 4] }), layers.dense({ units: 6 })],
    });
    try {
      assertThrowsCode(() => model.add(layers.gru({ units: 2 })), 'ERR_GRU_SHAPE', [
        'gru_1 expects input of shape (None, steps, features)',
        'got (None, 6)',
      ]);
      assert.equal(model.layers.length, 2);
      assertThrowsCode(
        () => model.add(layers.dense({ units: 2, inputShape: [7] })),
        'ERR_GRU_SHAPE',
        ['dense_1 expects input of shape (None, 7), got (None, 6)'],
      );
      assertThrowsCode(
        () => model.add(layers.embedding({ inputDim: 5, outputDim: 2 })),
        'ERR_GRU_ARG',
        ['embedding takes integer ids', 'first layer', 'follows dense'],
      );
      model.add(layers.dense({ units: 1, name: 'head' }));
      assertThrowsCode(() => model.add(layers.dense({ units: 1, name: 'head' })), 'ERR_GRU_ARG', [
        'unique',
        'head',
      ]);
      assert.deepEqual(
        model.layers.map((l) => l.name),
        ['gru', 'dense', 'head'],
      );
      // A layer belongs to one model.
      assertThrowsCode(() => sequential({ backend, layers: [model.layers[1]!] }), 'ERR_GRU_ARG', [
        'dense is already in a model',
      ]);
    } finally {
      model.dispose();
    }
  });

  it('x of another shape than the built input is refused, naming the first layer', () => {
    const model = sequential({ backend, layers: [layers.gru({ units: 2, inputShape: [5, 3] })] });
    try {
      assertThrowsCode(
        () => model.predict(tensor(new Float32Array(2 * 5 * 4), [2, 5, 4])),
        'ERR_GRU_SHAPE',
        ['gru expects input of shape (None, 5, 3), got x of shape (2, 5, 4)'],
      );
      assertThrowsCode(() => model.predict(new Float32Array(30) as never), 'ERR_GRU_SHAPE', [
        'samples first',
      ]);
      assertThrowsCode(() => model.predict([[1, 2], [3]] as never), 'ERR_GRU_SHAPE', [
        'rectangular',
      ]);
      assertThrowsCode(() => model.predict('x' as never), 'ERR_GRU_TYPE', ['tensor']);
      // An Embedding's input must be integer ids.
      const emb = sequential({
        backend,
        layers: [layers.embedding({ inputDim: 4, outputDim: 2, inputLength: 3 })],
      });
      assertThrowsCode(() => emb.predict(tensor(new Float32Array(3), [1, 3])), 'ERR_GRU_TYPE', [
        'int32',
      ]);
      assertThrowsCode(
        () => emb.predict(tensor(new Int32Array([0, 1, 4]), [1, 3])),
        'ERR_GRU_RANGE',
      );
      assert.deepEqual(emb.predict([[0, 1, 3]]).shape, [1, 3, 2]);
      emb.dispose();
    } finally {
      model.dispose();
    }
  });

  it('returnState and activations the core lacks are refused with the missing piece named', () => {
    const m = sequential({ backend, layers: [layers.gru({ units: 2, returnState: true })] });
    assertThrowsCode(() => m.build([null, 3, 2]), 'ERR_GRU_ARG', ['returnState', 'Sequential']);
    assert.equal(m.built, false);
    assertThrowsCode(() => layers.dense({ units: 2, activation: 'swish' }), 'ERR_GRU_ARG', [
      "activation 'swish' is not available yet",
      'the core has no such activation',
      "supported now: 'linear', 'relu', 'sigmoid', 'tanh', 'softmax'",
    ]);
    assertThrowsCode(() => layers.dense({ units: 2, activation: 'silu' }), 'ERR_GRU_ARG', [
      "activation 'silu' is not available yet",
    ]);
    assertThrowsCode(() => layers.dense({ units: 2, activation: 'bogus' }), 'ERR_GRU_ARG', [
      "unknown activation 'bogus'",
    ]);
    assertThrowsCode(() => layers.gru({ units: 2, recurrentDropout: 1 }), 'ERR_GRU_ARG', [
      'recurrentDropout',
    ]);
    assertThrowsCode(() => layers.gru({ units: 2, recurrentDropout: -0.1 }), 'ERR_GRU_ARG', [
      'recurrentDropout',
    ]);
    assert.equal(layers.gru({ units: 2, recurrentDropout: 0.2 }).recurrentDropout, 0.2);
    assertThrowsCode(() => layers.gru({ units: 2, dropout: 1 }), 'ERR_GRU_ARG', ['dropout']);
    assertThrowsCode(() => layers.gru({ units: 2, activation: 'sigmoid' }), 'ERR_GRU_ARG', [
      "activation 'sigmoid' is not one a GRU offers; supported: 'tanh', 'relu'",
    ]);
    assertThrowsCode(() => layers.gru({ units: 2, recurrentActivation: 'tanh' }), 'ERR_GRU_ARG', [
      "recurrentActivation 'tanh' is not one a GRU offers; supported: 'sigmoid', 'hardSigmoid', 'hardSigmoidKeras2'",
    ]);
    assertThrowsCode(() => layers.gru({ units: 2, recurrentActivation: 'swish' }), 'ERR_GRU_ARG', [
      "recurrentActivation 'swish' is not available yet",
    ]);
    assertThrowsCode(() => layers.gru({ units: 2, kernelInitializer: 'identity' }), 'ERR_GRU_ARG', [
      'kernelInitializer must be an initializer name',
    ]);
    assertThrowsCode(() => layers.gru({ units: 2, bogus: 1 } as never), 'ERR_GRU_ARG', [
      'unknown option "bogus"',
    ]);
    assertThrowsCode(() => layers.gru({ units: 0 }), 'ERR_GRU_ARG', ['units']);
    // Any activation on any layer: it runs in the core Dense.
    const s = sequential({
      backend,
      layers: [layers.dense({ units: 2, activation: 'sigmoid', inputShape: [3] })],
    });
    s.add(layers.dense({ units: 1, activation: 'softmax' }));
    assert.deepEqual(s.outputShape, [null, 1]);
    s.dispose();
    m.dispose();
  });

  it('dispose() frees every layer; later calls throw ERR_GRU_DISPOSED', () => {
    const model = model2(backend);
    const gru = model.layers[0] as ReturnType<typeof layers.gru>;
    const core = gru.core;
    model.dispose();
    model.dispose();
    assert.equal(core.disposed, true);
    assertThrowsCode(
      () => model.predict(tensor(new Float32Array(6400), [1, 100, 64])),
      'ERR_GRU_DISPOSED',
    );
    assertThrowsCode(() => model.summary(), 'ERR_GRU_DISPOSED');
    assert.ok(new GruError('ERR_GRU_ARG', '') instanceof Error);
  });
});
