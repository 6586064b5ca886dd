/**
 * fit()'s sampleWeight and classWeight, on every backend, with Keras 3's semantics: class
 * weights are the sample weights of each sample's class (argmax of one-hot rows, numpy's round
 * of ids and 0/1 labels; 1 for a class not listed), so a fit with classWeight equals, bitwise,
 * the fit with those sample weights; the weights travel with their samples through the shuffle
 * and the validation split; validationData takes [x, y, sampleWeight]; bad weights are refused
 * before any step.
 */
import assert from 'node:assert/strict';
import type { Backend } from '../../ts/backends/backend.js';
import { layers, sequential, tensor, type LossConfig, type Sequential } from '../../ts/index.js';
import { forEachBackend } from '../backends.js';
import { assertThrowsCode, rng, uniform } from '../util.js';

const [N, T, F, K] = [12, 3, 2, 3];

function params(model: Sequential): Float32Array[] {
  return model.layers.flatMap((l) =>
    l.trainables().flatMap((t) => t.parameterNames().map((n) => t.getParameter(n))),
  );
}

function model(backend: Backend, units: number, activation: string, loss: LossConfig): Sequential {
  const m = sequential({
    seed: 31,
    backend,
    layers: [layers.gru({ units: 4, inputShape: [T, F] }), layers.dense({ units, activation })],
  });
  m.compile({ optimizer: { name: 'adam', learningRate: 0.05 }, loss, metrics: ['accuracy'] });
  return m;
}

async function rejectsCode(p: Promise<unknown>, code: string, mentions: string[] = []) {
  await assert.rejects(p, (e: Error & { code?: string }) => {
    assert.equal(e.code, code, e.message);
    for (const m of mentions) assert.ok(e.message.includes(m), `"${m}" in ${e.message}`);
    return true;
  });
}

const x = tensor(uniform(N * T * F, -1, 1, rng(32)), [N, T, F]);

forEachBackend('models: sample and class weights', (backend) => {
  for (const [title, units, activation, loss, y, weights] of [
    [
      'one-hot rows (argmax)',
      K,
      'softmax',
      'categoricalCrossentropy',
      tensor(
        Float32Array.from({ length: N * K }, (_, i) => (i % K === Math.floor(i / K) % K ? 1 : 0)),
        [N, K],
      ),
      (i: number) => [2, 1, 0.25][i % K]!,
    ],
    [
      'class ids',
      K,
      'softmax',
      'sparseCategoricalCrossentropy',
      tensor(
        Int32Array.from({ length: N }, (_, i) => i % K),
        [N],
      ),
      (i: number) => [2, 1, 0.25][i % K]!,
    ],
    [
      '0/1 labels, rounded half to even (0.5 is class 0)',
      1,
      'sigmoid',
      'binaryCrossentropy',
      tensor(
        Float32Array.from({ length: N }, (_, i) => [0, 1, 0.5, 0.75][i % 4]!),
        [N, 1],
      ),
      (i: number) => [2, 1, 2, 1][i % 4]!,
    ],
  ] as const) {
    it(`classWeight on ${title} equals the fit with those sample weights, bitwise`, async () => {
      const classWeight = { 0: 2, 2: 0.25 }; // class 1 not listed: weight 1, as Keras
      const a = model(backend, units, activation, loss);
      const b = model(backend, units, activation, loss);
      try {
        const options = { epochs: 2, batchSize: 5, verbose: 0 as const, seed: 4 };
        const ha = await a.fit(x, y, { ...options, classWeight });
        const sampleWeight = Float32Array.from({ length: N }, (_, i) => weights(i));
        const hb = await b.fit(x, y, { ...options, sampleWeight });
        assert.deepEqual(ha, hb);
        assert.deepEqual(params(a), params(b));
        const unweighted = model(backend, units, activation, loss);
        const hc = await unweighted.fit(x, y, options);
        assert.notDeepEqual(hc.history.loss, ha.history.loss);
        assert.deepEqual(
          await a.trainOnBatch(x, y, { classWeight }),
          await b.trainOnBatch(x, y, { sampleWeight }),
        );
        unweighted.dispose();
      } finally {
        a.dispose();
        b.dispose();
      }
    });
  }

  it('validationSplit splits sampleWeight with x and y; validationData takes [x, y, sampleWeight]; class weights stay off validation', async () => {
    const y = tensor(
      Float32Array.from({ length: N }, (_, i) => i % 2),
      [N, 1],
    );
    const w = Float32Array.from({ length: N }, (_, i) => 0.5 + (i % 3));
    const m = model(backend, 1, 'sigmoid', 'binaryCrossentropy');
    try {
      const tail = <D extends Float32Array>(t: D, row: number) => t.slice(9 * row) as D;
      const h = await m.fit(x, y, { sampleWeight: w, validationSplit: 0.25, verbose: 0 });
      const xv = tensor(tail(x.data as Float32Array, T * F), [3, T, F]);
      const yv = tensor(tail(y.data as Float32Array, 1), [3, 1]);
      const expected = m.evaluate(xv, yv, { sampleWeight: tail(w, 1), returnDict: true });
      assert.equal(h.history.val_loss![0], expected.loss);
      assert.equal(h.history.val_accuracy![0], expected.accuracy);
      const v = await m.fit(x, y, { validationData: [x, y, w], verbose: 0 });
      assert.equal(v.history.val_loss![0], (m.evaluate(x, y, { sampleWeight: w }) as number[])[0]);
      const c = await m.fit(x, y, { classWeight: { 1: 5 }, validationData: [x, y], verbose: 0 });
      assert.equal(c.history.val_loss![0], (m.evaluate(x, y) as number[])[0]);
    } finally {
      m.dispose();
    }
  });

  it('weights per step for an output per step; bad weights refused before any step, each with a code', async () => {
    const perStep = sequential({
      seed: 33,
      backend,
      layers: [
        layers.gru({ units: 4, inputShape: [T, F], returnSequences: true }),
        layers.dense({ units: K, activation: 'softmax' }),
      ],
    });
    const labels = tensor(
      Int32Array.from({ length: N * T }, (_, i) => i % K),
      [N, T],
    );
    const m = model(backend, 1, 'sigmoid', 'binaryCrossentropy');
    const y = tensor(
      Float32Array.from({ length: N }, (_, i) => i % 2),
      [N, 1],
    );
    try {
      perStep.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
      const w = uniform(N * T, 0, 1, rng(34));
      const h = await perStep.fit(x, labels, { sampleWeight: tensor(w, [N, T]), verbose: 0 });
      assert.equal(h.history.loss.length, 1);
      await rejectsCode(perStep.fit(x, labels, { classWeight: { 0: 2 } }), 'ERR_GRU_ARG', [
        'one per step',
        'sampleWeight [samples, steps]',
      ]);

      const before = params(m);
      await rejectsCode(m.fit(x, y, { sampleWeight: new Float32Array(N - 1) }), 'ERR_GRU_SHAPE', [
        `sampleWeight must have the shape [${N}]`,
        'got [11]',
      ]);
      await rejectsCode(m.fit(x, y, { sampleWeight: tensor(w, [N, T]) }), 'ERR_GRU_SHAPE', [
        '(None, 1)',
      ]);
      const negative = new Float32Array(N).fill(1);
      negative[5] = -1;
      await rejectsCode(m.fit(x, y, { sampleWeight: negative }), 'ERR_GRU_RANGE', [
        'finite weights >= 0',
        'flat index 5',
      ]);
      await rejectsCode(
        m.fit(x, y, { sampleWeight: negative.fill(1), classWeight: { 0: 1 } }),
        'ERR_GRU_ARG',
        ['classWeight or sampleWeight, not both'],
      );
      await rejectsCode(m.fit(x, y, { classWeight: { a: 1 } as never }), 'ERR_GRU_ARG', [
        'classWeight keys must be class indices',
      ]);
      await rejectsCode(m.fit(x, y, { classWeight: { 1: -2 } }), 'ERR_GRU_ARG', ['classWeight[1]']);
      await rejectsCode(
        m.fit(x, y, { validationData: [x, y, new Float32Array(2)] }),
        'ERR_GRU_SHAPE',
        ['validationData[2]'],
      );
      assertThrowsCode(
        () => m.evaluate(x, y, { sampleWeight: new Float32Array(N).fill(NaN) }),
        'ERR_GRU_RANGE',
      );
      assert.deepEqual(params(m), before);
    } finally {
      perStep.dispose();
      m.dispose();
    }
  });
});
