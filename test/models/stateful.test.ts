/**
 * layers.gru({ stateful: true }) on every backend: the state each sequence ends a batch in is
 * where the same row of the next batch starts (Keras's rule), in predict, evaluate and training
 * alike; layer.resetStates() and model.resetStates() go back to zeros; another batch size is
 * refused until then.
 */
import assert from 'node:assert/strict';
import { layers, sequential, tensor, type GRULayer, type Sequential } from '../../ts/index.js';
import type { Backend } from '../../ts/backends/backend.js';
import { forEachBackend } from '../backends.js';
import { rng, uniform } from '../util.js';

const [B, T, F, H] = [3, 4, 5, 6];

/** Two stacked GRUs (the second stateful too when `stateful`), the same weights per seed. */
function model(backend: Backend, stateful: boolean, seed = 9, goBackwards = false): Sequential {
  return sequential({
    backend,
    seed,
    layers: [
      layers.gru({ units: H, inputShape: [null, F], returnSequences: true, stateful, goBackwards }),
      layers.gru({ units: H, stateful }),
    ],
  });
}

/** Steps [from, to) of x [B, T, F] as [B, to - from, F]. */
function steps(x: Float32Array, from: number, to: number): Float32Array {
  const out = new Float32Array(B * (to - from) * F);
  for (let b = 0; b < B; b++)
    out.set(x.subarray((b * T + from) * F, (b * T + to) * F), b * (to - from) * F);
  return out;
}

function close(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-6, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

const predict = (m: Sequential, x: Float32Array, t: number) =>
  m.predict(tensor(x, [B, t, F])).data as Float32Array;

forEachBackend('layers.gru stateful', (backend) => {
  const x = uniform(B * T * F, -1, 1, rng(5));

  it('two batches of 2 steps each equal one batch of 4 steps (the state carries, per row)', () => {
    const [stateful, plain] = [model(backend, true), model(backend, false)];
    try {
      const whole = predict(plain, x, T);
      const first = predict(stateful, steps(x, 0, 2), 2);
      close(first, predict(plain, steps(x, 0, 2), 2), 'first batch: from zeros');
      close(predict(stateful, steps(x, 2, 4), 2), whole, 'second batch: carried');
      const gru = stateful.layers[1] as GRULayer;
      close(gru.states!, whole, 'states: the last output of each row');
    } finally {
      stateful.dispose();
      plain.dispose();
    }
  });

  it('layer.resetStates() and model.resetStates() start the next batch from zeros', () => {
    const m = model(backend, true);
    try {
      const fresh = predict(m, steps(x, 0, 2), 2);
      predict(m, steps(x, 2, 4), 2);
      m.resetStates();
      assert.equal((m.layers[0] as GRULayer).states, null);
      close(predict(m, steps(x, 0, 2), 2), fresh, 'after model.resetStates()');
      predict(m, steps(x, 2, 4), 2);
      for (const l of m.layers) (l as GRULayer).resetStates();
      close(predict(m, steps(x, 0, 2), 2), fresh, 'after each layer.resetStates()');
    } finally {
      m.dispose();
    }
  });

  it('another batch size is ERR_GRU_SHAPE naming resetStates(); after it, any batch size', () => {
    const m = model(backend, true);
    try {
      predict(m, x, T);
      const before = (m.layers[0] as GRULayer).states;
      assert.throws(
        () => m.predict(tensor(x.subarray(0, 2 * T * F), [2, T, F])),
        (e: unknown) =>
          (e as { code?: string }).code === 'ERR_GRU_SHAPE' &&
          /gru is stateful and carries the states of 3 sequences, but this batch has 2.*resetStates\(\)/.test(
            (e as Error).message,
          ),
      );
      assert.deepEqual((m.layers[0] as GRULayer).states, before, 'unchanged by the refusal');
      m.resetStates();
      const y = m.predict(tensor(x.subarray(0, 2 * T * F), [2, T, F]));
      assert.deepEqual(y.shape, [2, H]);
    } finally {
      m.dispose();
    }
  });

  it('training carries the state too: trainOnBatch then predict continues the sequences', async () => {
    const [m, ref] = [model(backend, true, 3), model(backend, true, 3)];
    try {
      m.compile({ optimizer: { name: 'sgd', learningRate: 1e-30 }, loss: 'mse' });
      await m.trainOnBatch(
        tensor(steps(x, 0, 2), [B, 2, F]),
        tensor(new Float32Array(B * H), [B, H]),
      );
      predict(ref, steps(x, 0, 2), 2); // the same weights (learning rate 1e-30 changes no float32 weight): the same states
      for (let i = 0; i < 2; i++)
        close((m.layers[i] as GRULayer).states!, (ref.layers[i] as GRULayer).states!, `layer ${i}`);
      close(predict(m, steps(x, 2, 4), 2), predict(ref, steps(x, 2, 4), 2), 'next batch');
    } finally {
      m.dispose();
      ref.dispose();
    }
  });

  it('goBackwards: the state carries in the direction the layer runs', () => {
    const [m, plain] = [model(backend, true, 9, true), model(backend, false, 9, true)];
    try {
      // Reversed, the later steps run first: steps 3, 2, then 1, 0 with the state carried.
      predict(m, steps(x, 2, 4), 2);
      predict(m, steps(x, 0, 2), 2);
      // Layer 0 of the plain model over all 4 steps (3, 2, 1, 0): its output at the last
      // position (goBackwards keeps the reversed order) is the state it ends in.
      const y0 = plain.layers[0]!.forward({ data: x, shape: [B, T, F] }, false).data;
      const last = new Float32Array(B * H);
      for (let b = 0; b < B; b++)
        last.set(y0.subarray((b * T + T - 1) * H, (b * T + T) * H) as Float32Array, b * H);
      close((m.layers[0] as GRULayer).states!, last, 'layer 0 state after both halves');
    } finally {
      m.dispose();
      plain.dispose();
    }
  });

  it('a layer that is not stateful keeps no state; resetStates() is a no-op there', () => {
    const m = model(backend, false);
    try {
      predict(m, x, T);
      assert.equal((m.layers[0] as GRULayer).states, null);
      m.resetStates();
      assert.equal((m.layers[0] as GRULayer).stateful, false);
    } finally {
      m.dispose();
    }
  });

  it('stateful must be a boolean (ERR_GRU_ARG)', () => {
    assert.throws(
      () => layers.gru({ units: 2, stateful: 1 as never }),
      (e: unknown) =>
        (e as { code?: string }).code === 'ERR_GRU_ARG' && /stateful/.test((e as Error).message),
    );
  });

  it('with a mask, masked steps before any valid one output the carried state (Keras: the state, not 0)', () => {
    // Batch 1: every step counts. Batch 2: step 0 of row 0 and all of row 2 are padding.
    const m = sequential({
      backend,
      seed: 4,
      layers: [
        layers.masking({ inputShape: [2, F] }),
        layers.gru({ units: H, returnSequences: true, stateful: true }),
      ],
    });
    try {
      const gru = m.layers[1] as GRULayer;
      m.predict(tensor(steps(x, 0, 2), [B, 2, F]));
      const carried = gru.states!;
      const second = steps(x, 2, 4);
      second.fill(0, 0, F); // row 0, step 0
      second.fill(0, 2 * 2 * F, 3 * 2 * F); // row 2, both steps
      const y = m.predict(tensor(second, [B, 2, F])).data as Float32Array;
      const row = (a: Float32Array, r: number) => a.subarray(r * H, (r + 1) * H);
      assert.deepEqual(row(y, 0), row(carried, 0), 'row 0 step 0: the carried state');
      assert.deepEqual(row(y, 4), row(carried, 2), 'row 2 step 0: the carried state');
      assert.deepEqual(row(y, 5), row(carried, 2), 'row 2 step 1: the carried state');
      assert.deepEqual(row(gru.states!, 2), row(carried, 2), 'row 2 keeps its state');
      assert.notDeepEqual(row(y, 1), row(carried, 0), 'row 0 step 1 runs');
    } finally {
      m.dispose();
    }
  });
});
