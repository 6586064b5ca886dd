/**
 * Training gradients of every backend and ISA variant against the float64 oracle
 * (reference-train.ts): GRU parameter gradients, dx and dh0 on a varied subset of the forward
 * suite's shapes; Dense, Embedding, the losses and Dropout; the bytes a training forward keeps.
 *
 * Over 400 lines: the gradient checks of every layer share the oracle's fixtures and the error
 * table.
 */
import assert from 'node:assert/strict';
import {
  GRU,
  Dense,
  Embedding,
  Dropout,
  softmaxCrossEntropy,
  bceWithLogits,
  mse,
} from '../../ts/index.js';
import type { Backend } from '../../ts/backends/backend.js';
import { caseTitle, configOf, makeLengths, randomParams, type Case } from '../cases.js';
import { parameterNames, type RefResult } from '../reference.js';
import {
  bceWithLogits64,
  denseBackward64,
  denseForward64,
  embeddingBackward64,
  embeddingForward64,
  mse64,
  referenceGruGradients,
  softmaxCrossEntropy64,
  type RefGruGradients,
} from '../reference-train.js';
import { FORWARD, GRADIENT, LAYERS, LOSS } from '../tolerance.js';
import { assertClose, ErrorTable, rng, uniform, type ErrorStats } from '../util.js';

/** Worst gradient errors per backend/ISA, printed at the end of the run. */
export const gradErrors = new ErrorTable();

interface GradCase extends Case {
  /** Which loss gradients are given: output, final state, or both (default). */
  grads?: 'dOutput' | 'dHN' | 'both';
}

// A varied subset of the forward cases: sizes from {1, 3, 7, 16, 17, 97, 128}, T = 1 and 200,
// both reset variants, 1-3 layers, bidirectional, h0, no bias, lengths (0 and T included),
// batchFirst. Kept small enough for the float64 oracle to build them all in a few seconds.
// prettier-ignore
export const GRAD_CASES: readonly GradCase[] = [
  { H: 1, I: 1, B: 1, T: 1, resetAfter: true },
  { H: 3, I: 7, B: 3, T: 200, resetAfter: false, h0: true },
  { H: 7, I: 3, B: 1, T: 200, resetAfter: true, bidir: true, lengths: 'short', grads: 'dHN' },
  { H: 16, I: 17, B: 16, T: 9, resetAfter: true, L: 2, h0: true, lengths: 'mixed' },
  { H: 17, I: 16, B: 7, T: 13, resetAfter: false, L: 3, bidir: true, h0: true, lengths: 'mixed' },
  { H: 97, I: 3, B: 3, T: 6, resetAfter: true, bias: false, batchFirst: true, grads: 'dOutput' },
  { H: 128, I: 128, B: 17, T: 3, resetAfter: false, h0: true, wscale: 2 },
  { H: 128, I: 7, B: 2, T: 12, resetAfter: true, L: 2, bidir: true, batchFirst: true, lengths: 'mixed' },
  { H: 1, I: 97, B: 128, T: 3, resetAfter: false, bidir: true, lengths: 'mixed', grads: 'dHN' },
  { H: 7, I: 1, B: 97, T: 4, resetAfter: true, L: 2, bias: false, h0: true },
  { H: 17, I: 17, B: 5, T: 40, resetAfter: false, L: 2, bidir: true, batchFirst: true, h0: true, lengths: 'mixed', wscale: 3 },
  { H: 16, I: 1, B: 3, T: 200, resetAfter: true, L: 3, bias: false, wscale: 2, grads: 'dOutput' },
  // The activations Keras offers (the core's *_any_act kernels); wscale 4 drives the hard
  // sigmoids' pre-activations past their clipping points, where the slope is 0.
  { H: 17, I: 5, B: 4, T: 12, resetAfter: true, act: 'relu', recAct: 'hardSigmoid', wscale: 4, h0: true, lengths: 'mixed' },
  { H: 16, I: 3, B: 3, T: 9, resetAfter: false, L: 2, act: 'relu', recAct: 'hardSigmoidKeras2', wscale: 4, h0: true },
  { H: 33, I: 4, B: 5, T: 7, resetAfter: false, bidir: true, recAct: 'hardSigmoid', wscale: 4, batchFirst: true, lengths: 'mixed' },
  { H: 9, I: 2, B: 2, T: 20, resetAfter: true, act: 'relu', h0: true },
  { H: 8, I: 6, B: 3, T: 10, resetAfter: true, L: 2, bidir: true, recAct: 'hardSigmoidKeras2', wscale: 4, grads: 'dHN' },
];

export function gradTitle(c: GradCase): string {
  return `${caseTitle(c)}${c.grads && c.grads !== 'both' ? ` (${c.grads} only)` : ''}`;
}

interface GradData {
  params: Record<string, Float32Array>;
  x: Float32Array;
  h0: Float32Array | undefined;
  lengths: Int32Array | undefined;
  dOutput: Float32Array | undefined;
  dHN: Float32Array | undefined;
  ref: RefGruGradients;
}

const cache = new Map<GradCase, GradData>();

/** Inputs, loss gradients and the float64 oracle of a case, built once for every backend/ISA. */
export function gradData(c: GradCase): GradData {
  const hit = cache.get(c);
  if (hit) return hit;
  const cfg = configOf(c);
  const D = cfg.bidirectional ? 2 : 1;
  const rand = rng(0x97ad + GRAD_CASES.indexOf(c));
  const params = randomParams(cfg, rand, c.wscale ?? 1);
  const x = uniform(c.T * c.B * c.I, -1, 1, rand);
  const h0 = c.h0 ? uniform(cfg.numLayers * D * c.B * c.H, -1, 1, rand) : undefined;
  const lengths = c.lengths ? makeLengths(c.lengths, c.B, c.T, rand) : undefined;
  const which = c.grads ?? 'both';
  // Loss gradients U(-1, 1), including at padding steps (the backend must ignore them there).
  const dOutput = which !== 'dHN' ? uniform(c.T * c.B * D * c.H, -1, 1, rand) : undefined;
  const dHN = which !== 'dOutput' ? uniform(cfg.numLayers * D * c.B * c.H, -1, 1, rand) : undefined;
  const ref = referenceGruGradients(
    cfg,
    params,
    x,
    { seqLen: c.T, batch: c.B, batchFirst: c.batchFirst ?? false, h0, lengths },
    dOutput ?? null,
    dHN ?? null,
  );
  const d = { params, x, h0, lengths, dOutput, dHN, ref };
  cache.set(c, d);
  return d;
}

function maxAbsOf(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/**
 * Compares a gradient with the oracle: |diff| <= GRADIENT.abs * scale + GRADIENT.rel * |ref|,
 * scale = max |ref| over the tensor (a gradient is a sum of T*B terms that can cancel; its
 * error follows the size of the terms, which the tensor's largest entry measures). Records
 * max |diff| / scale ("rel-to-max") and worst/tol.
 */
export function checkGradient(
  key: string,
  what: string,
  actual: ArrayLike<number>,
  ref: ArrayLike<number>,
  shape: readonly number[],
): ErrorStats {
  const scale = Math.max(maxAbsOf(ref), 1e-3);
  const s = assertClose(
    actual,
    ref,
    { abs: GRADIENT.abs * scale, rel: GRADIENT.rel },
    `${key} ${what}`,
    shape,
  );
  gradErrors.record(key, 'max|diff|', s.maxAbs);
  gradErrors.record(key, 'max|diff|/max|ref|', s.maxAbs / scale);
  gradErrors.record(key, 'worst/tol', s.worst);
  return s;
}

function sameOutput(
  key: string,
  res: { output: Float32Array | null; hN: Float32Array },
  ref: RefResult | RefGruGradients,
  shape: number[],
  hNShape: number[],
): void {
  assertClose(res.output!, ref.output, FORWARD, `${key} training forward output`, shape);
  assertClose(res.hN, ref.hN, FORWARD, `${key} training forward hN`, hNShape);
}

export function gruGradientSuite(backend: Backend, isa: string): void {
  const key = `${backend.name}/${isa}`;
  for (const c of GRAD_CASES) {
    it(gradTitle(c), () => {
      const d = gradData(c);
      const cfg = configOf(c);
      const D = cfg.bidirectional ? 2 : 1;
      const gru = new GRU({ ...cfg, batchFirst: c.batchFirst ?? false, backend, seed: 1 });
      try {
        gru.loadStateDict(d.params);
        const res = gru.forward(d.x, { batch: c.B, h0: d.h0, lengths: d.lengths, train: true });
        const outShape = c.batchFirst ? [c.B, c.T, D * c.H] : [c.T, c.B, D * c.H];
        const hNShape = [cfg.numLayers * D, c.B, c.H];
        sameOutput(key, res, d.ref, outShape, hNShape);
        const dOutCopy = d.dOutput?.slice();
        const { dx, dh0 } = gru.backward({ dOutput: d.dOutput, dHN: d.dHN, h0Grad: true });
        assert.ok(
          dx instanceof Float32Array && dh0 instanceof Float32Array,
          'dx and dh0 are Float32Arrays',
        );
        checkGradient(key, 'dx', dx, d.ref.dx, c.batchFirst ? [c.B, c.T, c.I] : [c.T, c.B, c.I]);
        checkGradient(key, 'dh0', dh0, d.ref.dh0, hNShape);
        for (const name of parameterNames(cfg)) {
          checkGradient(
            key,
            `d/d ${name}`,
            gru.getGradient(name),
            d.ref.grads[name],
            gru.parameterShape(name),
          );
        }
        if (dOutCopy) assert.deepEqual(d.dOutput, dOutCopy, 'backward must not modify dOutput');
        // Padding steps: no gradient reaches x there.
        if (d.lengths) {
          for (let b = 0; b < c.B; b++) {
            for (let t: number = d.lengths[b]; t < c.T; t++) {
              const off = (c.batchFirst ? b * c.T + t : t * c.B + b) * c.I;
              for (let k = 0; k < c.I; k++)
                assert.equal(dx[off + k], 0, `dx at padding b=${b} t=${t}`);
            }
          }
        }
      } finally {
        gru.dispose();
      }
    });
  }

  it('gradients accumulate over backward calls until zeroGrad(); inputGrad/h0Grad flags', () => {
    const c = GRAD_CASES[3];
    const d = gradData(c);
    const cfg = configOf(c);
    const gru = new GRU({ ...cfg, backend, seed: 1 });
    try {
      gru.loadStateDict(d.params);
      const run = (opts: { inputGrad?: boolean; h0Grad?: boolean }) => {
        gru.forward(d.x, { batch: c.B, h0: d.h0, lengths: d.lengths, train: true });
        return gru.backward({ dOutput: d.dOutput, dHN: d.dHN, ...opts });
      };
      const first = run({});
      assert.ok(first.dx instanceof Float32Array, 'dx by default');
      assert.equal(first.dh0, null, 'no dh0 unless h0Grad');
      const once = gru.getGradient('weight_hh_l1');
      const second = run({ inputGrad: false, h0Grad: true });
      assert.equal(second.dx, null, 'no dx with inputGrad: false');
      assert.ok(second.dh0 instanceof Float32Array, 'dh0 with h0Grad');
      const twice = gru.getGradient('weight_hh_l1');
      const ref2 = Float64Array.from(d.ref.grads.weight_hh_l1, (v) => 2 * v);
      checkGradient(
        key,
        'accumulated d/d weight_hh_l1',
        twice,
        ref2,
        gru.parameterShape('weight_hh_l1'),
      );
      assert.notDeepEqual(twice, once, 'the second backward added');
      gru.zeroGrad();
      for (const name of gru.parameterNames()) {
        assert.ok(
          gru.getGradient(name).every((v) => v === 0),
          `${name} zero after zeroGrad()`,
        );
      }
      // The same forward + backward after zeroGrad gives the first gradients again, bitwise.
      run({});
      assert.deepEqual(gru.getGradient('weight_hh_l1'), once, 'repeatable after zeroGrad()');
    } finally {
      gru.dispose();
    }
  });

  it('padding steps after a full-length backward: gradients bitwise as a fresh layer gives', () => {
    // The backward zeroes only the padding rows of its whole-sequence buffers (every other row
    // is written by its step): rows a previous full-length call filled must not leak into the
    // weight and bias gradients of a call with shorter sequences.
    for (const c of [GRAD_CASES[3], GRAD_CASES[4]]) {
      const d = gradData(c);
      assert.ok(d.lengths && d.lengths.some((n) => n < c.T), 'the case has padding steps');
      const cfg = configOf(c);
      const used = new GRU({ ...cfg, batchFirst: c.batchFirst ?? false, backend, seed: 1 });
      const fresh = new GRU({ ...cfg, batchFirst: c.batchFirst ?? false, backend, seed: 1 });
      try {
        const trainStep = (gru: GRU, lengths: Int32Array | undefined) => {
          gru.zeroGrad();
          gru.forward(d.x, { batch: c.B, h0: d.h0, lengths, train: true });
          gru.backward({ dOutput: d.dOutput, dHN: d.dHN });
        };
        used.loadStateDict(d.params);
        fresh.loadStateDict(d.params);
        trainStep(used, undefined); // every row of every step written
        trainStep(used, d.lengths);
        trainStep(fresh, d.lengths);
        for (const name of used.parameterNames())
          assert.deepEqual(
            used.getGradient(name),
            fresh.getGradient(name),
            `${gradTitle(c)}: ${name}`,
          );
      } finally {
        used.dispose();
        fresh.dispose();
      }
    }
  });

  it('dropout between layers: backward uses the forward mask (directional derivative, fp32)', () => {
    // The mask is the core's; it cannot be rebuilt here. So: with a fixed dropoutSeed the
    // training forward is a fixed smooth function of the weights, and the gradient backward
    // returns must predict its change along a random direction v:
    //   (L(w + h v) - L(w - h v)) / 2h  ~  <grad, v>,  L = sum(dOutput * output).
    const cfg = {
      inputSize: 5,
      hiddenSize: 9,
      numLayers: 3,
      bidirectional: true,
      bias: true,
      resetAfter: true,
    };
    const rand = rng(31);
    const params = randomParams(cfg, rand, 1.5);
    const [T, B] = [7, 3];
    const x = uniform(T * B * 5, -1, 1, rand);
    const dOut = uniform(T * B * 18, -1, 1, rand);
    const gru = new GRU({ ...cfg, backend, seed: 3 });
    try {
      gru.loadStateDict(params);
      const lossAt = (p: Record<string, Float32Array>, dropout: number): number => {
        gru.loadStateDict(p);
        const y = gru.forward(x, { batch: B, train: true, dropout, dropoutSeed: 1234 }).output!;
        let s = 0;
        for (let i = 0; i < y.length; i++) s += y[i] * dOut[i];
        return s;
      };
      const noDrop = gru.forward(x, { batch: B }).output!;
      const dropped = gru.forward(x, {
        batch: B,
        train: true,
        dropout: 0.5,
        dropoutSeed: 1234,
      }).output!;
      const again = gru.forward(x, {
        batch: B,
        train: true,
        dropout: 0.5,
        dropoutSeed: 1234,
      }).output!;
      assert.deepEqual(again, dropped, 'same dropoutSeed, same mask');
      assert.notDeepEqual(dropped, noDrop, 'dropout 0.5 changes the output of a 3-layer GRU');
      const zeroDrop = gru.forward(x, {
        batch: B,
        train: true,
        dropout: 0,
        dropoutSeed: 1234,
      }).output!;
      assertClose(zeroDrop, noDrop, FORWARD, `${key} dropout 0 equals no dropout`, [T, B, 18]);

      gru.zeroGrad();
      gru.forward(x, { batch: B, train: true, dropout: 0.5, dropoutSeed: 1234 });
      gru.backward({ dOutput: dOut });
      const v: Record<string, Float32Array> = {};
      let predicted = 0;
      for (const name of gru.parameterNames()) {
        v[name] = uniform(params[name].length, -1, 1, rand);
        const g = gru.getGradient(name);
        for (let i = 0; i < g.length; i++) predicted += g[i] * v[name][i];
      }
      const h = 1e-2;
      const shifted = (sign: number): Record<string, Float32Array> =>
        Object.fromEntries(
          Object.entries(params).map(([n, p]) => [n, p.map((w, i) => w + sign * h * v[n][i])]),
        );
      const fd = (lossAt(shifted(1), 0.5) - lossAt(shifted(-1), 0.5)) / (2 * h);
      // fp32 forward (~1e-6 relative) over a step of 1e-2, plus O(h^2) curvature: 2% is ample;
      // a wrong mask in backward (or none) is off by tens of percent.
      assert.ok(
        Math.abs(fd - predicted) <= 0.02 * Math.abs(predicted),
        `directional derivative: finite differences ${fd}, from backward ${predicted}`,
      );
      gradErrors.record(
        key,
        'dropout dir. deriv. rel',
        Math.abs(fd - predicted) / Math.abs(predicted),
      );
    } finally {
      gru.dispose();
    }
  });
}

/** Dense, Embedding, Dropout and the losses against their float64 references. */
export function layerGradientSuite(backend: Backend, isa: string): void {
  const key = `${backend.name}/${isa}`;
  for (const [rows, inF, outF, bias] of [
    [1, 1, 1, true],
    [7, 17, 3, true],
    [97, 16, 128, false],
    [3, 128, 97, true],
  ] as const) {
    it(`Dense rows ${rows} in ${inF} out ${outF}${bias ? '' : ' nobias'}: forward, dW, db, dx`, () => {
      const rand = rng(rows * 7 + inF + outF);
      const layer = new Dense({ inFeatures: inF, outFeatures: outF, bias, seed: 4, backend });
      try {
        const W = uniform(outF * inF, -1, 1, rand);
        const b = uniform(outF, -1, 1, rand);
        layer.setParameter('weight', W);
        if (bias) layer.setParameter('bias', b);
        assert.deepEqual(
          layer.getParameter('weight'),
          W,
          'getParameter(weight) returns what was set',
        );
        const x = uniform(rows * inF, -1, 1, rand);
        const dy = uniform(rows * outF, -1, 1, rand);
        const y = layer.forward(x, { train: true });
        assertClose(
          y,
          denseForward64(x, rows, W, bias ? b : null, inF, outF),
          LAYERS,
          `${key} Dense y`,
          [rows, outF],
        );
        const dx = layer.backward(dy);
        const ref = denseBackward64(x, dy, rows, W, inF, outF);
        checkGradient(key, 'Dense dx', dx, ref.dx, [rows, inF]);
        checkGradient(key, 'Dense dW', layer.getGradient('weight'), ref.dW, [outF, inF]);
        if (bias) checkGradient(key, 'Dense db', layer.getGradient('bias'), ref.db, [outF]);
        layer.zeroGrad();
        assert.ok(
          layer.getGradient('weight').every((v) => v === 0),
          'zeroGrad',
        );
      } finally {
        layer.dispose();
      }
    });
  }

  it('Embedding 97 x 17: forward gathers rows; backward adds into the rows used (repeats add), no other', () => {
    const [num, dim] = [97, 17];
    const rand = rng(12);
    const emb = new Embedding({ numEmbeddings: num, embeddingDim: dim, seed: 5, backend });
    try {
      const W = uniform(num * dim, -1, 1, rand);
      emb.setParameter('weight', W);
      const idx = Int32Array.from({ length: 50 }, (_, i) =>
        i % 5 === 0 ? 3 : Math.floor(rand() * 60),
      );
      idx[49] = num - 1;
      const y = emb.forward(idx, { train: true });
      assert.deepEqual(
        y,
        Float32Array.from(embeddingForward64(idx, W, dim)),
        'rows gathered exactly',
      );
      const dy = uniform(idx.length * dim, -1, 1, rand);
      emb.backward(dy);
      const ref = embeddingBackward64(idx, dy, num, dim);
      checkGradient(key, 'Embedding dW', emb.getGradient('weight'), ref, [num, dim]);
      const g = emb.getGradient('weight');
      for (let r = 60; r < num - 1; r++) {
        for (let k = 0; k < dim; k++) assert.equal(g[r * dim + k], 0, `unused row ${r}`);
      }
    } finally {
      emb.dispose();
    }
  });

  it('Embedding init: about N(0, 1), identical for the same seed', () => {
    const a = new Embedding({ numEmbeddings: 200, embeddingDim: 50, seed: 77, backend });
    const b = new Embedding({ numEmbeddings: 200, embeddingDim: 50, seed: 77, backend });
    try {
      const w = a.getParameter('weight');
      assert.deepEqual(b.getParameter('weight'), w, 'same seed, same weights');
      let s = 0;
      let s2 = 0;
      for (const v of w) {
        s += v;
        s2 += v * v;
      }
      const mean = s / w.length;
      const variance = s2 / w.length - mean * mean;
      // 10,000 samples: the standard error of the mean is 0.01, of the variance ~0.014.
      assert.ok(
        Math.abs(mean) < 0.05 && Math.abs(variance - 1) < 0.07,
        `mean ${mean}, variance ${variance}`,
      );
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('Dense init: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias', () => {
    const layer = new Dense({ inFeatures: 25, outFeatures: 40, bias: true, seed: 8, backend });
    try {
      for (const name of ['weight', 'bias'] as const) {
        const p = layer.getParameter(name);
        const bound = 1 / 5;
        assert.ok(
          p.every((v) => Math.abs(v) <= bound),
          `${name} within +-1/sqrt(in)`,
        );
        assert.ok(
          p.some((v) => Math.abs(v) > 0.8 * bound),
          `${name} spans the range`,
        );
      }
    } finally {
      layer.dispose();
    }
  });

  it('softmax cross-entropy (ignored rows, large logits) vs float64: loss and gradient', () => {
    const rand = rng(13);
    for (const [rows, classes] of [
      [1, 1],
      [17, 7],
      [64, 97],
      [3, 128],
    ] as const) {
      const logits = uniform(rows * classes, -8, 8, rand);
      logits[0] = 80; // exp(80) overflows fp32: the loss must be computed stably
      const targets = Int32Array.from({ length: rows }, (_, i) =>
        i % 4 === 2 ? -1 : Math.floor(rand() * classes),
      );
      const res = softmaxCrossEntropy(logits, targets, { classes, backend });
      const ref = softmaxCrossEntropy64(logits, targets, classes);
      assertClose([res.loss], [ref.loss], LOSS, `${key} CE loss ${rows}x${classes}`, [1]);
      checkGradient(key, `CE grad ${rows}x${classes}`, res.grad, ref.grad, [rows, classes]);
      const into = new Float32Array(rows * classes).fill(Number.NaN);
      const again = softmaxCrossEntropy(logits, targets, { classes, backend, grad: into });
      assert.equal(again.grad, into, 'CE: grad is the given array');
      assert.equal(again.loss, res.loss, 'CE: same loss');
      assert.deepEqual(into, res.grad, 'CE: same gradient in the given array');
    }
  });

  it('BCE with logits (|x| up to 40) and MSE vs float64: loss and gradient', () => {
    const rand = rng(14);
    // MSE sums in blocks of at least 8192 elements, at most 64 blocks (native/core/losses.cpp):
    // one partial block, several with a short last one, and 64 longer ones.
    for (const n of [1, 7, 97, 1000, 3 * 8192 + 5, 64 * 9000 + 3]) {
      const z = uniform(n, -40, 40, rand);
      const t = uniform(n, 0, 1, rand);
      const b = bceWithLogits(z, t, { backend });
      const br = bceWithLogits64(z, t);
      assertClose([b.loss], [br.loss], LOSS, `${key} BCE loss n=${n}`, [1]);
      checkGradient(key, `BCE grad n=${n}`, b.grad, br.grad, [n]);
      const p = uniform(n, -3, 3, rand);
      const m = mse(p, t, { backend });
      const mr = mse64(p, t);
      assertClose([m.loss], [mr.loss], LOSS, `${key} MSE loss n=${n}`, [1]);
      checkGradient(key, `MSE grad n=${n}`, m.grad, mr.grad, [n]);
      // Into a given (dirty) buffer: the same loss and gradient, in that buffer.
      for (const [name, fn, a, fresh] of [
        ['mse', mse, p, m],
        ['bceWithLogits', bceWithLogits, z, b],
      ] as const) {
        const into = new Float32Array(n).fill(Number.NaN);
        const r = fn(a, t, { backend, grad: into });
        assert.equal(r.grad, into, `${name}: grad is the given array`);
        assert.equal(r.loss, fresh.loss, `${name}: same loss`);
        assert.deepEqual(into, fresh.grad, `${name}: same gradient`);
      }
    }
  });

  // Where setThreads gives threads (native; a wasm module with shared memory).
  const threaded = backend.threadsNote === null ? it : undefined;
  threaded?.('MSE over many blocks: the same loss and gradient bits at 1 and 2 threads', () => {
    const n = 64 * 9000 + 3; // 64 blocks, enough work for a second worker
    const rand = rng(17);
    const p = uniform(n, -3, 3, rand);
    const t = uniform(n, -3, 3, rand);
    const threads = backend.threads();
    const at = (k: number): ReturnType<typeof mse> => {
      backend.setThreads(k);
      return mse(p, t, { backend });
    };
    try {
      const one = at(1);
      const two = at(2);
      assert.equal(two.loss, one.loss, `${key}: loss at 2 threads`);
      assert.deepEqual(two.grad, one.grad, `${key}: gradient at 2 threads`);
    } finally {
      backend.setThreads(threads);
    }
  });

  it('Dropout: train zeroes about p, scales the rest by 1/(1-p); backward uses the same mask; eval is the identity', () => {
    const n = 20000;
    const x = uniform(n, 0.5, 1.5, rng(15));
    for (const p of [0, 0.1, 0.5, 0.9]) {
      const drop = new Dropout({ p, seed: 21, backend });
      assert.deepEqual(drop.forward(x, { train: false }), x, 'eval: identity');
      const y = drop.forward(x, { train: true });
      const dy = uniform(n, -1, 1, rng(16));
      const dx = drop.backward(dy);
      // Kept elements: y = x / (1 - p) and dx = dy / (1 - p), up to fp32 rounding of 1 / (1 - p)
      // and of the product (<= 2 roundings, 2.4e-7 relative); dropped: both exactly 0.
      let zeros = 0;
      for (let i = 0; i < n; i++) {
        if (y[i] === 0) {
          zeros++;
          if (dx[i] !== 0) assert.fail(`p=${p}: dx[${i}] = ${dx[i]} where y was dropped`);
        } else if (
          Math.abs(y[i] - x[i] / (1 - p)) > 3e-7 * Math.abs(y[i]) ||
          Math.abs(dx[i] - dy[i] / (1 - p)) > 3e-7 * Math.abs(dx[i])
        ) {
          assert.fail(
            `p=${p} [${i}]: y ${y[i]} (x/(1-p) = ${x[i] / (1 - p)}), dx ${dx[i]} (dy/(1-p) = ${dy[i] / (1 - p)})`,
          );
        }
      }
      // Binomial(n, p): 5 standard deviations.
      const sd = Math.sqrt(n * p * (1 - p));
      assert.ok(
        Math.abs(zeros - n * p) <= 5 * sd + 1e-9,
        `p=${p}: ${zeros} of ${n} dropped, expected ~${n * p}`,
      );
      const y2 = drop.forward(x, { train: true });
      if (p > 0) assert.notDeepEqual(y2, y, 'a new mask per training call');
    }
  });
}

/** Floats per SIMD vector of each ISA variant: Hp, the padded hidden size, is a multiple of it. */
const VECTOR_FLOATS: Record<string, number> = {
  'avx512-dot': 16,
  avx512: 16,
  avx2: 8,
  neon: 4,
  'wasm-relaxed': 4,
  wasm128: 4,
  scalar: 1,
};

/**
 * Bytes a training forward keeps (the memory cost of BPTT), against README's formula:
 * per (batch row, timestep, layer) D x (4 x Hp + H) x 4 bytes (the gates r, z, n and
 * U_n h + b_hn, and the layer's output), plus per call a copy of x (4 x inputSize bytes per
 * row and step) and of h0.
 */
export function trainBytesSuite(backend: Backend, isa: string): void {
  for (const cfg of [
    { inputSize: 3, hiddenSize: 17, numLayers: 1, bidirectional: false, resetAfter: true },
    { inputSize: 5, hiddenSize: 16, numLayers: 2, bidirectional: true, resetAfter: false },
    { inputSize: 1, hiddenSize: 97, numLayers: 3, bidirectional: false, resetAfter: false },
  ]) {
    const D = cfg.bidirectional ? 2 : 1;
    const title = `H${cfg.hiddenSize} I${cfg.inputSize} L${cfg.numLayers}${cfg.bidirectional ? ' bidir' : ''} ${cfg.resetAfter ? 'resetAfter' : 'resetBefore'}`;
    it(`${title}: trainBytesPerStep() = D (4 Hp + H) 4; trainBytes() = B T (perStep L + 4 I) + h0 copy`, () => {
      const gru = new GRU({ ...cfg, seed: 2, backend });
      try {
        const H = cfg.hiddenSize;
        const w = VECTOR_FLOATS[isa];
        assert.ok(w !== undefined, `vector width of isa ${isa} known to this test`);
        const Hp = Math.ceil(H / w) * w;
        const perStep = gru.trainBytesPerStep();
        assert.equal(perStep, D * (4 * Hp + H) * 4, `trainBytesPerStep() with Hp = ${Hp} (${isa})`);
        const B = 3;
        const at = (T: number): number => {
          gru.forward(uniform(T * B * cfg.inputSize, -1, 1, rng(T)), { batch: B, train: true });
          return gru.trainBytes();
        };
        const perCall = 4 * cfg.numLayers * D * B * H; // the h0 copy
        const slope = B * (perStep * cfg.numLayers + 4 * cfg.inputSize);
        const t10 = at(10);
        const t20 = at(20);
        const t40 = at(40);
        assert.equal(
          t40 - t20,
          20 * slope,
          `trainBytes(T=40) - trainBytes(T=20) = 20 B (perStep L + 4 I) (${t20}, ${t40})`,
        );
        // Beyond the formula only bookkeeping (the lengths, 4 bytes per row), no T-sized buffer.
        const rest = t10 - 10 * slope - perCall;
        assert.ok(
          rest >= 0 && rest <= 4 * B + 256,
          `trainBytes(T=10) = ${t10}: formula ${10 * slope + perCall}, rest ${rest}`,
        );
        // A smaller training forward after a larger one: the core may keep its larger buffers
        // (grow-only scratch) or shrink them; either way no more than the larger one held.
        const again = at(10);
        assert.ok(
          again === t10 || again === t40,
          `trainBytes() after T=40 then T=10: ${again}, want ${t10} or ${t40}`,
        );
        trainBytesTable.push(
          `${backend.name}/${isa} ${title}: perStep ${perStep} B (Hp ${Hp}); B=3 T=10: ${t10} B = formula + ${rest} B; ` +
            `T=10 after T=40: ${again === t10 ? 'own size' : 'keeps the T=40 buffers'}`,
        );
      } finally {
        gru.dispose();
      }
    });
  }
}

export const trainBytesTable: string[] = [];
