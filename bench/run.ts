/**
 * `npm run bench` (full, ~10 min on 2 cores) and `npm run bench:quick` (under 2 min): gru-simd
 * (native, wasm-simd, wasm) and its peers (onnxruntime-node, onnxruntime-web, tfjs wasm/cpu) on
 * the same GRU workloads, in one run. Writes bench/results/results.{md,json} and sweep.svg, and
 * prints the tables.
 *
 *   node --import tsx bench/run.ts [--quick] [--threads N] [--rounds N] [--only native,ort-node-1,...] [--cases A,F,sweep] [--out DIR]
 *   BENCH_QUICK=1 also selects the quick mode.
 *
 * Rounds (full mode: 3, quick: 1): the contestants the targets compare (gru-simd native and
 * wasm-simd, onnxruntime-node and -web) are timed in every round, each round with a share of the
 * time budget, in an order rotated from round to round; a case's time is the best of its rounds'
 * medians. This machine is shared: a slow phase of a few seconds lands on whoever runs then, and
 * one pass over the contestants turned it into a ratio (the same pair measured ×1.92 and ×1.49
 * an hour apart). Interleaving gives every contestant the same chances of a quiet round.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  defaultRounds,
  selectCases,
  GROUPS,
  type GroupResult,
  type GroupSpec,
  type Mode,
} from './cases.js';
import { mergeRounds, roundOrder } from './rounds.js';
import { measurePeaks } from './peak.js';
import { markdown, sweepSvg, type Report } from './report.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

const mode: Mode =
  process.argv.includes('--quick') || ['1', 'true'].includes(process.env.BENCH_QUICK ?? '')
    ? 'quick'
    : 'full';
const threadsOption = arg('threads') === undefined ? null : Number(arg('threads'));
if (threadsOption !== null && !(Number.isInteger(threadsOption) && threadsOption > 0)) {
  throw new Error(`--threads must be a positive integer, got ${arg('threads')}`);
}
const roundsOption = arg('rounds') === undefined ? defaultRounds(mode) : Number(arg('rounds'));
if (!(Number.isInteger(roundsOption) && roundsOption > 0))
  throw new Error(`--rounds must be a positive integer, got ${arg('rounds')}`);
const rounds = roundsOption;
const only = arg('only')?.split(',');
const caseIds = arg('cases')?.split(',');
const runCases = selectCases(mode, caseIds); // checks the ids before any worker starts
const outDir = arg('out') ?? new URL('./results/', import.meta.url).pathname;
/**
 * A worker that runs longer than this is stopped and reported as failed. Workload F trains a
 * whole model (tfjs cpu: about 10 s per step) and measures gru-simd's overhead over more steps.
 */
const WORKER_LIMIT_S =
  (mode === 'quick' ? 60 : 300) * (runCases.some((c) => c.workload === 'F') ? 3 : 1);

const started = performance.now();
const load0 = loadavg()[0] as number;
const tmp = mkdtempSync(join(tmpdir(), 'gru-bench-'));

/** CPUs 0..n-1 as a taskset list, or null without taskset. */
function affinity(n: number): string | null {
  return spawnSync('taskset', ['--version']).error ? null : `0-${n - 1}`;
}

/**
 * How a worker starts: from the repository, worker.ts through tsx; from the package (`gru-simd
 * bench`: scripts/build-ts.mjs bundles run.ts and worker.ts into dist/bench/*.mjs), worker.mjs.
 */
const WORKER = import.meta.url.endsWith('.mjs')
  ? [new URL('./worker.mjs', import.meta.url).pathname]
  : ['--import', 'tsx', new URL('./worker.ts', import.meta.url).pathname];

function runWorker(g: GroupSpec, cpus: string | null = null): Promise<GroupResult> {
  const out = join(tmp, `${g.id}.json`);
  rmSync(out, { force: true });
  const args = [
    // Node 20 has relaxed SIMD behind a flag: only the worker that needs it gets it.
    ...(g.backend === 'wasm-relaxed' ? ['--experimental-wasm-relaxed-simd'] : []),
    ...WORKER,
    '--group',
    g.id,
    '--mode',
    mode,
    '--out',
    out,
  ];
  if (g.everyRound && rounds > 1) args.push('--rounds', String(rounds));
  if (caseIds) args.push('--cases', caseIds.join(','));
  if (threadsOption !== null && g.family === 'gru-simd' && !g.fixedThreads)
    args.push('--threads', String(threadsOption));
  const t0 = performance.now();
  return new Promise((resolve) => {
    const [cmd, argv] = cpus
      ? ['taskset', ['-c', cpus, process.execPath, ...args]]
      : [process.execPath, args];
    const env = cpus ? { ...process.env, GRU_BENCH_AFFINITY: cpus } : process.env;
    const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], env });
    let tail = '';
    child.stderr.on('data', (d: Buffer) => {
      process.stderr.write(d);
      tail = (tail + d.toString()).slice(-2000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), WORKER_LIMIT_S * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (existsSync(out)) return resolve(JSON.parse(readFileSync(out, 'utf8')) as GroupResult);
      const lastLine = tail.trim().split('\n').filter(Boolean).pop() ?? '';
      const why =
        signal === 'SIGKILL'
          ? `stopped after ${WORKER_LIMIT_S} s`
          : `worker exited with ${signal ?? code}`;
      resolve({
        group: g.id,
        name: g.name,
        threads: g.threads,
        detail: '',
        error: `${why}: ${lastLine}`,
        results: [],
        wallSeconds: (performance.now() - t0) / 1e3,
      });
    });
  });
}

process.stderr.write(`gru-simd bench, ${mode} mode: measuring this machine's peaks...\n`);
const peaks = measurePeaks(tmp);
/** One worker run of g, with the CPU-affinity retry for a fixed thread count. */
async function runGroup(g: GroupSpec, round: number): Promise<GroupResult> {
  const threads =
    g.family === 'gru-simd' && !g.fixedThreads ? '' : `, ${g.fixedThreads ?? g.threads} thread(s)`;
  process.stderr.write(
    `${g.name}${threads}${rounds > 1 ? ` (round ${round + 1}/${rounds})` : ''}:\n`,
  );
  const r = await runWorker(g);
  if (!r.needsAffinity) return r;
  const list = affinity(r.needsAffinity);
  return list
    ? runWorker(g, list)
    : {
        ...r,
        error: `cannot run on ${r.needsAffinity} thread(s): no setThreads in gru-simd and no taskset`,
        needsAffinity: undefined,
      };
}

const selected = GROUPS.filter(
  // native-1t is native itself on a 1-CPU machine; the wasm 2T groups run on any.
  (g) =>
    (!only || only.includes(g.id)) &&
    !(g.backend === 'native' && g.fixedThreads && g.fixedThreads >= cpus().length),
);
const runs = new Map<string, GroupResult[]>(selected.map((g) => [g.id, []]));
for (let round = 0; round < rounds; round++) {
  for (const g of roundOrder(selected, round)) runs.get(g.id)?.push(await runGroup(g, round));
}
const groups: GroupResult[] = selected.map((g) => mergeRounds(runs.get(g.id) ?? []));
rmSync(tmp, { recursive: true, force: true });

const report: Report = {
  meta: {
    mode,
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model ?? 'unknown CPU',
    cores: cpus().length,
    node: process.version,
    wallSeconds: (performance.now() - started) / 1e3,
    loadAvg: { start: load0, end: loadavg()[0] as number },
    threadsOption,
    rounds,
  },
  peaks,
  cases: runCases,
  groups,
};
mkdirSync(outDir, { recursive: true });
const md = markdown(report);
writeFileSync(join(outDir, 'results.md'), md);
writeFileSync(join(outDir, 'results.json'), `${JSON.stringify(report, null, 1)}\n`);
writeFileSync(join(outDir, 'sweep.svg'), sweepSvg(report));
process.stdout.write(
  `\n${md}\nWritten: ${join(outDir, 'results.md')}, results.json, sweep.svg (${report.meta.wallSeconds.toFixed(0)} s)\n`,
);
