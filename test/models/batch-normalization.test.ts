/**
 * layers.batchNormalization in the model API, on every backend: the text-classification model of
 * issue 10 (Embedding, BatchNormalization, GRU, BatchNormalization, GRU, Dense) with Keras's
 * parameter counts and summary's non-trainable line; fit() trains it and moves the moving
 * statistics; predict uses them (not the batch's); its forward equals the core BatchNorm1d's;
 * options and inputs it cannot take are refused with named GruErrors.
 * (Numbers against Keras itself: test/models/keras-layers.test.ts.)
 */
import assert from 'node:assert/strict';
import type { Backend } from '../../ts/backends/backend.js';
import {
  BatchNorm1d,
  layers,
  sequential,
  tensor,
  type BatchNormalizationLayer,
} from '../../ts/index.js';
import { forEachBackend } from '../backends.js';
import { assertThrowsCode, rng, uniform } from '../util.js';

forEachBackend('models: batchNormalization', (backend: Backend) => {
  it("issue 10's text classifier: Keras's counts, 2 * features non-trainable per BatchNormalization, in summary()", () => {
    const model = sequential({
      seed: 1,
      backend,
      layers: [
        layers.embedding({ inputDim: 50, outputDim: 8, inputLength: 6 }),
        layers.batchNormalization(),
        layers.gru({ units: 5, returnSequences: true }),
        layers.batchNormalization(),
        layers.gru({ units: 4 }),
        layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    try {
      assert.deepEqual(
        model.layers.map((l) => [l.name, l.outputShape, l.countParams(), l.nonTrainableParams()]),
        [
          ['embedding', [6, 8], 400, 0],
          ['batch_normalization', [6, 8], 32, 16], // gamma, beta, moving mean, variance: 4*8
          ['gru', [6, 5], 3 * 5 * (8 + 5) + 6 * 5, 0],
          ['batch_normalization_1', [6, 5], 20, 10],
          ['gru_1', [4], 3 * 4 * (5 + 4) + 6 * 4, 0],
          ['dense', [3], 15, 0],
        ],
      );
      const total = 400 + 32 + 225 + 20 + 132 + 15;
      assert.equal(model.countParams(), total);
      const lines: string[] = [];
      model.summary((l) => lines.push(l));
      assert.ok(
        lines.some((l) =>
          /batch_normalization \(BatchNormalization\)\s+\(None, 6, 8\)\s+32/.test(l),
        ),
      );
      assert.ok(
        lines.includes(`Total params: ${total} (${((total * 4) / 1024).toFixed(2)} KB)`),
        lines.join('\n'),
      );
      assert.ok(
        lines.includes(
          `Trainable params: ${total - 26} (${(((total - 26) * 4) / 1024).toFixed(2)} KB)`,
        ),
      );
      assert.ok(lines.includes('Non-trainable params: 26 (104.00 B)'));
    } finally {
      model.dispose();
    }
  });

  it('fit() trains through it, moves the moving statistics, and predict() uses them', async () => {
    const [N, T, F] = [64, 5, 3];
    const r = rng(9);
    const x = uniform(N * T * F, -1, 3, r); // a mean far from 0: the statistics matter
    const y = new Float32Array(N);
    for (let i = 0; i < N; i++) y[i] = x[i * T * F]! + x[i * T * F + 4]! > 2 ? 1 : 0;
    const model = sequential({
      seed: 3,
      backend,
      layers: [
        layers.batchNormalization({ inputShape: [T, F], momentum: 0.9 }),
        layers.gru({ units: 8 }),
        layers.batchNormalization(),
        layers.dense({ units: 1, activation: 'sigmoid' }),
      ],
    });
    try {
      model.compile({
        optimizer: { name: 'adam', learningRate: 0.02 },
        loss: 'binary_crossentropy',
      });
      const bn = (model.layers[0] as BatchNormalizationLayer).core;
      const xs = tensor(x, [N, T, F]);
      const before = model.evaluate(xs, tensor(y, [N, 1])) as number;
      const history = await model.fit(xs, tensor(y, [N, 1]), {
        epochs: 25,
        batchSize: 16,
        verbose: 0,
      });
      const after = model.evaluate(xs, tensor(y, [N, 1])) as number;
      assert.ok(after < before * 0.7, `loss ${before} -> ${after}`);
      assert.equal(history.history.loss!.length, 25);
      // The moving mean of the input's features went from 0 towards their mean, ~1.
      const mean = bn.getParameter('running_mean');
      for (const m of mean) assert.ok(m > 0.6 && m < 1.4, `moving mean ${m}`);
      assert.equal(bn.getParameter('num_batches_tracked')[0], 25 * 4);
      // predict() normalises with the moving statistics: equal to the core's inference forward.
      const first = x.subarray(0, 2 * T * F);
      const ownBn = new BatchNorm1d({
        numFeatures: F,
        eps: 1e-3,
        unbiasedRunningVar: false,
        backend,
      });
      try {
        ownBn.loadStateDict(bn.stateDict());
        const normalised = ownBn.forward(first);
        const gru = model.layers[1]!;
        assert.deepEqual(
          model.layers[0]!.forward(tensor(first, [2, T, F]), false).data,
          normalised,
        );
        // A batch of 2 in training mode would normalise differently.
        assert.notDeepEqual(ownBn.forward(first, { train: true }), normalised);
        assert.ok(gru.built);
      } finally {
        ownBn.dispose();
      }
    } finally {
      model.dispose();
    }
  });

  it('refuses options it cannot honour and input without a known last axis, naming them', () => {
    assertThrowsCode(() => layers.batchNormalization({ axis: 1 }), 'ERR_GRU_ARG', [
      'axis 1 is not available yet',
      'last axis',
    ]);
    assertThrowsCode(() => layers.batchNormalization({ center: false }), 'ERR_GRU_ARG', [
      'center false with scale true',
    ]);
    assertThrowsCode(() => layers.batchNormalization({ renorm: true } as never), 'ERR_GRU_ARG', [
      'renorm',
    ]);
    assertThrowsCode(
      () => layers.batchNormalization({ gammaInitializer: 'zeros' } as never),
      'ERR_GRU_ARG',
      ['gammaInitializer'],
    );
    assertThrowsCode(() => layers.batchNormalization({ momentum: 1.5 }), 'ERR_GRU_ARG', [
      'momentum',
    ]);
    assertThrowsCode(() => layers.batchNormalization({ epsilon: 0 }), 'ERR_GRU_ARG', ['epsilon']);
    assertThrowsCode(() => layers.batchNormalization({ bogus: 1 } as never), 'ERR_GRU_ARG', [
      'bogus',
    ]);
    const model = sequential({ backend, layers: [layers.batchNormalization()] });
    try {
      assertThrowsCode(() => model.build([null, 2, 3, 4]), 'ERR_GRU_SHAPE', [
        'batch_normalization expects input of shape (None, features) or (None, steps, features)',
      ]);
      model.build([null, 4]);
      const layer = model.layers[0]!;
      assertThrowsCode(
        () => layer.forward(tensor(new Float32Array(6), [2, 3]), false),
        'ERR_GRU_SHAPE',
        ['batch_normalization', 'the last 4'],
      );
      assertThrowsCode(() => layer.backward(new Float32Array(8), true), 'ERR_GRU_STATE', [
        'backward() needs a forward',
      ]);
    } finally {
      model.dispose();
    }
  });
});
