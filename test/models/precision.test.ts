/**
 * Reduced-precision weights in the model API on every backend: layers.gru / layers.bidirectional
 * `precision`, model.setPrecision() (before and after the build), loadModel(..., { precision })
 * and model files recording it; fit() and trainOnBatch() refused until 'fp32'; and a small
 * trained classifier whose held-out accuracy moves by less than 0.5 points under bf16 and int8
 * (the criterion; the measured deltas are printed).
 */
import assert from 'node:assert/strict';
import type { Backend } from '../../ts/backends/backend.js';
import {
  layers,
  loadModel,
  sequential,
  type GRULayer,
  type GRUPrecision,
  type Sequential,
} from '../../ts/index.js';
import { forEachBackend } from '../backends.js';
import { assertThrowsCode, rng, uniform } from '../util.js';

/**
 * A task a small GRU learns in a few epochs: the class (0, 1, 2) of a sequence is which of its
 * three features has the largest sum over the steps.
 */
function task(n: number, T: number, seed: number): { x: Float32Array; y: Int32Array } {
  const r = rng(seed);
  const x = uniform(n * T * 3, -1, 1, r);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const sums = [0, 0, 0];
    for (let t = 0; t < T; t++) for (let f = 0; f < 3; f++) sums[f]! += x[(i * T + t) * 3 + f]!;
    y[i] = sums.indexOf(Math.max(...sums));
  }
  return { x, y };
}

function accuracy(model: Sequential, x: Float32Array, y: Int32Array, T: number): number {
  const p = model.predict({ data: x, shape: [y.length, T, 3] }, { batchSize: 256 })
    .data as Float32Array;
  let right = 0;
  for (let i = 0; i < y.length; i++) {
    const row = Array.from(p.subarray(i * 3, i * 3 + 3));
    if (row.indexOf(Math.max(...row)) === y[i]) right++;
  }
  return (100 * right) / y.length;
}

function tiny(backend: Backend, precision?: GRUPrecision): Sequential {
  return sequential({
    seed: 5,
    backend,
    layers: [
      layers.gru({ units: 6, inputShape: [4, 3], ...(precision ? { precision } : {}) }),
      layers.dense({ units: 3 }),
    ],
  });
}

const X = uniform(2 * 4 * 3, -1, 1, rng(9));
const input = { data: X, shape: [2, 4, 3] };
const predict = (m: Sequential) => m.predict(input).data as Float32Array;
const core = (m: Sequential) => (m.layers[0] as GRULayer).core;

forEachBackend('models: reduced-precision weights', (backend: Backend) => {
  it('held-out accuracy of a trained classifier moves by less than 0.5 points (bf16, int8)', async () => {
    const T = 12;
    const train = task(1200, T, 1);
    const test = task(2000, T, 2);
    const model = sequential({
      seed: 7,
      backend,
      layers: [layers.gru({ units: 24, inputShape: [T, 3] }), layers.dense({ units: 3 })],
    });
    try {
      model.compile({
        optimizer: { name: 'adam', learningRate: 0.01 },
        loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true },
      });
      await model.fit(
        { data: train.x, shape: [1200, T, 3] },
        { data: train.y, shape: [1200] },
        {
          epochs: 6,
          batchSize: 32,
          verbose: 0,
        },
      );
      const fp32 = accuracy(model, test.x, test.y, T);
      assert.ok(fp32 > 80, `the fp32 model learned the task: ${fp32}%`);
      const fp32Bytes = core(model).weightBytes();
      const line = [`fp32 ${fp32.toFixed(2)}%`];
      for (const p of ['bf16', 'int8'] as const) {
        model.setPrecision(p);
        assert.ok(core(model).weightBytes() < 0.6 * fp32Bytes, `${p}: smaller weights`);
        const acc = accuracy(model, test.x, test.y, T);
        line.push(`${p} ${acc.toFixed(2)}% (${(acc - fp32).toFixed(2)})`);
        assert.ok(Math.abs(acc - fp32) < 0.5, `${p}: ${acc}% vs fp32 ${fp32}%`);
      }
      console.log(`      [${backend.name}] held-out accuracy: ${line.join(', ')}`);
    } finally {
      model.dispose();
    }
  });

  it('layers.gru precision, and model.setPrecision() before and after the build', () => {
    const fp32 = tiny(backend);
    const int8 = tiny(backend, 'int8');
    const later = tiny(backend);
    try {
      const y32 = predict(fp32);
      assert.equal(core(int8).precision, 'int8');
      const y8 = predict(int8);
      assert.notDeepEqual(y8, y32, 'int8 weights change the outputs');
      later.setPrecision('int8'); // not built yet: applied when it is
      assert.deepEqual(predict(later), y8);
      assert.equal((later.layers[0] as GRULayer).precision, 'int8');
      later.setPrecision('fp32');
      assert.deepEqual(predict(later), y32, 'back to fp32: bitwise');
      assert.equal(core(later).precision, 'fp32');
    } finally {
      fp32.dispose();
      int8.dispose();
      later.dispose();
    }
  });

  it('fit() and trainOnBatch() need fp32, naming the layer', async () => {
    const model = tiny(backend, 'bf16');
    try {
      model.compile({ optimizer: 'sgd', loss: 'mse' });
      const y = { data: new Float32Array(6), shape: [2, 3] };
      await assert.rejects(model.fit(input, y, { epochs: 1, verbose: 0 }), (e: Error) => {
        assert.equal((e as { code?: string }).code, 'ERR_GRU_STATE');
        assert.match(e.message, /gru.*'bf16'/);
        return true;
      });
      await assert.rejects(model.trainOnBatch(input, y), /precision is 'bf16'/);
      model.setPrecision('fp32');
      await model.trainOnBatch(input, y);
    } finally {
      model.dispose();
    }
  });

  it('model files record the precision; loadModel(..., { precision }) sets it', async () => {
    const model = sequential({
      seed: 4,
      backend,
      layers: [
        layers.bidirectional({
          layer: layers.gru({ units: 5, returnSequences: true, precision: 'bf16' }),
          inputShape: [4, 3],
        }),
        layers.gru({ units: 4 }),
        layers.dense({ units: 2 }),
      ],
    });
    try {
      const y = predict(model);
      const bytes = model.toBytes();
      const same = await loadModel(bytes, { backend });
      assert.deepEqual(
        same.layers.slice(0, 2).map((l) => (l as GRULayer).precision),
        ['bf16', 'fp32'],
      );
      assert.deepEqual(predict(same), y, 'loaded: the same outputs, bitwise');
      model.setPrecision('int8');
      const y8 = predict(model);
      const int8 = await loadModel(model.toBytes(), { backend });
      assert.deepEqual(predict(int8), y8, 'setPrecision is recorded');
      const asked = await loadModel(bytes, { backend, precision: 'int8' });
      assert.deepEqual(predict(asked), y8, 'loadModel precision');
      await assert.rejects(
        loadModel(bytes, { backend, precision: 'fp8' as GRUPrecision }),
        /precision must be one of 'fp32', 'bf16', 'int8'/,
      );
      for (const m of [same, int8, asked]) m.dispose();
    } finally {
      model.dispose();
    }
  });

  it('an unknown precision is refused, naming it', () => {
    assertThrowsCode(
      () => layers.gru({ units: 2, precision: 'fp16' as GRUPrecision }),
      'ERR_GRU_ARG',
      ['precision', 'fp16'],
    );
    const model = tiny(backend);
    try {
      assertThrowsCode(() => model.setPrecision('half' as GRUPrecision), 'ERR_GRU_ARG', [
        'precision',
      ]);
    } finally {
      model.dispose();
    }
    assertThrowsCode(
      () =>
        layers.bidirectional({
          layer: layers.gru({ units: 2, precision: 'int8' }),
          backwardLayer: layers.gru({ units: 2, goBackwards: true }),
        }),
      'ERR_GRU_ARG',
      ['precision'],
    );
  });
});
