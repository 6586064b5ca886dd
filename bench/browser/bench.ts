/**
 * Runs the browser bench: starts the server (server.ts), Debian's headless Chromium through
 * playwright-core (test/browser/chromium.ts), opens the page and runs each contestant in its own
 * worker of that page, one after the other, then the report's data. Used by run.ts (the CLI) and
 * by test/browser-bench.test.ts.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { launchChromium } from '../../test/browser/chromium.js';
import { settings, type Case, type GroupResult, type Mode } from '../cases.js';
import { wasmPeak, wasmRelaxedPeak } from '../wasm-peak.js';
import type { BrowserGroup } from './groups.js';
import type { BenchPage, PageEnvironment, WasmPeak } from './protocol.js';
import { startBenchServer } from './server.js';

export interface BrowserReport {
  meta: {
    mode: Mode;
    date: string;
    cpu: string;
    cores: number;
    node: string;
    /** "156.0.8078.114", as the page reports it. */
    chromium: string;
    page: PageEnvironment;
    wallSeconds: number;
    loadAvg: { start: number; end: number };
  };
  /** The same register-resident loops (bench/tools/fma_peak_wasm.wasm) in a page worker and in Node. */
  peaks: { chromium: WasmPeak; node: WasmPeak };
  cases: Case[];
  groups: GroupResult[];
}

export interface BrowserBenchOptions {
  mode: Mode;
  cases: Case[];
  groups: BrowserGroup[];
  /** Progress lines (the workers' and the page's). */
  log?: (line: string) => void;
}

const PEAK_WASM = new URL('../tools/fma_peak_wasm.wasm', import.meta.url);
const PEAK_RELAXED = new URL('../tools/fma_peak_relaxed.wasm', import.meta.url);

export async function runBrowserBench(o: BrowserBenchOptions): Promise<BrowserReport> {
  const log = o.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const started = performance.now();
  const load0 = loadavg()[0] as number;
  const server = await startBenchServer();
  const browser = await launchChromium().catch(async (e: unknown) => {
    await server.close();
    throw e;
  });
  try {
    const page = await browser.context.newPage();
    page.on('console', (m) => log(m.text()));
    page.on('pageerror', (e) => log(`page error: ${e.message}`));
    await page.goto(`${server.url}bench/browser/`);
    await page.waitForFunction(() => 'gruBench' in window, null, { timeout: 30_000 });
    const env = await page.evaluate(() =>
      (window as unknown as { gruBench: BenchPage }).gruBench.environment(),
    );
    log(
      `Chromium: crossOriginIsolated ${env.crossOriginIsolated}, SharedArrayBuffer ${env.sharedArrayBuffer}, ` +
        `${env.hardwareConcurrency} logical cores (N = ${env.threadsN}); measuring the wasm peaks...`,
    );
    const chromiumPeak = await page.evaluate(() =>
      (window as unknown as { gruBench: BenchPage }).gruBench.peak(),
    );
    // Relaxed: 0 unless this Node runs with --experimental-wasm-relaxed-simd.
    const nodePeak = {
      ...wasmPeak(new Uint8Array(readFileSync(PEAK_WASM))),
      relaxed: wasmRelaxedPeak(new Uint8Array(readFileSync(PEAK_RELAXED))),
    };
    const s = settings(o.mode);
    // A contestant still running after this is stopped (tfjs on the biggest cases, a hang).
    const limitSeconds = (o.mode === 'quick' ? 90 : 400) * Math.max(1, o.cases.length / 8);
    const groups: GroupResult[] = [];
    for (const g of o.groups) {
      log(
        `${g.name}${g.family === 'gru-simd' ? '' : `, ${g.threads === 'n' ? env.threadsN : g.threads} thread(s)`}:`,
      );
      const request = { group: g.id, mode: o.mode, cases: o.cases, settings: s, limitSeconds };
      const r = await page.evaluate(
        (req) => (window as unknown as { gruBench: BenchPage }).gruBench.runGroup(req),
        request,
      );
      if (r.error) log(`  ${g.id}: ${r.error}`);
      groups.push(r);
    }
    return {
      meta: {
        mode: o.mode,
        date: new Date().toISOString(),
        cpu: cpus()[0]?.model ?? 'unknown CPU',
        cores: cpus().length,
        node: process.version,
        chromium: env.browserVersion,
        page: env,
        wallSeconds: (performance.now() - started) / 1e3,
        loadAvg: { start: load0, end: loadavg()[0] as number },
      },
      peaks: { chromium: chromiumPeak, node: nodePeak },
      cases: o.cases,
      groups,
    };
  } finally {
    await browser.close();
    await server.close();
  }
}
