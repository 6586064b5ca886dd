/**
 * The core pooling op (gru_pool_forward / gru_pool_backward) and the model API's
 * globalAveragePooling1d, globalMaxPooling1d and activation layers, on every backend: forward
 * and gradients against float64 (the gradients against central finite differences), masks
 * (steps that do not count change nothing, whatever they hold), ties of the max, fit() through
 * them, and bad input refused by the layers and by the core.
 * (Numbers against Keras itself: test/models/keras-layers.test.ts.)
 */
import assert from 'node:assert/strict';
import type { Backend } from '../../ts/backends/backend.js';
import { GRU_POOL_AVERAGE, GRU_POOL_MAX } from '../../ts/backends/abi.generated.js';
import { layers, sequential, tensor } from '../../ts/index.js';
import { forEachBackend } from '../backends.js';
import { GRADIENT, LAYERS, REFERENCE_FD } from '../tolerance.js';
import { assertClose, assertThrowsCode, rng, uniform } from '../util.js';

/** Pooling in float64: y [B, F] over the steps whose mask is not 0 (all without a mask). */
function pool64(
  kind: number,
  x: ArrayLike<number>,
  B: number,
  T: number,
  F: number,
  mask: ArrayLike<number> | null,
): Float64Array {
  const y = new Float64Array(B * F);
  for (let b = 0; b < B; b++)
    for (let j = 0; j < F; j++) {
      const vals: number[] = [];
      for (let t = 0; t < T; t++)
        if (!mask || mask[b * T + t] !== 0) vals.push(x[(b * T + t) * F + j]!);
      if (vals.length === 0) continue;
      y[b * F + j] =
        kind === GRU_POOL_MAX ? Math.max(...vals) : vals.reduce((a, v) => a + v, 0) / vals.length;
    }
  return y;
}

/** d(sum(dy * pool(x)))/dx by central finite differences, in float64 (no ties in x). */
function poolGradFd(
  kind: number,
  x: Float64Array,
  dy: ArrayLike<number>,
  B: number,
  T: number,
  F: number,
  mask: ArrayLike<number> | null,
): Float64Array {
  const loss = (v: Float64Array) =>
    pool64(kind, v, B, T, F, mask).reduce((a, y, i) => a + y * dy[i]!, 0);
  const h = 1e-6;
  return Float64Array.from(x, (_, i) => {
    const p = x.slice();
    const m = x.slice();
    p[i]! += h;
    m[i]! -= h;
    return (loss(p) - loss(m)) / (2 * h);
  });
}

forEachBackend('pooling and activation', (backend: Backend) => {
  for (const [name, kind] of [
    ['average', GRU_POOL_AVERAGE],
    ['max', GRU_POOL_MAX],
  ] as const) {
    it(`core ${name} pooling: forward and backward equal float64 and finite differences, with and without a mask`, () => {
      const [B, T, F] = [3, 5, 4];
      const r = rng(kind + 3);
      const x = uniform(B * T * F, -2, 2, r);
      const dy = uniform(B * F, -1, 1, r);
      // Sample 0: every step; sample 1: a suffix (left padding); sample 2: holes, and step 0 only.
      const mask = Float32Array.from([1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 0, 0]);
      for (const m of [null, mask]) {
        const y = new Float32Array(B * F);
        backend.poolForward(kind, B, T, F, x, m, y);
        assertClose(y, pool64(kind, x, B, T, F, m), LAYERS, `y (mask ${!!m})`, [B, F]);
        const dx = new Float32Array(B * T * F);
        backend.poolBackward(kind, B, T, F, x, m, dy, dx);
        const fd = poolGradFd(kind, Float64Array.from(x), dy, B, T, F, m);
        assertClose(
          dx,
          fd,
          { abs: GRADIENT.abs + REFERENCE_FD.abs, rel: GRADIENT.rel },
          `dx (mask ${!!m})`,
          [B, T, F],
        );
      }
      // Garbage (NaN, huge) at steps that do not count changes neither y nor dx.
      const dirty = x.slice();
      for (let b = 0; b < B; b++)
        for (let t = 0; t < T; t++)
          if (mask[b * T + t] === 0)
            dirty.fill(t % 2 ? NaN : 3e38, (b * T + t) * F, (b * T + t + 1) * F);
      const [y1, y2] = [new Float32Array(B * F), new Float32Array(B * F)];
      backend.poolForward(kind, B, T, F, x, mask, y1);
      backend.poolForward(kind, B, T, F, dirty, mask, y2);
      assert.deepEqual(y2, y1);
      const [d1, d2] = [new Float32Array(B * T * F), new Float32Array(B * T * F)];
      backend.poolBackward(kind, B, T, F, x, mask, dy, d1);
      backend.poolBackward(kind, B, T, F, dirty, mask, dy, d2);
      assert.deepEqual(d2, d1);
    });
  }

  it('core pooling: a sample with no step that counts gives 0 and no gradient; ties of the max share dy', () => {
    const x = Float32Array.from([1, 5, 5, 2, 7, 7]); // B 2, T 3, F 1
    const y = new Float32Array(2);
    backend.poolForward(GRU_POOL_MAX, 2, 3, 1, x, Float32Array.from([1, 1, 1, 0, 0, 0]), y);
    assert.deepEqual([...y], [5, 0]);
    const dx = new Float32Array(6);
    backend.poolBackward(
      GRU_POOL_MAX,
      2,
      3,
      1,
      x,
      Float32Array.from([1, 1, 1, 0, 0, 0]),
      Float32Array.of(1, 1),
      dx,
    );
    assert.deepEqual([...dx], [0, 0.5, 0.5, 0, 0, 0]);
    backend.poolForward(GRU_POOL_AVERAGE, 2, 3, 1, x, Float32Array.from([0, 0, 0, 0, 1, 0]), y);
    assert.deepEqual([...y], [0, 7]);
  });

  it('core pooling refuses bad sizes and lengths, naming them', () => {
    const x = new Float32Array(12);
    const y = new Float32Array(4);
    assertThrowsCode(() => backend.poolForward(2, 2, 3, 2, x, null, y), 'ERR_GRU_ARG', ['kind']);
    assertThrowsCode(() => backend.poolForward(0, 0, 3, 2, x, null, y), 'ERR_GRU_ARG', ['batch']);
    assertThrowsCode(
      () => backend.poolForward(0, 2, 3, 2, x.subarray(1), null, y),
      'ERR_GRU_SHAPE',
      ['x'],
    );
    assertThrowsCode(
      () => backend.poolForward(0, 2, 3, 2, x, new Float32Array(5), y),
      'ERR_GRU_SHAPE',
      ['mask'],
    );
    assertThrowsCode(
      () => backend.poolForward(0, 2, 3, 2, x, null, new Float32Array(3)),
      'ERR_GRU_SHAPE',
      ['y'],
    );
    assertThrowsCode(
      () => backend.poolForward(0, 2 ** 30, 2 ** 30, 2 ** 20, x, null, y),
      'ERR_GRU_SHAPE',
      ['too many'],
    );
    assertThrowsCode(() => backend.poolBackward(1, 2, 3, 2, null, null, y, x), 'ERR_GRU_NULL', [
      'x',
    ]);
    assertThrowsCode(
      () => backend.poolBackward(0, 2, 3, 2, null, null, y, x.subarray(2)),
      'ERR_GRU_SHAPE',
      ['dx'],
    );
  });

  it('the model layers: shapes, fit() through pooling and an activation, bad input named', async () => {
    const [N, T, F] = [32, 6, 2];
    const r = rng(4);
    const x = uniform(N * T * F, -1, 1, r);
    const y = new Float32Array(N);
    for (let i = 0; i < N; i++)
      y[i] = Math.max(...Array.from({ length: T }, (_, t) => x[(i * T + t) * F]!));
    for (const pool of [layers.globalMaxPooling1d(), layers.globalAveragePooling1d()]) {
      const model = sequential({
        seed: 2,
        backend,
        layers: [
          layers.dense({ units: 8, inputShape: [T, F] }),
          layers.activation({ activation: 'tanh' }),
          pool,
          layers.dense({ units: 1 }),
        ],
      });
      try {
        assert.deepEqual(
          model.layers.map((l) => [l.outputShape, l.countParams()]),
          [
            [[T, 8], 24],
            [[T, 8], 0],
            [[8], 0],
            [[1], 9],
          ],
        );
        model.compile({ optimizer: { name: 'adam', learningRate: 0.02 }, loss: 'mse' });
        const xs = tensor(x, [N, T, F]);
        const before = model.evaluate(xs, tensor(y, [N, 1])) as number;
        await model.fit(xs, tensor(y, [N, 1]), { epochs: 30, batchSize: 8, verbose: 0 });
        const after = model.evaluate(xs, tensor(y, [N, 1])) as number;
        assert.ok(after < before / 2, `${pool.className}: loss ${before} -> ${after}`);
        assertThrowsCode(() => pool.backward(new Float32Array(3), true), 'ERR_GRU_STATE', [
          'training forward',
        ]);
        pool.forward(tensor(new Float32Array(2 * T * 8), [2, T, 8]), true);
        assertThrowsCode(() => pool.backward(new Float32Array(3), true), 'ERR_GRU_SHAPE', ['dy']);
      } finally {
        model.dispose();
      }
    }
    assertThrowsCode(() => layers.globalMaxPooling1d({ keepdims: true } as never), 'ERR_GRU_ARG', [
      'keepdims',
    ]);
    assertThrowsCode(
      () => layers.globalAveragePooling1d({ dataFormat: 'channelsFirst' } as never),
      'ERR_GRU_ARG',
      ['dataFormat'],
    );
    assertThrowsCode(() => layers.activation({ activation: 'swish' }), 'ERR_GRU_ARG', ['swish']);
    assertThrowsCode(() => layers.activation({} as never), 'ERR_GRU_ARG', [
      'activation is required',
    ]);
    const flat = sequential({ backend, layers: [layers.globalMaxPooling1d()] });
    try {
      assertThrowsCode(() => flat.build([null, 4]), 'ERR_GRU_SHAPE', ['(None, steps, features)']);
    } finally {
      flat.dispose();
    }
  });

  it('activation: forward equals the core op over the last axis; backward from what it saved', () => {
    const model = sequential({
      backend,
      layers: [layers.activation({ activation: 'softmax', inputShape: [2, 3] })],
    });
    try {
      const x = Float32Array.of(1, 2, 3, 0, 0, 0, -1, 5, 2, 1, 1, 4);
      const y = model.predict(tensor(x, [2, 2, 3]));
      const row = (a: number[]) =>
        a.map((v) => Math.exp(v) / a.reduce((s, u) => s + Math.exp(u), 0));
      const expected = [
        ...row([1, 2, 3]),
        ...row([0, 0, 0]),
        ...row([-1, 5, 2]),
        ...row([1, 1, 4]),
      ];
      assertClose(y.data, expected, LAYERS, 'softmax', [4, 3]);
      const layer = model.layers[0]!;
      const out = layer.forward(tensor(x, [2, 2, 3]), true);
      const dy = Float32Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1);
      const dx = layer.backward(dy, true)!;
      // softmax': dx = y (dy - sum(dy y)) per row of 3.
      const ref = Array.from(dx, (_, i) => {
        const r0 = i - (i % 3);
        let s = 0;
        for (let k = 0; k < 3; k++) s += dy[r0 + k]! * out.data[r0 + k]!;
        return out.data[i]! * (dy[i]! - s);
      });
      assertClose(dx, ref, GRADIENT, 'dx', [4, 3]);
      assertThrowsCode(() => layer.backward(dy, true), 'ERR_GRU_STATE', ['training forward']);
    } finally {
      model.dispose();
    }
  });
});
