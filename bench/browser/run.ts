/**
 * `npm run bench:browser`: gru-simd's wasm modules and the peers that run in browsers
 * (onnxruntime-web at 1 and N threads, tfjs's wasm backend) in headless Chromium, on the Node
 * suite's cases (A-E, E-many, sweep) with its weights and checks. Writes
 * bench/results/browser.md (also printed), browser.json and browser-sweep.svg.
 *
 *   node --import tsx bench/browser/run.ts [--quick] [--only wasm-simd,ort-web-1,...] [--cases A,D,sweep] [--out DIR]
 *   BENCH_QUICK=1 also selects the quick mode (under 3 minutes on 2 cores).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromiumMissing } from '../../test/browser/chromium.js';
import type { Mode } from '../cases.js';
import { runBrowserBench } from './bench.js';
import { browserCases, selectGroups } from './groups.js';
import { browserMarkdown, browserSweepSvg } from './report.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

const mode: Mode =
  process.argv.includes('--quick') || ['1', 'true'].includes(process.env.BENCH_QUICK ?? '')
    ? 'quick'
    : 'full';
// Checked before Chromium starts: an unknown id is an error naming the known ones.
const cases = browserCases(mode, arg('cases')?.split(','));
const groups = selectGroups(arg('only')?.split(','));
const outDir = arg('out') ?? new URL('../results/', import.meta.url).pathname;
const missing = chromiumMissing();
if (missing) throw new Error(`bench:browser: ${missing}`);

process.stderr.write(`gru-simd browser bench, ${mode} mode\n`);
const report = await runBrowserBench({ mode, cases, groups });
const md = browserMarkdown(report);
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'browser.md'), md);
writeFileSync(join(outDir, 'browser.json'), `${JSON.stringify(report, null, 1)}\n`);
const sweep = cases.some((c) => c.workload === 'sweep');
if (sweep) writeFileSync(join(outDir, 'browser-sweep.svg'), browserSweepSvg(report));
process.stdout.write(
  `\n${md}\nWritten: ${join(outDir, 'browser.md')}, browser.json${sweep ? ', browser-sweep.svg' : ''} (${report.meta.wallSeconds.toFixed(0)} s)\n`,
);
