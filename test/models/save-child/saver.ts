/**
 * The child of the atomic-save test (test/models/model-file-atomic.test.ts), bundled by it with
 * esbuild so that it starts in milliseconds: takes a model file made by toBytes() (argv[3]),
 * and saves it to argv[2] again and again through the Node writer save() uses
 * (ts/models/storage-node.ts), every weight of save i equal to i, printing 'saved i' after each,
 * until it is killed.
 */
import { readFileSync } from 'node:fs';
import { nodeFiles } from '../../../ts/models/storage-node.js';

const [file, template] = process.argv.slice(2) as [string, string];
const bytes = new Uint8Array(readFileSync(template));
const start = 8 + new DataView(bytes.buffer).getUint32(0, true); // a multiple of 8
const values = new Float32Array(bytes.buffer, start, (bytes.length - start) / 4);
for (let i = 1; ; i++) {
  values.fill(i);
  await nodeFiles.writeAtomic(file, bytes);
  process.stdout.write(`saved ${i}\n`);
}
