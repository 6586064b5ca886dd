/**
 * Runs one contestant over every case and writes its GroupResult as JSON to --out. run.ts
 * starts one worker process per contestant: peers' thread pools and global settings
 * (onnxruntime-web's numThreads is read once per process) cannot disturb each other, and a
 * peer that fails to load fails alone.
 *
 *   node --import tsx bench/worker.ts --group ort-node-2 --mode full --out /tmp/x.json [--threads N] [--rounds N] [--cases A,F]
 */
import { writeFileSync } from 'node:fs';
import Benchmark from 'benchmark';
import {
  GROUPS,
  selectCases,
  settings,
  type CaseResult,
  type GroupResult,
  type Mode,
  type Settings,
} from './cases.js';
import { gruSimd } from './contestants/gru-simd.js';
import { ort } from './contestants/ort.js';
import { tfjs } from './contestants/tfjs.js';
import type { Contestant, Prepared } from './contestants/types.js';
import { median, now, runCases, type Runtime } from './measure.js';
import { reference } from './reference.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

const log = (msg: string): void => void process.stderr.write(`${msg}\n`);

async function load(id: string, threads: number | undefined): Promise<Contestant> {
  const g = GROUPS.find((x) => x.id === id);
  if (!g) throw new Error(`unknown group ${id}`);
  switch (g.family) {
    case 'gru-simd':
      return gruSimd(
        g.backend as 'native' | 'wasm-relaxed' | 'wasm-simd' | 'wasm',
        g.fixedThreads ?? threads,
        g.precision,
      );
    case 'ort-node':
      return ort('node', g.threads);
    case 'ort-web':
      return ort('web', g.threads);
    case 'tfjs-wasm':
      return tfjs('wasm');
    case 'tfjs-cpu':
      return tfjs('cpu');
  }
}

/** Short calls: sampled by benchmark.js (Node's nanosecond clock). */
function sampled(p: Prepared, s: Settings): Promise<Partial<CaseResult>> {
  return new Promise((resolve, reject) => {
    let failure: unknown = null;
    const fn = p.async
      ? (d: { resolve(): void }) => {
          (p.run() as Promise<void>).then(
            () => d.resolve(),
            (e) => {
              failure = e;
              d.resolve();
            },
          );
        }
      : () => void p.run();
    const bench: Benchmark = new Benchmark({
      defer: p.async,
      fn,
      minSamples: s.minSamples,
      maxTime: s.maxTime,
      minTime: s.minTime,
      initCount: 1,
      onComplete: () => {
        if (failure || bench.error) return reject(failure ?? bench.error);
        const st = bench.stats;
        resolve({
          median: median(st.sample),
          mean: st.mean,
          rme: st.rme,
          samples: st.sample.length,
          method: 'benchmark.js',
        });
      },
    });
    bench.run({ async: p.async });
  });
}

async function main(): Promise<void> {
  const group = arg('group') as string;
  const mode = (arg('mode') ?? 'full') as Mode;
  const out = arg('out') as string;
  const threadsArg = arg('threads');
  // --rounds N: this worker is one of N rounds and gets 1/N of the time budgets.
  const s = settings(mode, Number(arg('rounds') ?? 1));
  const spec = GROUPS.find((g) => g.id === group);
  const started = now();
  const result: GroupResult = {
    group,
    name: spec?.name ?? group,
    threads: spec?.threads ?? 1,
    detail: '',
    results: [],
    wallSeconds: 0,
  };
  let contestant: Contestant;
  try {
    contestant = await load(group, threadsArg === undefined ? undefined : Number(threadsArg));
  } catch (e) {
    result.error = (e as Error).message.split('\n')[0] as string;
    result.wallSeconds = now() - started;
    writeFileSync(out, JSON.stringify(result));
    log(`  ${group}: could not load: ${result.error}`);
    return;
  }
  result.detail = contestant.detail;
  result.threads = contestant.threads;
  if (spec?.fixedThreads && contestant.threads !== spec.fixedThreads) {
    if (!process.env.GRU_BENCH_AFFINITY) {
      result.needsAffinity = spec.fixedThreads;
      writeFileSync(out, JSON.stringify(result));
      return;
    }
    result.error = `could not run on ${spec.fixedThreads} thread(s): the core still reports ${contestant.threads}`;
    writeFileSync(out, JSON.stringify(result));
    return;
  }
  if (process.env.GRU_BENCH_AFFINITY) {
    result.detail = `${result.detail.replace(/ \(--threads .*\)$/, '')}, CPU affinity ${process.env.GRU_BENCH_AFFINITY} (taskset: no setThreads in gru-simd yet)`;
  }
  const runtime: Runtime = {
    // gru-simd native is the reference itself.
    reference: (c, resetAfter) =>
      group === 'native' ? Promise.resolve(null) : reference(c, resetAfter),
    sampled,
    cpuSeconds: () => {
      const cpu = process.cpuUsage();
      return (cpu.user + cpu.system) / 1e6;
    },
  };
  const only = arg('cases')?.split(',');
  result.results = await runCases(contestant, group, selectCases(mode, only), s, runtime, log);
  result.wallSeconds = now() - started;
  writeFileSync(out, JSON.stringify(result));
}

await main();
// ORT's and tfjs's worker threads would keep the process alive.
process.exit(0);
