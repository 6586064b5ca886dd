/**
 * A model's training step reuses its layers' output arrays from step to step (ts/step-arrays.ts):
 * the arrays are the same objects every step, a reused array full of NaN from the step before
 * changes nothing (the core writes every element), fitAsync reuses them too, and outside a
 * model's step (a core layer on its own, predict) every call still returns a fresh array.
 */
import assert from 'node:assert/strict';
import type { Backend } from '../../ts/backends/backend.js';
import {
  Dense,
  layers,
  SequenceModel,
  sequential,
  tensor,
  type Sequential,
} from '../../ts/index.js';
import { STEP_ARRAYS, type ReusesStepArrays } from '../../ts/step-arrays.js';
import { forEachBackend } from '../backends.js';
import { rng, uniform } from '../util.js';

const [N, T, VOCAB, CLASSES] = [16, 6, 20, 3];

/** Model 3's layer kinds: Embedding, BatchNormalization, GRU (sequences), LayerNormalization, GRU, Dense. */
function model3(backend: Backend): Sequential {
  const m = sequential({
    seed: 5,
    backend,
    layers: [
      layers.embedding({ inputDim: VOCAB, outputDim: 4, inputLength: T }),
      layers.batchNormalization(),
      layers.gru({ units: 5, returnSequences: true }),
      layers.layerNormalization(),
      layers.dense({ units: 5, activation: 'tanh' }),
      layers.gru({ units: 4 }),
      layers.dense({ units: CLASSES, activation: 'softmax' }),
    ],
  });
  m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
  return m;
}

function data(): { x: Int32Array; y: Int32Array } {
  const r = rng(3);
  const x = Int32Array.from({ length: N * T }, () => Math.floor(r() * VOCAB));
  const y = Int32Array.from({ length: N }, () => Math.floor(r() * CLASSES));
  return { x, y };
}

/** Every core object of the model with the arrays its steps reuse. */
function reused(m: Sequential): Float32Array[] {
  return m.layers.flatMap((l) =>
    l.trainables().flatMap((t) => (t as ReusesStepArrays)[STEP_ARRAYS]?._all() ?? []),
  );
}

function params(m: Sequential): Float32Array[] {
  return m.layers.flatMap((l) =>
    l.trainables().flatMap((t) => t.parameterNames().map((n) => t.getParameter(n))),
  );
}

forEachBackend('models: training steps reuse their arrays', (backend: Backend) => {
  it('the same arrays every step, for every core layer (outputs and input gradients)', async () => {
    const m = model3(backend);
    const { x, y } = data();
    const [xs, ys] = [tensor(x, [N, T]), tensor(y, [N])];
    await m.trainOnBatch(xs, ys);
    const first = reused(m);
    // Embedding y; BatchNorm y, dx; GRU output, hN, dx (x2 GRUs); LayerNorm y, dx; Dense y, dx (x2).
    assert.ok(first.length >= 14, `reused arrays: ${first.length}`);
    await m.trainOnBatch(xs, ys);
    const second = reused(m);
    assert.equal(second.length, first.length);
    second.forEach((a, i) => assert.equal(a, first[i], `array ${i} was made again`));
    m.dispose();
  });

  it('NaN left in the reused arrays between steps changes nothing: 4 steps equal a fresh model bitwise', async () => {
    const { x, y } = data();
    const [xs, ys] = [tensor(x, [N, T]), tensor(y, [N])];
    const [plain, poisoned] = [model3(backend), model3(backend)];
    for (let s = 0; s < 4; s++) {
      const a = await plain.trainOnBatch(xs, ys);
      for (const arr of reused(poisoned)) arr.fill(Number.NaN);
      const b = await poisoned.trainOnBatch(xs, ys);
      assert.equal(b, a, `loss at step ${s}`);
    }
    const [pa, pb] = [params(plain), params(poisoned)];
    pa.forEach((p, i) => assert.deepEqual(pb[i], p, `parameter ${i}`));
    plain.dispose();
    poisoned.dispose();
  });

  it('fitAsync reuses them as fit does, with the same numbers', async () => {
    const { x, y } = data();
    const [a, b] = [model3(backend), model3(backend)];
    await a.fit(tensor(x, [N, T]), tensor(y, [N]), {
      epochs: 2,
      batchSize: 8,
      verbose: 0,
      shuffle: false,
    });
    await b.fitAsync(tensor(x, [N, T]), tensor(y, [N]), {
      epochs: 1,
      batchSize: 8,
      verbose: 0,
      shuffle: false,
    });
    const once = reused(b);
    assert.ok(once.length >= 14);
    for (const arr of once) arr.fill(Number.NaN);
    await b.fitAsync(tensor(x, [N, T]), tensor(y, [N]), {
      epochs: 2,
      initialEpoch: 1,
      batchSize: 8,
      verbose: 0,
      shuffle: false,
    });
    reused(b).forEach((arr, i) => assert.equal(arr, once[i]));
    const [pa, pb] = [params(a), params(b)];
    pa.forEach((p, i) => assert.deepEqual(pb[i], p, `parameter ${i}`));
    a.dispose();
    b.dispose();
  });

  /** The arrays a SequenceModel's steps reuse: its own (the output gradient) and its layers'. */
  function seqReused(m: SequenceModel): Float32Array[] {
    return [m, m.embedding, m.gru, m.dense].flatMap(
      (o) => (o as ReusesStepArrays | undefined)?.[STEP_ARRAYS]?._all() ?? [],
    );
  }

  for (const loss of ['softmax-cross-entropy', 'mse'] as const) {
    it(`SequenceModel.trainStep (${loss}, padded steps) reuses its arrays; NaN left in them changes nothing`, () => {
      const make = (): SequenceModel =>
        new SequenceModel({
          embedding: { numEmbeddings: VOCAB, embeddingDim: 4 },
          gru: { hiddenSize: 5 },
          output: { size: CLASSES, mode: 'sequence' },
          loss,
          optimizer: { type: 'adam', lr: 0.01 },
          seed: 7,
          backend,
        });
      const { x } = data();
      const r = rng(9);
      // Time-major ids [T, N]; the last rows are padding past shorter lengths.
      const lengths = Int32Array.from({ length: N }, (_, b) => T - (b % 3));
      const batch =
        loss === 'mse'
          ? { x, targets: uniform(T * N * CLASSES, -1, 1, r), batch: N, lengths }
          : {
              x,
              targets: Int32Array.from({ length: T * N }, () => Math.floor(r() * CLASSES)),
              batch: N,
              lengths,
            };
      const [plain, poisoned] = [make(), make()];
      plain.trainStep(batch);
      poisoned.trainStep(batch);
      const first = seqReused(poisoned);
      // The model's output gradient; the embedding's, the GRU's and the Dense's outputs.
      assert.ok(first.length >= 4, `reused arrays: ${first.length}`);
      for (let s = 0; s < 3; s++) {
        for (const arr of seqReused(poisoned)) arr.fill(Number.NaN);
        const a = plain.trainStep(batch);
        const b = poisoned.trainStep(batch);
        assert.deepEqual(b, a, `loss and gradient norm at step ${s}`);
      }
      seqReused(poisoned).forEach((a, i) => assert.equal(a, first[i], `array ${i} was made again`));
      for (const name of poisoned.gru.parameterNames())
        assert.deepEqual(poisoned.gru.getParameter(name), plain.gru.getParameter(name), name);
      plain.dispose();
      poisoned.dispose();
    });
  }

  it('outside a model step every call returns a fresh array: a core layer alone, and predict()', async () => {
    const d = new Dense({ inFeatures: 3, outFeatures: 2, backend });
    const x = uniform(6, -1, 1, rng(1));
    const y1 = d.forward(x, { train: true });
    const dx1 = d.backward(new Float32Array(4).fill(1));
    const y2 = d.forward(x, { train: true });
    const dx2 = d.backward(new Float32Array(4).fill(1));
    assert.notEqual(y1, y2);
    assert.notEqual(dx1, dx2);
    d.dispose();

    const m = model3(backend);
    const { x: ids, y } = data();
    await m.trainOnBatch(tensor(ids, [N, T]), tensor(y, [N]));
    const p1 = m.predict(tensor(ids, [N, T]));
    const p2 = m.predict(tensor(ids, [N, T]));
    assert.notEqual(p1.data, p2.data);
    assert.deepEqual(p1.data, p2.data);
    for (const arr of reused(m)) assert.notEqual(arr, p1.data);
    m.dispose();
  });
});
