/**
 * Denormals on the native backend: the core flushes them to zero (native/core/fp_env.h), so a
 * forward with denormal inputs, initial states or weights gives bitwise the results of the same
 * forward with those values set to 0, on every ISA, sync and async; and the calling thread's
 * floating-point environment is its own again after the call (JavaScript's arithmetic after a
 * call still produces denormals). The C++ side checks the environment register itself:
 * test/kernels/fp_env_tests.cpp. WebAssembly cannot flush (README, Accuracy): native only.
 */
import assert from 'node:assert/strict';
import { Dense, GRU } from '../../ts/index.js';
import type { Backend } from '../../ts/backends/backend.js';
import { rng, uniform } from '../util.js';

/** A float32 denormal: below FLT_MIN = 1.18e-38. */
const DENORMAL = 1e-39;

const denormal = (a: Float32Array): Float32Array => a.map((v) => (v < 0 ? -DENORMAL : DENORMAL));

/** Whether JavaScript's own double arithmetic still produces a denormal (it would give 0 under a leaked FTZ/DAZ). */
function jsKeepsDenormals(): boolean {
  const a = new Float64Array([1e-310, 3]); // read from memory: nothing to fold at compile time
  const product = (a[0] as number) * (a[1] as number);
  return product > 0 && product < 2.2250738585072014e-308;
}

export function denormalSuite(backend: Backend, isa: string): void {
  const I = 6;
  const H = 17;
  const B = 3;
  const T = 4;
  /** A GRU with zero biases: with a zero state, denormal terms are all its outputs hold unless flushed. */
  const make = (): GRU => {
    const gru = new GRU({ inputSize: I, hiddenSize: H, seed: 11, backend });
    for (const name of ['bias_ih_l0', 'bias_hh_l0'])
      gru.setParameter(name, new Float32Array(3 * H));
    return gru;
  };
  const x = uniform(T * B * I, -1, 1, rng(12));

  it(`[${isa}] denormal x, h0 and weights give bitwise the results of 0 there, and JavaScript still computes denormals after`, async () => {
    assert.ok(jsKeepsDenormals(), 'JavaScript computes denormals before the calls');
    const gru = make();
    try {
      const zeros = gru.forward(new Float32Array(x.length), { batch: B });
      const cases: [string, () => Promise<{ output: Float32Array | null; hN: Float32Array }>][] = [
        ['denormal x', async () => gru.forward(denormal(x), { batch: B })],
        ['denormal x (forwardAsync)', () => gru.forwardAsync(denormal(x), { batch: B })],
        [
          'denormal h0',
          async () =>
            gru.forward(new Float32Array(x.length), {
              batch: B,
              h0: denormal(uniform(B * H, -1, 1, rng(13))),
            }),
        ],
      ];
      for (const [what, run] of cases) {
        const r = await run();
        assert.ok(jsKeepsDenormals(), `JavaScript computes denormals after the call (${what})`);
        assert.deepEqual(r.output, zeros.output, `${what}: output`);
        assert.deepEqual(r.hN, zeros.hN, `${what}: hN`);
      }
      const weights = gru.stateDict();
      const tiny: Record<string, Float32Array> = {};
      const zero: Record<string, Float32Array> = {};
      for (const [k, v] of Object.entries(weights)) {
        tiny[k] = k.startsWith('bias') ? v : denormal(v);
        zero[k] = new Float32Array(v.length);
      }
      gru.loadStateDict(tiny);
      const withTiny = gru.forward(x, { batch: B });
      gru.loadStateDict(zero);
      const withZero = gru.forward(x, { batch: B });
      assert.deepEqual(withTiny.output, withZero.output, 'denormal weights: output');
      assert.ok(jsKeepsDenormals(), 'JavaScript computes denormals after the calls');
    } finally {
      gru.dispose();
    }
  });

  it(`[${isa}] Dense: denormal x gives bitwise the output of x = 0 (zero bias)`, () => {
    const dense = new Dense({ inFeatures: I, outFeatures: 5, seed: 14, backend });
    try {
      dense.setParameter('bias', new Float32Array(5));
      const got = dense.forward(denormal(x));
      assert.deepEqual(got, dense.forward(new Float32Array(x.length)));
      assert.ok(jsKeepsDenormals());
    } finally {
      dense.dispose();
    }
  });
}
