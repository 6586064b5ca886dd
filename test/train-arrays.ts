/**
 * One training pass of a GRU with every array it gives, for the tests that compare thread
 * counts (or builds) bitwise: a training forward on x, a backward of seeded random gradients,
 * then output, hN, dx, dh0 and each parameter's gradient.
 */
import type { ForwardOptions, GRU } from '../ts/api.js';
import { rng, uniform } from './util.js';

/**
 * forward(x, { ...options, train: true }) and backward of dOutput from rng(seed) (and dHN from
 * rng(seed + 1) unless withDHN is false), h0Grad on; the GRU is disposed afterwards.
 */
export function trainPassArrays(
  gru: GRU,
  x: Float32Array,
  options: ForwardOptions,
  seed: number,
  withDHN = true,
): Float32Array[] {
  try {
    const f = gru.forward(x, { ...options, train: true });
    const d = gru.backward({
      dOutput: uniform(f.output!.length, -1, 1, rng(seed)),
      ...(withDHN ? { dHN: uniform(f.hN.length, -1, 1, rng(seed + 1)) } : {}),
      h0Grad: true,
    });
    return [f.output!, f.hN, d.dx!, d.dh0!, ...gru.parameterNames().map((n) => gru.getGradient(n))];
  } finally {
    gru.dispose();
  }
}
