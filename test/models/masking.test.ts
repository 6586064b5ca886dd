/**
 * Masks in the model API, on every backend (layers.masking, embedding maskZero, the GRU, pooling,
 * the loss and metrics): padding never leaks. Garbage where a mask says padding (targets,
 * embedding row 0) leaves predictions, losses, metrics and gradients identical; left-padded,
 * right-padded and unpadded copies of a sequence give the same result; BatchNormalization's
 * statistics ignore padding; a mask with holes (padding between valid steps) runs the valid steps
 * alone, as Keras; fit() trains through masks.
 * (Numbers against Keras itself: test/models/keras-layers.test.ts.)
 */
import assert from 'node:assert/strict';
import type { Backend } from '../../ts/backends/backend.js';
import { layers, sequential, tensor, type Sequential } from '../../ts/index.js';
import { forEachBackend } from '../backends.js';
import { assertThrowsCode, rng, uniform } from '../util.js';

/** Every parameter of every core layer, flattened. */
function weights(model: Sequential): number[] {
  return model.layers.flatMap((l) =>
    l.trainables().flatMap((t) => t.parameterNames().flatMap((n) => [...t.getParameter(n)])),
  );
}

/** ids [N, T] with each sample's valid run; 0 elsewhere. */
function paddedIds(runs: [number, number][], T: number, seed: number): Int32Array {
  const r = rng(seed);
  const ids = new Int32Array(runs.length * T);
  runs.forEach(([start, end], b) => {
    for (let t = start; t < end; t++) ids[b * T + t] = 1 + Math.floor(r() * 8);
  });
  return ids;
}

forEachBackend('models: masks', (backend: Backend) => {
  const RUNS: [number, number][] = [
    [0, 5],
    [0, 3],
    [2, 5],
    [1, 4],
    [0, 0],
  ];
  const T = 5;

  function seqModel(seed: number): Sequential {
    const model = sequential({
      seed,
      backend,
      layers: [
        layers.embedding({ inputDim: 9, outputDim: 3, maskZero: true, inputLength: T }),
        layers.dense({ units: 4, activation: 'tanh' }),
        layers.gru({ units: 4, returnSequences: true }),
        layers.dense({ units: 2 }),
      ],
    });
    model.compile({ optimizer: { name: 'sgd', learningRate: 0.1 }, loss: 'mse', metrics: ['mae'] });
    return model;
  }

  it('garbage at padding (targets, embedding row 0) changes no loss, metric, prediction at a valid step, or gradient', async () => {
    const ids = paddedIds(RUNS, T, 3);
    const y = uniform(RUNS.length * T * 2, -1, 1, rng(4));
    const dirtyY = y.slice();
    RUNS.forEach(([s, e], b) => {
      for (let t = 0; t < T; t++)
        if (t < s || t >= e) dirtyY.fill(t % 2 ? 1e6 : -3e4, (b * T + t) * 2, (b * T + t + 1) * 2);
    });
    const [a, b] = [seqModel(7), seqModel(7)];
    try {
      const emb = b.layers[0]!.trainables()[0]!;
      const row0 = emb.getParameter('weight');
      row0.fill(1e3, 0, 3); // id 0's embedding: only padding uses it
      emb.setParameter('weight', row0);
      const x = tensor(ids, [RUNS.length, T]);
      const la = a.evaluate(x, tensor(y, [RUNS.length, T, 2])) as number[];
      const lb = b.evaluate(x, tensor(dirtyY, [RUNS.length, T, 2])) as number[];
      assert.deepEqual(lb, la);
      const pa = a.predict(x).data;
      const pb = b.predict(x).data;
      RUNS.forEach(([s, e], i) => {
        for (let t = s; t < e; t++)
          assert.deepEqual(
            pb.subarray((i * T + t) * 2, (i * T + t + 1) * 2),
            pa.subarray((i * T + t) * 2, (i * T + t + 1) * 2),
          );
      });
      // One step each: every weight but embedding row 0 moves identically.
      const sa = await a.trainOnBatch(x, tensor(y, [RUNS.length, T, 2]));
      const sb = await b.trainOnBatch(x, tensor(dirtyY, [RUNS.length, T, 2]));
      assert.deepEqual(sb, sa);
      assert.deepEqual(weights(b).slice(3), weights(a).slice(3));
      // The loss is the mean over the valid steps only (Keras's apply_mask).
      let sum = 0;
      let valid = 0;
      RUNS.forEach(([s, e], i) => {
        for (let t = s; t < e; t++)
          for (let k = 0; k < 2; k++) {
            sum += (pa[(i * T + t) * 2 + k]! - y[(i * T + t) * 2 + k]!) ** 2 / 2;
            if (k === 0) valid++;
          }
      });
      assert.ok(
        Math.abs(la[0]! - sum / valid) < 1e-5 * (1 + sum / valid),
        `${la[0]} vs ${sum / valid}`,
      );
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('left-padded, right-padded and unpadded copies of a sequence give the same last state', () => {
    const model = sequential({
      seed: 5,
      backend,
      layers: [
        layers.masking({ inputShape: [null, 2] }),
        layers.gru({ units: 3 }),
        layers.dense({ units: 1 }),
      ],
    });
    try {
      const seq = uniform(3 * 2, -1, 1, rng(8));
      const plain = model.predict(tensor(seq, [1, 3, 2])).data;
      const left = new Float32Array(5 * 2);
      left.set(seq, 2 * 2);
      const right = new Float32Array(5 * 2);
      right.set(seq, 0);
      const both = model.predict(tensor(Float32Array.from([...left, ...right]), [2, 5, 2])).data;
      for (const v of [both[0]!, both[1]!])
        assert.ok(Math.abs(v - plain[0]!) < 1e-6, `${v} vs ${plain[0]}`);
    } finally {
      model.dispose();
    }
  });

  it('global pooling takes the valid steps only; fit() trains through masks', async () => {
    const ids = paddedIds([...RUNS.slice(0, 4), [1, 5], [0, 2], [3, 5], [0, 1]], T, 9);
    const N = ids.length / T;
    const y = new Float32Array(N);
    for (let i = 0; i < N; i++) y[i] = ids.subarray(i * T, (i + 1) * T).some((v) => v > 4) ? 1 : 0;
    for (const pool of [layers.globalMaxPooling1d(), layers.globalAveragePooling1d()]) {
      const model = sequential({
        seed: 11,
        backend,
        layers: [
          layers.embedding({ inputDim: 9, outputDim: 4, maskZero: true, inputLength: T }),
          layers.gru({ units: 6, returnSequences: true }),
          pool,
          layers.dense({ units: 1, activation: 'sigmoid' }),
        ],
      });
      try {
        model.compile({
          optimizer: { name: 'adam', learningRate: 0.05 },
          loss: 'binary_crossentropy',
        });
        const x = tensor(ids, [N, T]);
        const before = model.evaluate(x, tensor(y, [N, 1])) as number;
        await model.fit(x, tensor(y, [N, 1]), { epochs: 40, batchSize: 4, verbose: 0 });
        const after = model.evaluate(x, tensor(y, [N, 1])) as number;
        assert.ok(after < before / 2, `${pool.className}: loss ${before} -> ${after}`);
        // Padding's embedding row changes nothing.
        const emb = model.layers[0]!.trainables()[0]!;
        const p1 = model.predict(x).data;
        const w = emb.getParameter('weight');
        w.fill(-50, 0, 4);
        emb.setParameter('weight', w);
        assert.deepEqual(model.predict(x).data, p1);
      } finally {
        model.dispose();
      }
    }
  });

  it('BatchNormalization after a mask: padding (embedding row 0) changes neither its moving statistics nor the outputs at valid steps', async () => {
    const ids = paddedIds(RUNS, T, 13);
    const make = () =>
      sequential({
        seed: 3,
        backend,
        layers: [
          layers.embedding({ inputDim: 9, outputDim: 3, maskZero: true, inputLength: T }),
          layers.batchNormalization({ momentum: 0.5 }),
          layers.gru({ units: 3 }),
        ],
      });
    const [a, b] = [make(), make()];
    try {
      const emb = b.layers[0]!.trainables()[0]!;
      const w = emb.getParameter('weight');
      w.fill(40, 0, 3);
      emb.setParameter('weight', w);
      for (const m of [a, b]) m.compile({ optimizer: 'sgd', loss: 'mse' });
      const x = tensor(ids, [RUNS.length, T]);
      const y = tensor(new Float32Array(RUNS.length * 3).fill(0.5), [RUNS.length, 3]);
      assert.deepEqual(await b.trainOnBatch(x, y), await a.trainOnBatch(x, y));
      const stats = (m: Sequential) => m.layers[1]!.trainables()[0]!.stateDict();
      assert.deepEqual(stats(b), stats(a));
      assert.deepEqual(b.predict(x).data, a.predict(x).data);
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('a mask with holes runs the valid steps alone (as Keras); bad masking options are refused, named', () => {
    const holes = sequential({
      backend,
      layers: [layers.masking({ inputShape: [4, 1] }), layers.gru({ units: 2 })],
    });
    try {
      // Step 1 is padding (Masking's 0): the state carries over it, so the last state equals
      // that of the three valid steps run alone (right-padded).
      assert.deepEqual(
        holes.predict(tensor(Float32Array.of(1, 0, 2, 3), [1, 4, 1])).data,
        holes.predict(tensor(Float32Array.of(1, 2, 3, 0), [1, 4, 1])).data,
      );
      assertThrowsCode(() => layers.masking({ maskValue: 'x' } as never), 'ERR_GRU_ARG', [
        'maskValue',
      ]);
      assertThrowsCode(
        () => layers.embedding({ inputDim: 3, outputDim: 2, maskZero: 1 } as never),
        'ERR_GRU_ARG',
        ['maskZero'],
      );
      assertThrowsCode(
        () => sequential({ backend, layers: [layers.masking({ inputShape: [3] })] }),
        'ERR_GRU_SHAPE',
        ['masking expects input of shape (None, steps, features)'],
      );
      // The Masking layer alone: padding steps become 0, backward passes dy at kept steps only.
      const m = holes.layers[0]!;
      const out = m.forward(tensor(Float32Array.of(1, 0, 2, 3), [1, 4, 1]), true);
      assert.deepEqual([...out.data], [1, 0, 2, 3]);
      assert.deepEqual([...m.backward(Float32Array.of(1, 1, 1, 1), true)!], [1, 0, 1, 1]);
      assertThrowsCode(() => m.backward(Float32Array.of(1, 1, 1, 1), true), 'ERR_GRU_STATE');
    } finally {
      holes.dispose();
    }
  });
});
