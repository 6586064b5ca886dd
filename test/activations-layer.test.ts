/**
 * Activations (gru_activation_forward / _backward) and Dense with a fused activation, on every
 * backend and ISA: forward against float64, backward against the float64 derivative (itself
 * checked by central finite differences), special values, and bad input refused by the facade
 * and by the core. Keras's own numbers for the same functions: test/keras-compute.test.ts.
 */
import assert from 'node:assert/strict';
import type { Backend } from '../ts/backends/backend.js';
import {
  ACTIVATIONS,
  Adam,
  Dense,
  activationBackward,
  activationForward,
  activationSaves,
  categoricalCrossentropy,
  type ActivationName,
} from '../ts/index.js';
import { forEachBackend, forEachIsa } from './backends.js';
import { activation64, activationGrad64, elementActivation64, erfc64 } from './reference-keras.js';
import { denseBackward64, denseForward64 } from './reference-train.js';
import { GRADIENT, LAYERS, REFERENCE_FD } from './tolerance.js';
import { ErrorTable, assertClose, assertThrowsCode, rng, uniform } from './util.js';

const NAMES = Object.keys(ACTIVATIONS) as ActivationName[];
const ELEMENTWISE = NAMES.filter((n) => n !== 'softmax');
/** Where a derivative jumps: finite differences straddling one are meaningless. */
const KINKS: Partial<Record<ActivationName, number[]>> = {
  relu: [0],
  elu: [0],
  selu: [0],
  hardSigmoid: [-3, 3],
  hardSigmoidKeras2: [-2.5, 2.5],
};
const SPECIAL = [0, -0, 1e-30, -1e-30, 1e-4, -1e-4, 1, -1, 2.5, -2.5, 3, -3, 10, -10, 30, -30, 80];

/** Special values, then uniform [-8, 8]: n floats. */
function inputs(n: number, seed: number): Float32Array {
  const x = uniform(n, -8, 8, rng(seed));
  x.set(SPECIAL.slice(0, Math.min(n, SPECIAL.length)));
  return x;
}

const errors = new ErrorTable();

describe('Activations', () => {
  after(() =>
    errors.print(
      `activations vs float64, worst of every backend and ISA (tolerance ${LAYERS.abs} + ${LAYERS.rel}*|ref|)`,
    ),
  );

  it('the float64 references: erfc equals known values; each derivative equals central finite differences', () => {
    // erf(0.5), erf(1), erfc(2), erfc(4), erfc(-1): Abramowitz & Stegun, table 7.1, and 1 + erf.
    const known: [number, number][] = [
      [0.5, 1 - 0.5204998778130465],
      [1, 1 - 0.8427007929497149],
      [2, 0.004677734981047266],
      [4, 1.541725790028002e-8],
      [-1, 1.8427007929497148],
    ];
    for (const [x, v] of known) assert.ok(Math.abs(erfc64(x) - v) <= 1e-15 + 1e-12 * v, `${x}`);
    const r = rng(11);
    for (const name of ELEMENTWISE) {
      for (let i = 0; i < 200; i++) {
        const x = -8 + 16 * r();
        if ((KINKS[name] ?? []).some((k) => Math.abs(x - k) < 1e-3)) continue;
        const h = 1e-6;
        const fd =
          (elementActivation64(name, x + h)[0] - elementActivation64(name, x - h)[0]) / (2 * h);
        const d = elementActivation64(name, x)[1];
        assert.ok(
          Math.abs(fd - d) <= REFERENCE_FD.abs + REFERENCE_FD.rel * Math.abs(fd),
          `${name}'(${x}) = ${d}, finite differences ${fd}`,
        );
      }
    }
    // softmax: J^T dy against finite differences of sum(dy * softmax(x)) per row of 6.
    const x = Array.from({ length: 12 }, () => -4 + 8 * r());
    const dy = Array.from({ length: 12 }, () => -1 + 2 * r());
    const dx = activationGrad64('softmax', x, dy, 6);
    for (let i = 0; i < 12; i++) {
      const f = (v: number) => {
        const xs = x.slice();
        xs[i] = v;
        return activation64('softmax', xs, 6).reduce((a, y, j) => a + y * dy[j]!, 0);
      };
      const fd = (f(x[i]! + 1e-6) - f(x[i]! - 1e-6)) / 2e-6;
      assert.ok(Math.abs(fd - dx[i]!) <= REFERENCE_FD.abs + REFERENCE_FD.rel * Math.abs(fd));
    }
  });

  forEachBackend('backend', (backend: Backend) => {
    forEachIsa(backend, () => {
      for (const [rows, cols] of [
        [1, 1],
        [1, 15],
        [3, 16],
        [5, 17],
        [7, 97],
      ] as const) {
        it(`every activation, forward and backward against float64 (${rows} x ${cols})`, () => {
          const x = inputs(rows * cols, rows * 131 + cols);
          const dy = uniform(rows * cols, -1, 1, rng(cols));
          for (const name of NAMES) {
            const y = activationForward(name, x, { cols, backend });
            const e1 = assertClose(y, activation64(name, x, cols), LAYERS, `${name} y`, [
              rows,
              cols,
            ]);
            const dx = activationBackward(name, dy, { x, y }, { cols, backend });
            const e2 = assertClose(dx, activationGrad64(name, x, dy, cols), LAYERS, `${name} dx`, [
              rows,
              cols,
            ]);
            errors.record(name, 'y max|diff|', e1.maxAbs);
            errors.record(name, 'dx max|diff|', e2.maxAbs);
            errors.record(name, 'worst/tol', Math.max(e1.worst, e2.worst));
          }
        });
      }
    });

    it('special values: NaN in gives NaN out, +-1e30 and -0 as float64 says, derivatives finite', () => {
      const x = Float32Array.of(NaN, 1e30, -1e30, -0, 0, 3.4e38, -3.4e38);
      const dy = new Float32Array(x.length).fill(1);
      for (const name of NAMES) {
        const cols = name === 'softmax' ? 1 : x.length;
        const y = activationForward(name, x, { cols, backend });
        assert.ok(Number.isNaN(y[0]), `${name}(NaN) = ${y[0]}`);
        // The float64 value rounded to float32 (selu(3.4e38) overflows to Infinity there).
        const ref = activation64(name, x, cols).map(Math.fround);
        for (let i = 1; i < x.length; i++) {
          const ok = Math.abs(y[i]! - ref[i]!) <= 1e-6 * Math.abs(ref[i]!) || y[i] === ref[i];
          assert.ok(ok, `${name}(${x[i]}) = ${y[i]}, float64 ${ref[i]}`);
        }
        const dx = activationBackward(name, dy, { x, y }, { cols, backend });
        for (let i = 1; i < x.length; i++)
          assert.ok(Number.isFinite(dx[i]), `${name}'(${x[i]}) * 1 = ${dx[i]}`);
      }
    });

    it('what backward needs: y, except x for the GELUs; nothing for linear', () => {
      assert.equal(activationSaves('gelu'), 'x');
      assert.equal(activationSaves('geluTanh'), 'x');
      assert.equal(activationSaves('linear'), null);
      for (const n of NAMES.filter((n) => !['gelu', 'geluTanh', 'linear'].includes(n)))
        assert.equal(activationSaves(n), 'y', n);
      const x = Float32Array.of(-1, 0.5, 2);
      const dy = Float32Array.of(1, 1, 1);
      assertThrowsCode(() => activationBackward('gelu', dy, { y: x }, { backend }), 'ERR_GRU_ARG', [
        'saved.x',
      ]);
      assertThrowsCode(() => activationBackward('tanh', dy, { x }, { backend }), 'ERR_GRU_ARG', [
        'saved.y',
      ]);
      assert.deepEqual([...activationBackward('linear', dy, {}, { backend })], [1, 1, 1]);
    });

    it('bad input: names, cols, lengths; the core refuses what bypasses the facade', () => {
      const x = new Float32Array(6);
      assertThrowsCode(() => activationForward('swish' as never, x, { backend }), 'ERR_GRU_ARG', [
        'activation',
        'hardSigmoidKeras2',
      ]);
      assertThrowsCode(() => activationForward('relu', x, { cols: 4, backend }), 'ERR_GRU_SHAPE');
      assertThrowsCode(() => activationForward('relu', x, { cols: 0, backend }), 'ERR_GRU_ARG', [
        'cols',
      ]);
      assertThrowsCode(
        () => activationBackward('relu', x, { y: new Float32Array(5) }, { backend }),
        'ERR_GRU_SHAPE',
        ['saved.y'],
      );
      assertThrowsCode(() => backend.activationForward(12, 1, x, x), 'ERR_GRU_ARG', ['kind']);
      assertThrowsCode(() => backend.activationForward(1, 0, x, x), 'ERR_GRU_ARG', ['cols']);
      assertThrowsCode(
        () => backend.activationForward(4, 4, x, new Float32Array(6)),
        'ERR_GRU_SHAPE',
        ['x'],
      );
      assertThrowsCode(
        () => backend.activationForward(1, 1, x, new Float32Array(5)),
        'ERR_GRU_SHAPE',
        ['y'],
      );
      assertThrowsCode(
        () => backend.activationBackward(5, 1, null, x, x, new Float32Array(6)),
        'ERR_GRU_NULL',
        ['x', 'gelu'],
      );
      assertThrowsCode(
        () => backend.activationBackward(2, 1, null, null, x, new Float32Array(6)),
        'ERR_GRU_NULL',
        ['y', 'sigmoid'],
      );
      assertThrowsCode(
        () => backend.activationBackward(2, 1, new Float32Array(2), x, x, new Float32Array(6)),
        'ERR_GRU_SHAPE',
        ['x'],
      );
      // Empty input is valid (nothing to do).
      assert.equal(activationForward('softmax', new Float32Array(0), { backend }).length, 0);
    });
  });
});

describe('Dense with an activation', () => {
  forEachBackend('backend', (backend: Backend) => {
    it('every activation: forward, and backward through the derivative, against float64', () => {
      const [inF, outF, rows] = [13, 7, 5];
      const r = rng(5);
      const W = uniform(outF * inF, -0.6, 0.6, r);
      const b = uniform(outF, -0.5, 0.5, r);
      const x = uniform(rows * inF, -1.5, 1.5, r);
      const dy = uniform(rows * outF, -1, 1, r);
      const z = denseForward64(x, rows, W, b, inF, outF);
      for (const activation of NAMES) {
        const d = new Dense({ inFeatures: inF, outFeatures: outF, activation, seed: 1, backend });
        try {
          assert.equal(d.activation, activation);
          d.loadStateDict({ weight: W, bias: b });
          const y = d.forward(x, { train: true });
          assertClose(y, activation64(activation, z, outF), LAYERS, `${activation} y`, [
            rows,
            outF,
          ]);
          assert.deepEqual(d.forward(x), y, 'inference forward = training forward');
          const dx = d.backward(dy);
          const dz = activationGrad64(activation, z, dy, outF);
          const ref = denseBackward64(x, dz, rows, W, inF, outF);
          assertClose(dx, ref.dx, GRADIENT, `${activation} dx`, [rows, inF]);
          assertClose(d.getGradient('weight'), ref.dW, GRADIENT, `${activation} dweight`, [
            outF,
            inF,
          ]);
          assertClose(d.getGradient('bias'), ref.db, GRADIENT, `${activation} dbias`, [outF]);
        } finally {
          d.dispose();
        }
      }
    });

    it("default 'linear' (nn.Linear); unknown activations refused by the facade and the core", () => {
      const d = new Dense({ inFeatures: 2, outFeatures: 1, seed: 3, backend });
      try {
        assert.equal(d.activation, 'linear');
        const w = d.getParameter('weight');
        const y = d.forward(Float32Array.of(-5, 1));
        assert.equal(y[0], Math.fround(-5 * w[0]! + w[1]! + d.getParameter('bias')[0]!));
      } finally {
        d.dispose();
      }
      assertThrowsCode(
        () => new Dense({ inFeatures: 2, outFeatures: 1, activation: 'ReLU' as never, backend }),
        'ERR_GRU_ARG',
        ['activation', 'relu'],
      );
      assertThrowsCode(() => backend.denseCreate(2, 1, 1, 12), 'ERR_GRU_ARG', ['activation']);
      assertThrowsCode(() => backend.denseCreate(2, 1, 1, -1), 'ERR_GRU_ARG', ['activation']);
    });

    it('Dense(relu) -> Dense(softmax) learns a 3-class problem with categoricalCrossentropy and Adam', () => {
      const hidden = new Dense({
        inFeatures: 2,
        outFeatures: 16,
        activation: 'relu',
        seed: 1,
        backend,
      });
      const head = new Dense({
        inFeatures: 16,
        outFeatures: 3,
        activation: 'softmax',
        seed: 2,
        backend,
      });
      const opt = new Adam([hidden, head], { lr: 0.05 });
      try {
        // Three clusters on a circle; one-hot targets.
        const N = 30;
        const r = rng(9);
        const x = new Float32Array(N * 2);
        const t = new Float32Array(N * 3);
        for (let i = 0; i < N; i++) {
          const c = i % 3;
          x[2 * i] = Math.cos((2 * Math.PI * c) / 3) + 0.3 * (r() - 0.5);
          x[2 * i + 1] = Math.sin((2 * Math.PI * c) / 3) + 0.3 * (r() - 0.5);
          t[3 * i + c] = 1;
        }
        const lossOf = () =>
          categoricalCrossentropy(t, head.forward(hidden.forward(x)), { classes: 3, backend }).loss;
        const first = lossOf();
        for (let step = 0; step < 60; step++) {
          opt.zeroGrad();
          const p = head.forward(hidden.forward(x, { train: true }), { train: true });
          const { grad } = categoricalCrossentropy(t, p, { classes: 3, backend });
          hidden.backward(head.backward(grad));
          opt.step();
        }
        const last = lossOf();
        assert.ok(last < first / 10, `loss ${first} -> ${last}`);
      } finally {
        opt.dispose();
        hidden.dispose();
        head.dispose();
      }
    });
  });
});
