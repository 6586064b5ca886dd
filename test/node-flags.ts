/**
 * The Node flags a child process of the tests gets so that it can run every backend this
 * process runs: --experimental-wasm-relaxed-simd (wasm-relaxed in Node 20) when this process
 * has it (.mocharc.json passes it to mocha). Copied from this process rather than always
 * passed, so a Node that no longer knows the flag (relaxed SIMD on by default) is not handed it.
 */
export const CHILD_NODE_FLAGS: readonly string[] = process.execArgv.filter(
  (a) => a === '--experimental-wasm-relaxed-simd',
);
