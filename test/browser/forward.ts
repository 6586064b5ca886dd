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

(window as unknown as { gruTest: { lib: string; forward: typeof forward } }).gruTest = {
  lib,
  forward,
};
