/**
 * `npm run soak`: long runs of each kind of work on each backend, with the process's and the
 * core's memory sampled through every phase (scripts/soak/phases.ts), judged against stated
 * bounds; prints a table and exits non-zero when a bound is broken.
 *
 *   node --expose-gc --import tsx scripts/soak.ts [--quick] [--calls N] [--backends a,b]
 *
 * --calls N: forward calls per backend (default 1,000,000; --quick 20,000); forwardAsync calls
 * and create/forward/dispose cycles are N/10, cycles with forwardAsync and training steps N/20.
 * --backends: a subset of native, wasm-simd, wasm (default all three).
 *
 * The table also shows how far RSS rose before each sample's collection ("RSS before GC"):
 * garbage V8 has promoted to its old generation shows there (ts/layer.ts says why layers once
 * were), not as a leak.
 *
 * Bounds, each read after a full collection (memory.ts):
 *   - RSS grows less than 5 MiB over the second half of every phase (the first half may fill
 *     caches, pools and the allocator's free lists; what still grows after that is a leak);
 *   - the core's allocated bytes (gru_allocated_bytes) end within 10 % of where the phase
 *     started: for dropped layers, that is the FinalizationRegistry having freed all of them;
 *   - wasm: the module's linear memory grows less than 5 MiB over the second half of every
 *     phase, and after each round of dropped layers is collected it is back within 10 % of
 *     where the phase started. A WebAssembly.Memory never shrinks; the backend renews its
 *     module instance, and so its memory, once no object is live
 *     (ts/backends/wasm-instance.ts).
 */
import { loadBackend, type Backend, type BackendName } from '../ts/index.js';
import { hasGc, read, settle, type Sample } from './soak/memory.js';
import { counts, phases, type Phase } from './soak/phases.js';

const MiB = 1 << 20;
const RSS_BOUND = 5 * MiB;
const WASM_BOUND = 5 * MiB;
const ALLOCATED_SLACK = 0.1;
const WASM_DROPPED_SLACK = 0.1;

interface Row {
  backend: string;
  phase: string;
  unit: string;
  count: number;
  seconds: number;
  samples: Sample[];
  failures: string[];
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

/** Growth of a field over the second half of the samples (from the middle one to the last). */
function secondHalf(samples: Sample[], field: 'rss' | 'wasm' | 'external'): number {
  const mid = samples[Math.floor((samples.length - 1) / 2)]!;
  const last = samples[samples.length - 1]!;
  return (last[field] ?? 0) - (mid[field] ?? 0);
}

function judge(row: Row): void {
  const s = row.samples;
  const first = s[0]!;
  const last = s[s.length - 1]!;
  const rss = secondHalf(s, 'rss');
  if (rss >= RSS_BOUND) row.failures.push(`RSS grew ${mib(rss)} over the second half`);
  if (last.allocated > first.allocated * (1 + ALLOCATED_SLACK))
    row.failures.push(`core bytes ${first.allocated} -> ${last.allocated} (> +10 %)`);
  if (first.wasm !== null) {
    const wasm = secondHalf(s, 'wasm');
    if (wasm >= WASM_BOUND) row.failures.push(`wasm memory grew ${mib(wasm)} over the second half`);
    if (row.phase === 'dropped') {
      const worst = Math.max(...s.slice(1).map((x) => x.wasm!));
      if (worst > first.wasm * (1 + WASM_DROPPED_SLACK))
        row.failures.push(
          `wasm memory after a round was collected: ${mib(first.wasm)} -> ${mib(worst)} (> +10 %)`,
        );
    }
  }
}

async function runPhase(backend: Backend, p: Phase) {
  const row: Row = {
    backend: backend.name,
    phase: p.name,
    unit: p.unit,
    count: p.count,
    seconds: 0,
    samples: [],
    failures: [],
  };
  p.setup();
  const finalizers = p.name === 'dropped';
  await settle(backend, p.settleRounds, finalizers);
  row.samples.push(read(backend, 0, process.memoryUsage().rss));
  for (let k = 0; k < p.chunks; k++) {
    const from = Math.floor((p.count * k) / p.chunks);
    const to = Math.floor((p.count * (k + 1)) / p.chunks);
    const t0 = performance.now();
    await p.run(from, to);
    row.seconds += (performance.now() - t0) / 1000; // the work, not the sampling
    const rssBeforeGc = process.memoryUsage().rss;
    await settle(backend, p.settleRounds, finalizers);
    row.samples.push(read(backend, to, rssBeforeGc));
    process.stderr.write(
      `\r${backend.name} ${p.name}: ${to}/${p.count} ${p.unit}, RSS ${mib(row.samples.at(-1)!.rss)}   `,
    );
  }
  process.stderr.write('\n');
  p.close();
  judge(row);
  return row;
}

const mib = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;
const num = (n: number): string => n.toLocaleString('en-US');

function table(rows: Row[]): string {
  const head = [
    'backend',
    'phase',
    'work',
    's',
    'per s',
    'RSS start -> end (peak) MiB',
    'RSS before GC: max growth',
    'RSS 2nd half',
    'V8 external 2nd half',
    'wasm memory start -> end MiB',
    'wasm 2nd half',
    'core bytes start -> end',
    'verdict',
  ];
  const lines = rows.map((r) => {
    const s = r.samples;
    const [first, last] = [s[0]!, s[s.length - 1]!];
    const peak = Math.max(...s.map((x) => x.rss));
    const m = (b: number) => (b / MiB).toFixed(1);
    return [
      r.backend,
      r.phase,
      `${num(r.count)} ${r.unit}`,
      r.seconds.toFixed(1),
      num(Math.round(r.count / r.seconds)),
      `${m(first.rss)} -> ${m(last.rss)} (${m(peak)})`,
      mib(Math.max(...s.map((x) => x.rssBeforeGc)) - first.rssBeforeGc),
      mib(secondHalf(s, 'rss')),
      mib(secondHalf(s, 'external')),
      first.wasm === null ? '-' : `${m(first.wasm)} -> ${m(last.wasm!)}`,
      first.wasm === null ? '-' : mib(secondHalf(s, 'wasm')),
      `${num(first.allocated)} -> ${num(last.allocated)}`,
      r.failures.length ? `FAIL: ${r.failures.join('; ')}` : 'pass',
    ];
  });
  const all = [head, ...lines];
  const width = head.map((_, i) => Math.max(...all.map((l) => l[i]!.length)));
  const fmt = (l: string[]) => `| ${l.map((c, i) => c.padEnd(width[i]!)).join(' | ')} |`;
  return [fmt(head), `|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(fmt)].join(
    '\n',
  );
}

async function main(): Promise<number> {
  if (!hasGc()) {
    console.error('soak: run with node --expose-gc (npm run soak does)');
    return 2;
  }
  const quick = process.argv.includes('--quick');
  const calls = Number(arg('calls') ?? (quick ? 20000 : 1000000));
  if (!Number.isInteger(calls) || calls < 20) {
    console.error(`soak: --calls must be an integer >= 20, got ${arg('calls')}`);
    return 2;
  }
  const names = (arg('backends') ?? 'native,wasm-simd,wasm').split(',') as BackendName[];
  const c = counts(calls, quick);
  console.log(
    `soak: ${quick ? 'quick, ' : ''}${num(calls)} forward calls per backend; bounds: RSS and wasm ` +
      `memory growth < 5 MiB over the second half of each phase, core bytes within 10 % of the ` +
      `phase's start, wasm memory within 10 % of the phase's start after each round of dropped ` +
      `layers is collected`,
  );
  const rows: Row[] = [];
  for (const name of names) {
    const backend = await loadBackend(name);
    console.log(`${name}: isa ${backend.isa()}, ${backend.threads()} thread(s)`);
    for (const p of phases(backend, c)) rows.push(await runPhase(backend, p));
  }
  console.log(table(rows));
  const failed = rows.filter((r) => r.failures.length > 0).length;
  console.log(failed ? `soak: ${failed} phase(s) failed` : 'soak: every phase within its bounds');
  return failed ? 1 : 0;
}

process.exitCode = await main();
