/**
 * The browser test's page (test/browser.test.ts): imports gru-simd's browser entry, from the
 * TypeScript sources (/ts/, compiled by the demo server) or with ?lib=dist from the built
 * package (/dist/esm/), and exposes window.gruTest.forward(): init a backend, load the given
 * weights, run one forward, return the numbers to the test, which compares them with Node; and
 * window.gruTest.modelFiles(): loadModel from a URL and IndexedDB; window.gruTest.onnx():
 * loadOnnxModel from a URL and its own export read back; window.gruTest.tfjs(): loadTfjsModel
 * from a model.json URL (its shards fetched beside it) and its own artifacts read back; and
 * window.gruTest.renewal(): the wasm-simd backend's renewal of its instance on the page's main
 * thread (ts/backends/wasm-instance.ts); window.gruTest.threads(): a backend's results at one
 * thread and at n (ts/backends/wasm-threads.ts).
 */
import type * as GruSimd from '../../ts/index.browser.js';
import type { BackendInfo, InitOptions } from '../../ts/index.browser.js';
import { fnv1a } from './digest.js';

export interface ForwardRequest {
  init: InitOptions;
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  seqLen: number;
  batch: number;
  /** PyTorch-named parameters (weight_ih_l0, ...) as plain arrays of fp32 values. */
  params: Record<string, number[]>;
  x: number[];
}

export interface RenewalResponse {
  /** wasmMemoryBytes() at the start, with 1000 layers live, and after they were disposed. */
  start: number;
  grown: number;
  after: number;
  /** A layer made after the renewal computes as the same layer made before it. */
  same: boolean;
}

export interface ForwardResponse {
  info: BackendInfo;
  output: number[];
  hN: number[];
}

const lib =
  new URLSearchParams(location.search).get('lib') === 'dist'
    ? '/dist/esm/index.browser.js'
    : '/ts/index.browser.js';
const gru = (await import(lib)) as typeof GruSimd;

async function forward(req: ForwardRequest): Promise<ForwardResponse> {
  const info = await gru.init(req.init);
  const net = new gru.GRU({
    inputSize: req.inputSize,
    hiddenSize: req.hiddenSize,
    numLayers: req.numLayers,
  });
  try {
    for (const [name, values] of Object.entries(req.params))
      net.setParameter(name, Float32Array.from(values));
    const { output, hN } = net.forward(Float32Array.from(req.x), {
      batch: req.batch,
      seqLen: req.seqLen,
    });
    if (output === null) throw new Error('forward returned no output sequence');
    return { info, output: Array.from(output), hN: Array.from(hN) };
  } finally {
    net.dispose();
  }
}

export interface ModelFilesResponse {
  /** Predictions of the model loaded from the URL, and of it saved to IndexedDB and loaded back. */
  fromUrl: number[];
  fromIndexedDb: number[];
  /** The error code of loading a name IndexedDB does not hold. */
  missing: string;
}

/**
 * Model files in the browser (ts/models/storage.ts): loadModel(url) with fetch, then save() to
 * 'indexeddb://name' and loadModel() from it; both predict on x.
 */
async function modelFiles(
  url: string,
  x: { data: number[]; shape: number[] },
): Promise<ModelFilesResponse> {
  await gru.init({ backend: 'wasm-simd' });
  const input = gru.tensor(Int32Array.from(x.data), x.shape, 'int32');
  const a = await gru.loadModel(url);
  await a.save('indexeddb://browser-test');
  const b = await gru.loadModel('indexeddb://browser-test');
  let missing = '';
  await gru
    .loadModel('indexeddb://no-such-model')
    .catch((e: { code: string }) => (missing = e.code));
  try {
    return {
      fromUrl: Array.from(a.predict(input).data),
      fromIndexedDb: Array.from(b.predict(input).data),
      missing,
    };
  } finally {
    a.dispose();
    b.dispose();
  }
}

export interface OnnxResponse {
  /** Predictions of a PyTorch export loaded with loadOnnxModel(url). */
  fromUrl: number[];
  /** Max |predict - predict of its own ONNX export read back| of the loaded model. */
  roundTrip: number;
}

/** ONNX in the browser: loadOnnxModel(url) with fetch, onnxModelBytes and back. */
async function onnx(url: string, x: { data: number[]; shape: number[] }): Promise<OnnxResponse> {
  await gru.init({ backend: 'wasm-simd' });
  const input = gru.tensor(Int32Array.from(x.data), x.shape, 'int32');
  const a = await gru.loadOnnxModel(url);
  const b = await gru.loadOnnxModel(gru.onnxModelBytes(a));
  try {
    const ya = Array.from(a.predict(input).data);
    const yb = Array.from(b.predict(input).data);
    return {
      fromUrl: ya,
      roundTrip: ya.reduce((m, v, i) => Math.max(m, Math.abs(v - yb[i]!)), 0),
    };
  } finally {
    a.dispose();
    b.dispose();
  }
}

/** A tfjs LayersModel in the browser: loadTfjsModel(url) with fetch, tfjsModelArtifacts and back. */
async function tfjs(url: string, x: { data: number[]; shape: number[] }): Promise<OnnxResponse> {
  await gru.init({ backend: 'wasm-simd' });
  const input = gru.tensor(Float32Array.from(x.data), x.shape);
  const a = await gru.loadTfjsModel(url);
  const { modelJson, weights } = gru.tfjsModelArtifacts(a);
  const b = await gru.loadTfjsModel({ modelJson, weights });
  try {
    const ya = Array.from(a.predict(input).data);
    const yb = Array.from(b.predict(input).data);
    return {
      fromUrl: ya,
      roundTrip: ya.reduce((m, v, i) => Math.max(m, Math.abs(v - yb[i]!)), 0),
    };
  } finally {
    a.dispose();
    b.dispose();
  }
}

export interface ThreadsResponse {
  info: BackendInfo;
  /** crossOriginIsolated of the page. */
  isolated: boolean;
  /**
   * A seeded batch-16 training forward + backward at 1 thread, then at `threads`: FNV-1a of
   * the float32 bits of its results (output, hN, dx, the weight_hh gradient); the test computes
   * the same in Node.
   */
  one: string;
  many: string;
  /** threadsReady()'s answer, and the regions the helpers joined during `many`. */
  ready: number;
  joins: number;
  /** setThreads(n)'s error code where the backend stays at one thread ('' if it took n). */
  /** What setThreads(n) warned ('' if nothing): a page without threads stays at one. */
  warned: string;
  /** backend.threads() after setThreads(n). */
  threadsAfter: number;
}

/**
 * Threads in the page (ts/backends/wasm-threads.ts): the backend's result at 1 thread and at
 * n; on a page that is not cross-origin isolated, setThreads(n) stays at one thread and warns
 * (threadsNote says why).
 */
async function threads(
  backendName: 'wasm-simd' | 'wasm-relaxed',
  n: number,
): Promise<ThreadsResponse> {
  const info = await gru.init({ backend: backendName });
  const backend = await gru.loadBackend(backendName);
  const run = (): string => {
    const net = new gru.GRU({ inputSize: 64, hiddenSize: 256, seed: 7, backend });
    try {
      const x = Float32Array.from({ length: 20 * 16 * 64 }, (_, i) => Math.sin(i * 0.37));
      const f = net.forward(x, { batch: 16, train: true });
      const dy = Float32Array.from(f.output!, (_, i) => Math.cos(i * 0.11));
      const d = net.backward({ dOutput: dy });
      return fnv1a([f.output!, f.hN, d.dx!, net.getGradient('weight_hh_l0')]);
    } finally {
      net.dispose();
    }
  };
  backend._wasmHelpers(true); // no cooldown on a busy machine: the helper must join
  gru.setThreads(1, backend);
  const one = run();
  const warnings: string[] = [];
  const originalWarn = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.map(String).join(' '));
  try {
    gru.setThreads(n, backend);
  } finally {
    console.warn = originalWarn;
  }
  const threadsAfter = backend.threads();
  const ready = await gru.threadsReady(backend);
  const joins = backend._wasmHelpers()?.joins ?? 0;
  const many = run();
  const joined = (backend._wasmHelpers()?.joins ?? 0) - joins;
  gru.setThreads(1, backend);
  backend._wasmHelpers(false);
  return {
    info,
    isolated: globalThis.crossOriginIsolated === true,
    one,
    many,
    ready,
    joins: joined,
    warned: warnings.join('\n'),
    threadsAfter,
  };
}

async function renewal(): Promise<RenewalResponse> {
  const backend = await gru.loadBackend('wasm-simd');
  const layer = (seed: number) => new gru.GRU({ inputSize: 16, hiddenSize: 32, seed, backend });
  const x = Float32Array.from({ length: 16 }, (_, i) => Math.sin(i));
  const output = () => {
    const l = layer(1);
    const y = Array.from(l.forward(x, { batch: 1 }).output!);
    l.dispose();
    return y;
  };
  const start = backend.wasmMemoryBytes()!;
  const before = output();
  const layers = Array.from({ length: 1000 }, (_, i) => layer(i));
  const grown = backend.wasmMemoryBytes()!;
  layers.forEach((l) => l.dispose()); // the last dispose renews the instance
  const after = backend.wasmMemoryBytes()!;
  return { start, grown, after, same: JSON.stringify(output()) === JSON.stringify(before) };
}

(
  window as unknown as {
    gruTest: {
      lib: string;
      forward: typeof forward;
      modelFiles: typeof modelFiles;
      onnx: typeof onnx;
      tfjs: typeof tfjs;
      renewal: typeof renewal;
      threads: typeof threads;
    };
  }
).gruTest = {
  lib,
  forward,
  modelFiles,
  onnx,
  tfjs,
  renewal,
  threads,
};
