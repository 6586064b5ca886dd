/** Forward and streaming against the float64 reference, for one backend and ISA variant. */
import assert from 'node:assert/strict';
import { GRU } from '../../ts/index.js';
import type { Backend } from '../../ts/backends/backend.js';
import { CASES, caseData, caseTitle, configOf, randomParams, type Case } from '../cases.js';
import { referenceForward } from '../reference.js';
import { FORWARD, STREAM_VS_FORWARD } from '../tolerance.js';
import { assertClose, ErrorTable, rng, uniform } from '../util.js';

/** Worst errors per backend/ISA, printed at the end of the run. */
export const forwardErrors = new ErrorTable();

function makeNet(backend: Backend, c: Case, params: Record<string, Float32Array>): GRU {
  const cfg = configOf(c);
  const gru = new GRU({ ...cfg, batchFirst: c.batchFirst ?? false, backend });
  if (c.byName) {
    for (const [name, data] of Object.entries(params)) gru.setParameter(name, data);
  } else {
    gru.loadStateDict(params);
  }
  return gru;
}

export function forwardSuite(backend: Backend, isa: string): void {
  const key = `${backend.name}/${isa}`;
  for (const c of CASES) {
    it(caseTitle(c), () => {
      const d = caseData(c);
      const { cfg } = d;
      const D = cfg.bidirectional ? 2 : 1;
      const H = cfg.hiddenSize;
      const xCopy = d.x.slice();
      const h0Copy = d.h0?.slice();
      const gru = makeNet(backend, c, d.params);
      try {
        const lengths = d.lengths && c.lengthsAsArray ? Array.from(d.lengths) : d.lengths;
        const res = gru.forward(d.x, {
          batch: c.B,
          seqLen: c.explicitSeqLen ? c.T : undefined,
          h0: d.h0,
          lengths,
        });
        const outShape = c.batchFirst ? [c.B, c.T, D * H] : [c.T, c.B, D * H];
        assert.deepEqual(res.outputShape, outShape, 'outputShape');
        assert.deepEqual(res.hNShape, [cfg.numLayers * D, c.B, H], 'hNShape');
        assert.ok(res.output instanceof Float32Array, 'output is a Float32Array');
        const o = assertClose(res.output, d.ref.output, FORWARD, `${key} output`, outShape);
        const h = assertClose(res.hN, d.ref.hN, FORWARD, `${key} hN`, res.hNShape);
        forwardErrors.record(key, 'max|diff|', Math.max(o.maxAbs, h.maxAbs));
        forwardErrors.record(key, 'worst/tol', Math.max(o.worst, h.worst));

        // Padding steps are exactly 0, not merely small.
        if (d.lengths) {
          for (let b = 0; b < c.B; b++) {
            for (let t: number = d.lengths[b]; t < c.T; t++) {
              const off = (c.batchFirst ? b * c.T + t : t * c.B + b) * D * H;
              for (let j = 0; j < D * H; j++) {
                if (res.output[off + j] !== 0) {
                  assert.fail(
                    `padding output at b=${b} t=${t} j=${j} is ${res.output[off + j]}, want 0`,
                  );
                }
              }
            }
          }
        }
        assert.deepEqual(d.x, xCopy, 'forward must not modify x');
        if (h0Copy) assert.deepEqual(d.h0, h0Copy, 'forward must not modify h0');

        // Into caller buffers (reused, dirty): the same values, in the given arrays.
        const outBuf = new Float32Array(res.output.length).fill(Number.NaN);
        const hNBuf = new Float32Array(res.hN.length).fill(7);
        const into = gru.forward(d.x, { batch: c.B, h0: d.h0, lengths, output: outBuf, hN: hNBuf });
        assert.equal(into.output, outBuf, 'output is the given array');
        assert.equal(into.hN, hNBuf, 'hN is the given array');
        assert.deepEqual(
          outBuf,
          res.output,
          'output written into the given array equals a fresh one',
        );
        assert.deepEqual(hNBuf, res.hN, 'hN written into the given array equals a fresh one');

        // returnSequences=false: no output, the same hN as the full call.
        const last = gru.forward(d.x, { batch: c.B, h0: d.h0, lengths, returnSequences: false });
        assert.equal(last.output, null, 'output with returnSequences=false');
        assert.deepEqual(last.hNShape, res.hNShape);
        assert.deepEqual(last.hN, res.hN, 'hN with returnSequences=false equals the full call');
      } finally {
        gru.dispose();
      }
    });
  }

  it('a forward with weights set by name matches the reference fed the same named tensors', () => {
    // Per name, a different tensor: a mix-up of layer, direction or kind changes the result.
    const cfg = {
      inputSize: 5,
      hiddenSize: 9,
      numLayers: 2,
      bidirectional: true,
      bias: true,
      resetAfter: false,
    };
    const rand = rng(77);
    const params = randomParams(cfg, rand, 1.5);
    const x = uniform(6 * 2 * 5, -1, 1, rand);
    const gru = new GRU({ ...cfg, seed: 1, backend });
    try {
      for (const name of gru.parameterNames()) gru.setParameter(name, params[name]);
      const res = gru.forward(x, { batch: 2 });
      const ref = referenceForward(cfg, params, x, { seqLen: 6, batch: 2 });
      assertClose(res.output!, ref.output, FORWARD, `${key} output`, res.outputShape);
      assertClose(res.hN, ref.hN, FORWARD, `${key} hN`, res.hNShape);
    } finally {
      gru.dispose();
    }
  });
}

interface StreamCase {
  H: number;
  I: number;
  B: number;
  T: number;
  L: number;
  resetAfter: boolean;
  bias: boolean;
  h0: boolean;
}

// prettier-ignore
const STREAM_CASES: readonly StreamCase[] = [
  { H: 17, I: 7, B: 3, T: 23, L: 2, resetAfter: true, bias: true, h0: true },
  { H: 1, I: 1, B: 1, T: 40, L: 1, resetAfter: false, bias: true, h0: false },
  { H: 97, I: 16, B: 5, T: 30, L: 3, resetAfter: false, bias: false, h0: true },
  { H: 128, I: 128, B: 1, T: 25, L: 1, resetAfter: true, bias: true, h0: false },
];

export function streamSuite(backend: Backend, isa: string): void {
  const key = `${backend.name}/${isa}`;
  for (const s of STREAM_CASES) {
    const title = `H${s.H} I${s.I} B${s.B} T${s.T} L${s.L} ${s.resetAfter ? 'resetAfter' : 'resetBefore'}${s.bias ? '' : ' nobias'}${s.h0 ? ' h0' : ''}`;
    it(`${title}: step by step and in chunks 1,7,3,rest equal the whole-sequence forward`, () => {
      const cfg = {
        inputSize: s.I,
        hiddenSize: s.H,
        numLayers: s.L,
        bidirectional: false,
        bias: s.bias,
        resetAfter: s.resetAfter,
      };
      const rand = rng(s.H * 1000 + s.T);
      const params = randomParams(cfg, rand, 1.5);
      const x = uniform(s.T * s.B * s.I, -1, 1, rand);
      const h0 = s.h0 ? uniform(s.L * s.B * s.H, -1, 1, rand) : undefined;
      const ref = referenceForward(cfg, params, x, { seqLen: s.T, batch: s.B, h0 });
      const gru = new GRU({ ...cfg, backend });
      try {
        gru.loadStateDict(params);
        const full = gru.forward(x, { batch: s.B, h0 });
        assertClose(full.output!, ref.output, FORWARD, `${key} forward output`, full.outputShape);
        const stepIn = s.B * s.I;
        const stepOut = s.B * s.H;
        for (const chunks of [Array<number>(s.T).fill(1), [1, 7, 3, s.T - 11]]) {
          const st = gru.stream({ batch: s.B, h0 });
          const out = new Float32Array(s.T * stepOut);
          let t = 0;
          let h: Float32Array = new Float32Array(0);
          for (const n of chunks) {
            const r = st.step(x.subarray(t * stepIn, (t + n) * stepIn));
            assert.deepEqual(r.outputShape, [n, s.B, s.H], 'step outputShape');
            out.set(r.output, t * stepOut);
            h = r.h.slice();
            t += n;
          }
          const what = `${key} stream chunks ${chunks.length === s.T ? '1 x T' : chunks.join(',')}`;
          const so = assertClose(
            out,
            full.output!,
            STREAM_VS_FORWARD,
            `${what} output vs forward`,
            [s.T, s.B, s.H],
          );
          const sh = assertClose(
            h,
            full.hN,
            STREAM_VS_FORWARD,
            `${what} h vs forward hN`,
            full.hNShape,
          );
          forwardErrors.record(key, 'stream-vs-forward', Math.max(so.maxAbs, sh.maxAbs));
          assertClose(out, ref.output, FORWARD, `${what} output vs reference`, [s.T, s.B, s.H]);
          assert.deepEqual(st.state(), h, 'state() equals the last step h');

          // reset(h0) starts over: the first chunk again gives the same output.
          st.reset(h0);
          const again = st.step(x.subarray(0, 3 * stepIn));
          assert.deepEqual(again.output, out.subarray(0, 3 * stepOut), 'after reset(h0)');
        }
        // stepInto: the same results, written into the caller's buffers, bitwise equal to step().
        {
          const a = gru.stream({ batch: s.B, h0 });
          const b = gru.stream({ batch: s.B, h0 });
          const into = new Float32Array(s.T * stepOut);
          const buffer = new Float32Array(stepOut);
          for (let t = 0; t < s.T; t++) {
            const frame = x.subarray(t * stepIn, (t + 1) * stepIn);
            const returned = b.stepInto(frame, buffer);
            assert.equal(returned, buffer, 'stepInto returns its output buffer');
            into.set(buffer, t * stepOut);
            assert.deepEqual(b.state(), a.step(frame).h, `stepInto state after step ${t}`);
          }
          assertClose(into, full.output!, STREAM_VS_FORWARD, `${key} stepInto output vs forward`, [
            s.T,
            s.B,
            s.H,
          ]);
          assert.throws(
            () => b.stepInto(x.subarray(0, stepIn), new Float32Array(stepOut + 1)),
            (e: unknown) => {
              const err = e as { code?: string; message?: string };
              return err.code === 'ERR_GRU_SHAPE' && /output/.test(err.message ?? '');
            },
          );
          assert.throws(
            () => b.stepInto(x.subarray(0, stepIn), [0] as unknown as Float32Array),
            (e: unknown) => {
              const err = e as { code?: string; message?: string };
              return err.code === 'ERR_GRU_TYPE' && /output/.test(err.message ?? '');
            },
          );
        }

        // reset() with no argument starts from zeros.
        const st = gru.stream({ batch: s.B, h0 });
        st.step(x.subarray(0, stepIn));
        st.reset();
        const zeroStart = gru.forward(x.subarray(0, 2 * stepIn), { batch: s.B });
        const z = st.step(x.subarray(0, 2 * stepIn));
        assertClose(z.output, zeroStart.output!, STREAM_VS_FORWARD, `${key} reset() then 2 steps`, [
          2,
          s.B,
          s.H,
        ]);
      } finally {
        gru.dispose();
      }
    });
  }
}
