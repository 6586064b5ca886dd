/**
 * The kernels' fast sigmoid / tanh (backend.evalSigmoid / evalTanh) against Math in float64,
 * over the whole float range: every 4099th bit pattern of all 2^32 (4099 is prime, so the
 * samples walk every exponent and a spread of mantissas), plus a dense grid on [-10, 10]
 * where the gates live, plus special values.
 */
import assert from 'node:assert/strict';
import type { Backend } from '../../ts/backends/backend.js';
import { sigmoid64 } from '../reference.js';
import { ACTIVATION } from '../tolerance.js';
import { ErrorTable } from '../util.js';

export const activationErrors = new ErrorTable();

const STRIDE = 4099;
const DENSE = 1 << 21; // points on [-10, 10]: spacing ~1e-5

let samples: Float32Array | undefined;
function allSamples(): Float32Array {
  if (samples) return samples;
  const nBits = Math.floor(0xffffffff / STRIDE) + 1;
  const bits = new Uint32Array(nBits + DENSE);
  for (let i = 0; i < nBits; i++) bits[i] = i * STRIDE;
  const f = new Float32Array(bits.buffer);
  for (let i = 0; i < DENSE; i++) f[nBits + i] = -10 + (20 * i) / (DENSE - 1);
  samples = f;
  return f;
}

interface ActStats {
  maxAbs: number;
  maxAbsAt: number;
  maxRel: number;
  maxRelAt: number;
}

function check(
  name: 'sigmoid' | 'tanh',
  x: Float32Array,
  y: Float32Array,
  f64: (v: number) => number,
  lo: number,
): ActStats {
  const s: ActStats = { maxAbs: 0, maxAbsAt: 0, maxRel: 0, maxRelAt: 0 };
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    const yi = y[i];
    if (Number.isNaN(xi)) {
      if (!Number.isNaN(yi)) assert.fail(`${name}(NaN) = ${yi}, want NaN`);
      continue;
    }
    if (!(yi >= lo && yi <= 1)) assert.fail(`${name}(${xi}) = ${yi}, outside [${lo}, 1]`);
    const ref = f64(xi);
    const e = Math.abs(yi - ref);
    if (e > s.maxAbs) {
      s.maxAbs = e;
      s.maxAbsAt = xi;
    }
    if (Math.abs(ref) >= ACTIVATION.REL_FLOOR) {
      const r = e / Math.abs(ref);
      if (r > s.maxRel) {
        s.maxRel = r;
        s.maxRelAt = xi;
      }
    }
  }
  return s;
}

export function activationSuite(backend: Backend, isa: string): void {
  const key = `${backend.name}/${isa}`;
  const fns = [
    {
      name: 'sigmoid' as const,
      run: (x: Float32Array, y: Float32Array) => backend.evalSigmoid(x, y),
      f64: sigmoid64,
      lo: 0,
    },
    {
      name: 'tanh' as const,
      run: (x: Float32Array, y: Float32Array) => backend.evalTanh(x, y),
      f64: Math.tanh,
      lo: -1,
    },
  ];
  for (const fn of fns) {
    it(`${fn.name}: every ${STRIDE}th float32 and a dense grid on [-10, 10] vs float64`, () => {
      const x = allSamples();
      const y = new Float32Array(x.length).fill(12345);
      fn.run(x, y);
      const s = check(fn.name, x, y, fn.f64, fn.lo);
      const bound = ACTIVATION[fn.name];
      activationErrors.record(key, `${fn.name} abs`, s.maxAbs);
      activationErrors.record(key, `${fn.name} rel`, s.maxRel);
      assert.ok(
        s.maxAbs <= bound.abs,
        `${key} ${fn.name}: max abs error ${s.maxAbs.toExponential(3)} at x=${s.maxAbsAt} > ${bound.abs}`,
      );
      assert.ok(
        s.maxRel <= bound.rel,
        `${key} ${fn.name}: max rel error ${s.maxRel.toExponential(3)} at x=${s.maxRelAt} > ${bound.rel}`,
      );
    });
  }

  it('special values: NaN -> NaN; +-Inf, +-1e30, +-FLT_MAX saturate exactly; +-0 -> 0.5 and +-0', () => {
    const FLT_MAX = 3.4028234663852886e38;
    const x = Float32Array.from([
      NaN,
      Infinity,
      -Infinity,
      1e30,
      -1e30,
      FLT_MAX,
      -FLT_MAX,
      0,
      -0,
      100,
      -100,
    ]);
    const sg = new Float32Array(x.length);
    const th = new Float32Array(x.length);
    backend.evalSigmoid(x, sg);
    backend.evalTanh(x, th);
    assert.ok(Number.isNaN(sg[0]), `sigmoid(NaN) = ${sg[0]}`);
    assert.ok(Number.isNaN(th[0]), `tanh(NaN) = ${th[0]}`);
    assert.deepEqual(
      Array.from(sg.subarray(1, 7)),
      [1, 0, 1, 0, 1, 0],
      'sigmoid saturation (Inf, -Inf, 1e30, -1e30, max, -max)',
    );
    assert.deepEqual(
      Array.from(th.subarray(1, 7)),
      [1, -1, 1, -1, 1, -1],
      'tanh saturation (Inf, -Inf, 1e30, -1e30, max, -max)',
    );
    assert.equal(sg[7], 0.5, 'sigmoid(0)');
    assert.equal(sg[8], 0.5, 'sigmoid(-0)');
    assert.ok(Object.is(th[7], 0), `tanh(0) = ${th[7]}, want +0`);
    assert.ok(Object.is(th[8], -0), `tanh(-0) = ${th[8]}, want -0`);
    // In fp32, sigmoid(100) and tanh(+-100) round to exactly 1 / -1; sigmoid(-100) ~ 3.7e-44.
    assert.equal(sg[9], 1, 'sigmoid(100)');
    assert.ok(sg[10] >= 0 && sg[10] < 1e-30, `sigmoid(-100) = ${sg[10]}`);
    assert.deepEqual([th[9], th[10]], [1, -1], 'tanh(+-100)');
  });
}
