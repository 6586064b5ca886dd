/**
 * gru-simd for browsers, workers and bundlers (the package's "browser" export condition): the
 * same API as the Node entry (index.ts), with the WebAssembly backends only. No native
 * backend, no node: module, so Vite, webpack and esbuild take it as is (a plain
 * <script type="module"> needs an import map for the npm dependencies, such as protobufjs).
 *
 *   import { init, GRU } from 'gru-simd';
 *   await init();   // wasm-relaxed / wasm-simd where the engine has relaxed SIMD / SIMD, else wasm
 *   await init({ wasmSimdUrl: 'https://cdn.example/gru_simd-simd.wasm' });   // files elsewhere
 *
 * By default the .wasm files are fetched from beside the module (dist/wasm/), a location
 * bundlers see and copy; a server that sends them as application/wasm lets them compile while
 * they download.
 */
export * from './api.js';
