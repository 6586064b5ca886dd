/**
 * fitAsync(), evaluateAsync() and predictAsync(): the same numbers as fit(), evaluate() and
 * predict(), bitwise, on every backend; on native, a timer keeps firing during a batch of
 * fitAsync() (the kernel calls run on the addon's worker threads), which it cannot during a
 * batch of fit().
 */
import assert from 'node:assert/strict';
import type { Backend } from '../../ts/backends/backend.js';
import {
  Embedding,
  LayerNorm,
  layers,
  sequential,
  tensor,
  type Sequential,
} from '../../ts/index.js';
import { forEachBackend } from '../backends.js';
import { assertThrowsCode, rng, uniform } from '../util.js';

function model(backend: Backend, units: number, T: number, F: number): Sequential {
  const m = sequential({
    seed: 11,
    backend,
    layers: [
      layers.gru({ units, returnSequences: true, inputShape: [T, F] }),
      layers.gru({ units: 8, goBackwards: true }),
      layers.dropout({ rate: 0.1 }),
      layers.dense({ units: 1, activation: 'sigmoid' }),
    ],
  });
  m.compile({ optimizer: 'adam', loss: 'binaryCrossentropy', metrics: ['accuracy', 'auc'] });
  return m;
}

function weights(m: Sequential): Float32Array[] {
  return m.layers.flatMap((l) => l.trainables()).flatMap((t) => Object.values(t.stateDict()));
}

forEachBackend('models: fitAsync, evaluateAsync, predictAsync', (backend) => {
  const [N, T, F] = [20, 6, 5];
  const x = tensor(uniform(N * T * F, -1, 1, rng(40)), [N, T, F]);
  const y = tensor(
    Float32Array.from({ length: N }, (_, i) => i % 2),
    [N, 1],
  );

  it('masks (maskZero, a per-step output): the same History, weights and evaluation as fit(), bitwise', async () => {
    // Left- and right-padded id sequences: the mask reaches the GRUs and the per-step loss.
    const [M, L] = [12, 7];
    const ids = new Int32Array(M * L);
    const r = rng(41);
    for (let i = 0; i < M; i++) {
      const len = 2 + (i % (L - 2));
      const at = i % 2 === 0 ? 0 : L - len;
      for (let t = 0; t < len; t++) ids[i * L + at + t] = 1 + Math.floor(r() * 9);
    }
    const targets = tensor(uniform(M * L, 0, 1, rng(42)), [M, L, 1]);
    const make = () => {
      const m = sequential({
        seed: 12,
        backend,
        layers: [
          layers.embedding({ inputDim: 10, outputDim: 4, maskZero: true, inputShape: [L] }),
          layers.gru({ units: 5, returnSequences: true }),
          layers.gru({ units: 3, returnSequences: true, goBackwards: true }),
          layers.dense({ units: 1 }),
        ],
      });
      m.compile({ optimizer: 'adam', loss: 'mse', metrics: ['mae'] });
      return m;
    };
    const [a, b] = [make(), make()];
    try {
      const xs = tensor(ids, [M, L]);
      const args = { epochs: 2, batchSize: 5, seed: 3, verbose: 0 as const };
      const ha = await a.fit(xs, targets, args);
      const hb = await b.fitAsync(xs, targets, args);
      assert.deepEqual(hb, ha);
      assert.deepEqual(weights(b), weights(a));
      assert.deepEqual(await b.evaluateAsync(xs, targets), a.evaluate(xs, targets));
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('the same History, weights, evaluation and predictions as the synchronous calls, bitwise', async () => {
    const a = model(backend, 12, T, F);
    const b = model(backend, 12, T, F);
    try {
      const args = {
        epochs: 3,
        batchSize: 6,
        seed: 5,
        verbose: 0 as const,
        validationData: [x, y] as [typeof x, typeof y],
      };
      const ha = await a.fit(x, y, args);
      const hb = await b.fitAsync(x, y, args);
      assert.deepEqual(hb, ha);
      assert.ok(ha.history.val_auc!.length === 3);
      assert.deepEqual(weights(b), weights(a));
      assert.deepEqual(
        await b.evaluateAsync(x, y, { batchSize: 7 }),
        a.evaluate(x, y, { batchSize: 7 }),
      );
      assert.deepEqual(
        await b.evaluateAsync(x, y, { returnDict: true }),
        a.evaluate(x, y, { returnDict: true }),
      );
      assert.deepEqual(await b.predictAsync(x, { batchSize: 7 }), a.predict(x, { batchSize: 7 }));
      assert.deepEqual(await b.predictAsync(x), a.predict(x));
      // Bad input: the same GruErrors.
      await assert.rejects(b.fitAsync(x, y, { epochs: 0 }), { code: 'ERR_GRU_ARG' });
      await assert.rejects(b.evaluateAsync(x, y, { bogus: 1 } as never), { code: 'ERR_GRU_ARG' });
      await assert.rejects(b.predictAsync(tensor(new Float32Array(4), [1, 4])), {
        code: 'ERR_GRU_SHAPE',
      });
      // dispose() waits for a call in flight.
      const p = b.predictAsync(x);
      assertThrowsCode(() => b.dispose(), 'ERR_GRU_BUSY', ['predictAsync']);
      await p;
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('Embedding -> LayerNormalization -> GRU -> Dense (softmax): fitAsync equals fit, bitwise; the core Embedding and LayerNorm async calls equal the sync ones', async () => {
    const [V, K] = [13, 3];
    const ids = tensor(
      Int32Array.from({ length: N * T }, (_, i) => (i * 7) % V),
      [N, T],
    );
    const labels = tensor(
      Int32Array.from({ length: N }, (_, i) => i % K),
      [N],
    );
    const make = () => {
      const m = sequential({
        seed: 12,
        backend,
        layers: [
          layers.embedding({ inputDim: V, outputDim: 4, inputLength: T }),
          layers.layerNormalization(),
          layers.gru({ units: 6 }),
          layers.dense({ units: K, activation: 'softmax' }),
        ],
      });
      m.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy', metrics: ['acc'] });
      return m;
    };
    const a = make();
    const b = make();
    try {
      const args = { epochs: 2, batchSize: 8, seed: 2, verbose: 0 as const };
      assert.deepEqual(await b.fitAsync(ids, labels, args), await a.fit(ids, labels, args));
      assert.deepEqual(weights(b), weights(a));
    } finally {
      a.dispose();
      b.dispose();
    }
    const e = new Embedding({ numEmbeddings: V, embeddingDim: 3, seed: 1, backend });
    const n = new LayerNorm({ normalizedShape: 3, backend });
    try {
      const idx = Int32Array.of(0, 5, 12, 5);
      const y = e.forward(idx, { train: true });
      const p = e.forwardAsync(idx, { train: true });
      assertThrowsCode(() => e.forward(idx), 'ERR_GRU_BUSY');
      assert.deepEqual(await p, y);
      const dy = uniform(12, -1, 1, rng(3));
      await e.backwardAsync(dy);
      const z = n.forward(y, { train: true });
      assert.deepEqual(await n.forwardAsync(y, { train: true }), z);
      const dx = await n.backwardAsync(dy);
      n.forward(y, { train: true });
      assert.deepEqual(dx, n.backward(dy));
      await assert.rejects(n.backwardAsync(dy), { code: 'ERR_GRU_STATE' });
      await assert.rejects(e.forwardAsync(Int32Array.of(V)), { code: 'ERR_GRU_RANGE' });
    } finally {
      e.dispose();
      n.dispose();
    }
  });

  if (backend.name === 'native') {
    it('a timer keeps firing during the batches of fitAsync (> 200 ms of training), never during those of fit', async function () {
      this.timeout(120_000);
      const [n, t, f] = [32, 60, 32];
      const xs = tensor(uniform(n * t * f, -1, 1, rng(41)), [n, t, f]);
      const ys = tensor(
        Float32Array.from({ length: n }, (_, i) => i % 2),
        [n, 1],
      );
      const run = async (offThread: boolean) => {
        const m = model(backend, 96, t, f);
        let ticks = 0;
        let during = 0;
        let inBatch = false;
        const timer = setInterval(() => {
          ticks++;
          if (inBatch) during++;
        }, 1);
        const start = performance.now();
        try {
          const fit = offThread ? m.fitAsync.bind(m) : m.fit.bind(m);
          // Epochs until the training has taken 300 ms, whatever the machine's speed.
          await fit(xs, ys, {
            epochs: 1000,
            batchSize: 16,
            verbose: 0,
            callbacks: {
              onBatchBegin: () => void (inBatch = true),
              onBatchEnd: () => void (inBatch = false),
              onEpochEnd: () => {
                if (performance.now() - start > 300) m.stopTraining = true;
              },
            },
          });
        } finally {
          clearInterval(timer);
          m.dispose();
        }
        return { ms: performance.now() - start, ticks, during };
      };
      const sync = await run(false);
      const async = await run(true);
      assert.ok(async.ms > 200, `the training must take over 200 ms, took ${async.ms.toFixed(0)}`);
      assert.equal(sync.during, 0, 'no timer can fire inside a synchronous batch');
      assert.ok(
        async.during >= 4,
        `a 1 ms timer fired ${async.during} times inside fitAsync's batches (${async.ms.toFixed(0)} ms)`,
      );
    });
  }
});
