/**
 * Keras files in a real browser (headless Debian Chromium, playwright-core): the browser entry,
 * bundled by esbuild with a page (test/browser/keras-page.ts), loads Keras's .keras and .h5 files
 * of test/fixtures/keras-files/ by URL, predicts what Keras 3 predicted
 * (test/fixtures/keras-files.json), saves the model as .keras bytes and loads them back, and
 * describes a file: h5wasm's and fflate's ES modules run in browsers, with no node: module.
 * The page is served from a fake origin by request interception (no server).
 *
 * A missing Chromium is a failure in CI (env CI=true) and a visible skip elsewhere.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';
import { chromiumMissing, launchChromium } from './browser/chromium.js';
import type { KerasPageRequest, KerasPageResponse } from './browser/keras-page.js';

const IN_CI = process.env.CI === 'true';
const ORIGIN = 'http://gru-simd.test';
const root = new URL('..', import.meta.url);

interface Case {
  name: string;
  inputShape: number[];
  x: number[];
  predict: number[];
  layers: { className: string; params: number }[];
}

describe('browser: Keras files in headless Chromium', function () {
  this.timeout(120_000);

  it('loads .keras and .h5 by URL, predicts as Keras 3, round-trips .keras bytes, describes a file', async function () {
    const missing = chromiumMissing();
    if (missing !== null) {
      if (IN_CI) throw new Error(`${missing}: required in CI`);
      this.skip();
    }
    const fixtures: { cases: Case[] } = JSON.parse(
      readFileSync(new URL('test/fixtures/keras-files.json', root), 'utf8'),
    );
    const c = fixtures.cases.find((k) => k.name === 'bidirectional-concat')!;
    const bundle = await build({
      entryPoints: [new URL('test/browser/keras-page.ts', root).pathname],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      logLevel: 'warning',
      metafile: true,
    });
    const inputs = Object.keys(bundle.metafile.inputs);
    assert.ok(inputs.some((f) => f.includes('h5wasm')) && inputs.some((f) => f.includes('fflate')));
    for (const f of inputs) assert.ok(!/^node:|platform-node/.test(f), `the bundle pulls in ${f}`);
    const files: Record<string, { type: string; body: Buffer | string }> = {
      '/page.html': {
        type: 'text/html',
        body: '<!doctype html><meta charset="utf-8"><script type="module" src="/page.js"></script>',
      },
      '/page.js': { type: 'text/javascript', body: bundle.outputFiles[0]!.text },
      '/gru_simd-simd.wasm': {
        type: 'application/wasm',
        body: readFileSync(new URL('wasm/gru_simd-simd.wasm', root)),
      },
    };
    for (const ext of ['.keras', '.h5'])
      files[`/m${ext}`] = {
        type: 'application/octet-stream',
        body: readFileSync(new URL(`test/fixtures/keras-files/${c.name}${ext}`, root)),
      };
    const browser = await launchChromium();
    const errors: string[] = [];
    try {
      const page = await browser.context.newPage();
      page.on('pageerror', (e) => errors.push(e.message));
      await page.route(`${ORIGIN}/**`, (route) => {
        const f = files[new URL(route.request().url()).pathname];
        return f === undefined
          ? route.fulfill({ status: 404, body: 'not found' })
          : route.fulfill({ status: 200, contentType: f.type, body: f.body });
      });
      await page.goto(`${ORIGIN}/page.html`);
      await page.waitForFunction(() => 'kerasTest' in window, null, { timeout: 20_000 });
      const req: KerasPageRequest = {
        wasmSimdUrl: `${ORIGIN}/gru_simd-simd.wasm`,
        kerasUrl: `${ORIGIN}/m.keras`,
        h5Url: '/m.h5',
        x: c.x,
        shape: [c.x.length / c.inputShape.reduce((a, b) => a * b, 1), ...c.inputShape],
      };
      const got = await page.evaluate(
        (r) =>
          (
            window as unknown as { kerasTest(r: KerasPageRequest): Promise<KerasPageResponse> }
          ).kerasTest(r),
        req,
      );
      assert.equal(got.backend, 'wasm-simd');
      for (const [what, v] of [
        ['.keras', got.fromKeras],
        ['.h5', got.fromH5],
      ] as const) {
        assert.equal(v.length, c.predict.length);
        v.forEach((y, i) =>
          assert.ok(Math.abs(y - c.predict[i]!) <= 1e-5, `${what}[${i}]: ${y} vs ${c.predict[i]}`),
        );
      }
      assert.deepEqual(got.roundTrip, got.fromKeras, 'the .keras bytes written in the page');
      assert.deepEqual(
        got.describedLayers,
        c.layers.map((l) => `${l.className} ${l.params}`),
        'layers as Keras reports them',
      );
      assert.deepEqual(errors, [], 'errors in the page');
    } finally {
      await browser.close();
    }
  });
});
