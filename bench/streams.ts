/**
 * Many streams per call (GRUStreams, issue 13's E-many): 256 independent streams of a GRU with
 * input 64 and hidden 256, each advanced by one timestep,
 *   - group:   one GRUStreams.step() call for all 256 (one batched step in the core),
 *   - subset:  one call for 64 of the 256 (the others idle this step),
 *   - calls:   256 stepInto() calls, one GRUStream per stream (what a server does without it),
 * median µs per step of all streams, GFLOP/s, and the group's speed-up over the calls, per
 * backend, in one run. Before timing, the group's outputs are checked bitwise against the calls'.
 *
 *   node --import tsx bench/streams.ts [--backends native,wasm-simd,wasm] [--streams 256] [--rounds 9]
 */
import { GRU, loadBackend, type BackendName, type GRUStream } from '../ts/index.js';
import { median } from './measure.js';
import { uniform } from './weights.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : (process.argv[i + 1] ?? fallback);
}

const backends = arg('backends', 'native,wasm-simd,wasm').split(',') as BackendName[];
const N = Number(arg('streams', '256'));
const rounds = Number(arg('rounds', '9'));
const [I, H] = [64, 256];
/** Floating-point operations of one step of one stream: the six matrix products. */
const FLOPS_PER_STREAM = 2 * 3 * H * (I + H);

/** Median ms per call of each case; the cases take turns within every round (~60 ms each). */
function timeAll(cases: (() => void)[]): number[] {
  const calls = cases.map((fn) => {
    for (let i = 0; i < 3; i++) fn();
    const t0 = performance.now();
    fn();
    return Math.max(3, Math.min(2000, Math.round(60 / Math.max(performance.now() - t0, 1e-3))));
  });
  const perCall: number[][] = cases.map(() => []);
  for (let r = 0; r < rounds; r++) {
    cases.forEach((fn, c) => {
      const start = performance.now();
      for (let i = 0; i < calls[c]!; i++) fn();
      perCall[c]!.push((performance.now() - start) / calls[c]!);
    });
  }
  return perCall.map(median);
}

const rows: string[] = [];
for (const name of backends) {
  const backend = await loadBackend(name);
  const gru = new GRU({ inputSize: I, hiddenSize: H, seed: 1, backend });
  const x = uniform(N * I, 7);
  const h0 = uniform(N * H, 9).map((v) => v * 0.5);

  const group = gru.streams({ capacity: N });
  for (let s = 0; s < N; s++) group.open(h0.subarray(s * H, (s + 1) * H));
  const all = Int32Array.from({ length: N }, (_, s) => s);
  const subset = Int32Array.from({ length: N / 4 }, (_, k) => k * 4);
  const xSubset = x.subarray(0, subset.length * I);
  const out = new Float32Array(N * H);

  const alone: GRUStream[] = [];
  for (let s = 0; s < N; s++)
    alone.push(gru.stream({ batch: 1, h0: h0.slice(s * H, (s + 1) * H) }));
  const frames = Array.from({ length: N }, (_, s) => x.subarray(s * I, (s + 1) * I));
  const outs = Array.from({ length: N }, (_, s) => out.subarray(s * H, (s + 1) * H));

  // The check: one step of the group against one stepInto per stream, bitwise.
  const byGroup = group.step(all, x);
  for (let s = 0; s < N; s++) alone[s]!.stepInto(frames[s]!, outs[s]!);
  const same = byGroup.every((v, i) => Object.is(v, out[i]));
  if (!same) throw new Error(`${name}: the group's outputs differ from the streams stepped alone`);

  const groupOut = new Float32Array(N * H);
  const subsetOut = new Float32Array(subset.length * H);
  const [tGroup, tSubset, tCalls] = timeAll([
    () => group.step(all, x, groupOut),
    () => group.step(subset, xSubset, subsetOut),
    () => {
      for (let s = 0; s < N; s++) alone[s]!.stepInto(frames[s]!, outs[s]!);
    },
  ]) as [number, number, number];
  const gf = (ms: number, n: number) => ((FLOPS_PER_STREAM * n) / (ms * 1e-3) / 1e9).toFixed(1);
  rows.push(
    `| ${name} (${backend.isa()}) | ${(tGroup * 1e3).toFixed(0)} µs (${gf(tGroup, N)}) | ` +
      `${(tSubset * 1e3).toFixed(0)} µs (${gf(tSubset, subset.length)}) | ` +
      `${(tCalls * 1e3).toFixed(0)} µs (${gf(tCalls, N)}) | ×${(tCalls / tGroup).toFixed(1)} | bitwise equal |`,
  );
  gru.dispose();
}

console.log(
  `\n${N} streams, GRU I${I} H${H}, one timestep each (median of ${rounds} rounds; GFLOP/s in brackets)\n`,
);
console.log(
  `| backend | group.step(all ${N}) | group.step(${N / 4} of them) | ${N} stepInto calls | group speed-up | check |`,
);
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
