#!/usr/bin/env node
/**
 * Writes test/fixtures/tfjs-files/<case>/: TensorFlow.js LayersModel files saved by tfjs-layers
 * itself (model.json and its weight shards, as tfjs's file saving lays them out) and
 * expected.json (the input, and tfjs's predict on its cpu backend), for
 * test/formats/tfjs-files.test.ts: gru-simd's loadTfjsModel must reproduce tfjs's predictions
 * within 1e-5. Small models covering every layer both share, in tfjs's variants (reset-before
 * GRUs with tfjs's default hard sigmoid, goBackwards, relu; masking through a Bidirectional), one
 * of them split over two shards (as tfjs's converter shards weights).
 *
 * Run from the repository root (@tensorflow/tfjs is a devDependency):
 *     node scripts/gen-tfjs-files-fixtures.mjs
 * The reset-after GRU file (what Keras's converter writes) comes from
 * scripts/gen-tfjs-keras-fixture.py.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { seededNumbers } from './tfjs-fixture-numbers.mjs';

const OUT = 'test/fixtures/tfjs-files';
await tf.setBackend('cpu');

const { uniform } = seededNumbers(20261202);

/** Seeded weights (a BatchNormalization's variance and gamma positive). */
function randomize(model) {
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (ws.length === 0) continue;
    const bn = layer.getClassName() === 'BatchNormalization';
    const fresh = ws.map((w, j) =>
      tf.tensor(
        bn && (j === 0 || j === 3) ? uniform(w.size, 0.5, 1.5) : uniform(w.size, -0.6, 0.6),
        w.shape,
      ),
    );
    layer.setWeights(fresh);
    tf.dispose(fresh);
  }
}

/** Saves `model` as tfjs's file saving does, the weights cut into `shards` files. */
async function save(model, dir, shards) {
  let artifacts;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const data = new Uint8Array(artifacts.weightData);
  const cut = Math.ceil(data.length / shards / 4) * 4;
  const paths = [];
  for (let i = 0; i < shards; i++) {
    const name = shards === 1 ? 'weights.bin' : `group1-shard${i + 1}of${shards}.bin`;
    writeFileSync(`${dir}/${name}`, data.subarray(i * cut, Math.min((i + 1) * cut, data.length)));
    paths.push(name);
  }
  const json = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    weightsManifest: [{ paths, weights: artifacts.weightSpecs }],
  };
  writeFileSync(`${dir}/model.json`, JSON.stringify(json));
}

const L = tf.layers;
const CASES = [
  {
    name: 'gru-stack',
    what: 'GRU (hard sigmoid, returnSequences) -> GRU (goBackwards, relu) -> Dense softmax',
    inputShape: [6, 4],
    layers: () => [
      L.gru({ units: 5, returnSequences: true, inputShape: [6, 4] }),
      L.gru({ units: 4, goBackwards: true, activation: 'relu', recurrentActivation: 'sigmoid' }),
      L.dense({ units: 3, activation: 'softmax' }),
    ],
    shards: 1,
  },
  {
    name: 'embedding-bidirectional-masked',
    what: 'Embedding maskZero -> Bidirectional GRU (concat) -> Dense, padded ids',
    inputShape: [7],
    ids: [
      [3, 9, 1, 4, 0, 0, 0],
      [5, 2, 6, 5, 3, 8, 7],
      [1, 0, 0, 0, 0, 0, 0],
    ],
    layers: () => [
      L.embedding({ inputDim: 10, outputDim: 5, maskZero: true, inputLength: 7 }),
      L.bidirectional({ layer: L.gru({ units: 3 }), mergeMode: 'concat' }),
      L.dense({ units: 2 }),
    ],
    shards: 1,
  },
  {
    name: 'norms-pooling-two-shards',
    what: 'GRU relu -> LayerNormalization -> BatchNormalization -> Dropout -> GlobalMaxPooling1D -> Dense tanh -> Activation softmax, two shards',
    inputShape: [5, 3],
    layers: () => [
      L.gru({ units: 6, returnSequences: true, activation: 'relu', inputShape: [5, 3] }),
      L.layerNormalization({ epsilon: 1e-3 }),
      L.batchNormalization({}),
      L.dropout({ rate: 0.25 }),
      L.globalMaxPooling1d({}),
      L.dense({ units: 4, activation: 'tanh' }),
      L.activation({ activation: 'softmax' }),
    ],
    shards: 2,
  },
  {
    name: 'masking-bidirectional-sum',
    what: 'Masking -> Bidirectional GRU (sum, returnSequences) -> GlobalAveragePooling1D -> Dense',
    inputShape: [4, 3],
    layers: () => [
      L.masking({ maskValue: 0, inputShape: [4, 3] }),
      L.bidirectional({ layer: L.gru({ units: 3, returnSequences: true }), mergeMode: 'sum' }),
      L.globalAveragePooling1d({}),
      L.dense({ units: 2, activation: 'sigmoid' }),
    ],
    shards: 1,
  },
];

for (const c of CASES) rmSync(`${OUT}/${c.name}`, { recursive: true, force: true });
for (const c of CASES) {
  const dir = `${OUT}/${c.name}`;
  mkdirSync(dir, { recursive: true });
  const model = tf.sequential({ layers: c.layers() });
  randomize(model);
  const n = 3;
  const size = c.inputShape.reduce((a, b) => a * b, 1);
  const input = c.ids
    ? { shape: [c.ids.length, ...c.inputShape], dtype: 'int32', data: c.ids.flat() }
    : { shape: [n, ...c.inputShape], dtype: 'float32', data: Array.from(uniform(n * size, -2, 2)) };
  const x = tf.tensor(input.data, input.shape, input.dtype);
  const y = model.predict(x);
  await save(model, dir, c.shards);
  writeFileSync(
    `${dir}/expected.json`,
    JSON.stringify(
      {
        what: c.what,
        generatedBy: `scripts/gen-tfjs-files-fixtures.mjs, @tensorflow/tfjs ${tf.version.tfjs} (cpu)`,
        input,
        output: { shape: y.shape, data: Array.from(y.dataSync()) },
      },
      null,
      1,
    ) + '\n',
  );
  tf.dispose([x, y]);
  model.dispose();
  console.log(`${dir}: ${c.what}`);
}
