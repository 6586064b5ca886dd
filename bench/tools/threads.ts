/**
 * The thread policy's check: gru-simd native at its default thread count against one thread,
 * interleaved in one process, so that both see the same load from other processes (the suite
 * runs them in two processes, one after the other, and a shared machine's load changes
 * between them).
 *
 *   node --import tsx bench/tools/threads.ts [--cases A,B,C,D,E,F,sweep] [--rounds 9]
 *
 * Per case and round, each setting (1 thread, then the default; the order alternates between
 * rounds) runs warm-up calls for about 10 ms and then calls for about 40 ms; the time per call
 * is that block's mean. Printed: the median over rounds of each setting and default / 1-thread (< 1:
 * the default is faster), the stalls the pool noted meanwhile (each sends regions to the caller
 * alone for 50 ms or more: native/core/thread_pool.cpp), with the load average before and after.
 */
import { loadavg } from 'node:os';
import { selectCases } from '../cases.js';
import { median } from '../measure.js';
import { prepareGruSimd } from '../contestants/gru-simd.js';
import * as gs from '../../ts/index.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const ids = (arg('cases') ?? 'A,B,C,D,E').split(',');
const rounds = Number(arg('rounds') ?? 9);
const blockSeconds = 0.04;

const backend = await gs.loadBackend('native');
const defaultThreads = backend.threads();
const settings = [1, defaultThreads];

/**
 * Mean seconds per call over `calls` calls, after warm-up calls for about a quarter of that
 * (at least two): setThreads starts the helper threads anew, and they settle meanwhile.
 */
async function block(run: () => void | Promise<void>, calls: number): Promise<number> {
  for (let i = 0; i < Math.max(2, Math.ceil(calls / 4)); i++) await run();
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) await run();
  return (performance.now() - t0) / 1000 / calls;
}

console.log(
  `gru-simd native ISA ${backend.isa()}, default ${defaultThreads} threads; load ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
console.log('case            1 thread     default      default/1T  stalls');
/** The stalls the pool has noted so far (gru_thread_policy: threads, cooling, stalls, ms left). */
const stalls = (): number => {
  const policy = new Int32Array(4);
  backend.threadPolicy(policy);
  return policy[2]!;
};
for (const c of selectCases('quick', ids)) {
  const p = await prepareGruSimd(backend, c);
  const run = p.run;
  // Calls per block from one timed call on one thread.
  gs.setThreads(1, backend);
  const one = await block(run, 1);
  const calls = Math.max(1, Math.round(blockSeconds / one));
  const times = new Map<number, number[]>(settings.map((n) => [n, []]));
  const stalls0 = stalls();
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? settings : [...settings].reverse();
    for (const n of order) {
      gs.setThreads(n, backend);
      times.get(n)!.push(await block(run, calls));
    }
  }
  gs.setThreads(defaultThreads, backend);
  await p.dispose?.();
  const t1 = median(times.get(1)!);
  const tn = median(times.get(defaultThreads)!);
  const fmt = (s: number): string =>
    s < 1e-3 ? `${(s * 1e6).toFixed(1)} us` : `${(s * 1e3).toFixed(3)} ms`;
  console.log(
    `${c.id.padEnd(16)}${fmt(t1).padEnd(13)}${fmt(tn).padEnd(13)}${(tn / t1).toFixed(3).padEnd(12)}${stalls() - stalls0}`,
  );
}
console.log(`load after: ${loadavg()[0]?.toFixed(2)}`);
