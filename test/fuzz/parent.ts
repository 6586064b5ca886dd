/**
 * The fuzzer's parent: runs the calls of each backend in batches, each batch in a child process
 * (child.ts), reads the child's log, and tallies. A child that dies counts as a crash of the call
 * it was running; one whose log stops growing for `stallMs` is killed and the call counts as a
 * hang; either way the run goes on in a new child at the next call. Calls are numbered per
 * backend; call i's arguments depend only on (seed, backend, i) and on the calls before it in
 * its child, so `--start <child's first call> --calls <n>` replays it exactly.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendName } from '../../ts/backends/backend.js';
import { CHILD_NODE_FLAGS } from '../node-flags.js';
import type { ChildOptions } from './child.js';
import { BUG_CLASSES, type Outcome } from './runner.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

export interface FuzzOptions {
  seed: number;
  /** Calls per backend. */
  calls: number;
  /** Index of the first call. */
  start: number;
  backends: BackendName[];
  /** Calls per child process. */
  batch: number;
  canaryEvery: number;
  verbose: boolean;
  /** A child whose log does not grow for this long is killed (a hang). */
  stallMs: number;
  /** Called after each child, for progress lines. */
  progress?: (line: string) => void;
}

export interface CallRecord {
  backend: BackendName;
  i: number;
  op: string;
  cls: Outcome;
  code?: string;
  ms: number;
  detail?: string;
  args?: string[];
  /** The first call of the child that ran it (for the replay command). */
  childStart: number;
}

export interface BackendReport {
  backend: BackendName;
  calls: number;
  seconds: number;
  children: number;
  counts: Record<Outcome, number>;
  codes: Record<string, number>;
  /** Every call of a bug class. */
  bugs: CallRecord[];
  /** Every call with details (verbose). */
  details: CallRecord[];
  /** Bytes left after a batch disposed all it made, before / after a GC (nonzero only). */
  leftovers: { childStart: number; leak: number; leakAfterGc: number }[];
}

const OUTCOMES: readonly Outcome[] = [
  'returned',
  'gruError',
  'passthrough',
  'otherError',
  'silent',
  'trap',
  'crash',
  'hang',
  'corrupt',
  'leak',
];

export function emptyCounts(): Record<Outcome, number> {
  return Object.fromEntries(OUTCOMES.map((k) => [k, 0])) as Record<Outcome, number>;
}

interface ChildRun {
  records: CallRecord[];
  /** Where the next child starts. */
  next: number;
  end: { leak?: number; leakAfterGc?: number; error?: string } | null;
}

let childCount = 0;

function asanOptions(): string {
  return [process.env.ASAN_OPTIONS, 'allocator_may_return_null=1'].filter(Boolean).join(':');
}

async function runChild(
  o: FuzzOptions,
  backend: BackendName,
  start: number,
  end: number,
): Promise<ChildRun> {
  const log = join(tmpdir(), `gru-simd-fuzz-${process.pid}-${childCount++}.log`);
  const co: ChildOptions = {
    seed: o.seed,
    backend,
    start,
    count: end - start,
    log,
    canaryEvery: o.canaryEvery,
    verbose: o.verbose,
  };
  const child = spawn(
    process.execPath,
    [...CHILD_NODE_FLAGS, '--expose-gc', '--import', 'tsx', CHILD, JSON.stringify(co)],
    {
      cwd: ROOT,
      // Under AddressSanitizer (npm run test:asan): a malloc too big for it (the fuzzer's sizes
      // that overflow) returns null, as the C library's would, instead of aborting the process.
      env: { ...process.env, ASAN_OPTIONS: asanOptions() },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  let killed = false;
  let size = -1;
  let changed = Date.now();
  const watchdog = setInterval(() => {
    const now = Date.now();
    const s = existsSync(log) ? statSync(log).size : 0;
    if (s !== size) {
      size = s;
      changed = now;
    } else if (now - changed > (s === 0 ? Math.max(o.stallMs, 60_000) : o.stallMs)) {
      killed = true;
      child.kill('SIGKILL');
    }
  }, 200);
  const exit = await new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  clearInterval(watchdog);
  const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
  rmSync(log, { force: true });
  return parseLog(text, backend, start, end, { ...exit, killed, stderr });
}

function parseLog(
  text: string,
  backend: BackendName,
  start: number,
  end: number,
  exit: { code: number | null; signal: string | null; killed: boolean; stderr: string },
): ChildRun {
  const records = new Map<number, CallRecord>();
  let pending: { i: number; op: string; args: string[] } | null = null;
  let ready = false;
  let stoppedAt: number | null = null;
  let endInfo: ChildRun['end'] = null;
  for (const line of text.split('\n')) {
    const [tag, a, b, c, d] = line.split(' ');
    const i = Number(a);
    if (tag === 'B') ready = true;
    else if (tag === 'S')
      pending = {
        i,
        ...(JSON.parse(line.slice(line.indexOf('{'))) as { op: string; args: string[] }),
      };
    else if (tag === 'R' && pending) {
      const rec: CallRecord = {
        backend,
        i,
        op: pending.op,
        cls: b as Outcome,
        ms: Number(d),
        childStart: start,
      };
      if (c !== '-') rec.code = c;
      records.set(i, rec);
      pending = null;
    } else if (tag === 'D') {
      const json = JSON.parse(line.slice(line.indexOf('{'))) as {
        op: string;
        args: string[];
        detail: string;
      };
      Object.assign(records.get(i) ?? {}, { op: json.op, args: json.args, detail: json.detail });
    } else if (tag === 'X') stoppedAt = i;
    else if (tag === 'F') {
      // A bug of the fuzzer (a generator threw): a record that says so, and the run goes on.
      const at = pending?.i ?? start + records.size;
      const detail = `the fuzzer itself failed: ${String(JSON.parse(line.slice(2))).slice(0, 600)}`;
      return {
        records: [
          ...records.values(),
          {
            backend,
            i: at,
            op: '(the fuzzer)',
            cls: 'otherError',
            ms: 0,
            detail,
            childStart: start,
          },
        ],
        next: at + 1,
        end: null,
      };
    } else if (tag === 'E') endInfo = JSON.parse(line.slice(2)) as ChildRun['end'];
  }
  const how = exit.killed
    ? 'no progress: killed by the watchdog'
    : `exit code ${exit.code}, signal ${exit.signal}; stderr: ${exit.stderr.trim().slice(-600)}`;
  if (!ready) throw new Error(`fuzz child for ${backend} failed to start (${how})`);
  const list = [...records.values()];
  if (pending !== null) {
    list.push({
      backend,
      i: pending.i,
      op: pending.op,
      args: pending.args,
      cls: exit.killed ? 'hang' : 'crash',
      ms: NaN,
      detail: how,
      childStart: start,
    });
    return { records: list, next: pending.i + 1, end: null };
  }
  if (endInfo === null && stoppedAt === null) {
    // Died between two calls (a finalizer?) or after the last one, disposing what it made.
    if (list.length === 0)
      throw new Error(`fuzz child for ${backend} died before its first call (${how})`);
    const last = Math.max(...list.map((r) => r.i));
    const op = last + 1 < end ? '(between calls, after this one)' : '(end of batch: dispose all)';
    const cls = exit.killed ? 'hang' : 'crash';
    list.push({ backend, i: last, op, cls, ms: NaN, detail: how, childStart: start });
    return { records: list, next: last + 1, end: null };
  }
  return { records: list, next: stoppedAt !== null ? stoppedAt + 1 : end, end: endInfo };
}

/** Runs the calls of every backend; one report per backend. */
export async function runFuzz(o: FuzzOptions): Promise<BackendReport[]> {
  const reports: BackendReport[] = [];
  for (const backend of o.backends) {
    const t0 = performance.now();
    const rep: BackendReport = {
      backend,
      calls: 0,
      seconds: 0,
      children: 0,
      counts: emptyCounts(),
      codes: {},
      bugs: [],
      details: [],
      leftovers: [],
    };
    const last = o.start + o.calls;
    for (let at = o.start; at < last;) {
      const end = Math.min(last, at - ((at - o.start) % o.batch) + o.batch);
      const run = await runChild(o, backend, at, end);
      rep.children++;
      for (const r of run.records) {
        rep.calls++;
        rep.counts[r.cls]++;
        if (r.code) rep.codes[r.code] = (rep.codes[r.code] ?? 0) + 1;
        if (BUG_CLASSES.includes(r.cls)) rep.bugs.push(r);
        else if (o.verbose) rep.details.push(r);
      }
      const e = run.end;
      if (e && (e.leak || e.leakAfterGc))
        rep.leftovers.push({ childStart: at, leak: e.leak ?? 0, leakAfterGc: e.leakAfterGc ?? 0 });
      if (e && (e.leakAfterGc ?? 0) > 0) {
        rep.counts.leak++;
        rep.bugs.push({
          backend,
          i: run.next - 1,
          op: '(end of batch)',
          cls: 'leak',
          ms: 0,
          detail: `${e.leakAfterGc} bytes still held by the backend after disposing everything made and a GC`,
          childStart: at,
        });
      }
      o.progress?.(
        `${backend}: calls ${at}..${run.next - 1} done (${rep.bugs.length} bugs so far)`,
      );
      at = run.next;
    }
    rep.seconds = (performance.now() - t0) / 1000;
    reports.push(rep);
  }
  return reports;
}

/** The command that replays a call (its child's calls up to it, in one child, with details). */
export function replayCommand(seed: number, r: CallRecord): string {
  const n = r.i - r.childStart + 1;
  return `npm run fuzz -- --seed ${seed} --backends ${r.backend} --start ${r.childStart} --calls ${n} --batch ${n} --verbose`;
}
