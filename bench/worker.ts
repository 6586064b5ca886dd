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
  type Case,
  type CaseResult,
  type GroupResult,
  type Mode,
  type Settings,
} from './cases.js';
import { gruSimd, prepareGruSimd } from './contestants/gru-simd.js';
import { ort } from './contestants/ort.js';
import { tfjs } from './contestants/tfjs.js';
import type { Contestant, Prepared, Probe } from './contestants/types.js';
import * as gs from '../ts/index.js';

/** Agreement asked of every contestant with gru-simd on the same weights and inputs. */
const TOLERANCE = { output: 1e-4, lossRelative: 1e-4 };

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

const log = (msg: string): void => void process.stderr.write(`${msg}\n`);
const now = (): number => performance.now() / 1000;

async function load(id: string, threads: number | undefined): Promise<Contestant> {
  const g = GROUPS.find((x) => x.id === id);
  if (!g) throw new Error(`unknown group ${id}`);
  switch (g.family) {
    case 'gru-simd':
      return gruSimd(g.backend as 'native' | 'wasm-simd' | 'wasm', g.fixedThreads ?? threads);
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

/** gru-simd on the best backend here computes what each contestant is compared with. */
let referenceBackend: Awaited<ReturnType<typeof gs.loadBackend>> | null = null;
async function reference(c: Case, resetAfter: boolean): Promise<{ probe: Probe; name: string }> {
  if (!referenceBackend) {
    try {
      referenceBackend = await gs.loadBackend('native');
    } catch {
      referenceBackend = await gs.loadBackend('wasm-simd');
    }
  }
  const p = prepareGruSimd(referenceBackend, c, resetAfter);
  try {
    const name = `gru-simd ${referenceBackend.name}${resetAfter ? '' : ' (resetAfter: false)'}`;
    return { probe: (await p.probe()).probe, name };
  } finally {
    p.dispose();
  }
}

function compare(got: Probe, want: Probe): { ok: boolean; text: string } {
  if (got.kind === 'loss' && want.kind === 'loss') {
    const rel = Math.abs(got.value - want.value) / Math.max(Math.abs(want.value), 1e-12);
    return {
      ok: rel <= TOLERANCE.lossRelative,
      text: `first-step loss rel. diff ${rel.toExponential(1)}`,
    };
  }
  if (got.kind === 'output' && want.kind === 'output') {
    if (got.data.length !== want.data.length)
      return { ok: false, text: `output length ${got.data.length}, expected ${want.data.length}` };
    let max = 0;
    for (let i = 0; i < got.data.length; i++) {
      const d = Math.abs((got.data[i] as number) - (want.data[i] as number));
      if (!(d <= max)) max = d; // NaN propagates as a failure
    }
    return { ok: max <= TOLERANCE.output, text: `max |diff| ${max.toExponential(1)}` };
  }
  return { ok: false, text: 'probe kinds differ' };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

async function handTimed(p: Prepared, perCall: number, s: Settings): Promise<Partial<CaseResult>> {
  const n = Math.max(s.minCalls, Math.min(s.maxCalls, Math.floor(s.slowBudget / perCall)));
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = now();
    if (p.async) await p.run();
    else p.run();
    times.push(now() - t0);
  }
  const med = median(times);
  const mean = times.reduce((a, b) => a + b, 0) / n;
  const rme = n > 1 ? ((Math.max(...times) - Math.min(...times)) / 2 / med) * 100 : undefined;
  return { median: med, mean, rme, samples: n, method: 'hand-timed' };
}

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

/**
 * Seconds one call of c is expected to take, from this contestant's measured cases at the same
 * batch size (the most recent, i.e. largest, one scaled by flops); null when none.
 */
function estimate(c: Case, measured: { c: Case; seconds: number }[]): number | null {
  if (c.kind === 'stream') return null;
  const same = measured.filter((m) => m.c.batch === c.batch && m.c.kind !== 'stream');
  const last = same[same.length - 1];
  return last ? (last.seconds * c.flops) / last.c.flops : null;
}

async function runCase(
  contestant: Contestant,
  group: string,
  c: Case,
  s: Settings,
  measured: { c: Case; seconds: number }[],
): Promise<CaseResult> {
  const base = { caseId: c.id };
  const why = contestant.unsupported(c);
  if (why) return { ...base, status: 'skipped', note: why };
  if (group === 'wasm' && c.flops > s.scalarMaxFlops)
    return { ...base, status: 'skipped', note: 'quick mode (scalar, big case)' };
  const est = estimate(c, measured);
  const cap = c.workload === 'sweep' ? s.cap : s.cap * (s.mode === 'full' ? 4 : 1.5);
  if (est !== null && est > cap)
    return { ...base, status: 'skipped', note: `> ${cap} s per call (est. ${est.toFixed(0)} s)` };

  const ref = group === 'native' ? null : await reference(c, contestant.resetAfter);
  const p = await contestant.prepare(c);
  try {
    const t0 = now();
    const { probe, calls } = await p.probe();
    const perCall = (now() - t0) / calls;
    let check = `reference (${contestant.resetAfter ? 'reset-after' : 'reset-before'})`;
    if (ref) {
      const cmp = compare(probe, ref.probe);
      check = `${cmp.text} vs ${ref.name}`;
      if (!cmp.ok)
        return { ...base, status: 'failed', note: `does not match gru-simd: ${check}`, check };
    }
    // CPU time of this process (every thread) per wall second while timing: shows the threads really used.
    const cpu0 = process.cpuUsage();
    const w0 = now();
    const timing = perCall > s.slowCall ? await handTimed(p, perCall, s) : await sampled(p, s);
    const cpu = process.cpuUsage(cpu0);
    timing.cpuPerWall = (cpu.user + cpu.system) / 1e6 / (now() - w0);
    if (c.kind !== 'stream') measured.push({ c, seconds: timing.median as number });
    // Workload F on gru-simd: the step split into core calls and the model API's own time.
    const overhead = p.overhead ? await p.overhead(s.mode === 'quick' ? 3 : 10) : undefined;
    return { ...base, status: 'ok', note: '', check, ...timing, ...(overhead ? { overhead } : {}) };
  } finally {
    p.dispose();
  }
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
  const measured: { c: Case; seconds: number }[] = [];
  // Smallest first, so a slow contestant's big cases can be estimated from its small ones.
  const only = arg('cases')?.split(',');
  for (const c of [...selectCases(mode, only)].sort((a, b) => a.flops - b.flops)) {
    let r: CaseResult;
    try {
      r = await runCase(contestant, group, c, s, measured);
    } catch (e) {
      r = { caseId: c.id, status: 'failed', note: (e as Error).message.split('\n')[0] as string };
    }
    result.results.push(r);
    const o = r.overhead;
    const what =
      r.status === 'ok'
        ? `${((r.median as number) * 1e3).toPrecision(4)} ms (${r.method}, n=${r.samples}) ${r.check}` +
          (o
            ? `; core calls ${(o.coreSeconds * 1e3).toPrecision(4)} of ${(o.stepSeconds * 1e3).toPrecision(4)} ms: overhead ${o.overheadPercent.toFixed(2)}%`
            : '')
        : `${r.status}: ${r.note}`;
    log(`  ${group.padEnd(10)} ${c.id.padEnd(14)} ${what}`);
  }
  result.wallSeconds = now() - started;
  writeFileSync(out, JSON.stringify(result));
}

await main();
// ORT's and tfjs's worker threads would keep the process alive.
process.exit(0);
