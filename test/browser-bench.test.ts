/**
 * The browser bench (`npm run bench:browser`, bench/browser/) on tiny cases in quick mode, in
 * Debian's headless Chromium: the page is cross-origin isolated, and every contestant (gru-simd
 * wasm-relaxed, wasm-simd and scalar, onnxruntime-web 1T and NT, tfjs wasm) either ran after passing its
 * check against gru-simd in Node, or was skipped with a reason. No timing is asserted.
 *
 * A missing Chromium is a failure in CI (env CI=true) and a visible skip elsewhere.
 */
import assert from 'node:assert/strict';
import type { BrowserReport } from '../bench/browser/bench.js';
import { BROWSER_GROUPS, selectGroups } from '../bench/browser/groups.js';
import { browserMarkdown } from '../bench/browser/report.js';
import { makeCase, type Case } from '../bench/cases.js';
import { chromiumMissing } from './browser/chromium.js';

const IN_CI = process.env.CI === 'true';

// A top-level await makes mocha load this file as an ES module. Required as CommonJS (mocha's
// first try), the bench's reference would get gru-simd's wasm backend from a dynamic import(),
// i.e. from a second, ESM copy of the library, whose backends the first copy refuses ("backend
// must be a Backend from loadBackend()"); test/backends.ts is an ES module for the same reason.
const { runBrowserBench } = await import('../bench/browser/bench.js');

/** One tiny case of each kind the bench has: forward, training step, stream, stream group. */
const TINY: Case[] = [
  makeCase('tiny-forward', 'A', 'forward', 2, 5, 8, 16, 'tiny forward B2 T5 I8 H16'),
  makeCase('tiny-train', 'D', 'train', 2, 5, 8, 16, 'tiny training step B2 T5 I8 H16'),
  makeCase('tiny-stream', 'E', 'stream', 1, 1, 8, 16, 'tiny stream B1 I8 H16'),
  makeCase('tiny-streams', 'E-many', 'streams', 4, 1, 8, 16, 'tiny stream group 4 x I8 H16'),
];

/** Why each peer skips a case kind: the bench must say so rather than fail or stay silent. */
const EXPECTED_SKIPS: Record<string, string[]> = {
  'ort-web-1': ['tiny-train', 'tiny-streams'],
  'ort-web-n': ['tiny-train', 'tiny-streams'],
  'tfjs-wasm': ['tiny-streams'],
};

describe('browser bench: bench/browser/ in headless Chromium (quick mode, tiny cases)', function () {
  this.timeout(120_000);
  let report: BrowserReport;
  const lines: string[] = [];

  before(async function () {
    const missing = chromiumMissing();
    if (missing !== null) {
      if (IN_CI) throw new Error(`${missing}: required in CI`);
      this.skip();
    }
    report = await runBrowserBench({
      mode: 'quick',
      cases: TINY,
      groups: selectGroups(),
      log: (line) => lines.push(line),
    });
  });

  it('serves the page cross-origin isolated: crossOriginIsolated, SharedArrayBuffer, N >= 2', () => {
    const page = report.meta.page;
    assert.equal(page.crossOriginIsolated, true, 'crossOriginIsolated');
    assert.equal(page.sharedArrayBuffer, true, 'SharedArrayBuffer is defined');
    assert.ok(page.threadsN >= 2, `N = ${page.threadsN}`);
    assert.match(report.meta.chromium, /^\d+\.\d+\.\d+\.\d+$/, 'the full Chromium version');
  });

  it('every contestant ran and passed its check against gru-simd in Node, or was skipped with a reason', () => {
    assert.deepEqual(
      report.groups.map((g) => g.group),
      BROWSER_GROUPS.map((g) => g.id),
      'every contestant reported',
    );
    for (const g of report.groups) {
      assert.equal(g.error, undefined, `${g.group} loaded (log:\n${lines.join('\n')})`);
      assert.deepEqual(
        g.results.map((r) => r.caseId).sort(),
        TINY.map((c) => c.id).sort(),
        `${g.group}: every case reported`,
      );
      for (const r of g.results) {
        const what = `${g.group} ${r.caseId}`;
        const skip = EXPECTED_SKIPS[g.group]?.includes(r.caseId) ?? false;
        if (skip) {
          assert.equal(r.status, 'skipped', `${what}: skipped`);
          assert.ok(r.note.length > 0, `${what}: a reason`);
          continue;
        }
        assert.equal(r.status, 'ok', `${what}: ${r.status} ${r.note}`);
        assert.match(
          r.check ?? '',
          /^(max \|diff\||first-step loss rel\. diff) \S+ vs gru-simd (native|wasm-simd)/,
          what,
        );
        assert.ok((r.median ?? 0) > 0 && (r.samples ?? 0) > 0, `${what}: timed`);
      }
    }
  });

  it("reports each contestant's module and threads, the page's peaks, and the ratio columns", () => {
    const byId = new Map(report.groups.map((g) => [g.group, g]));
    // The page is cross-origin isolated: the threaded builds (1 thread, and N for -n).
    assert.match(
      byId.get('wasm-relaxed')!.detail,
      /ISA wasm-relaxed; module \/wasm\/gru_simd-relaxed-mt\.wasm$/,
    );
    assert.match(
      byId.get('wasm-relaxed-n')!.detail,
      /ISA wasm-relaxed; module \/wasm\/gru_simd-relaxed-mt\.wasm$/,
    );
    assert.equal(byId.get('wasm-relaxed')!.threads, 1);
    assert.equal(byId.get('wasm-relaxed-n')!.threads, report.meta.page.threadsN);
    assert.match(
      byId.get('wasm-simd')!.detail,
      /ISA wasm128; module \/wasm\/gru_simd-simd-mt\.wasm$/,
    );
    assert.match(byId.get('wasm')!.detail, /ISA scalar; module \/wasm\/gru_simd-scalar\.wasm$/);
    assert.match(byId.get('ort-web-1')!.detail, /module \/ort\/ort-wasm-simd-threaded\.wasm/);
    assert.equal(byId.get('ort-web-1')!.threads, 1);
    assert.equal(byId.get('ort-web-n')!.threads, report.meta.page.threadsN);
    assert.match(byId.get('tfjs-wasm')!.detail, /module \/tfjs-wasm\/tfjs-backend-wasm.*\.wasm/);
    for (const p of [report.peaks.chromium, report.peaks.node])
      assert.ok(p.simd > 0 && p.scalar > 0, `peaks ${JSON.stringify(p)}`);
    assert.ok(report.peaks.chromium.relaxed > 0, 'Chromium runs relaxed SIMD: its peak measured');
    const md = browserMarkdown(report);
    const n = report.meta.page.threadsN;
    assert.ok(md.includes(`| vs ORT 1T | vs ORT ${n}T | check |`), 'ratio columns');
    assert.ok(md.includes(`headless Chromium ${report.meta.chromium}`), 'the Chromium version');
  });
});
