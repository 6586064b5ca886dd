/**
 * LayerNorm on every backend: forward and gradients against a float64 reference (itself checked
 * against central finite differences), nn.LayerNorm's parameters and defaults, training with
 * an optimizer, and bad input refused by the facade and by the core.
 */
import assert from 'node:assert/strict';
import type { Backend } from '../ts/backends/backend.js';
import { Adam, GruError, LayerNorm } from '../ts/index.js';
import { forEachBackend } from './backends.js';
import { GRADIENT, LAYERS, REFERENCE_FD } from './tolerance.js';
import { assertClose, assertThrowsCode, rng, uniform } from './util.js';

/** y = (x - mean) / sqrt(var + eps) * w + b per row, in float64. */
function layerNorm64(
  x: ArrayLike<number>,
  D: number,
  eps: number,
  w: ArrayLike<number> | null,
  b: ArrayLike<number> | null,
): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < x.length / D; r++) {
    let mean = 0;
    for (let j = 0; j < D; j++) mean += x[r * D + j]!;
    mean /= D;
    let v = 0;
    for (let j = 0; j < D; j++) v += (x[r * D + j]! - mean) ** 2;
    const rstd = 1 / Math.sqrt(v / D + eps);
    for (let j = 0; j < D; j++) {
      const h = (x[r * D + j]! - mean) * rstd;
      y[r * D + j] = w && b ? h * w[j]! + b[j]! : h;
    }
  }
  return y;
}

/** d(sum(dy * y))/d(x, w, b) in float64 by the closed form the core uses. */
function layerNormGrad64(
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  D: number,
  eps: number,
  w: ArrayLike<number>,
) {
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(D);
  const db = new Float64Array(D);
  for (let r = 0; r < x.length / D; r++) {
    let mean = 0;
    for (let j = 0; j < D; j++) mean += x[r * D + j]!;
    mean /= D;
    let v = 0;
    for (let j = 0; j < D; j++) v += (x[r * D + j]! - mean) ** 2;
    const rstd = 1 / Math.sqrt(v / D + eps);
    const h = Array.from({ length: D }, (_, j) => (x[r * D + j]! - mean) * rstd);
    const g = Array.from({ length: D }, (_, j) => dy[r * D + j]! * w[j]!);
    const mg = g.reduce((a, c) => a + c, 0) / D;
    const mgh = g.reduce((a, c, j) => a + c * h[j]!, 0) / D;
    for (let j = 0; j < D; j++) {
      dx[r * D + j] = rstd * (g[j]! - mg - h[j]! * mgh);
      dw[j] += dy[r * D + j]! * h[j]!;
      db[j] += dy[r * D + j]!;
    }
  }
  return { dx, dw, db };
}

describe('LayerNorm', () => {
  it('the float64 reference gradient equals central finite differences', () => {
    const [D, rows, eps] = [7, 3, 1e-5];
    const r = rng(3);
    const x = Float64Array.from(uniform(rows * D, -2, 2, r));
    const w = Float64Array.from(uniform(D, 0.5, 1.5, r));
    const dy = Float64Array.from(uniform(rows * D, -1, 1, r));
    const b = new Float64Array(D);
    const loss = (xs: Float64Array, ws: Float64Array) =>
      layerNorm64(xs, D, eps, ws, b).reduce((a, y, i) => a + y * dy[i]!, 0);
    const { dx, dw } = layerNormGrad64(x, dy, D, eps, w);
    const h = 1e-6;
    for (let i = 0; i < x.length; i++) {
      const p = x.slice();
      const m = x.slice();
      p[i]! += h;
      m[i]! -= h;
      const fd = (loss(p, w) - loss(m, w)) / (2 * h);
      assert.ok(
        Math.abs(fd - dx[i]!) <= REFERENCE_FD.abs + REFERENCE_FD.rel * Math.abs(fd) + 1e-8,
        `dx[${i}]: ${dx[i]} vs fd ${fd}`,
      );
    }
    for (let j = 0; j < D; j++) {
      const p = w.slice();
      const m = w.slice();
      p[j]! += h;
      m[j]! -= h;
      const fd = (loss(x, p) - loss(x, m)) / (2 * h);
      assert.ok(
        Math.abs(fd - dw[j]!) <= REFERENCE_FD.abs + REFERENCE_FD.rel * Math.abs(fd) + 1e-8,
        `dw[${j}]: ${dw[j]} vs fd ${fd}`,
      );
    }
  });

  forEachBackend('backend', (backend: Backend) => {
    for (const [D, rows] of [
      [1, 3],
      [5, 4],
      [64, 9],
      [131, 2],
    ] as const) {
      it(`forward and backward equal float64 (dim ${D}, ${rows} rows)`, () => {
        const ln = new LayerNorm({ normalizedShape: D, eps: 1e-3, backend });
        try {
          const r = rng(D);
          const w = uniform(D, 0.5, 1.5, r);
          const b = uniform(D, -0.5, 0.5, r);
          ln.loadStateDict({ weight: w, bias: b });
          const x = uniform(rows * D, -3, 3, r);
          const dy = uniform(rows * D, -1, 1, r);
          const y = ln.forward(x, { train: true });
          assertClose(y, layerNorm64(x, D, 1e-3, w, b), LAYERS, 'y', [rows, D]);
          const dx = ln.backward(dy);
          const ref = layerNormGrad64(x, dy, D, 1e-3, w);
          assertClose(dx, ref.dx, GRADIENT, 'dx', [rows, D]);
          assertClose(ln.getGradient('weight'), ref.dw, GRADIENT, 'dweight', [D]);
          assertClose(ln.getGradient('bias'), ref.db, GRADIENT, 'dbias', [D]);
        } finally {
          ln.dispose();
        }
      });
    }

    it("nn.LayerNorm's parameters: weight ones, bias zeros, [D]; none without elementwiseAffine", () => {
      const ln = new LayerNorm({ normalizedShape: 6, backend });
      const plain = new LayerNorm({ normalizedShape: 6, elementwiseAffine: false, backend });
      try {
        assert.deepEqual(ln.parameterNames(), ['weight', 'bias']);
        assert.deepEqual(ln.parameterShape('bias'), [6]);
        assert.deepEqual([...ln.getParameter('weight')], [1, 1, 1, 1, 1, 1]);
        assert.deepEqual([...ln.getParameter('bias')], [0, 0, 0, 0, 0, 0]);
        assert.deepEqual(plain.parameterNames(), []);
        const x = Float32Array.of(1, 2, 3, 4, 5, 6);
        assertClose(
          plain.forward(x),
          layerNorm64(x, 6, 1e-5, null, null),
          LAYERS,
          'y without affine',
          [6],
        );
      } finally {
        ln.dispose();
        plain.dispose();
      }
    });

    it('an optimizer trains it (Adam through the generic parameter interface)', () => {
      const ln = new LayerNorm({ normalizedShape: 4, backend });
      const opt = new Adam([ln], { lr: 0.05 });
      try {
        const x = Float32Array.of(1, 2, 3, 4, -1, 0, 2, 5);
        const target = Float32Array.of(0.5, 0.5, 0.5, 0.5, 1, 1, 1, 1);
        const lossOf = (y: Float32Array) => y.reduce((a, v, i) => a + (v - target[i]!) ** 2, 0);
        const first = lossOf(ln.forward(x));
        for (let i = 0; i < 200; i++) {
          opt.zeroGrad();
          const y = ln.forward(x, { train: true });
          ln.backward(y.map((v, i) => 2 * (v - target[i]!)));
          opt.step();
        }
        const last = lossOf(ln.forward(x));
        assert.ok(last < first / 10, `loss ${first} -> ${last}`);
      } finally {
        opt.dispose();
        ln.dispose();
      }
    });

    it('bad input: options, x and dy shapes, backward before forward; the core refuses what bypasses the facade', () => {
      assertThrowsCode(
        () => new LayerNorm({ normalizedShape: 0, backend }),
        'ERR_GRU_ARG',
        ['normalizedShape'],
        GruError,
      );
      assertThrowsCode(
        () => new LayerNorm({ normalizedShape: 4, eps: 0, backend }),
        'ERR_GRU_ARG',
        ['eps'],
      );
      assertThrowsCode(
        () => new LayerNorm({ normalizedShape: 4, bogus: 1, backend } as never),
        'ERR_GRU_ARG',
        ['bogus'],
      );
      const ln = new LayerNorm({ normalizedShape: 4, backend });
      try {
        assertThrowsCode(() => ln.forward(new Float32Array(6)), 'ERR_GRU_SHAPE', ['x']);
        assertThrowsCode(() => ln.backward(new Float32Array(4)), 'ERR_GRU_STATE');
        ln.forward(new Float32Array(8), { train: true });
        assertThrowsCode(() => ln.backward(new Float32Array(4)), 'ERR_GRU_SHAPE', ['dy']);
        const h = ln._handle();
        assertThrowsCode(
          () => backend.layerNormForward(h, 2, new Float32Array(8), new Float32Array(7), 0),
          'ERR_GRU_SHAPE',
          ['y'],
        );
        assertThrowsCode(() => backend.layerNormCreate(4, -1, 1), 'ERR_GRU_ARG', ['eps']);
        assertThrowsCode(
          () =>
            backend.netForward(h as never, 1, 1, 0, new Float32Array(4), null, null, null, null),
          'ERR_GRU_TYPE',
          ['layer norm'],
        );
      } finally {
        ln.dispose();
      }
      assertThrowsCode(() => ln.forward(new Float32Array(4)), 'ERR_GRU_DISPOSED');
    });
  });
});
