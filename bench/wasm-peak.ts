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

/** The best of 5 runs of a loop doing flopsPerIter flops per iteration, in GFLOP/s. */
function bestOf(fn: (iters: number, seed: number) => number, flopsPerIter: number): number {
  fn(1e6, 1); // tier-up: the first calls run in V8's baseline compiler
  let top = 0;
  for (let r = 0; r < 5; r++) {
    const iters = 2e7;
    const t0 = performance.now();
    fn(iters, 1 + r);
    top = Math.max(top, (flopsPerIter * iters) / ((performance.now() - t0) / 1e3) / 1e9);
  }
  return top;
}

/**
 * The relaxed-SIMD peak (bench/tools/fma_peak_relaxed.c: 12 chains of f32x4.relaxed_madd, 8
 * flops each), or 0 where the engine has no relaxed SIMD (Node 20 without its flag).
 */
export function wasmRelaxedPeak(bytes: Uint8Array<ArrayBuffer>): number {
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(bytes);
  } catch {
    return 0;
  }
  const ex = new WebAssembly.Instance(module, {}).exports as Record<string, unknown>;
  return bestOf(ex.relaxed_loop as (i: number, s: number) => number, 12 * 8);
}
