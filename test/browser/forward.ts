/**
 * The browser test's page (test/browser.test.ts): imports gru-simd's browser entry, from the
 * TypeScript sources (/ts/, compiled by the demo server) or with ?lib=dist from the built
 * package (/dist/esm/), and exposes window.gruTest.forward(): init a backend, load the given
 * weights, run one forward, return the numbers to the test, which compares them with Node.
 */
import type * as GruSimd from '../../ts/index.browser.js';
import type { BackendInfo, InitOptions } from '../../ts/index.browser.js';

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

(
  window as unknown as {
    gruTest: { lib: string; forward: typeof forward; modelFiles: typeof modelFiles };
  }
).gruTest = {
  lib,
  forward,
  modelFiles,
};
