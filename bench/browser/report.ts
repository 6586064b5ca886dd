/**
 * The browser bench's browser.md: like the Node suite's tables (bench/report.ts, whose cell
 * helpers it uses), with each contestant's ratios to onnxruntime-web at 1 and at N threads in
 * place of the native speed-up, and the page's facts (Chromium version, isolation, the module
 * each contestant fetched).
 */
import { SWEEP, type Case, type GroupResult } from '../cases.js';
import {
  fmt,
  gflops,
  label,
  peakOf,
  resultOf,
  spread,
  streamsLines,
  sweepSvg,
  timeCell,
  type Report,
} from '../report.js';
import type { Peaks } from '../peak.js';
import type { BrowserReport } from './bench.js';
import { BROWSER_GROUPS } from './groups.js';

/** The Chromium peaks in the Node report's shape, for peakOf. */
function peaksOf(rep: BrowserReport): Peaks {
  const { simd, scalar, relaxed } = rep.peaks.chromium;
  return {
    native: {},
    nativeBest: 0,
    nativeIsa: 'none',
    wasmSimd: simd,
    wasmScalar: scalar,
    wasmRelaxed: relaxed,
    notes: [],
  };
}

/** ort time / g's time on c (> 1: g is faster than that onnxruntime-web run); null if either did not run. */
function ratio(rep: BrowserReport, ortId: string, g: GroupResult, c: Case): number | null {
  const ortGroup = rep.groups.find((x) => x.group === ortId && !x.error);
  const a = ortGroup && resultOf(ortGroup, c);
  const b = resultOf(g, c);
  if (a?.status !== 'ok' || b?.status !== 'ok' || !a.median || !b.median) return null;
  return a.median / b.median;
}

const x = (r: number | null): string => (r === null ? '–' : `×${r.toFixed(2)}`);

/** " (×1T / ×NT)" for a table cell; empty for onnxruntime-web itself and where neither exists. */
function ratios(rep: BrowserReport, g: GroupResult, c: Case): string {
  const [r1, rn] = [ratio(rep, 'ort-web-1', g, c), ratio(rep, 'ort-web-n', g, c)];
  if (g.group.startsWith('ort-web') || (r1 === null && rn === null)) return '';
  return ` (${x(r1)} / ${x(rn)})`;
}

/**
 * D: onnxruntime-web cannot train, so gru-simd's training step is set against tfjs's (issue
 * 12's target in Chromium: at least x15 for tfjs-wasm).
 */
function trainingLines(rep: BrowserReport, c: Case): string[] {
  if (c.kind !== 'train') return [];
  const lines: string[] = [];
  for (const g of rep.groups) {
    const r = g.name.startsWith('gru-simd') ? ratio(rep, 'tfjs-wasm', g, c) : null;
    if (r !== null)
      lines.push(`- ${label(g)}: ${x(r)} (tfjs wasm's time / gru-simd's; issue 12's target ×15).`);
  }
  return lines.length
    ? ['', 'Training against tfjs (onnxruntime-web has no training API):', '', ...lines]
    : [];
}

function notOk(g: GroupResult, c: Case): string {
  const r = resultOf(g, c);
  if (g.error) return 'failed';
  if (!r) return '–';
  return r.status === 'skipped' ? `skipped: ${r.note}` : `failed: ${r.note}`;
}

export function browserMarkdown(rep: BrowserReport): string {
  const { meta, cases, groups } = rep;
  const peaks = peaksOf(rep);
  const n = meta.page.threadsN;
  const out: string[] = [];
  out.push(`# gru-simd in Chromium (${meta.mode} mode)`);
  out.push('');
  out.push(
    `${meta.date}; ${meta.cpu}, ${meta.cores} cores; headless Chromium ${meta.chromium} (Debian's, through playwright-core); ` +
      `crossOriginIsolated ${meta.page.crossOriginIsolated}, SharedArrayBuffer ${meta.page.sharedArrayBuffer ? 'defined' : 'undefined'}, ` +
      `navigator.hardwareConcurrency ${meta.page.hardwareConcurrency} (N = ${n}); Node ${meta.node} served the page; wall time ${meta.wallSeconds.toFixed(0)} s; ` +
      `load average ${meta.loadAvg.start.toFixed(2)} at start, ${meta.loadAvg.end.toFixed(2)} at end ` +
      '(other processes share this machine: compare within one run, as ratios).',
  );
  out.push('');
  out.push(
    `Peak GFLOP/s of one core, measured in this run by the same modules (bench/tools/fma_peak_wasm.wasm, fma_peak_relaxed.wasm, register-resident loops): ` +
      `in a worker of the page SIMD128 mul+add ${rep.peaks.chromium.simd.toFixed(1)}, relaxed-SIMD madd ${rep.peaks.chromium.relaxed.toFixed(1)}, scalar mul+add ${rep.peaks.chromium.scalar.toFixed(1)}; ` +
      `in Node ${rep.peaks.node.simd.toFixed(1)}, ${rep.peaks.node.relaxed.toFixed(1)} and ${rep.peaks.node.scalar.toFixed(1)}. ` +
      '"% peak" is of the page\'s peak of the contestant\'s instruction set × its threads: relaxed SIMD for gru-simd wasm-relaxed, SIMD128 for gru-simd wasm-simd, onnxruntime-web and tfjs, scalar for gru-simd wasm.',
  );
  out.push('');
  out.push(
    `Contestants (each in its own module Web Worker of one page, one after the other): ${groups
      .map(
        (g) =>
          `${label(g)} ${g.error ? `unavailable (${g.error})` : `(${g.detail}, ${g.threads} thread(s))`}`,
      )
      .join('; ')}.`,
  );
  out.push('');
  out.push(
    "FLOPs: forward 2·3·H·(I+H)·B·T, training step 3× its forward. Ratios: onnxruntime-web's time / the contestant's, " +
      `against onnxruntime-web 1 thread ("vs ORT 1T") and ${n} threads ("vs ORT ${n}T"); > 1: the contestant is faster. ` +
      'Time: median per call; calls under ' +
      `${meta.mode === 'quick' ? '0.1' : '0.25'} s are timed in batches long enough for the page's clock (± is the 95 % margin of the batches' mean), ` +
      'longer ones one by one (± half their range). Every contestant is first checked against gru-simd in Node on the same weights and inputs ' +
      '(native where built; check column; tfjs computes the reset-before GRU and is checked against gru-simd resetAfter: false): ' +
      'output within 1e-4, first training loss within 1e-4 relative; one that differs is reported failed, not timed.',
  );

  const headline = cases.filter((c) => c.workload !== 'sweep');
  if (headline.length) {
    out.push('');
    out.push(`## Summary: time per call (E, E-many: µs) and ratios vs onnxruntime-web 1T / ${n}T`);
    out.push('');
    out.push(`| contestant | threads | ${headline.map((c) => c.id).join(' | ')} |`);
    out.push(`|---|---|${headline.map(() => '---|').join('')}`);
    for (const g of groups) {
      const cells = headline.map((c) => {
        const r = resultOf(g, c);
        if (g.error || r?.status !== 'ok') return g.error ? 'failed' : (r?.status ?? '–');
        return `${timeCell(c, r)}${ratios(rep, g, c)}`;
      });
      out.push(`| ${label(g)} | ${g.threads} | ${cells.join(' | ')} |`);
    }
  }

  for (const c of headline) {
    out.push('');
    out.push(`## ${c.label}`);
    out.push('');
    out.push(`${(c.flops / 1e9).toPrecision(3)} GFLOP per call.`);
    out.push('');
    out.push(
      `| contestant | threads | time | ± | GFLOP/s | % peak | vs ORT 1T | vs ORT ${n}T | check |`,
    );
    out.push('|---|---|---|---|---|---|---|---|---|');
    for (const g of groups) {
      const r = resultOf(g, c);
      if (g.error || r?.status !== 'ok') {
        out.push(`| ${label(g)} | ${g.threads} | ${notOk(g, c)} | | | | | | |`);
        continue;
      }
      const gf = gflops(c, r) as number;
      const spec = BROWSER_GROUPS.find((s) => s.id === g.group);
      const peak = spec ? peakOf(spec.peak, g.threads, peaks) : 0;
      out.push(
        `| ${label(g)} | ${g.threads} | ${timeCell(c, r)} | ${spread(r)} | ${fmt(gf)} | ${peak ? `${((gf / peak) * 100).toFixed(1)}%` : '–'} | ` +
          `${x(ratio(rep, 'ort-web-1', g, c))} | ${x(ratio(rep, 'ort-web-n', g, c))} | ${r.check ?? ''} |`,
      );
    }
    out.push(...streamsLines(c, cases, groups));
    out.push(...trainingLines(rep, c));
  }

  for (const B of SWEEP.batches) {
    const pts = cases.filter((c) => c.workload === 'sweep' && c.batch === B);
    if (pts.length === 0) continue;
    out.push('');
    out.push(
      `## Sweep, batch ${B}, T${SWEEP.seqLen} I${SWEEP.inputSize}: GFLOP/s (vs ORT 1T / ${n}T)`,
    );
    out.push('');
    out.push(`| contestant | threads | ${pts.map((c) => `H${c.hiddenSize}`).join(' | ')} |`);
    out.push(`|---|---|${pts.map(() => '---|').join('')}`);
    for (const g of groups) {
      const cells = pts.map((c) => {
        const gf = gflops(c, resultOf(g, c));
        if (gf === null) return notOk(g, c);
        return `${fmt(gf)}${ratios(rep, g, c)}`;
      });
      out.push(`| ${label(g)} | ${g.threads} | ${cells.join(' | ')} |`);
    }
  }
  out.push('');
  out.push(
    `Per-contestant wall time (s): ${groups.map((g) => `${g.group} ${g.wallSeconds.toFixed(0)}`).join(', ')}.`,
  );
  return `${out.join('\n')}\n`;
}

/** The sweep chart of the Node suite (bench/report.ts), drawn from the browser's results. */
export function browserSweepSvg(rep: BrowserReport): string {
  const asNode: Report = {
    meta: {
      mode: rep.meta.mode,
      date: rep.meta.date,
      cpu: rep.meta.cpu,
      cores: rep.meta.cores,
      node: rep.meta.node,
      wallSeconds: rep.meta.wallSeconds,
      loadAvg: rep.meta.loadAvg,
      threadsOption: null,
    },
    peaks: peaksOf(rep),
    cases: rep.cases,
    groups: rep.groups,
  };
  return sweepSvg(asNode).replace(/\((quick|full)\)<\/text>/g, '($1, Chromium)</text>');
}
