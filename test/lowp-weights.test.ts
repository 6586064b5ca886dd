/**
 * Reduced-precision weights for inference (GRU precision 'bf16' / 'int8', gru_net_set_precision):
 * on every backend and ISA, each forward case of test/cases.ts against the float64 reference of
 * the rounded weights (tight: the kernels are exact up to fp32 rounding) and of the original
 * weights (the stated bound of test/tolerance.ts); the packed weights really are smaller; the
 * parameters stay fp32; equality across ISAs where it is claimed; streams; and the errors
 * (training, bad precision) from the facade and from the core.
 */
import assert from 'node:assert/strict';
import { GRU, type GRUPrecision } from '../ts/index.js';
import type { Backend } from '../ts/backends/backend.js';
import { forEachBackend, forEachIsa } from './backends.js';
import { CASES, caseData, caseTitle, configOf, type Case } from './cases.js';
import { effectiveParams, roundBf16, quantizeInt8Rows } from './lowp-reference.js';
import { referenceForward, type RefResult } from './reference.js';
import {
  LOWP_VS_FP32_SLACK,
  LOWP_VS_ROUNDED,
  ROUNDED_ACTIVATIONS,
  ROUNDS_ACTIVATIONS,
} from './tolerance.js';
import { assertClose, assertThrowsCode, ErrorTable, rng, uniform } from './util.js';

const PRECISIONS = ['bf16', 'int8'] as const;
const errors = new ErrorTable();

interface Rounded {
  ref: RefResult;
  /** max over weight rows of sum_k |w~ - w| (tolerance.ts: LOWP_VS_FP32_SLACK). */
  rowBound: number;
  /** max over weight rows of sum_k |w~| (tolerance.ts: ROUNDED_ACTIVATIONS). */
  rowMagnitude: number;
}

const roundedCache = new Map<string, Rounded>();

function rounded(c: Case, precision: 'bf16' | 'int8'): Rounded {
  const key = `${CASES.indexOf(c)} ${precision}`;
  let r = roundedCache.get(key);
  if (r) return r;
  const d = caseData(c);
  const gates = 3 * d.cfg.hiddenSize;
  const eff = effectiveParams(d.params, precision, () => gates);
  let rowBound = 0;
  let rowMagnitude = 0;
  for (const [name, w] of Object.entries(d.params)) {
    if (!name.startsWith('weight_')) continue;
    const e = eff[name]!;
    const K = w.length / gates;
    for (let row = 0; row < gates; row++) {
      let s = 0;
      let m = 0;
      for (let k = 0; k < K; k++) {
        s += Math.abs(e[row * K + k]! - w[row * K + k]!);
        m += Math.abs(e[row * K + k]!);
      }
      rowBound = Math.max(rowBound, s);
      rowMagnitude = Math.max(rowMagnitude, m);
    }
  }
  const ref = referenceForward(d.cfg, eff, d.x, {
    seqLen: c.T,
    batch: c.B,
    batchFirst: c.batchFirst ?? false,
    h0: d.h0,
    lengths: d.lengths,
  });
  r = { ref, rowBound, rowMagnitude };
  roundedCache.set(key, r);
  return r;
}

/** A GRU of the case with its parameters, at `precision` (set before or after the weights). */
function makeNet(backend: Backend, c: Case, precision: GRUPrecision, setFirst: boolean): GRU {
  const d = caseData(c);
  const gru = new GRU({
    ...configOf(c),
    batchFirst: c.batchFirst ?? false,
    backend,
    ...(setFirst ? { precision } : {}),
  });
  gru.loadStateDict(d.params);
  if (!setFirst) gru.setPrecision(precision);
  return gru;
}

function run(gru: GRU, c: Case) {
  const d = caseData(c);
  return gru.forward(d.x, { batch: c.B, h0: d.h0, lengths: d.lengths });
}

/** Outputs per backend, ISA, precision and case, for the equality across ISAs. */
const outputs = new Map<string, Float32Array>();

function lowpSuite(backend: Backend, isa: string): void {
  const key = `${backend.name}/${isa}`;
  for (const precision of PRECISIONS) {
    CASES.forEach((c, index) => {
      it(`${precision} ${caseTitle(c)}`, () => {
        const d = caseData(c);
        const r = rounded(c, precision);
        // Half the cases quantize at creation (then on loading the weights), half on setPrecision.
        const gru = makeNet(backend, c, precision, index % 2 === 0);
        try {
          const res = run(gru, c);
          const out = res.output!;
          const shape = [out.length];
          // ISAs whose products round the activations too (avx512-dot) move each
          // pre-activation further (tolerance.ts ROUNDED_ACTIVATIONS).
          const activations = ROUNDS_ACTIVATIONS.includes(isa)
            ? ROUNDED_ACTIVATIONS[precision] * r.rowMagnitude
            : 0;
          const vsRounded = { abs: LOWP_VS_ROUNDED.abs + activations, rel: LOWP_VS_ROUNDED.rel };
          const o = assertClose(out, r.ref.output, vsRounded, `${key} ${precision}`, shape);
          const h = assertClose(res.hN, r.ref.hN, vsRounded, `${key} ${precision} hN`, [
            res.hN.length,
          ]);
          errors.record(`${key} ${precision}`, 'vs rounded', Math.max(o.maxAbs, h.maxAbs));
          // Against the original weights: within E + slack (tolerance.ts).
          const bound = r.rowBound + activations + LOWP_VS_FP32_SLACK;
          let worst = 0;
          for (let i = 0; i < out.length; i++)
            worst = Math.max(worst, Math.abs(out[i]! - d.ref.output[i]!));
          for (let i = 0; i < res.hN.length; i++)
            worst = Math.max(worst, Math.abs(res.hN[i]! - d.ref.hN[i]!));
          assert.ok(
            worst <= bound,
            `${key} ${precision}: max |diff| from the fp32 weights' reference ${worst} > bound ${bound}`,
          );
          errors.record(`${key} ${precision}`, 'vs fp32', worst);
          // The ratio where E is well above fp32 rounding (else it measures that rounding).
          if (r.rowBound > 1e-4)
            errors.record(`${key} ${precision}`, 'vs fp32 / E', worst / r.rowBound);
          outputs.set(`${key} ${precision} ${index}`, out);
        } finally {
          gru.dispose();
        }
      });
    });
  }
}

/** Runnable ISAs of a backend whose bf16 / int8 results are claimed bitwise equal. */
function equalGroups(backend: Backend): string[][] {
  const runnable = backend.isaList().filter((isa) => backend.isaSupported(isa));
  // The FMA ISAs sum over k in the same order with one rounding per step (lowp_panels.h).
  const fma = runnable.filter((isa) => ['avx512', 'avx2', 'neon'].includes(isa));
  // wasm has no FMA: wasm128 and scalar both multiply and add, two roundings, in one order.
  const twoRoundings = runnable.filter((isa) => ['wasm128', 'scalar'].includes(isa));
  return [fma, backend.name.startsWith('wasm') ? twoRoundings : []].filter((g) => g.length > 1);
}

function params(I: number, H: number, seed: number): Record<string, Float32Array> {
  const rand = rng(seed);
  const k = 1 / Math.sqrt(H);
  return {
    weight_ih_l0: uniform(3 * H * I, -k, k, rand),
    weight_hh_l0: uniform(3 * H * H, -k, k, rand),
    bias_ih_l0: uniform(3 * H, -k, k, rand),
    bias_hh_l0: uniform(3 * H, -k, k, rand),
  };
}

describe('reduced-precision weights (bf16, int8)', () => {
  after(() => errors.print('bf16 / int8 forward: max |diff| (rounded-weight and fp32 references)'));

  forEachBackend('lowp weights', (backend) => {
    describe('forward vs float64 references', () =>
      forEachIsa(backend, (isa) => lowpSuite(backend, isa)));

    // A describe after the one above, so that it runs after it (mocha runs a suite's own tests
    // before its child suites).
    describe('equality across ISAs', () => {
      for (const group of equalGroups(backend)) {
        it(`bitwise equal across ${group.join(', ')}`, () => {
          let compared = 0;
          for (const precision of PRECISIONS)
            CASES.forEach((_c, index) => {
              const first = outputs.get(`${backend.name}/${group[0]} ${precision} ${index}`);
              for (const isa of group.slice(1)) {
                const other = outputs.get(`${backend.name}/${isa} ${precision} ${index}`);
                assert.ok(first && other, `outputs of ${group[0]} and ${isa} (case ${index})`);
                for (let i = 0; i < first.length; i++) {
                  if (!Object.is(first[i], other[i]))
                    assert.fail(
                      `${precision} case ${index}: ${group[0]} ${first[i]} vs ${isa} ${other[i]} at ${i}`,
                    );
                }
                compared++;
              }
            });
          assert.ok(compared > 0);
        });
      }
    });

    it('the packed weights are half (bf16) and about a quarter (int8) of fp32, and gru_bytes falls', () => {
      const I = 37,
        H = 61;
      const gru = new GRU({
        inputSize: I,
        hiddenSize: H,
        numLayers: 2,
        bidirectional: true,
        backend,
        seed: 3,
      });
      try {
        const fp32 = gru.weightBytes();
        // At least the weights themselves: 2 layers x 2 directions x 3H x (K + H) floats.
        const floats = 2 * 3 * H * (I + H) + 2 * 3 * H * (2 * H + H);
        assert.ok(fp32 >= 4 * floats, `fp32 ${fp32} >= ${4 * floats}`);
        const total32 = backend.bytes(gru._handle());
        // Panel sets: 2 layers x 2 directions x (input, recurrent), 3 (H + 16) rows at most each.
        const rows = 8 * 3 * (H + 16);
        gru.setPrecision('bf16');
        assert.equal(gru.precision, 'bf16');
        const bf16 = gru.weightBytes();
        // 2 bytes per weight; the dot-product kernels' order (native avx512-dot on AMD, pack.h)
        // pads an odd K to whole pairs: one more k per row of such a set (I = 37, H = 61 are odd).
        assert.ok(bf16 >= fp32 / 2 && bf16 <= fp32 / 2 + 2 * rows, `bf16 ${bf16} vs fp32 ${fp32}`);
        assert.equal(
          backend.bytes(gru._handle()),
          total32 - fp32 + bf16,
          'gru_bytes: fp32 panels freed',
        );
        gru.setPrecision('int8');
        const int8 = gru.weightBytes();
        // A byte per weight plus a float scale per output row; the dot-product order adds per row
        // up to 3 padding k and an int32 row sum.
        assert.ok(
          int8 > fp32 / 4 && int8 <= fp32 / 4 + (4 + 3 + 4) * rows,
          `int8 ${int8} vs fp32 ${fp32}`,
        );
        assert.equal(backend.netGetPrecision(gru._handle()), 2);
        gru.setPrecision('fp32');
        assert.equal(gru.weightBytes(), fp32);
        assert.equal(backend.bytes(gru._handle()), total32);
      } finally {
        gru.dispose();
      }
    });

    it('parameters stay fp32; setting them quantizes again; back to fp32 is the fp32 forward bitwise', () => {
      const I = 9,
        H = 21,
        T = 30;
      const p1 = params(I, H, 11);
      const p2 = params(I, H, 12);
      const x = uniform(T * I, -1, 1, rng(13));
      const fp32 = new GRU({ inputSize: I, hiddenSize: H, backend });
      const lowp = new GRU({ inputSize: I, hiddenSize: H, backend, precision: 'int8' });
      const fresh = new GRU({ inputSize: I, hiddenSize: H, backend });
      try {
        fp32.loadStateDict(p1);
        const y32 = fp32.forward(x).output!;
        lowp.loadStateDict(p1);
        assert.deepEqual(lowp.getParameter('weight_hh_l0'), p1.weight_hh_l0, 'master copy kept');
        const y8 = lowp.forward(x).output!;
        assert.notDeepEqual(y8, y32);
        lowp.setPrecision('fp32');
        assert.deepEqual(lowp.forward(x).output, y32, 'back to fp32: bitwise the fp32 forward');
        lowp.setPrecision('int8');
        assert.deepEqual(lowp.forward(x).output, y8, 'int8 again: the same quantization');
        // New weights while int8: quantized from them, as a net made int8 with them.
        lowp.setParameter('weight_hh_l0', p2.weight_hh_l0);
        fresh.loadStateDict({ ...p1, weight_hh_l0: p2.weight_hh_l0 });
        fresh.setPrecision('int8');
        assert.deepEqual(lowp.forward(x).output, fresh.forward(x).output);
        // The recurrent weights as int8 sees them: the one-step output matches the reference.
        const q = quantizeInt8Rows(p2.weight_hh_l0, 3 * H, H);
        assert.ok(
          q.some((v, i) => v !== p2.weight_hh_l0[i]),
          'int8 changes some weights',
        );
        assert.equal(roundBf16(1 + 2 ** -8), 1, 'bf16 ties to even');
        assert.equal(roundBf16(1 + 3 * 2 ** -8), 1 + 2 ** -6, 'bf16 ties to even (odd kept part)');
      } finally {
        fp32.dispose();
        lowp.dispose();
        fresh.dispose();
      }
    });

    it('streams and stream() run at the GRU precision, bitwise as forward', () => {
      const I = 5,
        H = 33,
        T = 12;
      const gru = new GRU({ inputSize: I, hiddenSize: H, backend, seed: 4, precision: 'bf16' });
      try {
        const x = uniform(T * I, -1, 1, rng(5));
        const y = gru.forward(x).output!;
        const streams = gru.streams({ capacity: 2 });
        const id = streams.open();
        for (let t = 0; t < T; t++) {
          const out = streams.step([id], x.subarray(t * I, (t + 1) * I));
          assert.deepEqual(out, y.subarray(t * H, (t + 1) * H), `step ${t}`);
        }
        const stream = gru.stream();
        for (let t = 0; t < T; t++) {
          const out = stream.step(x.subarray(t * I, (t + 1) * I)).output;
          assert.deepEqual(out, y.subarray(t * H, (t + 1) * H), `stream() step ${t}`);
        }
        // Not the fp32 numbers: the streams read the bf16 weights.
        gru.setPrecision('fp32');
        assert.notDeepEqual(gru.forward(x).output, y);
      } finally {
        gru.dispose();
      }
    });

    it('training needs fp32: the facade and the core refuse it', () => {
      const I = 4,
        H = 8,
        T = 3;
      const gru = new GRU({ inputSize: I, hiddenSize: H, backend, seed: 1 });
      try {
        const x = uniform(T * I, -1, 1, rng(2));
        gru.forward(x, { train: true });
        gru.setPrecision('bf16');
        // What the fp32 training forward kept is gone: backward has nothing to run on.
        assertThrowsCode(
          () => gru.backward({ dOutput: new Float32Array(T * H) }),
          'ERR_GRU_STATE',
          ['train'],
        );
        assertThrowsCode(() => gru.forward(x, { train: true }), 'ERR_GRU_STATE', [
          'precision',
          'bf16',
        ]);
        const net = gru._handle();
        const y = new Float32Array(T * H);
        // The core itself, with the facade bypassed.
        assertThrowsCode(
          () => backend.netForwardTrain(net, T, 1, 0, x, null, null, y, null, 0, 0),
          'ERR_GRU_STATE',
          ['precision', 'bf16'],
        );
        gru.setPrecision('int8');
        assertThrowsCode(() => gru.forward(x, { train: true }), 'ERR_GRU_STATE', ["'int8'"]);
        gru.setPrecision('fp32');
        gru.forward(x, { train: true });
        gru.backward({ dOutput: new Float32Array(T * H) });
      } finally {
        gru.dispose();
      }
    });

    it('switching precisions and disposing leaves no core memory behind', () => {
      const start = backend.allocatedBytes();
      const gru = new GRU({ inputSize: 7, hiddenSize: 19, numLayers: 2, backend, seed: 8 });
      const created = backend.allocatedBytes();
      for (const p of ['bf16', 'int8', 'int8', 'fp32', 'int8', 'bf16', 'fp32'] as const)
        gru.setPrecision(p);
      assert.equal(backend.allocatedBytes(), created, 'back at fp32: the same bytes');
      gru.setPrecision('int8');
      gru.dispose();
      assert.equal(backend.allocatedBytes(), start);
    });

    it('an unknown precision is refused by the facade and by the core', () => {
      assertThrowsCode(
        () => new GRU({ inputSize: 2, hiddenSize: 2, backend, precision: 'fp16' as GRUPrecision }),
        'ERR_GRU_ARG',
        ['precision', 'fp16'],
      );
      const gru = new GRU({ inputSize: 2, hiddenSize: 2, backend });
      try {
        assertThrowsCode(() => gru.setPrecision('int4' as GRUPrecision), 'ERR_GRU_ARG', [
          'precision',
        ]);
        assertThrowsCode(() => backend.netSetPrecision(gru._handle(), 3), 'ERR_GRU_ARG', [
          'precision',
        ]);
        assertThrowsCode(() => backend.netSetPrecision(gru._handle(), -1), 'ERR_GRU_ARG', [
          'precision',
        ]);
        assert.equal(gru.precision, 'fp32');
        assert.equal(backend.netGetPrecision(gru._handle()), 0);
      } finally {
        gru.dispose();
      }
      assertThrowsCode(() => gru.setPrecision('bf16'), 'ERR_GRU_DISPOSED');
      // The core checks the handle when the facade is bypassed: destroyed, or of another kind.
      const net = backend.netCreate(2, 2, 1, 0, 1, 1);
      backend.destroy(net);
      assertThrowsCode(() => backend.netSetPrecision(net, 1), 'ERR_GRU_DISPOSED');
      assertThrowsCode(() => backend.netWeightBytes(net), 'ERR_GRU_DISPOSED');
      assertThrowsCode(() => backend.netGetPrecision(net), 'ERR_GRU_DISPOSED');
      const dense = backend.denseCreate(2, 2, 1, 0);
      try {
        assertThrowsCode(() => backend.netSetPrecision(dense as never, 1), 'ERR_GRU_TYPE');
        assertThrowsCode(() => backend.netWeightBytes(dense as never), 'ERR_GRU_TYPE');
      } finally {
        backend.destroy(dense);
      }
    });
  });
});
