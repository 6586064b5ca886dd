/**
 * The float64 training oracle checked against itself: analytic gradients (BPTT, Dense,
 * Embedding, losses) against central finite differences in float64, on small odd shapes.
 * Every backend is then compared with this oracle (train-gradients.ts), so it is not trusted
 * blindly. The worst errors are printed at the end of the run.
 */
import assert from 'node:assert/strict';
import { parameterNames, referenceForward, type RefConfig } from '../reference.js';
import {
  bceWithLogits64,
  denseBackward64,
  denseForward64,
  embeddingBackward64,
  embeddingForward64,
  finiteDifferences,
  mse64,
  referenceGruGradients,
  softmaxCrossEntropy64,
} from '../reference-train.js';
import { REFERENCE_FD } from '../tolerance.js';
import { assertClose, ErrorTable, rng } from '../util.js';

export const fdErrors = new ErrorTable();

const f64 = (n: number, lo: number, hi: number, rand: () => number): Float64Array => {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rand();
  return a;
};
const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

function check(
  what: string,
  analytic: ArrayLike<number>,
  fd: ArrayLike<number>,
  key: string,
): void {
  const s = assertClose(analytic, fd, REFERENCE_FD, what, [fd.length]);
  fdErrors.record(key, 'max|diff|', s.maxAbs);
  fdErrors.record(key, 'worst/tol', s.worst);
}

interface FdCase {
  I: number;
  H: number;
  T: number;
  B: number;
  L: number;
  bidir: boolean;
  bias: boolean;
  resetAfter: boolean;
  h0: boolean;
  lengths?: number[];
  batchFirst?: boolean;
  /** Activations (RefConfig's; default tanh and sigmoid). */
  act?: RefConfig['activation'];
  recAct?: RefConfig['recurrentActivation'];
  /** Weights scaled up (default 1): pre-activations past the hard sigmoids' clipping points. */
  wscale?: number;
}

// prettier-ignore
const FD_CASES: FdCase[] = [
  { I: 3, H: 5, T: 4, B: 2, L: 1, bidir: false, bias: true, resetAfter: true, h0: true },
  { I: 3, H: 5, T: 4, B: 2, L: 1, bidir: false, bias: true, resetAfter: false, h0: true },
  { I: 3, H: 5, T: 4, B: 3, L: 2, bidir: true, bias: true, resetAfter: true, h0: true, lengths: [4, 0, 2] },
  { I: 3, H: 5, T: 4, B: 3, L: 2, bidir: true, bias: true, resetAfter: false, h0: true, lengths: [1, 4, 0] },
  { I: 2, H: 3, T: 5, B: 2, L: 3, bidir: false, bias: false, resetAfter: false, h0: false, batchFirst: true, lengths: [3, 5] },
  { I: 1, H: 1, T: 3, B: 1, L: 1, bidir: true, bias: true, resetAfter: true, h0: false, batchFirst: true },
  { I: 3, H: 5, T: 4, B: 2, L: 1, bidir: false, bias: true, resetAfter: true, h0: true, act: 'relu', recAct: 'hardSigmoid', wscale: 3 },
  { I: 3, H: 5, T: 4, B: 3, L: 2, bidir: true, bias: true, resetAfter: false, h0: true, lengths: [4, 0, 2], act: 'relu', recAct: 'hardSigmoidKeras2', wscale: 3 },
  { I: 3, H: 5, T: 4, B: 2, L: 1, bidir: false, bias: true, resetAfter: false, h0: true, recAct: 'hardSigmoid', wscale: 3 },
  { I: 3, H: 5, T: 4, B: 2, L: 2, bidir: false, bias: true, resetAfter: true, h0: true, act: 'relu' },
  { I: 3, H: 5, T: 4, B: 2, L: 1, bidir: true, bias: false, resetAfter: true, h0: true, recAct: 'hardSigmoidKeras2', wscale: 3 },
];

export function referenceSelfCheckSuite(): void {
  describe('GRU BPTT vs finite differences (float64)', () => {
    for (const c of FD_CASES) {
      const title =
        `I${c.I} H${c.H} T${c.T} B${c.B} L${c.L}${c.bidir ? ' bidir' : ''}${c.bias ? '' : ' nobias'} ` +
        `${c.resetAfter ? 'resetAfter' : 'resetBefore'}${c.h0 ? ' h0' : ''}` +
        `${c.lengths ? ` lengths=[${c.lengths.join(',')}]` : ''}${c.batchFirst ? ' batchFirst' : ''}` +
        `${c.act ? ` ${c.act}` : ''}${c.recAct ? ` ${c.recAct}` : ''}${c.wscale ? ` wscale=${c.wscale}` : ''}`;
      it(`${title}: every parameter, x and h0`, () => {
        const cfg: RefConfig = {
          inputSize: c.I,
          hiddenSize: c.H,
          numLayers: c.L,
          bidirectional: c.bidir,
          bias: c.bias,
          resetAfter: c.resetAfter,
          ...(c.act ? { activation: c.act } : {}),
          ...(c.recAct ? { recurrentActivation: c.recAct } : {}),
        };
        const D = c.bidir ? 2 : 1;
        const rand = rng(c.I * 131 + c.H * 17 + c.L * 7 + (c.resetAfter ? 1 : 0));
        const k = (1.5 * (c.wscale ?? 1)) / Math.sqrt(c.H);
        const params: Record<string, Float64Array> = {};
        for (const name of parameterNames(cfg)) {
          const n = name.startsWith('weight_ih')
            ? 3 * c.H * (name.includes('_l0') ? c.I : D * c.H)
            : name.startsWith('weight_hh')
              ? 3 * c.H * c.H
              : 3 * c.H;
          params[name] = f64(n, -k, k, rand);
        }
        const x = f64(c.T * c.B * c.I, -1, 1, rand);
        const h0 = c.h0
          ? f64(c.L * D * c.B * c.H, -1, 1, rand)
          : new Float64Array(c.L * D * c.B * c.H);
        // Random weights on every output, padding steps included: those outputs are constant 0,
        // so finite differences see no dependence there, and the oracle must ignore them.
        const dOut = f64(c.T * c.B * D * c.H, -1, 1, rand);
        const dHN = f64(c.L * D * c.B * c.H, -1, 1, rand);
        const opts = {
          seqLen: c.T,
          batch: c.B,
          batchFirst: c.batchFirst ?? false,
          h0,
          lengths: c.lengths,
        };
        const loss = (): number => {
          const r = referenceForward(cfg, params, x, opts);
          return dot(r.output, dOut) + dot(r.hN, dHN);
        };
        const g = referenceGruGradients(cfg, params, x, opts, dOut, dHN);

        // The oracle's own forward is the forward reference's, exactly.
        const fwd = referenceForward(cfg, params, x, opts);
        assert.deepEqual(g.output, fwd.output, 'output of the training reference');
        assert.deepEqual(g.hN, fwd.hN, 'hN of the training reference');

        for (const name of parameterNames(cfg)) {
          check(
            `${title} d/d ${name}`,
            g.grads[name],
            finiteDifferences(loss, params[name]),
            'GRU params',
          );
        }
        check(`${title} dx`, g.dx, finiteDifferences(loss, x), 'GRU dx');
        check(`${title} dh0`, g.dh0, finiteDifferences(loss, h0), 'GRU dh0');
        // A sanity floor: the gradients are not trivially zero.
        assert.ok(
          g.dx.some((v) => Math.abs(v) > 1e-3),
          'dx has non-trivial entries',
        );
        if (c.lengths) {
          // Rows with length 0: dh0 is dHN passed through, dx is 0.
          for (let b = 0; b < c.B; b++) {
            if (c.lengths[b] !== 0) continue;
            for (let l = 0; l < c.L * D; l++) {
              for (let j = 0; j < c.H; j++) {
                const i = (l * c.B + b) * c.H + j;
                assert.equal(g.dh0[i], dHN[i], `length-0 row ${b}: dh0 = dHN`);
              }
            }
          }
        }
      });
    }
  });

  it('Dense: dW, db, dx vs finite differences', () => {
    const rand = rng(5);
    const [rows, inF, outF] = [3, 5, 4];
    const x = f64(rows * inF, -1, 1, rand);
    const W = f64(outF * inF, -1, 1, rand);
    const b = f64(outF, -1, 1, rand);
    const dy = f64(rows * outF, -1, 1, rand);
    const loss = (): number => dot(denseForward64(x, rows, W, b, inF, outF), dy);
    const g = denseBackward64(x, dy, rows, W, inF, outF);
    check('Dense dW', g.dW, finiteDifferences(loss, W), 'Dense');
    check('Dense db', g.db, finiteDifferences(loss, b), 'Dense');
    check('Dense dx', g.dx, finiteDifferences(loss, x), 'Dense');
  });

  it('Embedding: dW vs finite differences (repeated indices add, unused rows 0)', () => {
    const rand = rng(6);
    const [num, dim] = [6, 3];
    const idx = [2, 0, 2, 5, 2];
    const W = f64(num * dim, -1, 1, rand);
    const dy = f64(idx.length * dim, -1, 1, rand);
    const loss = (): number => dot(embeddingForward64(idx, W, dim), dy);
    const dW = embeddingBackward64(idx, dy, num, dim);
    check('Embedding dW', dW, finiteDifferences(loss, W), 'Embedding');
    for (const unused of [1, 3, 4]) {
      for (let k = 0; k < dim; k++) assert.equal(dW[unused * dim + k], 0, `row ${unused} unused`);
    }
  });

  it('losses: softmax cross-entropy (with an ignored row), BCE with logits, MSE vs finite differences', () => {
    const rand = rng(7);
    const classes = 5;
    const logits = f64(4 * classes, -3, 3, rand);
    const targets = [1, -1, 4, 0];
    const ce = softmaxCrossEntropy64(logits, targets, classes);
    check(
      'softmax CE',
      ce.grad,
      finiteDifferences(() => softmaxCrossEntropy64(logits, targets, classes).loss, logits),
      'losses',
    );
    for (let c = 0; c < classes; c++)
      assert.equal(ce.grad[classes + c], 0, 'ignored row has no gradient');
    // Uniform logits: loss = log(classes).
    assert.ok(
      Math.abs(
        softmaxCrossEntropy64(new Float64Array(classes), [2], classes).loss - Math.log(classes),
      ) < 1e-15,
    );

    const z = f64(7, -30, 30, rand);
    const t = f64(7, 0, 1, rand);
    const bce = bceWithLogits64(z, t);
    check(
      'BCE',
      bce.grad,
      finiteDifferences(() => bceWithLogits64(z, t).loss, z),
      'losses',
    );
    // Direct form, where it does not overflow.
    const direct = (x: number, y: number): number =>
      -(y * Math.log(1 / (1 + Math.exp(-x))) + (1 - y) * Math.log(1 - 1 / (1 + Math.exp(-x))));
    assert.ok(
      Math.abs(
        bceWithLogits64([0.7, -1.2], [1, 0.25]).loss - (direct(0.7, 1) + direct(-1.2, 0.25)) / 2,
      ) < 1e-14,
    );

    const p = f64(6, -2, 2, rand);
    const q = f64(6, -2, 2, rand);
    check(
      'MSE',
      mse64(p, q).grad,
      finiteDifferences(() => mse64(p, q).loss, p),
      'losses',
    );
  });
}
