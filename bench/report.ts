/** Turns the workers' results into results.md (tables), results.json and sweep.svg. */
import {
  GROUPS,
  SWEEP,
  type Case,
  type CaseResult,
  type GroupResult,
  type Mode,
  type PeakKind,
} from './cases.js';
import type { Peaks } from './peak.js';

export interface Meta {
  mode: Mode;
  date: string;
  cpu: string;
  cores: number;
  node: string;
  wallSeconds: number;
  loadAvg: { start: number; end: number };
  threadsOption: number | null;
  /** Rounds of the contestants timed in every round (see run.ts). */
  rounds?: number;
}

export interface Report {
  meta: Meta;
  peaks: Peaks;
  cases: Case[];
  groups: GroupResult[];
}

/** Peak GFLOP/s a contestant's throughput is compared with: its instruction set's, times its threads. */
export function peakOf(kind: PeakKind, threads: number, peaks: Peaks): number {
  const one = {
    native: peaks.nativeBest,
    'wasm-relaxed': peaks.wasmRelaxed,
    'wasm-simd': peaks.wasmSimd,
    'wasm-scalar': peaks.wasmScalar,
  }[kind];
  return one * threads;
}

function isNative(g: GroupResult): boolean {
  return g.group === 'native' || g.group === 'native-1t';
}

export function label(g: GroupResult): string {
  return `${g.name}${g.name.startsWith('gru-simd') && !isNative(g) ? '' : ` ${g.threads}T`}`;
}

/** The gru-simd native run g is compared with: the one at g's thread count if measured, else the default. */
function nativeFor(groups: GroupResult[], g: GroupResult): GroupResult | undefined {
  const natives = groups.filter((x) => isNative(x) && !x.error);
  return natives.find((x) => x.threads === g.threads) ?? natives.find((x) => x.group === 'native');
}

export function fmt(x: number, digits = 3): string {
  if (x >= 1000) return x.toFixed(0);
  return x.toPrecision(digits);
}

export function resultOf(g: GroupResult, c: Case): CaseResult | undefined {
  return g.results.find((r) => r.caseId === c.id);
}

export function gflops(c: Case, r: CaseResult | undefined): number | null {
  return r?.status === 'ok' && r.median ? c.flops / r.median / 1e9 : null;
}

function notOk(g: GroupResult, r: CaseResult | undefined): string {
  if (g.error) return 'failed to load';
  if (!r) return '–';
  if (r.status === 'skipped') return r.note === 'no training API' ? '–' : `skipped: ${r.note}`;
  return `failed: ${r.note}`;
}

/** The speed-up of gru-simd native over g on c (> 1: native is faster). */
function speedup(groups: GroupResult[], g: GroupResult, c: Case): number | null {
  const native = nativeFor(groups, g);
  const a = native && resultOf(native, c);
  const b = resultOf(g, c);
  if (a?.status !== 'ok' || b?.status !== 'ok' || !a.median || !b.median) return null;
  return b.median / a.median;
}

export function timeCell(c: Case, r: CaseResult): string {
  const t = r.median as number;
  return c.kind === 'stream' || c.kind === 'streams' ? `${fmt(t * 1e6)} µs` : `${fmt(t * 1e3)} ms`;
}

/** Every round's median, when there were several: how much the machine moved during the run. */
function roundsCell(c: Case, r: CaseResult): string {
  if (!r.roundMedians || r.roundMedians.length < 2) return '';
  return r.roundMedians
    .map((t) => fmt(c.kind === 'stream' || c.kind === 'streams' ? t * 1e6 : t * 1e3))
    .join(' / ');
}

export function spread(r: CaseResult): string {
  const n = `n=${r.samples}`;
  if (r.rme === undefined) return n;
  return `±${r.rme.toFixed(1)}%${r.method === 'hand-timed' ? ` (range, ${n})` : ` (${n})`}`;
}

/**
 * Workload F: each gru-simd contestant's step against the sum of its core calls (the model
 * API's overhead; issue 10's target: under 5 %), and one fit() epoch the same way.
 */
function overheadLines(c: Case, groups: GroupResult[]): string[] {
  const lines: string[] = [];
  for (const g of groups) {
    const o = resultOf(g, c)?.overhead;
    if (!o) continue;
    const ms = (s: number): string => `${fmt(s * 1e3)} ms`;
    lines.push(
      `- ${label(g)}: trainOnBatch ${ms(o.stepSeconds)}, its ${o.callsPerStep} core calls ${ms(o.coreSeconds)}: ` +
        `overhead ${o.overheadPercent.toFixed(2)} % (median of ${o.steps} steps; target < 5 %). ` +
        `fit(), one epoch of ${o.fit.batches} batches: ${ms(o.fit.seconds)}, core calls ${ms(o.fit.coreSeconds)}: ` +
        `overhead ${o.fit.overheadPercent.toFixed(2)} %. Core time by call: ${o.top}.`,
    );
  }
  if (!lines.length) return [];
  return [
    '',
    "The model API's overhead (each core call timed through a wrapping backend, bench/call-timer.ts):",
    '',
    ...lines,
  ];
}

/**
 * gru-simd with bf16 / int8 weights (issue 13's targets, as ratios of this run): against
 * onnxruntime-node on 1 thread (fp32) and gru-simd native fp32 at the same thread count, with
 * the ISA the row ran on and its measured error against fp32 (the check).
 */
export function reducedPrecisionLines(c: Case, groups: GroupResult[]): string[] {
  const ort = groups.find((g) => g.group === 'ort-node-1' && !g.error);
  const ortR = ort && resultOf(ort, c);
  const lines: string[] = [];
  for (const g of groups) {
    const spec = GROUPS.find((x) => x.id === g.group);
    const r = resultOf(g, c);
    if (!spec?.precision || g.error || r?.status !== 'ok' || !r.median) continue;
    const native = nativeFor(groups, g);
    const nr = native && resultOf(native, c);
    const parts = [`${timeCell(c, r)}`];
    if (ortR?.status === 'ok' && ortR.median)
      parts.push(`×${(ortR.median / r.median).toFixed(2)} onnxruntime-node 1T (fp32)`);
    if (nr?.status === 'ok' && nr.median)
      parts.push(`×${(nr.median / r.median).toFixed(2)} gru-simd native fp32 ${native!.threads}T`);
    lines.push(`- ${label(g)} (${g.detail}): ${parts.join(', ')}; error ${r.check ?? ''}.`);
  }
  return lines.length
    ? ['', 'Reduced-precision weights (> 1: faster than the fp32 contestant):', '', ...lines]
    : [];
}

/**
 * E-many: each gru-simd contestant's one call for all streams against as many E calls (one
 * stream each: what a server does without stream groups). Issue 13's target: at least x10.
 */
export function streamsLines(c: Case, all: readonly Case[], groups: GroupResult[]): string[] {
  if (c.kind !== 'streams') return [];
  const e = all.find((x) => x.id === 'E');
  if (!e) return [];
  const lines: string[] = [];
  for (const g of groups) {
    const [many, one] = [resultOf(g, c), resultOf(g, e)];
    if (many?.status !== 'ok' || one?.status !== 'ok') continue;
    const calls = (one.median as number) * c.batch;
    lines.push(
      `- ${label(g)}: ${c.batch} E calls take ${fmt(calls * 1e6)} µs, one E-many call ${fmt((many.median as number) * 1e6)} µs: ×${(calls / (many.median as number)).toFixed(1)} (target ×10).`,
    );
  }
  return lines.length
    ? ['', `One call for ${c.batch} streams against ${c.batch} E calls:`, '', ...lines]
    : [];
}

export function markdown(rep: Report): string {
  const { meta, peaks, cases, groups } = rep;
  const out: string[] = [];
  const nativeGroup = groups.find((g) => g.group === 'native');
  out.push(`# gru-simd benchmark (${meta.mode} mode)`);
  out.push('');
  out.push(
    `${meta.date}; ${meta.cpu}, ${meta.cores} cores; Node ${meta.node}; wall time ${meta.wallSeconds.toFixed(0)} s; ` +
      `load average ${meta.loadAvg.start.toFixed(2)} at start, ${meta.loadAvg.end.toFixed(2)} at end ` +
      '(other processes share this machine: compare within one run, as ratios).',
  );
  const nat = Object.entries(peaks.native)
    .map(([isa, g]) => `${isa} FMA ${g.toFixed(0)}`)
    .join(', ');
  out.push('');
  out.push(
    `Peak GFLOP/s of one core, measured in this run (register-resident loops, bench/tools): ${nat || 'native not measured'}, ` +
      `wasm SIMD128 mul+add ${peaks.wasmSimd.toFixed(1)}, wasm relaxed-SIMD madd ${peaks.wasmRelaxed.toFixed(1)}, wasm scalar mul+add ${peaks.wasmScalar.toFixed(1)}. ` +
      `"% peak" is of the contestant's instruction set × its threads: native code (gru-simd native, onnxruntime-node) ` +
      `${peaks.nativeIsa}, wasm SIMD (gru-simd wasm-simd, onnxruntime-web, tfjs wasm), relaxed SIMD (gru-simd wasm-relaxed), scalar (gru-simd wasm, tfjs cpu). ${peaks.notes.join('; ')}.`,
  );
  out.push('');
  out.push(
    `gru-simd: ${groups
      .filter((g) => g.name.startsWith('gru-simd'))
      .map(
        (g) =>
          `${g.group} ${g.error ? `unavailable (${g.error})` : `${g.detail}, ${g.threads} thread(s)`}`,
      )
      .join('; ')}` +
      (meta.threadsOption !== null ? `; --threads ${meta.threadsOption} asked` : '') +
      '.',
  );
  out.push(
    'FLOPs: forward 2·3·H·(I+H)·B·T, training step 3× its forward. Speed-up (×) = peer time / gru-simd native time at ' +
      'the same thread count (1-thread contestants against gru-simd native 1T, 2-thread ones against 2T; > 1: gru-simd native is faster). Time: median per call (benchmark.js samples, or calls timed by hand for calls over ' +
      `${meta.mode === 'quick' ? '0.1' : '0.25'} s); ± is benchmark.js's relative margin of error (95%), or half the range of the hand-timed calls. ` +
      ((meta.rounds ?? 1) > 1
        ? `Rounds: gru-simd native and wasm-simd and onnxruntime-node and -web ran in ${meta.rounds} interleaved rounds (the order rotated each round); ` +
          'their time is the best of the rounds\' medians, and the "rounds" column lists every round\'s median (same unit as time). The others ran once. '
        : '') +
      "CPU/wall: CPU seconds of the contestant's process (all threads) per wall second while timing. " +
      "gru-simd's forward and training cases write into buffers reused across calls (forward(x, { output, hN }), mse(..., { grad }): its API for server and training loops; " +
      "a new output array per call adds the page faults of its first touch, about 3 ms for B's 6.5 MB on this VM) and E uses stream.stepInto; the peers return new arrays. " +
      'tfjs computes the reset-before GRU (it cannot do reset-after; same FLOPs); every contestant is checked against gru-simd on the same weights first (check column).',
  );

  // Summary
  const headline = cases.filter((c) => c.workload !== 'sweep');
  out.push('');
  out.push('## Summary: time per call (E: µs per step) and gru-simd native speed-up');
  out.push('');
  out.push(`| contestant | threads | ${headline.map((c) => c.id).join(' | ')} |`);
  out.push(`|---|---|${headline.map(() => '---|').join('')}`);
  for (const g of groups) {
    const cells = headline.map((c) => {
      const r = resultOf(g, c);
      if (g.error || r?.status !== 'ok')
        return g.error
          ? 'failed'
          : r?.status === 'skipped' && r.note !== 'no training API'
            ? 'skipped'
            : r?.status === 'failed'
              ? 'failed'
              : '–';
      const s = speedup(groups, g, c);
      return `${timeCell(c, r)}${s !== null && !isNative(g) ? ` (×${s.toFixed(2)})` : ''}`;
    });
    out.push(`| ${label(g)} | ${g.threads} | ${cells.join(' | ')} |`);
  }

  // Per workload
  for (const c of headline) {
    out.push('');
    out.push(`## ${c.label}`);
    out.push('');
    out.push(
      `${(c.flops / 1e9).toPrecision(3)} GFLOP per call${c.kind === 'stream' ? ' (one step; the time includes the call overhead: JS → backend → JS, output and state returned)' : ''}.`,
    );
    out.push('');
    out.push(
      '| contestant | threads | time | ± | rounds | GFLOP/s | % peak | native speed-up | CPU/wall | check |',
    );
    out.push('|---|---|---|---|---|---|---|---|---|---|');
    for (const g of groups) {
      const r = resultOf(g, c);
      const spec = GROUPS.find((x) => x.id === g.group);
      if (g.error || r?.status !== 'ok') {
        out.push(`| ${label(g)} | ${g.threads} | ${notOk(g, r)} | | | | | | | |`);
        continue;
      }
      const gf = gflops(c, r) as number;
      const peak = spec ? peakOf(spec.peak, g.threads, peaks) : 0;
      const s = speedup(groups, g, c);
      out.push(
        `| ${label(g)} | ${g.threads} | ${timeCell(c, r)} | ${spread(r)} | ${roundsCell(c, r)} | ${fmt(gf)} | ${peak ? `${((gf / peak) * 100).toFixed(1)}%` : '–'} | ` +
          `${isNative(g) ? '1' : s === null ? '–' : `×${s.toFixed(2)}`} | ${r.cpuPerWall?.toFixed(2) ?? ''} | ${r.check ?? ''} |`,
      );
    }
    out.push(...overheadLines(c, groups));
    out.push(...reducedPrecisionLines(c, groups));
    out.push(...streamsLines(c, cases, groups));
  }

  // Sweep
  for (const B of SWEEP.batches) {
    const pts = cases.filter((c) => c.workload === 'sweep' && c.batch === B);
    if (pts.length === 0) continue; // --cases without the sweep
    out.push('');
    out.push(
      `## Sweep, batch ${B}, T${SWEEP.seqLen} I${SWEEP.inputSize}: GFLOP/s (gru-simd native speed-up)`,
    );
    out.push('');
    out.push(`| contestant | threads | ${pts.map((c) => `H${c.hiddenSize}`).join(' | ')} |`);
    out.push(`|---|---|${pts.map(() => '---|').join('')}`);
    for (const g of groups) {
      const cells = pts.map((c) => {
        const r = resultOf(g, c);
        const gf = gflops(c, r);
        if (gf === null) return notOk(g, r);
        const s = speedup(groups, g, c);
        return `${fmt(gf)}${s !== null && !isNative(g) ? ` (×${s.toFixed(2)})` : ''}`;
      });
      out.push(`| ${label(g)} | ${g.threads} | ${cells.join(' | ')} |`);
    }
  }

  const failed = groups.filter((g) => g.error);
  out.push('');
  out.push('## Contestants that could not run');
  out.push('');
  out.push(
    failed.length
      ? failed.map((g) => `- ${label(g)}: ${g.error}`).join('\n')
      : 'None: every contestant loaded and ran.',
  );
  out.push('');
  out.push(
    `Per-contestant wall time (s): ${groups.map((g) => `${g.group} ${g.wallSeconds.toFixed(0)}`).join(', ')}.`,
  );
  if (!nativeGroup || nativeGroup.error) out.push('\ngru-simd native did not run: no speed-ups.');
  return `${out.join('\n')}\n`;
}

const COLORS = [
  '#d62728',
  '#ff7f0e',
  '#8c564b',
  '#bcbd22',
  '#1f77b4',
  '#17becf',
  '#2ca02c',
  '#98df8a',
  '#9467bd',
  '#7f7f7f',
  '#e377c2',
];

/** GFLOP/s vs hidden size, one panel per batch size, log-log, one line per contestant. */
export function sweepSvg(rep: Report): string {
  const { cases, groups } = rep;
  const panelW = 420;
  const panelH = 300;
  const m = { l: 60, r: 20, t: 40, b: 45 };
  const legendH = 20 * Math.ceil(groups.length / 3) + 10;
  const W = SWEEP.batches.length * (panelW + m.l + m.r);
  const H = panelH + m.t + m.b + legendH;
  const all = groups.flatMap((g) =>
    cases.filter((c) => c.workload === 'sweep').map((c) => gflops(c, resultOf(g, c))),
  );
  const vals = all.filter((v): v is number => v !== null && v > 0);
  const lo = Math.floor(Math.log10(Math.min(...vals, 1)));
  const hi = Math.ceil(Math.log10(Math.max(...vals, 10)));
  const hs = [
    ...new Set(cases.filter((c) => c.workload === 'sweep').map((c) => c.hiddenSize)),
  ].sort((a, b) => a - b);
  const x0 = Math.log2(hs[0] as number);
  const x1 = Math.log2(hs[hs.length - 1] as number);
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
  ];
  SWEEP.batches.forEach((B, p) => {
    const ox = p * (panelW + m.l + m.r) + m.l;
    const oy = m.t;
    const X = (h: number): number => ox + ((Math.log2(h) - x0) / (x1 - x0 || 1)) * panelW;
    const Y = (v: number): number => oy + panelH - ((Math.log10(v) - lo) / (hi - lo)) * panelH;
    parts.push(
      `<text x="${ox + panelW / 2}" y="${oy - 15}" text-anchor="middle" font-size="14">batch ${B}, T${SWEEP.seqLen} I${SWEEP.inputSize} (${rep.meta.mode})</text>`,
    );
    for (let e = lo; e <= hi; e++) {
      const y = Y(10 ** e);
      parts.push(`<line x1="${ox}" x2="${ox + panelW}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
      parts.push(
        `<text x="${ox - 6}" y="${y + 4}" text-anchor="end">${10 ** e >= 1 ? 10 ** e : (10 ** e).toPrecision(1)}</text>`,
      );
    }
    for (const h of hs) {
      parts.push(`<line x1="${X(h)}" x2="${X(h)}" y1="${oy}" y2="${oy + panelH}" stroke="#eee"/>`);
      parts.push(`<text x="${X(h)}" y="${oy + panelH + 16}" text-anchor="middle">${h}</text>`);
    }
    parts.push(
      `<rect x="${ox}" y="${oy}" width="${panelW}" height="${panelH}" fill="none" stroke="#444"/>`,
    );
    parts.push(
      `<text x="${ox + panelW / 2}" y="${oy + panelH + 34}" text-anchor="middle">hidden size H</text>`,
    );
    parts.push(
      `<text transform="translate(${ox - 45} ${oy + panelH / 2}) rotate(-90)" text-anchor="middle">GFLOP/s</text>`,
    );
    groups.forEach((g, i) => {
      const pts = cases
        .filter((c) => c.workload === 'sweep' && c.batch === B)
        .map((c) => [c.hiddenSize, gflops(c, resultOf(g, c))] as const)
        .filter((q): q is readonly [number, number] => q[1] !== null && q[1] > 0);
      if (!pts.length) return;
      const color = COLORS[i % COLORS.length] as string;
      const dash = g.threads > 1 ? ' stroke-dasharray="5 3"' : '';
      parts.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${pts.map(([h, v]) => `${X(h).toFixed(1)},${Y(v).toFixed(1)}`).join(' ')}"/>`,
      );
      for (const [h, v] of pts)
        parts.push(
          `<circle cx="${X(h).toFixed(1)}" cy="${Y(v).toFixed(1)}" r="3" fill="${color}"><title>${esc(label(g))} H${h}: ${fmt(v)} GFLOP/s</title></circle>`,
        );
    });
  });
  groups.forEach((g, i) => {
    const col = i % 3;
    const row = Math.floor(i / 3);
    const x = m.l + col * (W / 3);
    const y = m.t + panelH + m.b + 10 + row * 20;
    const color = COLORS[i % COLORS.length] as string;
    const dash = g.threads > 1 ? ' stroke-dasharray="5 3"' : '';
    parts.push(
      `<line x1="${x}" x2="${x + 24}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="2"${dash}/>`,
    );
    parts.push(
      `<text x="${x + 30}" y="${y + 4}">${esc(label(g))}${g.error ? ' (failed)' : ''}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
