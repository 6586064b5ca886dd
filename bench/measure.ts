/**
 * One contestant's cases, measured the same way in Node (bench/worker.ts, a process per
 * contestant) and in Chromium (bench/browser/worker.ts, a Web Worker per contestant): the skip
 * rules, the check against gru-simd's reference before timing, and the timing. What differs
 * between the two places is passed in as a Runtime: where the reference comes from, how short
 * calls are sampled, and the CPU clock where there is one. No node: module here: the browser
 * bench bundles this file.
 */
import type { Case, CaseResult, Settings } from './cases.js';
import type { Contestant, Prepared, Probe } from './contestants/types.js';

/** Agreement asked of every contestant with gru-simd on the same weights and inputs. */
export const TOLERANCE = {
  output: 1e-4,
  lossRelative: 1e-4,
  /**
   * gru-simd with bf16 / int8 weights against its fp32 outputs: a per-weight rounding of 2^-9
   * (bf16) or max|row| / 254 (int8) moves the outputs by about 1e-3 to 1e-2 over the bench's
   * shapes (test/tolerance.ts: LOWP_VS_FP32_SLACK); the measured max |diff| is the check column.
   */
  reducedPrecision: 5e-2,
};

export interface Runtime {
  /** gru-simd's result on c, or null when this contestant is the reference itself. */
  reference(c: Case, resetAfter: boolean): Promise<{ probe: Probe; name: string } | null>;
  /** Times a call shorter than Settings.slowCall (benchmark.js in Node). */
  sampled(p: Prepared, s: Settings): Promise<Partial<CaseResult>>;
  /** CPU seconds of this process, every thread (Node's process.cpuUsage); absent in browsers. */
  cpuSeconds?(): number;
}

/** Seconds, from the highest-resolution clock there is (5 µs in a cross-origin isolated page). */
export const now = (): number => performance.now() / 1000;

export function compare(
  got: Probe,
  want: Probe,
  outputTolerance: number = TOLERANCE.output,
): { ok: boolean; text: string } {
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
      if (!(d <= max)) max = d;
      if (Number.isNaN(max)) break; // a NaN anywhere fails the check (a later d <= NaN is false)
    }
    return { ok: max <= outputTolerance, text: `max |diff| ${max.toExponential(1)}` };
  }
  return { ok: false, text: 'probe kinds differ' };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

async function call(p: Prepared): Promise<void> {
  if (p.async) await p.run();
  else p.run();
}

/** Slow calls: between minCalls and maxCalls calls, each timed alone. */
export async function handTimed(
  p: Prepared,
  perCall: number,
  s: Settings,
): Promise<Partial<CaseResult>> {
  const n = Math.max(s.minCalls, Math.min(s.maxCalls, Math.floor(s.slowBudget / perCall)));
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = now();
    await call(p);
    times.push(now() - t0);
  }
  const med = median(times);
  const mean = times.reduce((a, b) => a + b, 0) / n;
  const rme = n > 1 ? ((Math.max(...times) - Math.min(...times)) / 2 / med) * 100 : undefined;
  return { median: med, mean, rme, samples: n, method: 'hand-timed' };
}

/** Student's t at 95 % (two-sided) for 1..10 degrees of freedom; 1.96 beyond 30. */
const T95 = [12.71, 4.3, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23];
function t95(df: number): number {
  return df <= 10 ? (T95[df - 1] as number) : df <= 30 ? 2.1 : 1.96;
}

/**
 * Short calls without benchmark.js (the browser bench: benchmark.js falls back to Date's 1 ms
 * clock outside Node): batches of n calls, n doubled until a batch lasts minTime, then batches
 * until maxTime has passed and at least minSamples were taken. The time per call of each batch
 * is a sample; rme is the 95 % margin of their mean, as benchmark.js reports it.
 */
export async function batchTimed(p: Prepared, s: Settings): Promise<Partial<CaseResult>> {
  const batch = async (n: number): Promise<number> => {
    const t0 = now();
    for (let i = 0; i < n; i++) await call(p);
    return now() - t0;
  };
  let n = 1;
  while ((await batch(n)) < s.minTime && n < 1 << 24) n *= 2;
  const samples: number[] = [];
  const start = now();
  while (samples.length < s.minSamples || now() - start < s.maxTime)
    samples.push((await batch(n)) / n);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  const variance = samples.reduce((a, b) => a + (b - mean) ** 2, 0) / (samples.length - 1);
  const rme = ((t95(samples.length - 1) * Math.sqrt(variance / samples.length)) / mean) * 100;
  return { median: median(samples), mean, rme, samples: samples.length, method: 'batch-timed' };
}

/**
 * Seconds one call of c is expected to take, from this contestant's measured cases at the same
 * batch size (the most recent, i.e. largest, one scaled by flops); null when none.
 */
export function estimate(c: Case, measured: { c: Case; seconds: number }[]): number | null {
  if (c.kind === 'stream') return null;
  const same = measured.filter((m) => m.c.batch === c.batch && m.c.kind !== 'stream');
  const last = same[same.length - 1];
  return last ? (last.seconds * c.flops) / last.c.flops : null;
}

/**
 * One case: skipped (unsupported, scalar in quick mode, estimated over the cap), failed (its
 * probe differs from gru-simd's reference: not timed), or timed.
 */
export async function runCase(
  contestant: Contestant,
  group: string,
  c: Case,
  s: Settings,
  measured: { c: Case; seconds: number }[],
  rt: Runtime,
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

  const ref = await rt.reference(c, contestant.resetAfter);
  const p = await contestant.prepare(c);
  try {
    const t0 = now();
    const { probe, calls } = await p.probe();
    let perCall = (now() - t0) / calls;
    let check = `reference (${contestant.resetAfter ? 'reset-after' : 'reset-before'})`;
    if (ref) {
      const cmp = compare(probe, ref.probe, contestant.outputTolerance);
      check = `${cmp.text} vs ${ref.name}`;
      if (!cmp.ok)
        return { ...base, status: 'failed', note: `does not match gru-simd: ${check}`, check };
    }
    // Warm code only (Settings.warmup): calls until the warm-up time has passed.
    for (const warm0 = now(); now() - warm0 < s.warmup;) await call(p);
    // The probe's calls carry one-off costs (compiling, growing memory, first touches): a call
    // that looks slow is timed once more, warm, before choosing how to time it (a training step
    // of 20 ms whose first call took 150 ms was hand-timed twice, ±65 %).
    if (perCall > s.slowCall) {
      const t1 = now();
      await call(p);
      perCall = now() - t1;
    }
    // CPU time (every thread) per wall second while timing: shows the threads really used.
    const cpu0 = rt.cpuSeconds?.();
    const w0 = now();
    const timing = perCall > s.slowCall ? await handTimed(p, perCall, s) : await rt.sampled(p, s);
    if (cpu0 !== undefined && rt.cpuSeconds)
      timing.cpuPerWall = (rt.cpuSeconds() - cpu0) / (now() - w0);
    if (c.kind !== 'stream') measured.push({ c, seconds: timing.median as number });
    // Workload F on gru-simd: the step split into core calls and the model API's own time.
    const overhead = p.overhead ? await p.overhead(s.mode === 'quick' ? 3 : 10) : undefined;
    return { ...base, status: 'ok', note: '', check, ...timing, ...(overhead ? { overhead } : {}) };
  } finally {
    p.dispose();
  }
}

/** One line of progress for a case's result. */
export function describeResult(group: string, r: CaseResult): string {
  const o = r.overhead;
  const what =
    r.status === 'ok'
      ? `${((r.median as number) * 1e3).toPrecision(4)} ms (${r.method}, n=${r.samples}) ${r.check}` +
        (o
          ? `; core calls ${(o.coreSeconds * 1e3).toPrecision(4)} of ${(o.stepSeconds * 1e3).toPrecision(4)} ms: overhead ${o.overheadPercent.toFixed(2)}%`
          : '')
      : `${r.status}: ${r.note}`;
  return `  ${group.padEnd(10)} ${r.caseId.padEnd(14)} ${what}`;
}

/**
 * Every case, smallest first (so a slow contestant's big cases can be estimated from its small
 * ones); a case that throws is reported failed with the first line of its error.
 */
export async function runCases(
  contestant: Contestant,
  group: string,
  list: readonly Case[],
  s: Settings,
  rt: Runtime,
  log: (line: string) => void,
): Promise<CaseResult[]> {
  const measured: { c: Case; seconds: number }[] = [];
  const results: CaseResult[] = [];
  for (const c of [...list].sort((a, b) => a.flops - b.flops)) {
    let r: CaseResult;
    try {
      r = await runCase(contestant, group, c, s, measured, rt);
    } catch (e) {
      // Some libraries reject with plain objects that carry a message (tfjs's wasm loader).
      const message = (e as { message?: unknown } | null)?.message ?? String(e);
      r = { caseId: c.id, status: 'failed', note: String(message).split('\n')[0] as string };
    }
    results.push(r);
    log(describeResult(group, r));
  }
  return results;
}
