/**
 * gru-simd in a real browser: headless Debian Chromium (playwright-core) against the demo
 * server (examples/browser/serve.mjs). Run by `npm run test:browser`, a step of `npm test`
 * after the mocha suite (not part of it: the gyp and sanitizer runs repeat that suite).
 *
 *   - the browser entry bundles for browsers with no node: module and no native backend;
 *   - a seeded GRU forward in the page (auto -> wasm-relaxed, Chromium having relaxed SIMD;
 *     forced wasm-simd and scalar 'wasm'; the built dist/esm) equals Node's result on the same
 *     wasm module bit for bit (Node runs wasm-relaxed with --experimental-wasm-relaxed-simd,
 *     test/browser/mocharc.json: the same V8 lowering of relaxed_madd on the same CPU), and the
 *     float64 reference within the suite's forward tolerance;
 *   - .wasm served as application/wasm compiles with instantiateStreaming, another MIME type
 *     falls back to an ArrayBuffer, and wasmSimdUrl moves the location (a CDN);
 *   - layers disposed on the page's main thread renew the wasm instance (a synchronous
 *     instantiation of the compiled module, which Chromium allows there): memory back at start;
 *   - the demo trains in its worker on wasm-relaxed and on the scalar module: the loss falls, the
 *     page keeps drawing frames, and a screenshot lands in test-output/.
 *
 * A missing Chromium is a failure in CI (env CI=true) and a visible skip elsewhere.
 *
 * Over 400 lines: one browser session serves every case (starting Chromium is the cost), so they
 * share this file.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import type { DemoServer } from '../examples/browser/serve.mjs';
import { startServer } from '../examples/browser/serve.mjs';
import { GRU, loadBackend, type BackendName } from '../ts/index.js';
import { chromiumMissing, launchChromium } from './browser/chromium.js';
import type {
  ForwardRequest,
  ForwardResponse,
  ModelFilesResponse,
  OnnxResponse,
  RenewalResponse,
  ThreadsResponse,
} from './browser/forward.js';
import { fnv1a } from './browser/digest.js';
import { randomParams } from './cases.js';
import { referenceForward, type RefConfig } from './reference.js';
import { FORWARD } from './tolerance.js';
import { assertClose, rng, uniform } from './util.js';

const IN_CI = process.env.CI === 'true';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT_DIR = fileURLToPath(new URL('../test-output/', import.meta.url));

/* ---- a seeded forward, computed in Node and in the page ------------------------------------ */

const CFG: RefConfig = {
  inputSize: 7,
  hiddenSize: 33,
  numLayers: 2,
  bidirectional: false,
  bias: true,
  resetAfter: true,
};
const T = 11;
const B = 3;

const rand = rng(0xb0b);
const PARAMS = randomParams(CFG, rand);
const X = uniform(T * B * CFG.inputSize, -1, 1, rand);
const REF = referenceForward(CFG, PARAMS, X, { seqLen: T, batch: B });

function request(init: ForwardRequest['init']): ForwardRequest {
  const params: Record<string, number[]> = {};
  for (const [k, v] of Object.entries(PARAMS)) params[k] = Array.from(v);
  return {
    init,
    inputSize: CFG.inputSize,
    hiddenSize: CFG.hiddenSize,
    numLayers: CFG.numLayers,
    seqLen: T,
    batch: B,
    params,
    x: Array.from(X),
  };
}

async function nodeForward(name: BackendName): Promise<{ output: Float32Array; hN: Float32Array }> {
  const backend = await loadBackend(name);
  const net = new GRU({
    inputSize: CFG.inputSize,
    hiddenSize: CFG.hiddenSize,
    numLayers: CFG.numLayers,
    backend,
  });
  try {
    for (const [k, v] of Object.entries(PARAMS)) net.setParameter(k, v);
    const { output, hN } = net.forward(X, { batch: B, seqLen: T });
    assert.ok(output !== null, 'forward returns the output sequence');
    return { output, hN };
  } finally {
    net.dispose();
  }
}

/** The page's result: equal to Node's on the same wasm module, and to the float64 reference. */
async function checkAgainstNode(got: ForwardResponse, nodeBackend: BackendName): Promise<void> {
  const node = await nodeForward(nodeBackend);
  assert.deepEqual(
    got.output,
    Array.from(node.output),
    `output: Chromium and Node (${nodeBackend}) differ`,
  );
  assert.deepEqual(got.hN, Array.from(node.hN), `hN: Chromium and Node (${nodeBackend}) differ`);
  assertClose(got.output, REF.output, FORWARD, 'output vs float64 reference', REF.outputShape);
  assertClose(got.hN, REF.hN, FORWARD, 'hN vs float64 reference', REF.hNShape);
}

/* ---- the page ------------------------------------------------------------------------------ */

interface WasmCalls {
  streaming: number;
  /** WebAssembly.instantiate(bytes) calls (not with a Module). */
  fromBytes: number;
}

/**
 * Counts how modules get compiled, before any page script runs: streaming
 * (compileStreaming, instantiateStreaming) or from bytes (compile, instantiate of bytes).
 */
function countWasmCalls(): void {
  const w = window as unknown as { wasmCalls: WasmCalls };
  w.wasmCalls = { streaming: 0, fromBytes: 0 };
  const streaming = WebAssembly.instantiateStreaming.bind(WebAssembly);
  const compileStreaming = WebAssembly.compileStreaming.bind(WebAssembly);
  const instantiate = WebAssembly.instantiate.bind(WebAssembly) as (
    ...a: unknown[]
  ) => Promise<unknown>;
  const compile = WebAssembly.compile.bind(WebAssembly);
  WebAssembly.instantiateStreaming = ((...a: Parameters<typeof streaming>) => {
    w.wasmCalls.streaming++;
    return streaming(...a);
  }) as typeof WebAssembly.instantiateStreaming;
  WebAssembly.compileStreaming = ((...a: Parameters<typeof compileStreaming>) => {
    w.wasmCalls.streaming++;
    return compileStreaming(...a);
  }) as typeof WebAssembly.compileStreaming;
  WebAssembly.instantiate = ((...a: unknown[]) => {
    if (!(a[0] instanceof WebAssembly.Module)) w.wasmCalls.fromBytes++;
    return instantiate(...a);
  }) as typeof WebAssembly.instantiate;
  WebAssembly.compile = ((...a: Parameters<typeof compile>) => {
    w.wasmCalls.fromBytes++;
    return compile(...a);
  }) as typeof WebAssembly.compile;
}

interface DemoState {
  ready: {
    info: { backend: string; isa: string; threads: number; threadsNote?: string };
    unigram: number;
  } | null;
  step: number;
  losses: number[];
  stepsPerSecond: number;
  samples: { step: number; text: string }[];
  error: string | null;
  frames: number;
  longestFrameMs: number;
}

function mean(a: readonly number[]): number {
  return a.reduce((s, v) => s + v, 0) / a.length;
}

describe('browser: gru-simd in headless Chromium', function () {
  this.timeout(60_000);
  let server: DemoServer;
  let browser: Awaited<ReturnType<typeof launchChromium>> | null = null;
  let page: Page;
  const pageErrors: string[] = [];
  const missing = chromiumMissing();

  before(async function () {
    if (missing !== null) {
      if (IN_CI) throw new Error(`${missing}: required in CI`);
      this.skip();
    }
    server = await startServer();
    browser = await launchChromium();
    page = await browser.context.newPage();
    await page.addInitScript(countWasmCalls);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  afterEach(() => {
    const errors = pageErrors.splice(0);
    assert.deepEqual(errors, [], 'errors in the page');
  });

  async function openForwardPage(query = ''): Promise<void> {
    await page.goto(`${server.url}test/browser/forward.html${query}`);
    await page.waitForFunction(() => 'gruTest' in window, null, { timeout: 10_000 });
  }

  function runForward(req: ForwardRequest): Promise<ForwardResponse> {
    return page.evaluate(
      (r) =>
        (
          window as unknown as { gruTest: { forward(r: ForwardRequest): Promise<ForwardResponse> } }
        ).gruTest.forward(r),
      req,
    );
  }

  const wasmCalls = (): Promise<WasmCalls> =>
    page.evaluate(() => (window as unknown as { wasmCalls: WasmCalls }).wasmCalls);
  const fetched = (file: string): string[] => server.requests.filter((r) => r.includes(file));

  it('the browser entry bundles for browsers with no node: module and no native backend (the Node entry does not)', async () => {
    const bundle = (entry: string) =>
      build({
        entryPoints: [entry],
        absWorkingDir: ROOT,
        bundle: true,
        platform: 'browser',
        format: 'esm',
        write: false,
        metafile: true,
        logLevel: 'silent',
      });
    const r = await bundle('ts/index.browser.ts');
    const inputs = Object.keys(r.metafile.inputs);
    assert.ok(
      inputs.includes('ts/backends/wasm.ts'),
      `the wasm backend is in the bundle: ${inputs.join(', ')}`,
    );
    for (const f of inputs)
      assert.ok(!/native|platform-node|^node:/.test(f), `the browser bundle pulls in ${f}`);
    const code = r.outputFiles[0]!.text;
    for (const v of ['simd', 'scalar']) {
      assert.ok(
        code.includes(`new URL("../../wasm/gru_simd-${v}.wasm", import.meta.url)`),
        `the literal wasm URL (${v}) survives bundling`,
      );
    }
    // The control: the Node entry cannot be bundled for a browser (node: modules), so the
    // check above would notice a browser entry that reached them.
    await assert.rejects(bundle('ts/index.ts'), /node:/);
    const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as {
      exports: Record<string, Record<string, unknown>>;
    };
    const dot = pkg.exports['.']!;
    assert.equal(
      Object.keys(dot)[0],
      'browser',
      'package.json exports: "browser" comes before "import"/"require"',
    );
    assert.deepEqual(dot.browser, {
      types: './dist/esm/index.browser.d.ts',
      default: './dist/esm/index.browser.js',
    });
  });

  it('model files: loadModel(url) with fetch, save() to IndexedDB and loadModel() back; predictions as recorded', async () => {
    await openForwardPage();
    const recorded = JSON.parse(
      readFileSync(`${ROOT}test/fixtures/model-file-v1.json`, 'utf8'),
    ) as {
      x: { data: number[]; shape: number[] };
      prediction: { data: number[] };
    };
    const got = await page.evaluate(
      ([url, x]) =>
        (
          window as unknown as {
            gruTest: { modelFiles(u: string, x: unknown): Promise<ModelFilesResponse> };
          }
        ).gruTest.modelFiles(url, x),
      [`${server.url}test/fixtures/model-file-v1.safetensors`, recorded.x] as const,
    );
    // The fixture's predictions were recorded on Node's wasm-simd: the same module, bit for bit.
    assert.deepEqual(got.fromUrl, recorded.prediction.data.map(Math.fround));
    assert.deepEqual(got.fromIndexedDb, got.fromUrl);
    assert.equal(got.missing, 'ERR_GRU_IO');
  });

  it("ONNX: loadOnnxModel(url) of PyTorch's export predicts onnxruntime's record; its export reads back", async () => {
    await openForwardPage();
    const recorded = JSON.parse(
      readFileSync(`${ROOT}test/fixtures/onnx/predictions.json`, 'utf8'),
    ) as {
      cases: Record<
        string,
        { input: { data: number[]; shape: number[] }; output: { data: number[] } }
      >;
    };
    const c = recorded.cases['torch-legacy-classifier.onnx']!;
    const got = await page.evaluate(
      ([url, x]) =>
        (
          window as unknown as {
            gruTest: { onnx(u: string, x: unknown): Promise<OnnxResponse> };
          }
        ).gruTest.onnx(url, x),
      [`${server.url}test/fixtures/onnx/torch-legacy-classifier.onnx`, c.input] as const,
    );
    const diff = got.fromUrl.reduce((m, v, i) => Math.max(m, Math.abs(v - c.output.data[i]!)), 0);
    assert.ok(diff < 1e-5, `max |predict - onnxruntime| = ${diff}`);
    assert.equal(got.fromUrl.length, c.output.data.length);
    assert.ok(got.roundTrip < 1e-6, `round trip ${got.roundTrip}`);
  });

  it('tfjs: loadTfjsModel(url) of a two-shard model.json predicts as tfjs recorded; its artifacts read back', async () => {
    await openForwardPage();
    const dir = 'test/fixtures/tfjs-files/norms-pooling-two-shards';
    const recorded = JSON.parse(readFileSync(`${ROOT}${dir}/expected.json`, 'utf8')) as {
      input: { data: number[]; shape: number[] };
      output: { data: number[] };
    };
    const got = await page.evaluate(
      ([url, x]) =>
        (
          window as unknown as {
            gruTest: { tfjs(u: string, x: unknown): Promise<OnnxResponse> };
          }
        ).gruTest.tfjs(url, x),
      [`${server.url}${dir}/model.json`, recorded.input] as const,
    );
    assert.equal(got.fromUrl.length, recorded.output.data.length);
    const diff = got.fromUrl.reduce(
      (m, v, i) => Math.max(m, Math.abs(v - recorded.output.data[i]!)),
      0,
    );
    assert.ok(diff < 1e-5, `max |predict - tfjs| = ${diff}`);
    assert.equal(got.roundTrip, 0, 'its own artifacts predict the same');
  });

  it('auto init picks wasm-relaxed (streaming compile); a seeded forward equals Node wasm-relaxed bit for bit', async () => {
    const before = server.requests.length;
    await openForwardPage();
    const got = await runForward(request({}));
    assert.equal(got.info.backend, 'wasm-relaxed');
    assert.equal(got.info.isa, 'wasm-relaxed');
    assert.equal(got.info.fallbackReason, undefined, 'no fallback notice in a browser');
    await checkAgainstNode(got, 'wasm-relaxed');
    // Native computes the same numbers with another ISA: within the forward tolerance of it too.
    const native = await loadBackend('native').then(
      () => nodeForward('native'),
      () => null,
    );
    if (native)
      assertClose(
        got.output,
        native.output,
        { abs: 2 * FORWARD.abs, rel: 2 * FORWARD.rel },
        'output vs Node native',
        REF.outputShape,
      );
    assert.deepEqual(
      await wasmCalls(),
      { streaming: 1, fromBytes: 0 },
      'application/wasm: compileStreaming, once',
    );
    // The page is cross-origin isolated (serve.mjs): the threaded build.
    assert.equal(got.info.threadsNote, undefined);
    assert.ok(
      fetched('/wasm/gru_simd-relaxed-mt.wasm 200').length > 0,
      'fetched /wasm/gru_simd-relaxed-mt.wasm (beside ts/backends/)',
    );
    assert.deepEqual(fetched('scalar'), [], 'the scalar module is not fetched');
    assert.deepEqual(
      server.requests.slice(before).filter((r) => r.includes('simd.wasm')),
      [],
      'the SIMD128 module is not fetched',
    );
    assert.deepEqual(
      server.requests.filter((r) => /native|platform-node|node:/.test(r)),
      [],
      'the page requests nothing of the native backend',
    );
  });

  it("backend 'wasm-simd' forces the SIMD128 module: the forward equals Node wasm-simd bit for bit", async () => {
    await openForwardPage();
    const got = await runForward(request({ backend: 'wasm-simd' }));
    assert.equal(got.info.backend, 'wasm-simd');
    assert.equal(got.info.isa, 'wasm128');
    await checkAgainstNode(got, 'wasm-simd');
    assert.ok(fetched('/wasm/gru_simd-simd-mt.wasm 200').length > 0);
  });

  it("backend 'wasm' forces the scalar module: the forward equals Node wasm bit for bit", async () => {
    await openForwardPage();
    const got = await runForward(request({ backend: 'wasm' }));
    assert.equal(got.info.backend, 'wasm');
    assert.equal(got.info.isa, 'scalar');
    await checkAgainstNode(got, 'wasm');
    assert.ok(fetched('/wasm/gru_simd-scalar.wasm 200').length > 0);
  });

  it('wasmSimdUrl moves the module (a CDN); served as application/octet-stream it loads from an ArrayBuffer', async () => {
    await openForwardPage();
    const url = `${server.url}dist/wasm/gru_simd-simd.wasm?type=octet-stream`;
    assert.ok(
      existsSync(`${ROOT}dist/wasm/gru_simd-simd.wasm`),
      'dist/wasm/ exists (npm run build:ts)',
    );
    const before = fetched('/wasm/gru_simd-simd.wasm').length;
    const got = await runForward(request({ backend: 'wasm-simd', wasmSimdUrl: url }));
    assert.equal(got.info.backend, 'wasm-simd');
    await checkAgainstNode(got, 'wasm-simd');
    assert.deepEqual(
      await wasmCalls(),
      { streaming: 0, fromBytes: 1 },
      'not application/wasm: compiled from an ArrayBuffer',
    );
    assert.deepEqual(fetched('/wasm/gru_simd-simd.wasm').slice(before), [
      'GET /dist/wasm/gru_simd-simd.wasm?type=octet-stream 200',
    ]);
  });

  it('the built package (dist/esm/index.browser.js) finds dist/wasm/ beside itself', async function () {
    // npm test builds dist/ first: a missing build is a failure, not a reason to skip.
    assert.ok(
      existsSync(`${ROOT}dist/esm/index.browser.js`),
      'dist/esm/index.browser.js missing: npm run build:ts',
    );
    for (const f of [
      'gru_simd-relaxed.wasm',
      'gru_simd-simd.wasm',
      'gru_simd-scalar.wasm',
      'gru_simd-relaxed-mt.wasm',
      'gru_simd-simd-mt.wasm',
    ]) {
      assert.ok(
        readFileSync(`${ROOT}dist/wasm/${f}`).equals(readFileSync(`${ROOT}wasm/${f}`)),
        `dist/wasm/${f} differs from wasm/${f}: stale build, run npm run build:ts`,
      );
    }
    const before = server.requests.length;
    await openForwardPage('?lib=dist');
    const got = await runForward(request({}));
    assert.equal(got.info.backend, 'wasm-relaxed');
    await checkAgainstNode(got, 'wasm-relaxed');
    const requests = server.requests.slice(before);
    assert.ok(
      requests.includes('GET /dist/wasm/gru_simd-relaxed-mt.wasm 200'),
      requests.join('\n'),
    );
    assert.deepEqual(
      requests.filter((r) => r.includes('/ts/')),
      [],
      'nothing from the TypeScript sources',
    );
  });

  it("wasm memory: layers disposed on the page's main thread renew the instance, back at its start", async () => {
    await openForwardPage();
    const r = await page.evaluate(() =>
      (window as unknown as { gruTest: { renewal(): Promise<RenewalResponse> } }).gruTest.renewal(),
    );
    assert.ok(r.grown > 1.1 * r.start, `the layers grew the memory: ${JSON.stringify(r)}`);
    assert.ok(r.after <= 1.1 * r.start, `memory after they were disposed: ${JSON.stringify(r)}`);
    assert.ok(r.same, 'a layer made after the renewal computes as one made before');
  });

  for (const name of ['wasm-relaxed', 'wasm-simd'] as const) {
    it(`threads (${name}): a cross-origin isolated page runs 2 threads, bitwise the results of 1 and of Node`, async () => {
      await openForwardPage();
      const got = await page.evaluate(
        ([b, n]) =>
          (
            window as unknown as {
              gruTest: { threads(b: string, n: number): Promise<ThreadsResponse> };
            }
          ).gruTest.threads(b, n),
        [name, 2] as const,
      );
      assert.equal(got.isolated, true, 'serve.mjs makes the page cross-origin isolated');
      assert.equal(got.info.threadsNote, undefined);
      assert.equal(got.warned, '');
      assert.equal(got.threadsAfter, 2);
      assert.equal(got.ready, 2);
      assert.ok(got.joins > 0, 'the helper (a Web Worker) joined the regions');
      assert.equal(got.many, got.one, '2 threads vs 1: bitwise');
      const node = await loadBackend(name);
      const net = new GRU({ inputSize: 64, hiddenSize: 256, seed: 7, backend: node });
      try {
        const x = Float32Array.from({ length: 20 * 16 * 64 }, (_, i) => Math.sin(i * 0.37));
        const f = net.forward(x, { batch: 16, train: true });
        const dy = Float32Array.from(f.output!, (_, i) => Math.cos(i * 0.11));
        const d = net.backward({ dOutput: dy });
        const expected = fnv1a([f.output!, f.hN, d.dx!, net.getGradient('weight_hh_l0')]);
        assert.equal(got.one, expected, `Chromium and Node (${name}) differ`);
      } finally {
        net.dispose();
      }
    });
  }

  it('threads: a page that is not cross-origin isolated loads the single-threaded module; threadsNote says why, setThreads(2) stays at one thread with a warning', async () => {
    const before = server.requests.length;
    await openForwardPage('?isolated=0');
    const got = await page.evaluate(() =>
      (
        window as unknown as {
          gruTest: { threads(b: string, n: number): Promise<ThreadsResponse> };
        }
      ).gruTest.threads('wasm-relaxed', 2),
    );
    assert.equal(got.isolated, false);
    assert.match(got.info.threadsNote ?? '', /not cross-origin isolated/);
    assert.match(got.info.threadsNote ?? '', /Cross-Origin-Embedder-Policy: require-corp/);
    assert.match(
      got.warned,
      /setThreads\(2\) on wasm-relaxed stays at one thread: .*not cross-origin isolated/,
    );
    assert.equal(got.threadsAfter, 1);
    assert.equal(got.ready, 1);
    assert.equal(got.many, got.one);
    const requests = server.requests.slice(before);
    assert.ok(requests.includes('GET /wasm/gru_simd-relaxed.wasm 200'), requests.join('\n'));
  });

  async function runDemo(query: string, minSteps: number): Promise<DemoState> {
    await page.goto(`${server.url}${query}`);
    await page.waitForFunction(
      (n) => {
        const s = (window as unknown as { gruDemo?: { step: number; error: string | null } })
          .gruDemo;
        return s !== undefined && (s.step >= n || s.error !== null);
      },
      minSteps,
      { timeout: 45_000, polling: 100 },
    );
    const state = await page.evaluate(() => (window as unknown as { gruDemo: DemoState }).gruDemo);
    assert.equal(state.error, null, `demo error: ${state.error}`);
    return state;
  }

  it('demo: trains the char model in a worker on wasm-relaxed (auto); the loss falls and the page keeps drawing', async function () {
    // Sample at step 50, ~4 s at ~14 steps/s (~8 s where two test suites share the CPUs).
    const state = await runDemo('', 55);
    const framesThen = state.frames;
    assert.equal(state.ready?.info.backend, 'wasm-relaxed');
    assert.equal(state.ready?.info.isa, 'wasm-relaxed');
    const first = mean(state.losses.slice(0, 5));
    const last = mean(state.losses.slice(-10));
    assert.ok(
      last < first - 0.8,
      `loss falls: first 5 steps ${first.toFixed(3)}, last 10 ${last.toFixed(3)}`,
    );
    assert.ok(
      last < state.ready!.unigram,
      `below the unigram entropy ${state.ready!.unigram.toFixed(3)}: ${last.toFixed(3)}`,
    );
    assert.ok(
      state.samples.length >= 1 && state.samples[0]!.text.length === 160,
      'a generated sample is shown',
    );
    // Responsive: ~60 frames a second while the worker trains (headless, software rendering).
    await page.waitForTimeout(500);
    const frames = await page.evaluate(
      () => (window as unknown as { gruDemo: DemoState }).gruDemo.frames,
    );
    assert.ok(
      frames - framesThen >= 10,
      `the requestAnimationFrame clock ticks while training: ${frames - framesThen} frames in 0.5 s`,
    );
    assert.ok(state.longestFrameMs < 500, `longest frame ${state.longestFrameMs} ms`);
    // The training runs in the worker: the page's own thread never compiled a wasm module.
    assert.deepEqual(
      await wasmCalls(),
      { streaming: 0, fromBytes: 0 },
      'no wasm on the main thread',
    );
    // The module it runs: relaxed SIMD with threads (the page is cross-origin isolated), all
    // the cores the browser reports.
    const text = await page.locator('#backend').textContent();
    assert.equal(text, 'wasm-relaxed + threads');
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    assert.equal(state.ready?.info.threads, cores);
    mkdirSync(OUT_DIR, { recursive: true });
    await page.screenshot({ path: `${OUT_DIR}browser-demo.png`, fullPage: true });
    this.test!.title += ` (${state.stepsPerSecond.toFixed(1)} steps/s; test-output/browser-demo.png)`;
  });

  it('demo: ?isolated=0 (no COOP/COEP) trains on one thread and shows the module without threads', async function () {
    const state = await runDemo('?isolated=0', 30);
    assert.equal(state.ready?.info.backend, 'wasm-relaxed');
    assert.equal(state.ready?.info.threads, 1);
    assert.match(state.ready?.info.threadsNote ?? '', /not cross-origin isolated/);
    assert.equal(await page.locator('#backend').textContent(), 'wasm-relaxed');
    this.test!.title += ` (${state.stepsPerSecond.toFixed(1)} steps/s)`;
  });

  it('demo: ?backend=wasm trains on the scalar module', async function () {
    const state = await runDemo('?backend=wasm', 12);
    assert.equal(state.ready?.info.backend, 'wasm');
    assert.equal(state.ready?.info.isa, 'scalar');
    const first = state.losses[0]!;
    const last = mean(state.losses.slice(-3));
    assert.ok(
      last < first - 0.5,
      `loss falls: step 1 ${first.toFixed(3)}, last 3 ${last.toFixed(3)}`,
    );
    assert.equal(await page.locator('#backend-select').inputValue(), 'wasm');
    mkdirSync(OUT_DIR, { recursive: true });
    await page.screenshot({ path: `${OUT_DIR}browser-demo-scalar.png`, fullPage: true });
    this.test!.title += ` (${state.stepsPerSecond.toFixed(1)} steps/s; test-output/browser-demo-scalar.png)`;
  });
});
