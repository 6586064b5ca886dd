/**
 * Writes test/fixtures/model-file-v1.safetensors and model-file-v1.json: a small model saved in
 * format version 1 (ts/models/model-file.ts) after a few training steps (so it holds an
 * optimizer state), and its predictions on a fixed input. test/models/model-file-fixture.test.ts
 * (and the browser test, from a URL) load the file as later versions must keep loading it.
 * Written once; rerun only for a new format version (as a new file beside this one).
 *
 *   node --import tsx scripts/gen-model-file-fixture.ts
 */
import { writeFileSync } from 'node:fs';
import { init, layers, sequential, tensor } from '../ts/index.js';

await init({ backend: 'wasm-simd' });
const T = 6;
const model = sequential({
  name: 'fixture_v1',
  seed: 2026,
  layers: [
    layers.embedding({ inputDim: 12, outputDim: 5, maskZero: true, inputLength: T }),
    layers.gru({ units: 8, returnSequences: true, recurrentActivation: 'hardSigmoid' }),
    layers.bidirectional({ layer: layers.gru({ units: 4 }), mergeMode: 'concat' }),
    layers.batchNormalization(),
    layers.dense({ units: 6, activation: 'gelu' }),
    layers.dropout({ rate: 0.2 }),
    layers.dense({ units: 3, activation: 'softmax' }),
  ],
});
model.compile({
  optimizer: {
    name: 'adamw',
    learningRate: {
      className: 'CosineDecay',
      config: { initialLearningRate: 0.01, decaySteps: 10 },
    },
    clipnorm: 1,
  },
  loss: 'sparseCategoricalCrossentropy',
  metrics: ['accuracy'],
});
// Ids 1..11, and right padding (0) on the last step of every other sample.
const ids = Int32Array.from({ length: 8 * T }, (_, i) =>
  i % T === T - 1 && (i / T) % 2 < 1 ? 0 : 1 + ((i * 7 + 3) % 11),
);
const x = tensor(ids, [8, T], 'int32');
const y = tensor(
  Int32Array.from({ length: 8 }, (_, i) => i % 3),
  [8],
  'int32',
);
await model.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0 });
writeFileSync('test/fixtures/model-file-v1.safetensors', model.toBytes());
const prediction = model.predict(x);
writeFileSync(
  'test/fixtures/model-file-v1.json',
  JSON.stringify(
    {
      note: 'scripts/gen-model-file-fixture.ts: the predictions of model-file-v1.safetensors on x (wasm-simd)',
      x: { data: Array.from(ids), shape: [8, T] },
      prediction: { data: Array.from(prediction.data), shape: prediction.shape },
    },
    null,
    1,
  ) + '\n',
);
console.log('wrote test/fixtures/model-file-v1.safetensors and .json');
