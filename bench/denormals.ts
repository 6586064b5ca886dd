/**
 * Denormal inputs, weights and initial states against normal ones: a batch-1 forward (input 64,
 * hidden 128, seq 100, one thread), median ms per call, per backend, and each case's ratio to
 * the normal case of the same backend. Denormal operands take a slow path in most CPUs
 * (microcode assists on x86, 10-100x per instruction); the native core flushes them to zero
 * (FTZ/DAZ, native/core/fp_env.h), WebAssembly cannot.
 *
 *   node --import tsx bench/denormals.ts [--backends native,wasm-simd,wasm] [--rounds 15]
 */
import { GRU, loadBackend, setThreads, type BackendName } from '../ts/index.js';
import { median } from './measure.js';
import { uniform } from './weights.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : (process.argv[i + 1] ?? fallback);
}

const backends = arg('backends', 'native,wasm-simd').split(',') as BackendName[];
const rounds = Number(arg('rounds', '15'));
const [I, H, T] = [64, 128, 100];
/** Below FLT_MIN (1.18e-38): a float32 denormal. */
const DENORMAL = 1e-39;

/** Same signs as `a`, every magnitude the denormal. */
const denormal = (a: Float32Array): Float32Array => a.map((v) => (v < 0 ? -DENORMAL : DENORMAL));

/**
 * Median ms per call of each case. The cases take turns within every round (the machine may be
 * shared: a slow phase then lands on all of them alike), each turn about 50 ms of calls.
 */
function timeAll(cases: [string, () => void][]): number[] {
  const calls = cases.map(([, fn]) => {
    for (let i = 0; i < 5; i++) fn();
    const t0 = performance.now();
    fn();
    return Math.max(3, Math.min(500, Math.round(50 / Math.max(performance.now() - t0, 1e-3))));
  });
  const perCall: number[][] = cases.map(() => []);
  for (let r = 0; r < rounds; r++) {
    cases.forEach(([, fn], c) => {
      const start = performance.now();
      for (let i = 0; i < (calls[c] as number); i++) fn();
      (perCall[c] as number[]).push((performance.now() - start) / (calls[c] as number));
    });
  }
  return perCall.map(median);
}

const rows: string[] = [];
for (const name of backends) {
  const backend = await loadBackend(name);
  setThreads(1, backend);
  const gru = new GRU({ inputSize: I, hiddenSize: H, seed: 1, backend });
  const tiny = new GRU({ inputSize: I, hiddenSize: H, seed: 1, backend });
  const weights: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(gru.stateDict())) weights[k] = denormal(v);
  tiny.loadStateDict(weights);
  const x = uniform(T * I, 2);
  const h0 = uniform(H, 3).map((v) => v * 0.5);
  const [dx, dh0] = [denormal(x), denormal(h0)];
  const cases: [string, () => void][] = [
    ['normal', () => gru.forward(x, { h0 })],
    ['denormal x', () => gru.forward(dx, { h0 })],
    ['denormal h0', () => gru.forward(x, { h0: dh0 })],
    ['denormal weights', () => tiny.forward(x, { h0 })],
  ];
  const ms = timeAll(cases);
  gru.dispose();
  tiny.dispose();
  cases.forEach(([what], c) => {
    const t = ms[c] as number;
    rows.push(`| ${name} | ${what} | ${t.toFixed(3)} | ${(t / (ms[0] as number)).toFixed(2)}x |`);
  });
}
console.log(`batch 1, seq ${T}, input ${I}, hidden ${H}, 1 thread; median of ${rounds} rounds\n`);
console.log('| backend | case | ms per forward | vs normal |\n|---|---|---|---|');
console.log(rows.join('\n'));
