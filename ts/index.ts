/**
 * gru-simd: a GRU for JavaScript computed by one C++ SIMD kernel core, as a Node N-API addon
 * or as WebAssembly, behind this one API.
 *
 *   import { init, GRU } from 'gru-simd';
 *   await init();                         // native, else wasm-relaxed, wasm-simd, wasm
 *   const gru = new GRU({ inputSize: 8, hiddenSize: 32, seed: 1 });
 *   const { output, hN } = gru.forward(x, { batch: 4 });
 *
 * Training: layers (GRU, Dense, Embedding, Dropout) with forward({ train: true }) / backward(),
 * losses, optimizers (Adam, AdamW, SGD), lr schedules, and SequenceModel wiring them together.
 * Keras-style models over them: sequential({ layers: [layers.gru(...), ...] }), compile, fit.
 *
 * This is the Node entry: it adds the native backend and fs access for the wasm modules
 * (platform-node.ts) to the API. Browsers and bundlers get index.browser.ts (the package's
 * "browser" export condition): the same API, wasm only.
 */
import './platform-node.js'; // first: registers the Node hooks before any load

export * from './api.js';
