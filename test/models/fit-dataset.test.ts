/**
 * fit(dataset): an (async) iterable of batches ({ xs, ys } or [x, y, sampleWeight?]) trains as
 * the same batches in memory do, bitwise, on every backend; stepsPerEpoch draws from one
 * iterator across epochs; data that runs out stops the training with a warning; validationData
 * as a dataset (validationSteps); the options a dataset cannot take are refused.
 */
import assert from 'node:assert/strict';
import type { Backend } from '../../ts/backends/backend.js';
import { layers, sequential, tensor, type Sequential, type Tensor } from '../../ts/index.js';
import { forEachBackend } from '../backends.js';
import { rng, uniform } from '../util.js';

const [N, T, F, B] = [12, 4, 3, 4];
const x = tensor(uniform(N * T * F, -1, 1, rng(50)), [N, T, F]);
const y = tensor(uniform(N * 2, -1, 1, rng(51)), [N, 2]);
const w = Float32Array.from({ length: N }, (_, i) => 0.5 + (i % 3));

function rows(t: Tensor, start: number, end: number): Tensor {
  const row = t.data.length / t.shape[0]!;
  return { data: t.data.slice(start * row, end * row), shape: [end - start, ...t.shape.slice(1)] };
}

/** A restartable iterable of these batches (an array itself is data: nested arrays). */
const iterable = <T>(list: T[]): Iterable<T> => ({
  [Symbol.iterator]: () => list[Symbol.iterator](),
});

/** The batches of x, y (and w) in order, each as [x, y, w?]. */
function batchList(withWeights = false): [Tensor, Tensor, Float32Array?][] {
  const out: [Tensor, Tensor, Float32Array?][] = [];
  for (let s = 0; s < N; s += B) {
    const e = Math.min(N, s + B);
    out.push(
      withWeights ? [rows(x, s, e), rows(y, s, e), w.slice(s, e)] : [rows(x, s, e), rows(y, s, e)],
    );
  }
  return out;
}

function model(backend: Backend): Sequential {
  const m = sequential({
    seed: 21,
    backend,
    layers: [layers.gru({ units: 5, inputShape: [T, F] }), layers.dense({ units: 2 })],
  });
  m.compile({ optimizer: 'adam', loss: 'mse', metrics: ['mae'] });
  return m;
}

const weights = (m: Sequential) =>
  m.layers.flatMap((l) => l.trainables()).flatMap((t) => Object.values(t.stateDict()));

async function quietly<T>(f: () => Promise<T>): Promise<{ value: T; warned: string[] }> {
  const warn = console.warn;
  const warned: string[] = [];
  console.warn = (m: string) => void warned.push(m);
  try {
    return { value: await f(), warned };
  } finally {
    console.warn = warn;
  }
}

forEachBackend('models: fit(dataset)', (backend) => {
  it('an array of [x, y], a restartable sync iterable of { xs, ys } and an async generator train as the arrays do, bitwise (fit and fitAsync)', async () => {
    const ref = model(backend);
    try {
      const args = { epochs: 3, verbose: 0 as const };
      const h = await ref.fit(x, y, { ...args, batchSize: B, shuffle: false, sampleWeight: w });
      const want = weights(ref);
      const forms: [string, unknown][] = [
        ['iterable of [x, y, w]', iterable(batchList(true))],
        [
          'iterable of { xs, ys, sampleWeight }',
          {
            *[Symbol.iterator]() {
              for (const [xs, ys, sampleWeight] of batchList(true)) yield { xs, ys, sampleWeight };
            },
          },
        ],
        [
          'async iterable',
          {
            async *[Symbol.asyncIterator]() {
              for (const b of batchList(true)) yield b;
            },
          },
        ],
      ];
      for (const [what, data] of forms) {
        for (const offThread of [false, true]) {
          const m = model(backend);
          try {
            const got = offThread
              ? await m.fitAsync(data as never, args)
              : await m.fit(data as never, args);
            assert.deepEqual(got, h, `${what}${offThread ? ' (fitAsync)' : ''}: History`);
            assert.deepEqual(weights(m), want, `${what}: weights`);
          } finally {
            m.dispose();
          }
        }
      }
    } finally {
      ref.dispose();
    }
  });

  it('stepsPerEpoch draws from one iterator across epochs; data that runs out stops with a warning', async () => {
    const ref = model(backend);
    const m = model(backend);
    const once = model(backend);
    const short = model(backend);
    try {
      const h = await ref.fit(x, y, { epochs: 2, batchSize: B, shuffle: false, verbose: 0 });
      // An endless generator object: only stepsPerEpoch can cut it into epochs.
      function* endless() {
        for (let i = 0; ; i++) yield batchList()[i % 3]!;
      }
      const got = await m.fit(endless() as never, { epochs: 2, stepsPerEpoch: 3, verbose: 0 });
      assert.deepEqual(got, h);
      assert.deepEqual(weights(m), weights(ref));
      // A generator object is used up after one pass: the second epoch has no data.
      function* onePass() {
        yield* batchList();
      }
      const r = await quietly(() => once.fit(onePass() as never, { epochs: 3, verbose: 0 }));
      assert.deepEqual(r.value.epoch, [0]);
      assert.equal(r.warned.length, 1);
      assert.match(r.warned[0]!, /ran out of data in epoch 1 of 3/);
      // Runs out inside the second epoch of 2 x 2 batches: that epoch ends, training stops.
      const s = await quietly(() =>
        short.fit(onePass() as never, { epochs: 5, stepsPerEpoch: 2, verbose: 0 }),
      );
      assert.deepEqual(s.value.epoch, [0, 1]);
      assert.match(s.warned[0]!, /ran out of data in epoch 1 of 5/);
    } finally {
      for (const a of [ref, m, once, short]) a.dispose();
    }
  });

  it('validationData as a dataset (validationSteps of it) gives the val_ logs of those batches in memory', async () => {
    const m = model(backend);
    const ref = model(backend);
    try {
      const list = iterable(batchList());
      const h = await m.fit(list, {
        epochs: 2,
        verbose: 0,
        validationData: list,
        validationSteps: 2,
      });
      const r = await ref.fit(x, y, {
        epochs: 2,
        batchSize: B,
        shuffle: false,
        verbose: 0,
        validationData: [rows(x, 0, 2 * B), rows(y, 0, 2 * B)],
      });
      assert.deepEqual(h.history.loss, r.history.loss);
      assert.deepEqual(h.history.val_mae, r.history.val_mae);
      h.history.val_loss!.forEach((v, i) =>
        assert.ok(Math.abs(v - r.history.val_loss![i]!) <= 1e-6 * Math.abs(v), 'val_loss'),
      );
    } finally {
      m.dispose();
      ref.dispose();
    }
  });

  it('bad input: options a dataset cannot take, bad batches, an empty dataset, stepsPerEpoch without one', async () => {
    const m = model(backend);
    try {
      const list = iterable(batchList());
      const rejects = (p: Promise<unknown>, mentions: string[]) =>
        assert.rejects(p, (e: { code?: string; message: string }) => {
          assert.equal(e.code, 'ERR_GRU_ARG', e.message);
          for (const s of mentions) assert.ok(e.message.includes(s), `${e.message} names ${s}`);
          return true;
        });
      await rejects(m.fit(list, { batchSize: 4 }), ['batchSize', 'dataset']);
      await rejects(m.fit(list, { shuffle: true }), ['shuffle']);
      await rejects(m.fit(list, { validationSplit: 0.2 }), ['validationSplit']);
      await rejects(m.fit(list, { sampleWeight: w }), ['sampleWeight']);
      await rejects(m.fit(x, y, { stepsPerEpoch: 2 }), ['stepsPerEpoch', 'dataset']);
      await rejects(m.fit(list, { validationSteps: 1 }), ['validationSteps']);
      await rejects(m.fit(list, { stepsPerEpoch: 0 }), ['stepsPerEpoch']);
      await rejects(m.fit(iterable([]), { verbose: 0 }), ['no batch']);
      await rejects(m.fit(iterable([batchList()[0], { x: 1 }]) as never, { verbose: 0 }), [
        'batch 1 of the dataset',
        'xs',
      ]);
      await rejects(m.fit(iterable([batchList()[0], 5]) as never, { verbose: 0 }), [
        'batch 1 of the dataset',
        '{ xs, ys } or [x, y]',
      ]);
      await rejects(m.fit(list as never, y as never, {}), ['fit(dataset, options)']);
      await assert.rejects(
        m.fit(iterable([[rows(x, 0, 2), rows(y, 0, 3)]]) as never, { verbose: 0 }),
        (e: { code?: string; message: string }) =>
          e.code === 'ERR_GRU_SHAPE' && e.message.includes('batch 0 of the dataset'),
      );
    } finally {
      m.dispose();
    }
  });
});
