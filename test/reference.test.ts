/**
 * Checks the float64 reference itself against cases computed by hand, so the oracle every
 * backend is compared with is not trusted blindly. Pinned numbers were computed with
 * `bc -l` at 30 digits (the script is in the comment next to them).
 */
import assert from 'node:assert/strict';
import { parameterNames, referenceForward, type ParamDict, type RefConfig } from './reference.js';

const sig = (x: number): number => 1 / (1 + Math.exp(-x));

// H = 1, I = 1: gate rows r, z, n.
const P = {
  wr: 0.5,
  wz: -0.3,
  wn: 0.8,
  ur: 0.2,
  uz: 0.6,
  un: -0.7,
  bir: 0.1,
  biz: -0.2,
  bin: 0.05,
  bhr: -0.15,
  bhz: 0.25,
  bhn: 0.4,
};
type Scalars = typeof P;

function dict1(p: Scalars, suffix = '_l0'): ParamDict {
  return {
    [`weight_ih${suffix}`]: [p.wr, p.wz, p.wn],
    [`weight_hh${suffix}`]: [p.ur, p.uz, p.un],
    [`bias_ih${suffix}`]: [p.bir, p.biz, p.bin],
    [`bias_hh${suffix}`]: [p.bhr, p.bhz, p.bhn],
  };
}

/** One step of a scalar GRU, written out by hand. */
function cell(p: Scalars, resetAfter: boolean, x: number, h: number): number {
  const r = sig(p.wr * x + p.bir + p.ur * h + p.bhr);
  const z = sig(p.wz * x + p.biz + p.uz * h + p.bhz);
  const n = resetAfter
    ? Math.tanh(p.wn * x + p.bin + r * (p.un * h + p.bhn))
    : Math.tanh(p.wn * x + p.bin + p.un * (r * h) + p.bhn);
  return (1 - z) * n + z * h;
}

const cfg1 = (over: Partial<RefConfig> = {}): RefConfig => ({
  inputSize: 1,
  hiddenSize: 1,
  numLayers: 1,
  bidirectional: false,
  bias: true,
  resetAfter: true,
  ...over,
});

const near = (a: number, b: number, what: string): void =>
  assert.ok(Math.abs(a - b) <= 1e-14, `${what}: ${a} vs ${b}`);

describe('float64 reference (checked by hand)', () => {
  for (const resetAfter of [true, false]) {
    it(`H=1 I=1 T=2 with h0, resetAfter=${resetAfter}: pinned bc values and the hand-written cell`, () => {
      // bc -l, scale=30:  s(x)=1/(1+e(-x)); t(x)=(e(2*x)-1)/(e(2*x)+1)
      //   ra: r=s(wr*x+bir+ur*h+bhr) z=s(wz*x+biz+uz*h+bhz) n=t(wn*x+bin+r*(un*h+bhn))
      //   cho:                                              n=t(wn*x+bin+un*(r*h)+bhn)
      //   h'=(1-z)*n+z*h, x=[1.0,-0.5], h0=0.3
      const pinned = resetAfter
        ? [0.5319083598765875, 0.21214498153221134] // bc: .531908359876587471683636931680 .212144981532211352226880739206
        : [0.562445390690974, 0.3079166446961372]; // bc: .562445390690973991701743535800 .307916644696137239136561346619
      const res = referenceForward(cfg1({ resetAfter }), dict1(P), [1.0, -0.5], {
        seqLen: 2,
        batch: 1,
        h0: [0.3],
      });
      const h1 = cell(P, resetAfter, 1.0, 0.3);
      const h2 = cell(P, resetAfter, -0.5, h1);
      near(h1, pinned[0], 'hand cell vs bc, step 1');
      near(h2, pinned[1], 'hand cell vs bc, step 2');
      assert.deepEqual(res.outputShape, [2, 1, 1]);
      assert.deepEqual(res.hNShape, [1, 1, 1]);
      near(res.output[0], pinned[0], 'output t=0');
      near(res.output[1], pinned[1], 'output t=1');
      near(res.hN[0], pinned[1], 'hN');
    });
  }

  it('the two reset variants differ (so a test comparing them can tell them apart)', () => {
    const a = referenceForward(cfg1({ resetAfter: true }), dict1(P), [1, -0.5], {
      seqLen: 2,
      batch: 1,
      h0: [0.3],
    });
    const b = referenceForward(cfg1({ resetAfter: false }), dict1(P), [1, -0.5], {
      seqLen: 2,
      batch: 1,
      h0: [0.3],
    });
    assert.ok(Math.abs(a.hN[0] - b.hN[0]) > 1e-3);
  });

  it('H=2: row-major [3H, in] layout and U_n (r*h) vs r*(U_n h) with a full U_n', () => {
    // I = 1, H = 2, T = 1, no bias; W_ih rows r0 r1 z0 z1 n0 n1, W_hh [6, 2].
    const wih = [0.3, -0.2, 0.1, 0.4, -0.5, 0.6];
    const whh = [0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, 0.8, -0.9, 0.15, 0.25, -0.35];
    const h = [0.5, -0.25];
    const x = 0.7;
    const cfg: RefConfig = {
      inputSize: 1,
      hiddenSize: 2,
      numLayers: 1,
      bidirectional: false,
      bias: false,
      resetAfter: true,
    };
    const dict = { weight_ih_l0: wih, weight_hh_l0: whh };
    for (const resetAfter of [true, false]) {
      const res = referenceForward({ ...cfg, resetAfter }, dict, [x], {
        seqLen: 1,
        batch: 1,
        h0: h,
      });
      const r = [0, 1].map((j) => sig(wih[j] * x + whh[j * 2] * h[0] + whh[j * 2 + 1] * h[1]));
      const z = [0, 1].map((j) =>
        sig(wih[2 + j] * x + whh[(2 + j) * 2] * h[0] + whh[(2 + j) * 2 + 1] * h[1]),
      );
      const n = [0, 1].map((j) => {
        const row = (4 + j) * 2;
        const rec = resetAfter
          ? r[j] * (whh[row] * h[0] + whh[row + 1] * h[1])
          : whh[row] * (r[0] * h[0]) + whh[row + 1] * (r[1] * h[1]);
        return Math.tanh(wih[4 + j] * x + rec);
      });
      for (let j = 0; j < 2; j++)
        near(res.hN[j], (1 - z[j]) * n[j] + z[j] * h[j], `resetAfter=${resetAfter} h[${j}]`);
    }
  });

  it('no bias equals zero biases', () => {
    const d = dict1(P);
    const noBias = { weight_ih_l0: d.weight_ih_l0, weight_hh_l0: d.weight_hh_l0 };
    const zeros = { ...noBias, bias_ih_l0: [0, 0, 0], bias_hh_l0: [0, 0, 0] };
    const a = referenceForward(cfg1({ bias: false }), noBias, [1, -0.5], { seqLen: 2, batch: 1 });
    const b = referenceForward(cfg1(), zeros, [1, -0.5], { seqLen: 2, batch: 1 });
    assert.deepEqual(a, b);
  });

  it('bidirectional, lengths, batchFirst: reverse runs over each own prefix; padding is 0', () => {
    // Reverse direction: different scalars so a direction mix-up shows.
    const R: Scalars = { ...P, wr: -0.4, wn: 0.3, un: 0.9, bhn: -0.2 };
    const dict = { ...dict1(P), ...dict1(R, '_l0_reverse') };
    const cfg = cfg1({ bidirectional: true, resetAfter: false });
    // B = 2, T = 3; sequence 0 has length 3, sequence 1 has length 2. Time-major x[t][b].
    const xs = [
      [0.9, -0.3],
      [0.2, 0.8],
      [-0.6, 0.55], // padding for b = 1
    ];
    const h0 = [0.1, -0.2, 0.3, 0.05]; // [L*D=2, B=2, H=1]: fwd b0, fwd b1, rev b0, rev b1
    const tm = referenceForward(cfg, dict, xs.flat(), { seqLen: 3, batch: 2, h0, lengths: [3, 2] });
    // Hand: forward
    const f0 = [cell(P, false, xs[0][0], h0[0])];
    f0.push(cell(P, false, xs[1][0], f0[0]));
    f0.push(cell(P, false, xs[2][0], f0[1]));
    const f1 = [cell(P, false, xs[0][1], h0[1])];
    f1.push(cell(P, false, xs[1][1], f1[0]));
    // reverse: b0 from t=2 down, b1 from t=1 down (its own last valid step)
    const r0 = [0, 0, 0];
    r0[2] = cell(R, false, xs[2][0], h0[2]);
    r0[1] = cell(R, false, xs[1][0], r0[2]);
    r0[0] = cell(R, false, xs[0][0], r0[1]);
    const r1 = [0, 0];
    r1[1] = cell(R, false, xs[1][1], h0[3]);
    r1[0] = cell(R, false, xs[0][1], r1[1]);
    // output [T=3, B=2, D*H=2]
    const want = [
      [f0[0], r0[0], f1[0], r1[0]],
      [f0[1], r0[1], f1[1], r1[1]],
      [f0[2], r0[2], 0, 0],
    ].flat();
    assert.equal(tm.output.length, 12);
    for (let i = 0; i < 12; i++) near(tm.output[i], want[i], `output[${i}]`);
    assert.equal(tm.output[10], 0);
    assert.equal(tm.output[11], 0);
    const wantHN = [f0[2], f1[1], r0[0], r1[0]];
    for (let i = 0; i < 4; i++) near(tm.hN[i], wantHN[i], `hN[${i}]`);

    // batchFirst: same numbers, x and output transposed to [B, T, ...].
    const xbf = [0, 1].flatMap((b) => [0, 1, 2].map((t) => xs[t][b]));
    const bf = referenceForward(cfg, dict, xbf, {
      seqLen: 3,
      batch: 2,
      h0,
      lengths: [3, 2],
      batchFirst: true,
    });
    assert.deepEqual(bf.outputShape, [2, 3, 2]);
    for (let b = 0; b < 2; b++) {
      for (let t = 0; t < 3; t++) {
        for (let k = 0; k < 2; k++)
          assert.equal(bf.output[(b * 3 + t) * 2 + k], tm.output[(t * 2 + b) * 2 + k]);
      }
    }
    assert.deepEqual(bf.hN, tm.hN);

    // A length of 0 leaves the state at h0 and all outputs 0.
    const z = referenceForward(cfg, dict, xs.flat(), { seqLen: 3, batch: 2, h0, lengths: [0, 2] });
    for (let t = 0; t < 3; t++) assert.deepEqual([z.output[t * 4], z.output[t * 4 + 1]], [0, 0]);
    assert.equal(z.hN[0], h0[0]);
    assert.equal(z.hN[2], h0[2]);
  });

  it('two layers: layer 1 reads [forward, reverse] of layer 0; hN is [L*D, B, H]', () => {
    const R: Scalars = { ...P, wr: -0.4, wn: 0.3 };
    // Layer 1 has input size D*H = 2: weight_ih [3, 2].
    const A: Scalars = { ...P, ur: -0.1, un: 0.5 };
    const B2: Scalars = { ...R, uz: -0.2 };
    const v = [0.3, -0.7]; // second input column of layer 1, forward; reverse uses [0.45, 0.2]
    const dict: ParamDict = {
      ...dict1(P),
      ...dict1(R, '_l0_reverse'),
      ...dict1(A, '_l1'),
      ...dict1(B2, '_l1_reverse'),
    };
    dict.weight_ih_l1 = [A.wr, v[0], A.wz, v[1], A.wn, 0.25];
    dict.weight_ih_l1_reverse = [B2.wr, 0.45, B2.wz, 0.2, B2.wn, -0.15];
    const cfg = cfg1({ numLayers: 2, bidirectional: true });
    assert.deepEqual(parameterNames(cfg), [
      'weight_ih_l0',
      'weight_hh_l0',
      'bias_ih_l0',
      'bias_hh_l0',
      'weight_ih_l0_reverse',
      'weight_hh_l0_reverse',
      'bias_ih_l0_reverse',
      'bias_hh_l0_reverse',
      'weight_ih_l1',
      'weight_hh_l1',
      'bias_ih_l1',
      'bias_hh_l1',
      'weight_ih_l1_reverse',
      'weight_hh_l1_reverse',
      'bias_ih_l1_reverse',
      'bias_hh_l1_reverse',
    ]);
    const x = [0.5, -1.0];
    const res = referenceForward(cfg, dict, x, { seqLen: 2, batch: 1 });
    const f = [cell(P, true, x[0], 0)];
    f.push(cell(P, true, x[1], f[0]));
    const r = [0, 0];
    r[1] = cell(R, true, x[1], 0);
    r[0] = cell(R, true, x[0], r[1]);
    // Layer 1 cell with a two-wide input [f, r]: gate row g has weights w[2g], w[2g+1].
    const cell2 = (p: Scalars, w: number[], a: number, b: number, h: number): number => {
      const rr = sig(w[0] * a + w[1] * b + p.bir + p.ur * h + p.bhr);
      const zz = sig(w[2] * a + w[3] * b + p.biz + p.uz * h + p.bhz);
      const nn = Math.tanh(w[4] * a + w[5] * b + p.bin + rr * (p.un * h + p.bhn));
      return (1 - zz) * nn + zz * h;
    };
    const w1 = dict.weight_ih_l1 as number[];
    const w1r = dict.weight_ih_l1_reverse as number[];
    const g = [cell2(A, w1, f[0], r[0], 0)];
    g.push(cell2(A, w1, f[1], r[1], g[0]));
    const q = [0, 0];
    q[1] = cell2(B2, w1r, f[1], r[1], 0);
    q[0] = cell2(B2, w1r, f[0], r[0], q[1]);
    const want = [g[0], q[0], g[1], q[1]];
    for (let i = 0; i < 4; i++) near(res.output[i], want[i], `output[${i}]`);
    const wantHN = [f[1], r[0], g[1], q[0]];
    for (let i = 0; i < 4; i++) near(res.hN[i], wantHN[i], `hN[${i}]`);
  });
});
