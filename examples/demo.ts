/**
 * `npm start`: picks the fastest backend, says which and why, then runs the same GRU forward
 * pass (batch 64, seq 100, input 128, hidden 256) on every backend available here, checks they
 * agree, and prints the time each took.
 */
import { init, loadBackend, GRU, type BackendName } from '../ts/index.js';

const shape = { batch: 64, seqLen: 100, inputSize: 128, hiddenSize: 256 };

function randomInput(n: number, seed: number): Float32Array {
  // A small LCG so every backend sees the same input.
  const x = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = s / 2 ** 31 - 1;
  }
  return x;
}

const info = await init();
console.log(
  `gru-simd chose the ${info.backend} backend, ISA ${info.isa}, ${info.threads} thread(s)`,
);
if (info.fallbackReason) console.log(`  (${info.fallbackReason})`);

const x = randomInput(shape.seqLen * shape.batch * shape.inputSize, 7);
const flops =
  2 * 3 * shape.hiddenSize * (shape.inputSize + shape.hiddenSize) * shape.batch * shape.seqLen;
console.log(
  `\nforward: batch ${shape.batch}, seq ${shape.seqLen}, input ${shape.inputSize}, hidden ${shape.hiddenSize}` +
    ` (${(flops / 1e9).toFixed(2)} GFLOP per call)`,
);
let reference: Float32Array | null = null;
for (const name of ['native', 'wasm-simd', 'wasm'] as BackendName[]) {
  let backend;
  try {
    backend = await loadBackend(name);
  } catch (e) {
    console.log(`  ${name.padEnd(9)} not available: ${(e as Error).message}`);
    continue;
  }
  const gru = new GRU({
    inputSize: shape.inputSize,
    hiddenSize: shape.hiddenSize,
    seed: 42,
    backend,
  });
  gru.forward(x, { batch: shape.batch }); // warm-up: scratch allocation, page faults
  const runs = name === 'wasm' ? 2 : 5;
  const times: number[] = [];
  let output: Float32Array | null = null;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    output = gru.forward(x, { batch: shape.batch }).output;
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const ms = times[Math.floor(times.length / 2)] as number;
  let agreement = '';
  if (reference && output) {
    let maxDiff = 0;
    for (let i = 0; i < output.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs(output[i]! - reference[i]!));
    agreement = `, max |difference| to the first backend ${maxDiff.toExponential(2)}`;
  } else {
    reference = output;
  }
  console.log(
    `  ${name.padEnd(9)} ISA ${backend.isa().padEnd(7)} ${ms.toFixed(2).padStart(8)} ms` +
      `  ${(flops / ms / 1e6).toFixed(1).padStart(6)} GFLOP/s${agreement}`,
  );
  gru.dispose();
}
