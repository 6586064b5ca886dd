/**
 * The page of test/browser-keras.test.ts, bundled for browsers with the library's browser entry
 * (fflate and h5wasm, imported on the first Keras file, come with the bundle): window.kerasTest
 * loads a .keras and a legacy .h5 file from URLs, predicts, saves the model as .keras bytes,
 * loads them back and describes a file.
 */
import * as gru from '../../ts/index.browser.js';

export interface KerasPageRequest {
  wasmSimdUrl: string;
  kerasUrl: string;
  h5Url: string;
  x: number[];
  shape: number[];
}

export interface KerasPageResponse {
  backend: string;
  fromKeras: number[];
  fromH5: number[];
  roundTrip: number[];
  describedLayers: string[];
  params: number;
}

async function kerasTest(r: KerasPageRequest): Promise<KerasPageResponse> {
  const info = await gru.init({ backend: 'wasm-simd', wasmSimdUrl: r.wasmSimdUrl });
  const x = gru.tensor(Float32Array.from(r.x), r.shape);
  const a = await gru.loadKerasModel(r.kerasUrl);
  const b = await gru.loadKerasModel(new URL(r.h5Url, location.href));
  const c = await gru.loadKerasModel(await gru.kerasModelBytes(a));
  const described = await gru.describeKerasFile(r.kerasUrl);
  try {
    return {
      backend: info.backend,
      fromKeras: Array.from(a.predict(x).data),
      fromH5: Array.from(b.predict(x).data),
      roundTrip: Array.from(c.predict(x).data),
      describedLayers: described.layers.map((l) => `${l.className} ${l.params}`),
      params: described.params,
    };
  } finally {
    for (const m of [a, b, c]) m.dispose();
  }
}

(window as unknown as { kerasTest: typeof kerasTest }).kerasTest = kerasTest;
