/**
 * Writes test/fixtures/keras-files/ours/: gru-simd's models of test/keras-files-ours.ts as
 * `.keras` files, and ours.json with their inputs and gru-simd's predictions, for
 * scripts/gen-keras-file-fixtures.py to load in Keras 3 and compare (its header says the order).
 *   node --import tsx scripts/write-keras-files.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { init, loadBackend } from '../ts/index.js';
import { kerasModelBytes } from '../ts/formats/keras-save.js';
import { buildOurs, oursInput, OURS } from '../test/keras-files-ours.js';

const DIR = 'test/fixtures/keras-files/ours';
await init({ backend: 'wasm' });
const backend = await loadBackend('wasm');
mkdirSync(DIR, { recursive: true });
const cases = [];
for (const c of OURS) {
  const model = buildOurs(c, backend);
  const { x, values } = oursInput(c);
  const predict = Array.from(model.predict(x).data as Float32Array);
  writeFileSync(
    `${DIR}/${c.file}`,
    await kerasModelBytes(model, c.batchSize === undefined ? {} : { batchSize: c.batchSize }),
  );
  cases.push({
    file: c.file,
    xShape: x.shape,
    xInt: c.vocab !== undefined,
    x: values,
    gruSimdPredict: predict,
  });
  model.dispose();
}
writeFileSync(`${DIR}/ours.json`, `${JSON.stringify({ cases }, null, 1)}\n`);
console.log(`wrote ${cases.length} .keras files and ours.json to ${DIR}`);
