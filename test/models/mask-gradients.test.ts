/**
 * The masked recurrent paths of the model API against the float64 GRU oracle (test/reference.ts,
 * test/reference-train.ts, itself checked against finite differences), on every backend: a GRU
 * and a Bidirectional GRU given a mask with right, left and middle padding and a sample all
 * padding. Keras's semantics in float64: each sample runs over its valid steps only (the oracle
 * on that run alone); the output at padding is the carried state (GRU) or 0 (Bidirectional);
 * the loss sum(dy * output) over the valid steps gives dx (0 at padding) and the parameter
 * gradients (summed over the samples).
 */
import { layers, sequential, tensor, type ModelLayer } from '../../ts/index.js';
import { forEachBackend } from '../backends.js';
import { referenceGruGradients } from '../reference-train.js';
import type { RefConfig } from '../reference.js';
import { GRADIENT, LAYERS } from '../tolerance.js';
import { assertClose, rng, uniform } from '../util.js';

const RUNS: [number, number][] = [
  [0, 5],
  [0, 3],
  [2, 5],
  [1, 4],
  [0, 0],
];
const [T, F, H] = [5, 3, 4];

/** The float64 layer: outputs [B, T, D*H] (or [B, D*H]), dx, and the parameter gradients. */
function reference(
  cfg: RefConfig,
  params: Record<string, Float32Array>,
  x: Float32Array,
  dy: Float32Array,
  sequences: boolean,
) {
  const D = cfg.bidirectional ? 2 : 1;
  const B = RUNS.length;
  const out = new Float64Array(sequences ? B * T * D * H : B * D * H);
  const dx = new Float64Array(x.length);
  const grads: Record<string, Float64Array> = {};
  RUNS.forEach(([start, end], b) => {
    const len = end - start;
    // The valid run alone, as one sequence (length 0: the state stays 0).
    const xs = x.subarray((b * T + start) * F, (b * T + end) * F);
    let dOut: Float64Array | null = null;
    let dHN: Float64Array | null = null;
    if (sequences) {
      dOut = Float64Array.from(dy.subarray((b * T + start) * D * H, (b * T + end) * D * H));
    } else {
      // [B, D*H] -> [D, 1, H]
      dHN = Float64Array.from(dy.subarray(b * D * H, (b + 1) * D * H));
    }
    if (len === 0) return;
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
    dx.set(r.dx, (b * T + start) * F);
    if (sequences) {
      out.set(r.output, (b * T + start) * D * H);
      // A GRU carries its last state over the padding after the run; a Bidirectional gives 0.
      if (!cfg.bidirectional) for (let t = end; t < T; t++) out.set(r.hN, (b * T + t) * H);
    } else {
      out.set(r.hN, b * D * H);
    }
  });
  return { out, dx, grads };
}

forEachBackend('models: masked GRU gradients against float64', (backend) => {
  for (const bidirectional of [false, true]) {
    for (const sequences of [true, false]) {
      it(`${bidirectional ? 'Bidirectional (concat)' : 'GRU'}${sequences ? ' returnSequences' : ''}: outputs, dx and parameter gradients`, () => {
        const gru = layers.gru({ units: H, returnSequences: sequences });
        const layer: ModelLayer = bidirectional ? layers.bidirectional({ layer: gru }) : gru;
        const model = sequential({
          seed: 9,
          backend,
          layers: [layers.masking({ inputShape: [T, F] }), layer],
        });
        try {
          const r = rng(bidirectional ? 31 : 30);
          const x = uniform(RUNS.length * T * F, -1, 1, r);
          const mask = new Float32Array(RUNS.length * T);
          RUNS.forEach(([s, e], b) => {
            for (let t = 0; t < T; t++) {
              if (t >= s && t < e) mask[b * T + t] = 1;
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
            bidirectional,
            bias: true,
            resetAfter: true,
          };
          const D = bidirectional ? 2 : 1;
          const y = layer._forwardMasked(tensor(x, [RUNS.length, T, F]), true, mask).y;
          const dy = uniform(y.data.length, -1, 1, r);
          // Keras's loss never reaches padding (the mask goes on): zero dy there.
          if (sequences)
            RUNS.forEach(([s, e], b) => {
              for (let t = 0; t < T; t++)
                if (t < s || t >= e) dy.fill(0, (b * T + t) * D * H, (b * T + t + 1) * D * H);
            });
          const ref = reference(cfg, params, x, dy, sequences);
          assertClose(y.data, ref.out, LAYERS, 'output', y.shape);
          core.zeroGrad();
          const dx = layer.backward(dy, true)!;
          assertClose(dx, ref.dx, GRADIENT, 'dx', [RUNS.length, T, F]);
          for (const name of core.parameterNames())
            assertClose(
              core.getGradient(name),
              ref.grads[name]!,
              GRADIENT,
              `d${name}`,
              core.parameterShape(name),
            );
        } finally {
          model.dispose();
        }
      });
    }
  }
});
