/**
 * TensorFlow.js LayersModel files (ts/formats/tfjs-model.ts), both directions, on every backend:
 *   - files saved by tfjs-layers itself (test/fixtures/tfjs-files/, scripts/gen-tfjs-files-
 *     fixtures.mjs), the tfjs repository's own e2e model (test/fixtures/real-models/tfjs/) and a
 *     model.json as Keras's converter writes a reset-after GRU model (scripts/gen-tfjs-keras-
 *     fixture.py, Keras's predict recorded): gru-simd's predictions within 1e-5 of the
 *     framework's, from a path, from a URL (a local HTTP server) and from memory;
 *   - models saved by gru-simd (tfjsModelArtifacts, saveTfjsModel), loaded by tfjs-layers itself
 *     (cpu backend) with tf.io.fromMemory: tfjs's predictions within 1e-5 of gru-simd's; a
 *     reset-after GRU written with a warning, refused by tfjs, read back by gru-simd;
 *   - refusals: each unsupported class, option, dtype and a broken manifest, named.
 *
 * Over 400 lines: both directions share the fixtures and the model builders.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import type { Backend } from '../../ts/backends/backend.js';
import {
  layers,
  loadTfjsModel,
  saveTfjsModel,
  sequential,
  tensor,
  tfjsModelArtifacts,
  type ModelLayer,
  type Sequential,
  type Tensor,
} from '../../ts/index.js';
import type { ForgedModelJson } from './forged-model-json.js';
import { forEachBackend } from '../backends.js';
import { assertRejectsCode, rng, uniform } from '../util.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/tfjs-files/', import.meta.url));
const REAL = fileURLToPath(
  new URL('../fixtures/real-models/tfjs/tfjs-e2e-embedding-gru/', import.meta.url),
);
const CASES = readdirSync(FIXTURES).filter((d) => existsSync(path.join(FIXTURES, d, 'model.json')));

interface Expected {
  input: { shape: number[]; dtype: string; data: number[] };
  output: { shape: number[]; data: number[] };
}

function expected(dir: string): Expected {
  const e = JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8'));
  // The tfjs repository's e2e file names its output expected_output.
  return e.output ? e : { input: e.input, output: e.expected_output };
}

function inputOf(model: Sequential, e: Expected): Tensor {
  const ids = model.layers[0]!.takesIds;
  const data = ids ? Int32Array.from(e.input.data) : Float32Array.from(e.input.data);
  return tensor(data, e.input.shape);
}

function maxError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'output length');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Serves the fixtures over HTTP (loadTfjsModel from a URL). */
async function serve(root: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const file = path.join(root, decodeURIComponent(new URL(req.url!, 'http://x').pathname));
    if (!file.startsWith(root) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200).end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

/** What tfjs-layers predicts for gru-simd's saved artifacts, through tf.io.fromMemory. */
async function tfjsPredict(
  artifacts: ReturnType<typeof tfjsModelArtifacts>,
  x: Tensor,
): Promise<Float32Array> {
  const json = artifacts.modelJson as {
    modelTopology: object;
    weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[];
  };
  const w = artifacts.weights[0]!;
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0]!.weights,
      weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) as ArrayBuffer,
    }),
  );
  try {
    const input = tf.tensor(
      Array.from(x.data),
      x.shape,
      x.data instanceof Int32Array ? 'int32' : 'float32',
    );
    const y = model.predict(input) as tf.Tensor;
    const out = y.dataSync() as Float32Array;
    tf.dispose([input, y]);
    return out;
  } finally {
    model.dispose();
  }
}

before(async () => {
  await tf.setBackend('cpu');
});

forEachBackend(
  'tfjs files: framework-saved models load and predict as the framework',
  (backend) => {
    let http: { server: Server; url: string };
    before(async () => {
      http = await serve(FIXTURES);
    });
    after(() => http.server.close());

    for (const name of CASES) {
      it(`${name}: from the model.json path, within 1e-5 of the recorded prediction`, async () => {
        const dir = path.join(FIXTURES, name);
        const e = expected(dir);
        const model = await loadTfjsModel(path.join(dir, 'model.json'), { backend });
        try {
          const y = model.predict(inputOf(model, e));
          assert.deepEqual(y.shape, e.output.shape);
          const err = maxError(y.data, e.output.data);
          assert.ok(err <= 1e-5, `max error ${err}`);
        } finally {
          model.dispose();
        }
      });
    }

    it('the tfjs repository e2e model (Embedding -> goBackwards GRU, hard sigmoid) matches its expected output', async () => {
      const e = expected(REAL);
      const model = await loadTfjsModel(path.join(REAL, 'model.json'), { backend });
      try {
        assert.deepEqual(
          model.layers.map((l) => l.className),
          ['Embedding', 'GRU'],
        );
        const gru = model.layers[1] as unknown as {
          goBackwards: boolean;
          recurrentActivation: string;
        };
        assert.equal(gru.goBackwards, true);
        assert.equal(gru.recurrentActivation, 'hardSigmoidKeras2');
        const y = model.predict(inputOf(model, e));
        const err = maxError(y.data, e.output.data);
        assert.ok(err <= 1e-5, `max error ${err}`);
      } finally {
        model.dispose();
      }
    });

    it('from a URL (shards fetched relative to model.json) and from memory: the same predictions', async () => {
      const name = 'norms-pooling-two-shards';
      const dir = path.join(FIXTURES, name);
      const e = expected(dir);
      const json = readFileSync(path.join(dir, 'model.json'));
      const manifest = JSON.parse(json.toString()).weightsManifest[0].paths as string[];
      const shards = manifest.map((p) => new Uint8Array(readFileSync(path.join(dir, p))));
      const whole = new Uint8Array(shards.reduce((a, s) => a + s.length, 0));
      let at = 0;
      for (const s of shards) whole.set(s, (at += s.length) - s.length);
      const sources = [
        `${http.url}${name}/model.json`,
        new URL(`${http.url}${name}/model.json`),
        { modelJson: JSON.parse(json.toString()), weights: shards },
        { modelJson: json.toString(), weights: whole.buffer },
        { modelJson: new Uint8Array(json), weights: whole },
      ];
      for (const source of sources) {
        const model = await loadTfjsModel(source, { backend });
        try {
          const err = maxError(model.predict(inputOf(model, e)).data, e.output.data);
          assert.ok(err <= 1e-5, `max error ${err}`);
        } finally {
          model.dispose();
        }
      }
      await assertRejectsCode(
        () => loadTfjsModel(`${http.url}missing/model.json`, { backend }),
        'ERR_GRU_IO',
      );
      const wrong = [new Uint8Array(json), null, 5, { modelJson: json.toString() }];
      for (const bad of [...wrong, { modelJson: json.toString(), weights: 3 }])
        await assertRejectsCode(() => loadTfjsModel(bad as never, { backend }), 'ERR_GRU_ARG');
      await assertRejectsCode(
        () => loadTfjsModel(sources[2] as never, { backend, threads: 2 } as never),
        'ERR_GRU_ARG',
      );
    });
  },
);

/** Models of every layer tfjs shares, with seeded weights, built. */
function ourModels(backend: Backend): { title: string; model: Sequential; x: Tensor }[] {
  const r = rng(5);
  const seeded = (m: Sequential, shape: number[]) => {
    m.build([null, ...shape.slice(1)]);
    for (const l of m.layers)
      for (const core of l.trainables())
        for (const p of core.parameterNames()) {
          const n = core.parameterShape(p).reduce((a, b) => a * b, 1);
          const positive = /running_var|^weight$/.test(p) && l.className.endsWith('Normalization');
          core.setParameter(p, uniform(n, positive ? 0.5 : -0.6, positive ? 1.5 : 0.6, r));
        }
    return m;
  };
  const floats = (shape: number[]) =>
    tensor(
      uniform(
        shape.reduce((a, b) => a * b, 1),
        -2,
        2,
        r,
      ),
      shape,
    );
  const out: { title: string; model: Sequential; x: Tensor }[] = [];
  const add = (title: string, ls: ModelLayer[], x: Tensor) =>
    out.push({ title, model: seeded(sequential({ backend, layers: ls }), x.shape), x });
  add(
    'GRU (Keras 2 hard sigmoid, reset-before) -> GRU goBackwards relu -> Dense softmax',
    [
      layers.gru({
        units: 5,
        returnSequences: true,
        resetAfter: false,
        recurrentActivation: 'hardSigmoidKeras2',
      }),
      layers.gru({ units: 3, goBackwards: true, resetAfter: false, activation: 'relu' }),
      layers.dense({ units: 4, activation: 'softmax' }),
    ],
    floats([3, 6, 4]),
  );
  add(
    'Embedding -> Bidirectional (ave) reset-before GRU -> Dense elu',
    [
      layers.embedding({ inputDim: 9, outputDim: 4 }),
      layers.bidirectional({
        layer: layers.gru({ units: 3, resetAfter: false }),
        mergeMode: 'ave',
      }),
      layers.dense({ units: 2, activation: 'elu' }),
    ],
    tensor(Int32Array.from([1, 2, 3, 4, 5, 8, 7, 6, 0, 1]), [2, 5]),
  );
  add(
    'Masking -> GRU -> LayerNormalization -> BatchNormalization -> Dropout -> GlobalAveragePooling1D -> Dense -> Activation',
    [
      layers.masking({ maskValue: 9 }),
      layers.gru({ units: 4, returnSequences: true, resetAfter: false, useBias: false }),
      layers.layerNormalization({ epsilon: 1e-3 }),
      layers.batchNormalization({ epsilon: 1e-3 }),
      layers.dropout({ rate: 0.3 }),
      layers.globalAveragePooling1d(),
      layers.dense({ units: 3, activation: 'tanh', useBias: false }),
      layers.activation({ activation: 'softmax' }),
    ],
    floats([2, 5, 3]),
  );
  add(
    'Bidirectional (concat, returnSequences) -> GlobalMaxPooling1D -> Dense',
    [
      layers.bidirectional({
        layer: layers.gru({ units: 2, returnSequences: true, resetAfter: false }),
      }),
      layers.globalMaxPooling1d(),
      layers.dense({ units: 1, activation: 'sigmoid' }),
    ],
    floats([2, 4, 3]),
  );
  return out;
}

forEachBackend(
  'tfjs files: gru-simd models load in tfjs-layers and predict the same',
  (backend) => {
    for (const { title } of ourModels(backend).map((c) => (c.model.dispose(), c))) {
      it(`${title}: tfjs's predict within 1e-5, and gru-simd reads its own file back exactly`, async () => {
        const c = ourModels(backend).find((m) => m.title === title)!;
        for (const other of ourModels(backend)) if (other !== c) other.model.dispose();
        try {
          const ours = c.model.predict(c.x);
          const artifacts = tfjsModelArtifacts(c.model);
          assert.deepEqual(artifacts.warnings, []);
          const theirs = await tfjsPredict(artifacts, c.x);
          const err = maxError(theirs, ours.data);
          assert.ok(err <= 1e-5, `tfjs vs gru-simd: max error ${err}`);
          const back = await loadTfjsModel(
            { modelJson: artifacts.modelJson, weights: artifacts.weights },
            { backend },
          );
          try {
            assert.deepEqual(Array.from(back.predict(c.x).data), Array.from(ours.data));
            assert.equal(back.countParams(), c.model.countParams());
          } finally {
            back.dispose();
          }
        } finally {
          c.model.dispose();
        }
      });
    }

    it('a reset-after GRU is written with a warning, tfjs refuses it, gru-simd reads it back', async () => {
      const model = sequential({
        backend,
        layers: [layers.gru({ units: 3, inputShape: [4, 2] }), layers.dense({ units: 1 })],
      });
      const dir = mkdtempSync(path.join(tmpdir(), 'gru-simd-tfjs-'));
      try {
        model.build([null, 4, 2]);
        const saved = await saveTfjsModel(model, dir);
        assert.equal(saved.warnings.length, 1);
        assert.match(saved.warnings[0]!, /resetAfter true.*tfjs/);
        assert.deepEqual(readdirSync(dir).sort(), ['group1-shard1of1.bin', 'model.json']);
        await assert.rejects(
          () => tfjsPredict(tfjsModelArtifacts(model), tensor(new Float32Array(8), [1, 4, 2])),
          /reset_after|resetAfter/i,
        );
        const back = await loadTfjsModel(path.join(dir, 'model.json'), { backend });
        try {
          const x = tensor(uniform(16, -1, 1, rng(3)), [2, 4, 2]);
          assert.deepEqual(Array.from(back.predict(x).data), Array.from(model.predict(x).data));
        } finally {
          back.dispose();
        }
        // A '*.json' destination: the shard beside it.
        const other = await saveTfjsModel(model, path.join(dir, 'sub', 'm.json'));
        assert.deepEqual(other.files, [
          path.join(dir, 'sub', 'm.json'),
          path.join(dir, 'sub', 'group1-shard1of1.bin'),
        ]);
      } finally {
        model.dispose();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('what tfjs has no name for is refused; unbuilt and disposed models are refused', async () => {
      const keras3 = sequential({
        backend,
        layers: [layers.gru({ units: 2, recurrentActivation: 'hardSigmoid', inputShape: [3, 2] })],
      });
      keras3.build([null, 3, 2]);
      assert.throws(
        () => tfjsModelArtifacts(keras3),
        (e: Error & { code?: string }) =>
          e.code === 'ERR_GRU_FORMAT' && /hard sigmoid/.test(e.message),
      );
      keras3.dispose();
      assert.throws(() => tfjsModelArtifacts(keras3), { code: 'ERR_GRU_DISPOSED' });
      const unbuilt = sequential({ backend, layers: [layers.dense({ units: 2 })] });
      assert.throws(() => tfjsModelArtifacts(unbuilt), { code: 'ERR_GRU_STATE' });
      assert.throws(() => tfjsModelArtifacts({} as never), { code: 'ERR_GRU_TYPE' });
      await assertRejectsCode(() => saveTfjsModel(unbuilt, ''), 'ERR_GRU_ARG');
      await assertRejectsCode(() => saveTfjsModel(unbuilt, 'indexeddb://m'), 'ERR_GRU_ARG');
      unbuilt.dispose();
    });
  },
);

/** A valid small model.json (tfjs-saved) and its shard, to forge. */
function fixture(name = 'gru-stack'): { json: ForgedModelJson; shard: Uint8Array } {
  const dir = path.join(FIXTURES, name);
  const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
  return {
    json,
    shard: new Uint8Array(readFileSync(path.join(dir, json.weightsManifest[0].paths[0]))),
  };
}

forEachBackend('tfjs files: refusals name what is wrong', (backend) => {
  const refused = async (json: unknown, weights: unknown, mentions: RegExp) => {
    await assert.rejects(
      () => loadTfjsModel({ modelJson: json, weights } as never, { backend }),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'ERR_GRU_FORMAT', e.message);
        assert.match(e.message, mentions);
        return true;
      },
    );
  };
  const edit = (f: (j: ForgedModelJson) => void, name?: string) => {
    const { json, shard } = fixture(name);
    f(json);
    return [json, [shard]] as const;
  };
  const layer0 = (j: ForgedModelJson) => j.modelTopology.config.layers[0]!;

  it('unsupported classes, options, dtypes and models', async () => {
    await refused(
      ...edit((j) => (layer0(j).class_name = 'LSTM')),
      /layer class "LSTM" is not supported/,
    );
    await refused(
      ...edit((j) => (layer0(j).config.kernel_regularizer = { class_name: 'L1L2', config: {} })),
      /kernel_regularizer is not supported/,
    );
    await refused(...edit((j) => (layer0(j).config.trainable = false)), /trainable false/);
    await refused(...edit((j) => (layer0(j).config.unroll = true)), /unroll true is not supported/);
    await refused(...edit((j) => (layer0(j).config.dtype = 'float16')), /dtype "float16"/);
    await refused(
      ...edit((j) => (layer0(j).config.mystery = 1)),
      /option "mystery" is not supported/,
    );
    await refused(
      ...edit((j) => (layer0(j).config.activation = 'swish')),
      /activation 'swish' is not available/,
    );
    await refused(...edit((j) => (j.modelTopology.class_name = 'Model')), /only Sequential models/);
    await refused(...edit((j) => (j.format = 'graph-model')), /graph model/);
    await refused(
      ...edit((j) => (j.weightsManifest[0].weights[0].dtype = 'int32')),
      /dtype "int32"/,
    );
    await refused(
      ...edit(
        (j) =>
          (j.weightsManifest[0].weights[0].quantization = { dtype: 'uint8', scale: 1, min: 0 }),
      ),
      /quantized/,
    );
    await refused(
      ...edit((j) => (j.weightsManifest[0].paths[0] = '../weights.bin')),
      /relative to model.json/,
    );
    await refused(
      ...edit((j) => (j.weightsManifest[0].weights[0].shape = [15, 4])),
      /gru_GRU\d+\/kernel is \[15, 4\]/,
    );
    await refused(
      ...edit((j) => (j.weightsManifest[0].weights[0].shape = [1e9, 1e9])),
      /declares over/,
    );
    await refused(...edit((j) => (layer0(j).config.units = 100000)), /at least .* parameters/);
    await refused(
      ...edit((j) => j.weightsManifest[0].weights.pop()),
      /declares \d+ bytes of weights/,
    );
    await refused(
      ...edit((j) => (j.weightsManifest[0].weights[1].name = j.weightsManifest[0].weights[0].name)),
      /declared twice/,
    );
    await refused(
      ...edit((j) => (j.weightsManifest[0].weights[0].name = 'elsewhere/kernel')),
      /belongs to no layer/,
    );
    const { json, shard } = fixture();
    await refused(json, [shard.subarray(4)], /hold 1136: a truncated/);
    await refused('{"modelTopology": ', [shard], /not valid JSON/);
    await refused(`{"a":${'['.repeat(10000)}${']'.repeat(10000)}}`, [shard], /nests deeper/);
  });
});
