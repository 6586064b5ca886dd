/**
 * A file of format version 1 (test/fixtures/model-file-v1.safetensors, written once by
 * scripts/gen-model-file-fixture.ts) keeps loading, on every backend: its predictions as
 * recorded (within the backends' rounding), and written again unchanged (every tensor and every
 * metadata entry but the gru-simd version), so that a later change of the format is seen.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeSafetensors } from '../../ts/formats/safetensors.js';
import { loadModel, tensor } from '../../ts/index.js';
import { forEachBackend } from '../backends.js';

const FILE = 'test/fixtures/model-file-v1.safetensors';
const RECORDED = JSON.parse(readFileSync('test/fixtures/model-file-v1.json', 'utf8')) as {
  x: { data: number[]; shape: number[] };
  prediction: { data: number[]; shape: number[] };
};

forEachBackend('model file: the format version 1 fixture', (backend) => {
  it('loads: the architecture, compile() and predictions as recorded', async () => {
    const model = await loadModel(FILE, { backend });
    try {
      assert.equal(model.name, 'fixture_v1');
      assert.deepEqual(
        model.layers.map((l) => l.className),
        ['Embedding', 'GRU', 'Bidirectional', 'BatchNormalization', 'Dense', 'Dropout', 'Dense'],
      );
      assert.deepEqual(model.metricsNames, ['loss', 'accuracy']);
      const x = tensor(Int32Array.from(RECORDED.x.data), RECORDED.x.shape, 'int32');
      const p = model.predict(x);
      assert.deepEqual(p.shape, RECORDED.prediction.shape);
      let max = 0;
      p.data.forEach((v, i) => (max = Math.max(max, Math.abs(v - RECORDED.prediction.data[i]!))));
      assert.ok(max <= 1e-5, `max |prediction - recorded| = ${max}`);
    } finally {
      model.dispose();
    }
  });

  it('written again unchanged: tensors and metadata (the optimizer state included)', async () => {
    const bytes = new Uint8Array(readFileSync(FILE));
    const model = await loadModel(bytes, { backend });
    try {
      const a = decodeSafetensors(bytes);
      const b = decodeSafetensors(model.toBytes());
      const { gru_simd_version: _a, ...metaA } = a.metadata;
      const { gru_simd_version: _b, ...metaB } = b.metadata;
      assert.deepEqual(metaB, metaA);
      assert.deepEqual([...b.tensors.keys()], [...a.tensors.keys()]);
      for (const [name, t] of a.tensors) assert.deepEqual(b.tensors.get(name), t, name);
    } finally {
      model.dispose();
    }
  });
});
