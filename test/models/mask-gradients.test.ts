/**
 * The masked recurrent paths of the model API against the float64 GRU oracle (test/reference.ts,
 * test/reference-train.ts, itself checked against finite differences), on every backend: a GRU
 * (returnSequences or not, goBackwards, zeroOutputForMask) and a Bidirectional GRU given masks
 * with right, left and middle padding, holes between valid steps, and a sample all padding.
 * Keras 3's semantics in float64 (keras/src/backend/jax/rnn.py): each sample runs over its
 * valid steps only, in processing order (the oracle on those steps alone); the output at a
 * masked step is the carried state (0 before any valid step), or 0 with zeroOutputForMask and
 * in a Bidirectional; goBackwards returns the outputs in processing order. The loss
 * sum(dy * output), dy nonzero at masked steps too, gives dx (0 at padding) and the parameter
 * gradients (summed over the samples): a carried state takes the gradients of the steps that
 * repeat it.
 */
import { layers, sequential, tensor, type ModelLayer } from '../../ts/index.js';
import { forEachBackend } from '../backends.js';
import { referenceGruGradients } from '../reference-train.js';
import type { RefConfig } from '../reference.js';
import { GRADIENT, LAYERS } from '../tolerance.js';
import { assertClose, rng, uniform } from '../util.js';

/** Per sample, the steps that count: full, right, left and middle padding, none, holes. */
const MASKS = ['11111', '11100', '00111', '01110', '00000', '10101', '01001'].map((m) =>
  [...m].map(Number),
);
const [T, F, H] = [5, 3, 4];
const B = MASKS.length;

interface Case {
  bidirectional: boolean;
  sequences: boolean;
  backwards: boolean;
  zeroOutput: boolean;
}

/** The float64 layer: outputs [B, T, D*H] (or [B, D*H]), dx, and the parameter gradients. */
function reference(
  c: Case,
  cfg: RefConfig,
  params: Record<string, Float32Array>,
  x: Float32Array,
  dy: Float32Array,
) {
  const D = c.bidirectional ? 2 : 1;
  const W = D * H;
  const out = new Float64Array(c.sequences ? B * T * W : B * W);
  const dx = new Float64Array(x.length);
  const grads: Record<string, Float64Array> = {};
  const zero = c.zeroOutput || c.bidirectional;
  MASKS.forEach((m, b) => {
    // Processing position p runs step order[p]; the valid ones alone make the sequence.
    const order = Array.from({ length: T }, (_, p) => (c.backwards ? T - 1 - p : p));
    const valid = order.filter((t) => m[t] === 1);
    const len = valid.length;
    // Output position p (processing order; a Bidirectional's is the step itself) <- valid j.
    const source = order.map((t, p) => {
      const before = order.slice(0, p + 1).filter((s) => m[s] === 1).length;
      return m[t] === 1 ? before - 1 : zero ? -1 : before - 1; // -1: zeros (or the zero h0)
    });
    const xs = new Float32Array(len * F);
    valid.forEach((t, j) => xs.set(x.subarray((b * T + t) * F, (b * T + t + 1) * F), j * F));
    let dOut: Float64Array | null = null;
    let dHN: Float64Array | null = null;
    if (c.sequences) {
      dOut = new Float64Array(len * W);
      source.forEach((j, p) => {
        if (j < 0) return;
        for (let k = 0; k < W; k++) dOut![j * W + k]! += dy[(b * T + p) * W + k]!;
      });
    } else {
      const lastMasked = m[order[T - 1]!] === 0;
      dHN = Float64Array.from(dy.subarray(b * W, (b + 1) * W));
      if (zero && lastMasked && !c.bidirectional) dHN.fill(0);
    }
    if (len === 0) return; // the state stays 0: every output 0, no gradient
    const r = referenceGruGradients(
      cfg,
      params,
      xs,
      { seqLen: len, batch: 1, batchFirst: true },
      dOut,
      dHN,
    );
    for (const [k, g] of Object.entries(r.grads)) {
      grads[k] ??= new Float64Array(g.length);
      for (let i = 0; i < g.length; i++) grads[k]![i] += g[i]!;
    }
    valid.forEach((t, j) => dx.set(r.dx.subarray(j * F, (j + 1) * F), (b * T + t) * F));
    if (c.sequences) {
      source.forEach((j, p) => {
        if (j >= 0) out.set(r.output.subarray(j * W, (j + 1) * W), (b * T + p) * W);
      });
    } else if (!(zero && m[order[T - 1]!] === 0 && !c.bidirectional)) {
      out.set(r.hN, b * W);
    }
  });
  return { out, dx, grads };
}

const CASES: Case[] = [];
for (const sequences of [true, false]) {
  for (const backwards of [false, true])
    for (const zeroOutput of [false, true])
      CASES.push({ bidirectional: false, sequences, backwards, zeroOutput });
  CASES.push({ bidirectional: true, sequences, backwards: false, zeroOutput: false });
}

forEachBackend('models: masked GRU gradients against float64', (backend) => {
  for (const c of CASES) {
    const name = c.bidirectional
      ? 'Bidirectional (concat)'
      : `GRU${c.backwards ? ' goBackwards' : ''}${c.zeroOutput ? ' zeroOutputForMask' : ''}`;
    it(`${name}${c.sequences ? ' returnSequences' : ''}: outputs, dx and parameter gradients`, () => {
      const gru = layers.gru({
        units: H,
        returnSequences: c.sequences,
        ...(c.bidirectional ? {} : { goBackwards: c.backwards, zeroOutputForMask: c.zeroOutput }),
      });
      const layer: ModelLayer = c.bidirectional ? layers.bidirectional({ layer: gru }) : gru;
      const model = sequential({
        seed: 9,
        backend,
        layers: [layers.masking({ inputShape: [T, F] }), layer],
      });
      try {
        const r = rng(c.bidirectional ? 31 : 30);
        const x = uniform(B * T * F, -1, 1, r);
        const mask = new Float32Array(B * T);
        MASKS.forEach((m, b) => {
          for (let t = 0; t < T; t++) {
            if (m[t] === 1) mask[b * T + t] = 1;
            else x.fill(0, (b * T + t) * F, (b * T + t + 1) * F); // Masking's padding
          }
        });
        const core = layer.trainables()[0]!;
        const params = Object.fromEntries(
          core.parameterNames().map((n) => [n, core.getParameter(n)]),
        );
        const cfg: RefConfig = {
          inputSize: F,
          hiddenSize: H,
          numLayers: 1,
          bidirectional: c.bidirectional,
          bias: true,
          resetAfter: true,
        };
        const y = layer._forwardMasked(tensor(x, [B, T, F]), true, mask).y;
        const dy = uniform(y.data.length, -1, 1, r);
        const ref = reference(c, cfg, params, x, dy);
        assertClose(y.data, ref.out, LAYERS, 'output', y.shape);
        core.zeroGrad();
        const dx = layer.backward(dy, true)!;
        assertClose(dx, ref.dx, GRADIENT, 'dx', [B, T, F]);
        for (const p of core.parameterNames())
          assertClose(
            core.getGradient(p),
            ref.grads[p]!,
            GRADIENT,
            `d${p}`,
            core.parameterShape(p),
          );
      } finally {
        model.dispose();
      }
    });
  }
});
