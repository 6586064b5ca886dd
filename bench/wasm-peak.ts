/**
 * The WebAssembly multiply-add peak of one core (bench/tools/fma_peak_wasm.c): run by
 * bench/peak.ts in Node and by the browser bench in a Chromium worker, on the same module.
 * No node: module here. Compiles synchronously: call it off a page's main thread.
 */
export function wasmPeak(bytes: Uint8Array<ArrayBuffer>): { simd: number; scalar: number } {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  const ex = instance.exports as Record<string, (...a: number[]) => number>;
  ex._initialize?.();
  const best = (fn: (iters: number, seed: number) => number, flopsPerIter: number): number => {
    fn(1e6, 1); // tier-up: the first calls run in V8's baseline compiler
    let top = 0;
    for (let r = 0; r < 5; r++) {
      const iters = 2e7;
      const t0 = performance.now();
      fn(iters, 1 + r);
      const s = (performance.now() - t0) / 1e3;
      top = Math.max(top, (flopsPerIter * iters) / s / 1e9);
    }
    return top;
  };
  // 12 chains per iteration: f32x4 mul + add = 8 flops each, scalar mul + add = 2.
  return {
    simd: best(ex.simd_loop as (i: number, s: number) => number, 12 * 8),
    scalar: best(ex.scalar_loop as (i: number, s: number) => number, 12 * 2),
  };
}
