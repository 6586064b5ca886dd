/**
 * Called by scripts/gen-torch-safetensors-fixtures.py (the reverse direction): builds modules A
 * and B of test/torch-state-dict-models.ts with gru-simd's own seeded weights (B's BatchNorm
 * running statistics and num_batches_tracked moved by three training forwards), writes them
 * with saveTorchStateDict, and their predictions on the given inputs, for PyTorch to load with
 * load_state_dict(strict=True) and compare.
 *   npx tsx scripts/write-torch-state-dict.ts DIR   (DIR holds inputs.json; gets a.safetensors,
 *   b.safetensors and predictions.json)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadBackend, saveTorchStateDict } from '../ts/index.js';
import { moduleA, moduleB, predictA, predictB } from '../test/torch-state-dict-models.js';

const dir = process.argv[2]!;
const inputs = JSON.parse(readFileSync(path.join(dir, 'inputs.json'), 'utf8')) as {
  ids: number[];
  x: number[];
  batch: number;
};
const backend = await loadBackend('wasm');
const a = moduleA(backend, 7);
const b = moduleB(backend, 9);
for (let i = 0; i < 3; i++)
  b.bn.forward(
    Float32Array.from({ length: 20 }, (_, k) => Math.sin(k * 1.3 + i) * (2 + i) + i),
    {
      train: true,
    },
  );
await saveTorchStateDict(a, path.join(dir, 'a.safetensors'));
await saveTorchStateDict(b, path.join(dir, 'b.safetensors'));
const predictions = {
  a: Array.from(predictA(a, inputs.ids, inputs.batch)),
  b: Array.from(predictB(b, Float32Array.from(inputs.x), inputs.batch)),
};
writeFileSync(path.join(dir, 'predictions.json'), JSON.stringify(predictions));
