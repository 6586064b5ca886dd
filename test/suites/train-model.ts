/**
 * SequenceModel's wiring against the float64 oracle: one trainStep with plain SGD (lr 1) moves
 * every parameter by exactly minus its gradient, so the gradients the model computed can be
 * read back from the parameters and compared with the oracle composed by hand: embedding ->
 * GRU (lengths, 2 layers, bidirectional) -> head on the last state or every step -> loss.
 */
import assert from 'node:assert/strict';
import { SequenceModel } from '../../ts/index.js';
import type { Backend } from '../../ts/backends/backend.js';
import type { RefConfig } from '../reference.js';
import {
  bceWithLogits64,
  denseBackward64,
  denseForward64,
  embeddingBackward64,
  embeddingForward64,
  mse64,
  referenceGruGradients,
  softmaxCrossEntropy64,
  type LossResult,
} from '../reference-train.js';
import { GRADIENT, LOSS } from '../tolerance.js';
import { assertClose, rng, uniform } from '../util.js';

type Loss = 'softmax-cross-entropy' | 'bce' | 'mse';

interface ModelCase {
  mode: 'last' | 'sequence';
  loss: Loss;
  embedding: boolean;
  bidir: boolean;
  L: number;
  resetAfter: boolean;
}

// prettier-ignore
const MODEL_CASES: ModelCase[] = [
  { mode: 'last', loss: 'softmax-cross-entropy', embedding: true, bidir: true, L: 2, resetAfter: true },
  { mode: 'sequence', loss: 'softmax-cross-entropy', embedding: true, bidir: false, L: 1, resetAfter: false },
  { mode: 'sequence', loss: 'mse', embedding: false, bidir: true, L: 2, resetAfter: false },
  { mode: 'last', loss: 'bce', embedding: false, bidir: false, L: 3, resetAfter: true },
];

export function modelSuite(backend: Backend): void {
  for (const c of MODEL_CASES) {
    const title = `${c.mode} ${c.loss}${c.embedding ? ' embedding' : ' float input'} L${c.L}${c.bidir ? ' bidir' : ''} ${c.resetAfter ? 'resetAfter' : 'resetBefore'}, lengths with a 0`;
    it(`${title}: trainStep's loss and gradients (via SGD lr 1) equal the float64 composition`, () => {
      const [T, B, V, E, I, H, S] = [6, 3, 7, 3, 2, 5, 4];
      const inSize = c.embedding ? E : I;
      const D = c.bidir ? 2 : 1;
      const model = new SequenceModel({
        ...(c.embedding ? { embedding: { numEmbeddings: V, embeddingDim: E } } : { inputSize: I }),
        gru: { hiddenSize: H, numLayers: c.L, bidirectional: c.bidir, resetAfter: c.resetAfter },
        output: { size: S, mode: c.mode },
        loss: c.loss,
        optimizer: { type: 'sgd', lr: 1 },
        seed: 3,
        backend,
      });
      try {
        const rand = rng(40 + MODEL_CASES.indexOf(c));
        const lengths = Int32Array.of(T, 0, 4);
        const x = c.embedding
          ? Int32Array.from({ length: T * B }, () => Math.floor(rand() * V))
          : uniform(T * B * I, -1, 1, rand);
        const rows = c.mode === 'last' ? B : T * B;
        const targets =
          c.loss === 'softmax-cross-entropy'
            ? Int32Array.from({ length: rows }, () => Math.floor(rand() * S))
            : uniform(rows * S, c.loss === 'bce' ? 0 : -1, 1, rand);

        // Parameters before the step, as the oracle's inputs.
        const gruParams = model.gru.stateDict();
        const W = model.dense.getParameter('weight');
        const b = model.dense.getParameter('bias');
        const embW = model.embedding?.getParameter('weight');

        // ---- float64 composition
        const cfg: RefConfig = {
          inputSize: inSize,
          hiddenSize: H,
          numLayers: c.L,
          bidirectional: c.bidir,
          bias: true,
          resetAfter: c.resetAfter,
        };
        const gx = c.embedding
          ? embeddingForward64(x as Int32Array, embW!, E)
          : Float64Array.from(x as Float32Array);
        const opts = { seqLen: T, batch: B, lengths };
        const fwd = referenceGruGradients(cfg, gruParams, gx, opts, null, null);
        // Head input: the last layer's final state [B, D*H] ('last'), or every output row.
        let feats: Float64Array;
        if (c.mode === 'last') {
          feats = new Float64Array(B * D * H);
          for (let bb = 0; bb < B; bb++) {
            for (let d = 0; d < D; d++) {
              for (let j = 0; j < H; j++)
                feats[(bb * D + d) * H + j] = fwd.hN[(((c.L - 1) * D + d) * B + bb) * H + j];
            }
          }
        } else {
          feats = fwd.output;
        }
        const logits = denseForward64(feats, rows, W, b, D * H, S);
        // Padded steps do not count ('sequence'): ignored rows for CE, left out for bce/mse.
        const valid = (r: number): boolean =>
          c.mode === 'last' || Math.floor(r / B) < lengths[r % B];
        let ref: LossResult;
        if (c.loss === 'softmax-cross-entropy') {
          ref = softmaxCrossEntropy64(
            logits,
            Array.from(targets as Int32Array, (t, r) => (valid(r) ? t : -1)),
            S,
          );
        } else {
          const keep = Array.from({ length: rows }, (_, r) => r).filter(valid);
          const pick = (a: ArrayLike<number>): Float64Array => {
            const out = new Float64Array(keep.length * S);
            keep.forEach((r, i) => {
              for (let k = 0; k < S; k++) out[i * S + k] = a[r * S + k];
            });
            return out;
          };
          const part = (c.loss === 'bce' ? bceWithLogits64 : mse64)(
            pick(logits),
            pick(targets as Float32Array),
          );
          const grad = new Float64Array(rows * S);
          keep.forEach((r, i) => grad.set(part.grad.subarray(i * S, (i + 1) * S), r * S));
          ref = { loss: part.loss, grad };
        }
        const dense = denseBackward64(feats, ref.grad, rows, W, D * H, S);
        let dOut: Float64Array | null = null;
        let dHN: Float64Array | null = null;
        if (c.mode === 'last') {
          dHN = new Float64Array(c.L * D * B * H);
          for (let bb = 0; bb < B; bb++) {
            for (let d = 0; d < D; d++) {
              for (let j = 0; j < H; j++)
                dHN[(((c.L - 1) * D + d) * B + bb) * H + j] = dense.dx[(bb * D + d) * H + j];
            }
          }
        } else {
          dOut = dense.dx;
        }
        const bwd = referenceGruGradients(cfg, gruParams, gx, opts, dOut, dHN);

        // ---- one trainStep; gradient = before - after (SGD, lr 1)
        const { loss, gradNorm } = model.trainStep({ x, targets, batch: B, lengths });
        const key = `${backend.name} SequenceModel ${title}`;
        assertClose([loss], [ref.loss], LOSS, `${key} loss`, [1]);
        const moved = (before: Float32Array, after: Float32Array): Float64Array =>
          Float64Array.from(before, (v, i) => v - after[i]);
        let norm2 = 0;
        const compare = (
          what: string,
          got: Float64Array,
          want: Float64Array,
          shape: number[],
        ): void => {
          for (const v of want) norm2 += v * v;
          // p - (p - g) recovers g up to one rounding of p (ulp <= 2.4e-7 for |p| < 2).
          const scale = Math.max(...Array.from(want, Math.abs), 1e-3);
          assertClose(
            got,
            want,
            { abs: GRADIENT.abs * scale + 5e-7, rel: GRADIENT.rel },
            `${key} ${what}`,
            shape,
          );
        };
        for (const name of model.gru.parameterNames()) {
          compare(
            name,
            moved(gruParams[name], model.gru.getParameter(name)),
            bwd.grads[name],
            model.gru.parameterShape(name),
          );
        }
        compare('dense.weight', moved(W, model.dense.getParameter('weight')), dense.dW, [S, D * H]);
        compare('dense.bias', moved(b, model.dense.getParameter('bias')), dense.db, [S]);
        if (c.embedding) {
          const dEmb = embeddingBackward64(x as Int32Array, bwd.dx, V, E);
          compare('embedding.weight', moved(embW!, model.embedding!.getParameter('weight')), dEmb, [
            V,
            E,
          ]);
        }
        assertClose(
          [gradNorm],
          [Math.sqrt(norm2)],
          { abs: 1e-6, rel: 1e-5 },
          `${key} gradNorm`,
          [1],
        );

        // predict / evaluate: the head's output and loss at the new weights, no training state.
        const out = model.predict({ x, batch: B, lengths });
        assert.equal(out.length, rows * S, 'predict returns [rows, size]');
        const e1 = model.evaluate({ x, targets, batch: B, lengths });
        const e2 = model.evaluate({ x, targets, batch: B, lengths });
        assert.equal(e1, e2, 'evaluate is repeatable (no training state, no dropout)');
        assert.ok(e1 < loss, `one SGD step lowered the loss on its own batch: ${loss} -> ${e1}`);
      } finally {
        model.dispose();
      }
    });
  }

  it('fit(): epochs x batches steps, losses returned, onProgress called once per step', () => {
    const model = new SequenceModel({
      inputSize: 2,
      gru: { hiddenSize: 4 },
      output: { size: 1, mode: 'last' },
      loss: 'mse',
      seed: 1,
      backend,
    });
    try {
      const rand = rng(9);
      const batches = [0, 1, 2].map(() => ({
        x: uniform(5 * 2 * 2, -1, 1, rand),
        targets: uniform(2, -1, 1, rand),
        batch: 2,
      }));
      const seen: number[] = [];
      const { losses } = model.fit(batches, {
        epochs: 2,
        onProgress: (p) => seen.push(p.step * 10 + p.epoch),
      });
      assert.equal(losses.length, 6);
      assert.deepEqual(seen, [0, 10, 20, 31, 41, 51]);
      assert.ok(losses.every((l) => Number.isFinite(l) && l >= 0));
    } finally {
      model.dispose();
    }
  });
}
