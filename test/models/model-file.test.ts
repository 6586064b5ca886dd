/**
 * gru-simd's own model file (ts/models/model-file.ts): save() / toBytes() and loadModel() give
 * back the same model (architecture, weights, compile settings) on every backend; a run
 * saved mid-training with its optimizer resumes bitwise; saveWeights() / loadWeights(); the
 * metadata written (versions, names); files written atomically in Node.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Backend } from '../../ts/backends/backend.js';
import { decodeSafetensors } from '../../ts/formats/safetensors.js';
import {
  callbacks,
  layers,
  loadModel,
  schedules,
  sequential,
  tensor,
  type Sequential,
} from '../../ts/index.js';
import { VERSION } from '../../ts/version.js';
import { forEachBackend } from '../backends.js';
import { assertRejectsCode, rng, uniform } from '../util.js';

const N = 12;
const T = 5;
const VOCAB = 9;

/** Every layer class of the model API, with options off their defaults. */
function richModel(backend: Backend, seed = 7): Sequential {
  return sequential({
    name: 'rich',
    seed,
    backend,
    layers: [
      layers.embedding({ inputDim: VOCAB, outputDim: 4, maskZero: true, inputLength: T }),
      layers.batchNormalization({ momentum: 0.9, epsilon: 1e-2 }),
      layers.gru({
        units: 6,
        returnSequences: true,
        resetAfter: false,
        recurrentActivation: 'hardSigmoidKeras2',
        kernelInitializer: { name: 'randomNormal', stddev: 0.2, seed: 4 },
        zeroOutputForMask: true,
        dropout: 0.1,
        recurrentDropout: 0.2,
      }),
      layers.bidirectional({
        layer: layers.gru({ units: 3, returnSequences: true, recurrentDropout: 0.1 }),
        backwardLayer: layers.gru({
          units: 3,
          returnSequences: true,
          recurrentDropout: 0.1,
          goBackwards: true,
          kernelInitializer: 'heUniform',
        }),
        mergeMode: 'sum',
      }),
      layers.layerNormalization({ epsilon: 1e-4 }),
      layers.dropout({ rate: 0.1, seed: 5 }),
      layers.globalAveragePooling1d(),
      layers.dense({ units: 5, activation: 'relu', name: 'hidden' }),
      layers.activation({ activation: 'tanh' }),
      layers.dense({ units: 3, activation: 'softmax' }),
    ],
  });
}

function ids(seed: number): Int32Array {
  const r = rng(seed);
  return Int32Array.from({ length: N * T }, (_, i) =>
    i % T === 4 ? 0 : 1 + Math.floor(r() * (VOCAB - 1)),
  );
}
const X_IDS = tensor(ids(1), [N, T], 'int32');
const Y3 = tensor(
  Int32Array.from({ length: N }, (_, i) => i % 3),
  [N],
  'int32',
);

function parameters(model: Sequential): Float32Array[] {
  return model.layers.flatMap((l) =>
    l.trainables().flatMap((t) => t.parameterNames().map((p) => t.getParameter(p))),
  );
}

function assertBitwise(a: Float32Array[], b: Float32Array[], what: string): void {
  assert.equal(a.length, b.length);
  a.forEach((x, i) =>
    assert.deepEqual(
      new Uint8Array(x.buffer),
      new Uint8Array(b[i]!.buffer),
      `${what}: tensor ${i}`,
    ),
  );
}

function summaryOf(model: Sequential): string[] {
  const lines: string[] = [];
  model.summary((l) => lines.push(l));
  return lines;
}

const tmp = () => mkdtempSync(path.join(tmpdir(), 'gru-simd-model-'));

forEachBackend('model file', (backend) => {
  it('toBytes() -> loadModel(): the same layers, options, weights, predictions and summary', async function () {
    const model = richModel(backend);
    model.compile({
      optimizer: 'adam',
      loss: 'sparseCategoricalCrossentropy',
      metrics: ['accuracy'],
    });
    await model.fit(X_IDS, Y3, { epochs: 1, batchSize: 4, verbose: 0 });
    const loaded = await loadModel(model.toBytes(), { backend });
    assert.deepEqual(
      loaded.layers.map((l) => [l.className, l._config()]),
      model.layers.map((l) => [l.className, l._config()]),
    );
    assert.equal(loaded.name, 'rich');
    assert.deepEqual(summaryOf(loaded), summaryOf(model));
    assertBitwise(parameters(loaded), parameters(model), 'parameters');
    const a = model.predict(X_IDS);
    const b = loaded.predict(X_IDS);
    assert.deepEqual(b.shape, a.shape);
    assert.deepEqual(new Uint8Array(b.data.buffer), new Uint8Array(a.data.buffer));
    assert.deepEqual(loaded.metricsNames, ['loss', 'accuracy']);
    assert.deepEqual(loaded.evaluate(X_IDS, Y3), model.evaluate(X_IDS, Y3));
    model.dispose();
    loaded.dispose();
  });

  it("the file: safetensors with the layers' own names and the metadata of the format", function () {
    const model = richModel(backend);
    model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    const file = decodeSafetensors(model.toBytes());
    assert.equal(file.metadata.format, 'gru-simd');
    assert.equal(file.metadata.format_version, '1');
    assert.equal(file.metadata.gru_simd_version, VERSION);
    assert.equal(file.metadata.contents, 'model');
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    assert.equal(VERSION, pkg.version, 'ts/version.ts follows package.json');
    const names = [...file.tensors.keys()];
    assert.ok(names.includes('embedding/weight'));
    assert.ok(names.includes('gru/weight_hh_l0'));
    assert.ok(names.includes('batch_normalization/running_var'));
    assert.ok(names.includes('bidirectional/weight_ih_l0_reverse'));
    assert.ok(names.includes('hidden/bias'));
    assert.ok(!names.includes('optimizer/state'), 'no optimizer state before the first step');
    assert.deepEqual(file.tensors.get('gru/weight_ih_l0')!.shape, [18, 4]);
    assert.deepEqual(JSON.parse(file.metadata.compile!), {
      optimizer: 'sgd',
      loss: 'sparseCategoricalCrossentropy',
    });
    model.dispose();
  });

  it('a file path: save() then loadModel(), atomically (no temporary file left), overwriting', async function () {
    const dir = tmp();
    try {
      const file = path.join(dir, 'sub', 'model.safetensors');
      const a = richModel(backend, 1);
      const b = richModel(backend, 2);
      await a.save(file);
      await b.save(file); // replaces it
      assert.deepEqual(readdirSync(path.join(dir, 'sub')), ['model.safetensors']);
      const loaded = await loadModel(file, { backend });
      assertBitwise(parameters(loaded), parameters(b), 'the second save');
      await assertRejectsCode(
        () => loadModel(path.join(dir, 'missing'), { backend }),
        'ERR_GRU_IO',
      );
      // file:// URLs are paths too (a string or a URL object).
      const url = pathToFileURL(path.join(dir, 'url model.safetensors'));
      await a.save(url.href);
      const fromUrl = await loadModel(url, { backend });
      assertBitwise(parameters(fromUrl), parameters(a), 'file URL');
      for (const m of [a, b, loaded, fromUrl]) m.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an unbuilt model saves and loads unbuilt; a built one without an inputShape option keeps its shape', async function () {
    const unbuilt = sequential({
      backend,
      layers: [layers.gru({ units: 2 }), layers.dense({ units: 1 })],
    });
    const u = await loadModel(unbuilt.toBytes(), { backend });
    assert.equal(u.built, false);
    const x = tensor(uniform(2 * 3 * 4, -1, 1, rng(2)), [2, 3, 4]);
    unbuilt.predict(x); // builds [null, 3, 4]
    const built = await loadModel(unbuilt.toBytes(), { backend });
    assert.deepEqual(built.inputShape, [null, 3, 4]);
    assert.deepEqual(built.predict(x).data, unbuilt.predict(x).data);
    for (const m of [unbuilt, u, built]) m.dispose();
  });

  /**
   * The uninterrupted run: fit() for 4 epochs. The interrupted one: a modelCheckpoint saves at
   * each epoch's end; the file of epoch 2 is loaded and fit() goes on from initialEpoch 2.
   * Adam with a schedule and clipping, shuffling, BatchNormalization's moving statistics, and
   * dropout (a Dropout layer and the GRU's): the masks go on where they were.
   */
  it('a run saved mid-fit() (modelCheckpoint) and resumed ends bitwise where the uninterrupted run does', async function () {
    const dir = tmp();
    try {
      const make = () => {
        const m = sequential({
          seed: 11,
          backend,
          layers: [
            layers.embedding({ inputDim: VOCAB, outputDim: 4, inputLength: T }),
            layers.batchNormalization(),
            layers.gru({ units: 5, dropout: 0.25 }),
            layers.dropout({ rate: 0.3 }),
            layers.dense({ units: 3, activation: 'softmax' }),
          ],
        });
        m.compile({
          optimizer: {
            name: 'adam',
            clipnorm: 1,
            learningRate: schedules.exponentialDecay({
              initialLearningRate: 0.05,
              decaySteps: 2,
              decayRate: 0.7,
            }),
          },
          loss: 'sparseCategoricalCrossentropy',
          metrics: ['accuracy'],
        });
        return m;
      };
      const fitArgs = { batchSize: 5, verbose: 0 as const };
      const whole = make();
      const checkpoint = callbacks.modelCheckpoint({
        filepath: path.join(dir, 'ckpt-{epoch:02d}.safetensors'),
      });
      await whole.fit(X_IDS, Y3, { ...fitArgs, epochs: 4, callbacks: [checkpoint] });
      assert.deepEqual(
        readdirSync(dir).sort(),
        [1, 2, 3, 4].map((e) => `ckpt-0${e}.safetensors`),
      );
      const resumed = await loadModel(path.join(dir, 'ckpt-02.safetensors'), { backend });
      await resumed.fit(X_IDS, Y3, { ...fitArgs, epochs: 4, initialEpoch: 2 });
      assertBitwise(parameters(resumed), parameters(whole), 'resumed');
      // Without the optimizer's state, the same resumption ends elsewhere.
      const half = await loadModel(path.join(dir, 'ckpt-02.safetensors'), { backend });
      const bare = await loadModel(half.toBytes({ includeOptimizer: false }), { backend });
      await bare.fit(X_IDS, Y3, { ...fitArgs, epochs: 4, initialEpoch: 2 });
      assert.notDeepEqual(parameters(bare), parameters(whole));
      for (const m of [whole, resumed, half, bare]) m.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('saved between two fit() calls, resumed: bitwise the same (shuffles, learning rate set by a callback)', async function () {
    const make = () => {
      const m = sequential({
        seed: 5,
        backend,
        layers: [layers.gru({ units: 4, inputShape: [T, 2] }), layers.dense({ units: 1 })],
      });
      m.compile({ optimizer: { name: 'rmsprop', momentum: 0.5, centered: true }, loss: 'mse' });
      return m;
    };
    const x = tensor(uniform(N * T * 2, -1, 1, rng(3)), [N, T, 2]);
    const y = tensor(uniform(N, -1, 1, rng(4)), [N, 1]);
    const args = { epochs: 2, batchSize: 4, verbose: 0 as const };
    const halve = callbacks.learningRateScheduler((_e, lr) => lr / 2);
    const a = make();
    await a.fit(x, y, { ...args, callbacks: [halve] });
    const saved = a.toBytes();
    await a.fit(x, y, args);
    const b = await loadModel(saved, { backend });
    await b.fit(x, y, args);
    assertBitwise(parameters(b), parameters(a), 'resumed');
    a.dispose();
    b.dispose();
  });

  it('saveWeights() / loadWeights(): the weights alone, into a model like it; loadModel() refuses them', async function () {
    const dir = tmp();
    try {
      const file = path.join(dir, 'w.safetensors');
      const a = richModel(backend, 1);
      await a.saveWeights(file);
      const b = richModel(backend, 2);
      await b.loadWeights(file);
      assertBitwise(parameters(b), parameters(a), 'loaded weights');
      await assertRejectsCode(() => loadModel(file, { backend }), 'ERR_GRU_FORMAT');
      // A full model file gives its weights too; another architecture is refused, unchanged.
      const c = richModel(backend, 3);
      await c.loadWeights(a.toBytes());
      assertBitwise(parameters(c), parameters(a), 'from a model file');
      const other = sequential({ backend, layers: [layers.dense({ units: 2, inputShape: [3] })] });
      const before = parameters(other);
      await assertRejectsCode(() => other.loadWeights(file), 'ERR_GRU_FORMAT');
      assertBitwise(parameters(other), before, 'unchanged');
      for (const m of [a, b, c, other]) m.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bad arguments: destination, source, options', async function () {
    const m = richModel(backend);
    await assertRejectsCode(() => m.save(5 as never), 'ERR_GRU_ARG');
    await assertRejectsCode(() => m.save('https://example.com/m'), 'ERR_GRU_ARG');
    await assertRejectsCode(() => m.save('x', { includeOptimizer: 1 } as never), 'ERR_GRU_ARG');
    await assertRejectsCode(() => m.save('x', { bogus: true } as never), 'ERR_GRU_ARG');
    await assertRejectsCode(() => m.save('indexeddb://m'), 'ERR_GRU_IO'); // not in Node
    await assertRejectsCode(() => loadModel(null as never), 'ERR_GRU_ARG');
    await assertRejectsCode(
      () => loadModel(new Uint8Array(0), { bogus: 1 } as never),
      'ERR_GRU_ARG',
    );
    await assertRejectsCode(() => loadModel(new Uint8Array(3), { backend }), 'ERR_GRU_FORMAT');
    m.dispose();
    await assertRejectsCode(() => m.save('x'), 'ERR_GRU_DISPOSED');
  });
});

forEachBackend('model file: loadModel(url) in Node (fetch)', (backend) => {
  it('loads from an http:// URL; an HTTP error or no server is ERR_GRU_IO', async () => {
    const bytes = readFileSync('test/fixtures/model-file-v1.safetensors');
    const server = createServer((req, res) => {
      if (req.url === '/m.safetensors') res.end(bytes);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const model = await loadModel(`http://127.0.0.1:${port}/m.safetensors`, { backend });
      assert.equal(model.name, 'fixture_v1');
      model.dispose();
      await assertRejectsCode(
        () => loadModel(`http://127.0.0.1:${port}/nothing`, { backend }),
        'ERR_GRU_IO',
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    await assertRejectsCode(
      () => loadModel(`http://127.0.0.1:${port}/m.safetensors`, { backend }),
      'ERR_GRU_IO',
    );
  });
});
