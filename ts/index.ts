/**
 * gru-simd: a GRU for JavaScript computed by one C++ SIMD kernel core, as a Node N-API addon
 * or as WebAssembly, behind this one API.
 *
 *   import { init, GRU } from 'gru-simd';
 *   await init();                                   // native, else wasm-simd, else wasm
 *   const gru = new GRU({ inputSize: 8, hiddenSize: 32, seed: 1 });
 *   const { output, hN } = gru.forward(x, { batch: 4 });
 */
export { init, loadBackend, backendInfo } from './loader.js';
export type { BackendInfo, InitOptions, LoadOptions } from './loader.js';
export type { Backend, BackendName } from './backends/backend.js';
export { GRU, GRUStream } from './gru.js';
export type { GRUOptions, ForwardOptions, ForwardResult } from './gru.js';
export { GruError } from './errors.js';
export type { GruErrorCode } from './errors.js';
