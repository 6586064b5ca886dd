/**
 * Run by test/layer-lifetime.test.ts as `node --expose-gc --import tsx child.ts <backend>`:
 * prints one JSON line with
 *   heapGrowth: how much V8's heap (heapTotal) grew over 30,000 create/forward/dispose cycles
 *     run without yielding and without a forced collection;
 *   dropped: for rounds of 10 and of 200 GRUs dropped without dispose(), the core's allocated
 *     bytes before, with the layers alive, and after they were collected.
 */
import { GRU, loadBackend, type BackendName } from '../../ts/index.js';

const maybeGc = (globalThis as { gc?: () => void }).gc;
if (!maybeGc) throw new Error('run with --expose-gc');
const gc: () => void = maybeGc;
const backend = await loadBackend(process.argv[2] as BackendName);
const x = Float32Array.from({ length: 4 * 2 * 8 }, (_, i) => Math.sin(i));
const gru = (seed: number) => new GRU({ inputSize: 8, hiddenSize: 16, seed, backend });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (let i = 0; i < 2000; i++) gru(i).dispose(); // warm-up: compiled code, the heap's first growth
gc();
const heapBefore = process.memoryUsage().heapTotal;
for (let i = 0; i < 30000; i++) {
  const g = gru(i);
  g.forward(x, { batch: 2 });
  g.dispose();
}
const heapGrowth = process.memoryUsage().heapTotal - heapBefore;

async function dropRound(n: number): Promise<{ before: number; alive: number; after: number }> {
  await sleep(0);
  gc();
  const before = backend.allocatedBytes();
  for (let i = 0; i < n; i++) gru(i).forward(x, { batch: 2 }); // dropped
  const alive = backend.allocatedBytes();
  let after = alive;
  for (let t = 0; t < 50 && after !== before; t++) {
    await sleep(20); // a layer is registered 100 ms after it was made (ts/layer.ts)
    gc();
    await sleep(0); // finalizers run in a task after the collection
    after = backend.allocatedBytes();
  }
  return { before, alive, after };
}

const dropped = [await dropRound(10), await dropRound(200)];
console.log(JSON.stringify({ heapGrowth, dropped }));
