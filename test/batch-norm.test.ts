/**
 * BatchNorm1d on every backend: the training forward, the running statistics (PyTorch's unbiased
 * running_var and Keras's biased one), inference and gradients against a float64 reference
 * (itself checked against central finite differences); nn.BatchNorm1d's state dict; optimizers
 * train weight and bias but never touch the buffers; bad input refused by the facade and the
 * core; and PyTorch's nn.BatchNorm1d itself (test/fixtures/torch-batchnorm.json, written by
 * scripts/gen-torch-batchnorm-fixtures.py).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Backend } from '../ts/backends/backend.js';
import { AdamW, BatchNorm1d, GruError, SGD } from '../ts/index.js';
import { forEachBackend } from './backends.js';
import { GRADIENT, LAYERS, REFERENCE_FD } from './tolerance.js';
import { assertClose, assertThrowsCode, rng, uniform } from './util.js';

/** Per-feature mean and biased variance over the rows of x [rows, F], in float64. */
function moments64(x: ArrayLike<number>, F: number) {
  const rows = x.length / F;
  const mean = new Float64Array(F);
  const variance = new Float64Array(F);
  for (let r = 0; r < rows; r++) for (let j = 0; j < F; j++) mean[j] += x[r * F + j]! / rows;
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < F; j++) variance[j] += (x[r * F + j]! - mean[j]!) ** 2 / rows;
  return { mean, variance };
}

/** y = (x - mean) / sqrt(var + eps) * w + b per feature, with the given statistics. */
function normalize64(
  x: ArrayLike<number>,
  F: number,
  eps: number,
  mean: ArrayLike<number>,
  variance: ArrayLike<number>,
  w: ArrayLike<number>,
  b: ArrayLike<number>,
): Float64Array {
  return Float64Array.from(x, (v, i) => {
    const j = i % F;
    return ((v - mean[j]!) / Math.sqrt(variance[j]! + eps)) * w[j]! + b[j]!;
  });
}

/** The training forward: this batch's statistics. */
function train64(
  x: ArrayLike<number>,
  F: number,
  eps: number,
  w: ArrayLike<number>,
  b: ArrayLike<number>,
) {
  const { mean, variance } = moments64(x, F);
  return normalize64(x, F, eps, mean, variance, w, b);
}

/** d(sum(dy * y))/d(x, w, b) of the training forward, in float64, by the closed form. */
function trainGrad64(
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  F: number,
  eps: number,
  w: ArrayLike<number>,
) {
  const rows = x.length / F;
  const { mean, variance } = moments64(x, F);
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(F);
  const db = new Float64Array(F);
  for (let j = 0; j < F; j++) {
    const rstd = 1 / Math.sqrt(variance[j]! + eps);
    for (let r = 0; r < rows; r++) {
      dw[j] += dy[r * F + j]! * (x[r * F + j]! - mean[j]!) * rstd;
      db[j] += dy[r * F + j]!;
    }
    for (let r = 0; r < rows; r++) {
      const h = (x[r * F + j]! - mean[j]!) * rstd;
      dx[r * F + j] = w[j]! * rstd * (dy[r * F + j]! - db[j]! / rows - (h * dw[j]!) / rows);
    }
  }
  return { dx, dw, db };
}

interface TorchCase {
  features: number;
  affine: boolean;
  momentum: number;
  eps: number;
  weights: Record<string, number[]>;
  x1: number[];
  x2: number[];
  dy: number[];
  y2: number[];
  dx: number[];
  grads: Record<string, number[]>;
  state: Record<string, number[]>;
  x3: number[];
  y3: number[];
}

const TORCH: { torch: string; cases: TorchCase[] } = JSON.parse(
  readFileSync(new URL('./fixtures/torch-batchnorm.json', import.meta.url), 'utf8'),
);

describe('BatchNorm1d', () => {
  it('the float64 reference gradient equals central finite differences', () => {
    const [F, rows, eps] = [3, 5, 1e-3];
    const r = rng(11);
    const x = Float64Array.from(uniform(rows * F, -2, 2, r));
    const w = Float64Array.from(uniform(F, 0.5, 1.5, r));
    const b = Float64Array.from(uniform(F, -0.5, 0.5, r));
    const dy = Float64Array.from(uniform(rows * F, -1, 1, r));
    const loss = (xs: Float64Array, ws: Float64Array, bs: Float64Array) =>
      train64(xs, F, eps, ws, bs).reduce((a, y, i) => a + y * dy[i]!, 0);
    const ref = trainGrad64(x, dy, F, eps, w);
    const h = 1e-6;
    const check = (
      v: Float64Array,
      grad: Float64Array,
      name: string,
      f: (v: Float64Array) => number,
    ) => {
      for (let i = 0; i < v.length; i++) {
        const p = v.slice();
        const m = v.slice();
        p[i]! += h;
        m[i]! -= h;
        const fd = (f(p) - f(m)) / (2 * h);
        assert.ok(
          Math.abs(fd - grad[i]!) <= REFERENCE_FD.abs + REFERENCE_FD.rel * Math.abs(fd) + 1e-8,
          `${name}[${i}]: ${grad[i]} vs fd ${fd}`,
        );
      }
    };
    check(x, ref.dx, 'dx', (v) => loss(v, w, b));
    check(w, ref.dw, 'dw', (v) => loss(x, v, b));
    check(b, ref.db, 'db', (v) => loss(x, w, v));
  });

  forEachBackend('backend', (backend: Backend) => {
    for (const c of TORCH.cases) {
      it(`equals PyTorch ${TORCH.torch} nn.BatchNorm1d(${c.features}, eps ${c.eps}, momentum ${c.momentum}, affine ${c.affine}): two training steps, the state dict, eval`, () => {
        const bn = new BatchNorm1d({
          numFeatures: c.features,
          eps: c.eps,
          momentum: c.momentum,
          affine: c.affine,
          backend,
        });
        try {
          for (const [k, v] of Object.entries(c.weights)) bn.setParameter(k, Float32Array.from(v));
          const F = c.features;
          bn.forward(Float32Array.from(c.x1), { train: true });
          const rows = c.x2.length / F;
          const y2 = bn.forward(Float32Array.from(c.x2), { train: true });
          assertClose(y2, c.y2, LAYERS, 'y', [rows, F]);
          assertClose(bn.backward(Float32Array.from(c.dy)), c.dx, GRADIENT, 'dx', [rows, F]);
          for (const [k, v] of Object.entries(c.grads))
            assertClose(bn.getGradient(k), v, GRADIENT, `d${k}`, [F]);
          const state = bn.stateDict();
          assert.deepEqual(Object.keys(state), Object.keys(c.state));
          for (const [k, v] of Object.entries(c.state))
            assertClose(state[k]!, v, LAYERS, k, bn.parameterShape(k));
          assertClose(bn.forward(Float32Array.from(c.x3)), c.y3, LAYERS, 'eval y', [
            c.x3.length / F,
            F,
          ]);
        } finally {
          bn.dispose();
        }
      });
    }

    for (const [F, rows] of [
      [1, 2],
      [5, 4],
      [64, 9],
      [131, 3],
    ] as const) {
      it(`training forward and backward equal float64 (features ${F}, ${rows} rows)`, () => {
        const bn = new BatchNorm1d({ numFeatures: F, eps: 1e-3, backend });
        try {
          const r = rng(F);
          const w = uniform(F, 0.5, 1.5, r);
          const b = uniform(F, -0.5, 0.5, r);
          bn.setParameter('weight', w);
          bn.setParameter('bias', b);
          const x = uniform(rows * F, -3, 3, r);
          const dy = uniform(rows * F, -1, 1, r);
          const y = bn.forward(x, { train: true });
          assertClose(y, train64(x, F, 1e-3, w, b), LAYERS, 'y', [rows, F]);
          const dx = bn.backward(dy);
          const ref = trainGrad64(x, dy, F, 1e-3, w);
          assertClose(dx, ref.dx, GRADIENT, 'dx', [rows, F]);
          assertClose(bn.getGradient('weight'), ref.dw, GRADIENT, 'dweight', [F]);
          assertClose(bn.getGradient('bias'), ref.db, GRADIENT, 'dbias', [F]);
          assert.deepEqual([...bn.getGradient('running_mean')], new Array(F).fill(0));
        } finally {
          bn.dispose();
        }
      });
    }

    it("a row mask (Keras's masked moments): statistics over the rows kept, gradients equal finite differences", () => {
      const [F, rows, eps] = [3, 6, 1e-3];
      const bn = new BatchNorm1d({
        numFeatures: F,
        eps,
        momentum: 0.5,
        unbiasedRunningVar: false,
        backend,
      });
      try {
        const r = rng(21);
        const w = uniform(F, 0.5, 1.5, r);
        const b = uniform(F, -0.5, 0.5, r);
        bn.setParameter('weight', w);
        bn.setParameter('bias', b);
        const x = uniform(rows * F, -2, 2, r);
        const dy = uniform(rows * F, -1, 1, r);
        const mask = Float32Array.of(1, 0, 1, 1, 0, 1);
        // float64: mean and biased variance over the kept rows, / (count + 1e-7); all rows normalised.
        const f64 = (xs: Float64Array, ws: ArrayLike<number>) => {
          const D = 4 + 1e-7;
          const mean = new Float64Array(F);
          const variance = new Float64Array(F);
          for (let i = 0; i < rows; i++)
            if (mask[i]) for (let j = 0; j < F; j++) mean[j] += xs[i * F + j]! / D;
          for (let i = 0; i < rows; i++)
            if (mask[i])
              for (let j = 0; j < F; j++) variance[j] += (xs[i * F + j]! - mean[j]!) ** 2 / D;
          return { y: normalize64(xs, F, eps, mean, variance, ws, b), mean, variance };
        };
        const x64 = Float64Array.from(x);
        const ref = f64(x64, w);
        const y = bn.forward(x, { train: true, mask });
        assertClose(y, ref.y, LAYERS, 'y', [rows, F]);
        assertClose(
          bn.getParameter('running_mean'),
          ref.mean.map((m) => 0.5 * m),
          LAYERS,
          'running_mean',
          [F],
        );
        assertClose(
          bn.getParameter('running_var'),
          ref.variance.map((v) => 0.5 + 0.5 * v),
          LAYERS,
          'running_var',
          [F],
        );
        const dx = bn.backward(dy);
        const loss = (xs: Float64Array, ws: ArrayLike<number>) =>
          f64(xs, ws).y.reduce((a, v, i) => a + v * dy[i]!, 0);
        const fd = (v: Float64Array, f: (u: Float64Array) => number) =>
          Float64Array.from(v, (_, i) => {
            const [p, m] = [v.slice(), v.slice()];
            p[i]! += 1e-6;
            m[i]! -= 1e-6;
            return (f(p) - f(m)) / 2e-6;
          });
        assertClose(
          dx,
          fd(x64, (u) => loss(u, w)),
          GRADIENT,
          'dx',
          [rows, F],
        );
        assertClose(
          bn.getGradient('weight'),
          fd(Float64Array.from(w), (u) => loss(x64, u)),
          GRADIENT,
          'dweight',
          [F],
        );
        // Refused: a training mask with PyTorch's unbiased running_var, a mask of the wrong length.
        const torchStyle = new BatchNorm1d({ numFeatures: F, backend });
        try {
          assertThrowsCode(() => torchStyle.forward(x, { train: true, mask }), 'ERR_GRU_ARG', [
            'unbiasedRunningVar',
          ]);
          assertThrowsCode(
            () =>
              backend.batchNormForward(
                torchStyle._handle(),
                rows,
                x,
                mask,
                new Float32Array(rows * F),
                1,
              ),
            'ERR_GRU_ARG',
            ['unbiased_running_var'],
          );
        } finally {
          torchStyle.dispose();
        }
        assertThrowsCode(
          () => bn.forward(x, { train: true, mask: mask.subarray(1) }),
          'ERR_GRU_SHAPE',
          ['mask'],
        );
        assertThrowsCode(
          () =>
            backend.batchNormForward(
              bn._handle(),
              rows,
              x,
              mask.subarray(1),
              new Float32Array(rows * F),
              1,
            ),
          'ERR_GRU_SHAPE',
          ['mask'],
        );
      } finally {
        bn.dispose();
      }
    });

    for (const unbiased of [true, false]) {
      it(`running statistics (${unbiased ? "PyTorch's unbiased" : "Keras's biased"} running_var) and inference with them`, () => {
        const F = 4;
        const bn = new BatchNorm1d({
          numFeatures: F,
          momentum: 0.3,
          unbiasedRunningVar: unbiased,
          backend,
        });
        try {
          const r = rng(5);
          const w = uniform(F, 0.5, 1.5, r);
          const b = uniform(F, -0.5, 0.5, r);
          bn.loadStateDict({
            weight: w,
            bias: b,
            running_mean: new Float32Array(F),
            running_var: new Float32Array(F).fill(1),
            num_batches_tracked: new Float32Array(1),
          });
          const runMean = new Float64Array(F);
          const runVar = new Float64Array(F).fill(1);
          for (const rows of [6, 3]) {
            const x = uniform(rows * F, -2, 4, r);
            bn.forward(x, { train: true });
            const { mean, variance } = moments64(x, F);
            for (let j = 0; j < F; j++) {
              runMean[j] = 0.7 * runMean[j]! + 0.3 * mean[j]!;
              const v = unbiased ? (variance[j]! * rows) / (rows - 1) : variance[j]!;
              runVar[j] = 0.7 * runVar[j]! + 0.3 * v;
            }
          }
          assertClose(bn.getParameter('running_mean'), runMean, LAYERS, 'running_mean', [F]);
          assertClose(bn.getParameter('running_var'), runVar, LAYERS, 'running_var', [F]);
          assert.deepEqual([...bn.getParameter('num_batches_tracked')], [2]);
          const x = uniform(5 * F, -2, 2, r);
          assertClose(
            bn.forward(x),
            normalize64(x, F, 1e-5, runMean, runVar, w, b),
            LAYERS,
            'inference y',
            [5, F],
          );
          assert.deepEqual(
            [...bn.getParameter('num_batches_tracked')],
            [2],
            'inference changes no statistic',
          );
        } finally {
          bn.dispose();
        }
      });
    }

    it("nn.BatchNorm1d's state dict: weight, bias, running_mean, running_var, num_batches_tracked", () => {
      const bn = new BatchNorm1d({ numFeatures: 3, backend });
      const plain = new BatchNorm1d({ numFeatures: 3, affine: false, backend });
      try {
        assert.deepEqual(bn.parameterNames(), [
          'weight',
          'bias',
          'running_mean',
          'running_var',
          'num_batches_tracked',
        ]);
        assert.deepEqual(bn.parameterShape('running_var'), [3]);
        assert.deepEqual(bn.parameterShape('num_batches_tracked'), []);
        const s = bn.stateDict();
        assert.deepEqual([...s.weight!], [1, 1, 1]);
        assert.deepEqual([...s.bias!], [0, 0, 0]);
        assert.deepEqual([...s.running_mean!], [0, 0, 0]);
        assert.deepEqual([...s.running_var!], [1, 1, 1]);
        assert.deepEqual([...s.num_batches_tracked!], [0]);
        assert.deepEqual(plain.parameterNames(), [
          'running_mean',
          'running_var',
          'num_batches_tracked',
        ]);
        const x = Float32Array.of(1, 2, 3, 4, 5, 7, -1, 0, 2);
        const { mean, variance } = moments64(x, 3);
        const ones = [1, 1, 1];
        const zeros = [0, 0, 0];
        assertClose(
          plain.forward(x, { train: true }),
          normalize64(x, 3, 1e-5, mean, variance, ones, zeros),
          LAYERS,
          'y without affine',
          [3, 3],
        );
        assertClose(
          plain.backward(new Float32Array(9).fill(1)),
          new Float64Array(9),
          GRADIENT,
          'dx of a constant dy',
          [3, 3],
        );
      } finally {
        bn.dispose();
        plain.dispose();
      }
    });

    it('optimizers train weight and bias and never touch the buffers (even with weight decay)', () => {
      for (const make of [
        (bn: BatchNorm1d) => new SGD([bn], { lr: 0.1, weightDecay: 0.5 }),
        (bn: BatchNorm1d) => new AdamW([bn], { lr: 0.05, weightDecay: 0.5 }),
      ]) {
        const bn = new BatchNorm1d({ numFeatures: 2, momentum: 0, backend });
        const opt = make(bn);
        try {
          const x = Float32Array.of(1, 2, 3, 5, -1, 0, 2, 9);
          const target = Float32Array.of(1, -1, 2, 0, 1, 1, 0, 3);
          const lossOf = (y: Float32Array) => y.reduce((a, v, i) => a + (v - target[i]!) ** 2, 0);
          const first = lossOf(bn.forward(x, { train: true }));
          bn.backward(new Float32Array(8));
          for (let i = 0; i < 100; i++) {
            opt.zeroGrad();
            const y = bn.forward(x, { train: true });
            bn.backward(y.map((v, i) => 2 * (v - target[i]!)));
            opt.step();
          }
          const last = lossOf(bn.forward(x, { train: true }));
          assert.ok(last < first / 2, `loss ${first} -> ${last}`);
          // momentum 0 keeps the running statistics where they started; weight decay would
          // have moved them had the optimizer held them.
          assert.deepEqual([...bn.getParameter('running_mean')], [0, 0]);
          assert.deepEqual([...bn.getParameter('running_var')], [1, 1]);
        } finally {
          opt.dispose();
          bn.dispose();
        }
      }
    });

    it('bad input: options, x and dy shapes, too few rows, backward before forward; the core refuses what bypasses the facade', () => {
      assertThrowsCode(
        () => new BatchNorm1d({ numFeatures: 0, backend }),
        'ERR_GRU_ARG',
        ['numFeatures'],
        GruError,
      );
      assertThrowsCode(() => new BatchNorm1d({ numFeatures: 4, eps: 0, backend }), 'ERR_GRU_ARG', [
        'eps',
      ]);
      assertThrowsCode(
        () => new BatchNorm1d({ numFeatures: 4, momentum: 1.5, backend }),
        'ERR_GRU_ARG',
        ['momentum'],
      );
      assertThrowsCode(
        () => new BatchNorm1d({ numFeatures: 4, trackRunningStats: false, backend } as never),
        'ERR_GRU_ARG',
        ['trackRunningStats'],
      );
      const bn = new BatchNorm1d({ numFeatures: 4, backend });
      try {
        assertThrowsCode(() => bn.forward(new Float32Array(6)), 'ERR_GRU_SHAPE', ['x']);
        assertThrowsCode(() => bn.forward(new Float32Array(4), { train: true }), 'ERR_GRU_SHAPE', [
          'at least 2 rows',
        ]);
        assertThrowsCode(() => bn.backward(new Float32Array(4)), 'ERR_GRU_STATE');
        bn.forward(new Float32Array(8), { train: true });
        assertThrowsCode(() => bn.backward(new Float32Array(4)), 'ERR_GRU_SHAPE', ['dy']);
        const h = bn._handle();
        assertThrowsCode(
          () => backend.batchNormForward(h, 2, new Float32Array(8), null, new Float32Array(7), 0),
          'ERR_GRU_SHAPE',
          ['y'],
        );
        assertThrowsCode(
          () => backend.batchNormForward(h, 1, new Float32Array(4), null, new Float32Array(4), 1),
          'ERR_GRU_SHAPE',
          ['at least 2 rows'],
        );
        assertThrowsCode(() => backend.batchNormCreate(4, 1e-5, -0.1, 1, 1), 'ERR_GRU_ARG', [
          'momentum',
        ]);
        assertThrowsCode(() => backend.batchNormCreate(4, 1e-5, 0.1, 1, 2), 'ERR_GRU_ARG', [
          'unbiased_running_var',
        ]);
        assertThrowsCode(
          () =>
            backend.layerNormForward(h as never, 2, new Float32Array(8), new Float32Array(8), 0),
          'ERR_GRU_TYPE',
          ['batch norm'],
        );
      } finally {
        bn.dispose();
      }
      assertThrowsCode(() => bn.forward(new Float32Array(4)), 'ERR_GRU_DISPOSED');
    });
  });
});
