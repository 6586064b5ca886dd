/** Leaks in training: create / train / dispose loops return allocatedBytes() to its start. */
import assert from 'node:assert/strict';
import {
  Adam,
  AdamW,
  SGD,
  GRU,
  Dense,
  Embedding,
  SequenceModel,
  softmaxCrossEntropy,
} from '../../ts/index.js';
import type { Backend } from '../../ts/backends/backend.js';
import { rng, uniform } from '../util.js';

export function trainMemorySuite(backend: Backend): void {
  it('300 loops of layers + optimizer + forward/backward/step (+ failed calls, layers disposed first half the time) free everything', () => {
    const start = backend.allocatedBytes();
    const rand = rng(4);
    let sawGrowth = false;
    for (let i = 0; i < 300; i++) {
      const I = 1 + (i % 4);
      const H = 1 + (i % 9);
      const B = 1 + (i % 3);
      const T = 1 + (i % 5);
      const emb = new Embedding({ numEmbeddings: 6, embeddingDim: I, seed: i, backend });
      const gru = new GRU({
        inputSize: I,
        hiddenSize: H,
        numLayers: 1 + (i % 2),
        bidirectional: i % 3 === 0,
        seed: i,
        backend,
      });
      const D = gru.numDirections;
      const dense = new Dense({
        inFeatures: D * H,
        outFeatures: 4,
        bias: i % 2 === 0,
        seed: i,
        backend,
      });
      const layers = [emb, gru, dense];
      const opt =
        i % 3 === 0
          ? new Adam(layers, { amsgrad: true })
          : i % 3 === 1
            ? new AdamW(layers)
            : new SGD(layers, { lr: 0.1, momentum: 0.9 });
      if (backend.allocatedBytes() > start) sawGrowth = true;
      const idx = Int32Array.from({ length: T * B }, () => Math.floor(rand() * 6));
      const x = emb.forward(idx, { train: true });
      const out = gru.forward(x, { batch: B, train: true, dropout: gru.numLayers > 1 ? 0.3 : 0 });
      const logits = dense.forward(out.output!, { train: true });
      const { grad } = softmaxCrossEntropy(
        logits,
        Int32Array.from({ length: T * B }, (_, k) => k % 4),
        { classes: 4, backend },
      );
      const dH = dense.backward(grad);
      const { dx } = gru.backward({ dOutput: dH, h0Grad: i % 2 === 0 });
      emb.backward(dx!);
      opt.clipGradNorm(1);
      opt.step();
      if (i % 7 === 0) {
        try {
          gru.backward({ dOutput: dH }); // second backward: ERR_GRU_STATE
        } catch {
          // expected; checked in the bad-input suite, here only its memory matters
        }
        try {
          opt.loadStateDict(opt.stateDict());
        } catch {
          assert.fail('state round trip failed');
        }
      }
      // Half the time the layers go first: the core keeps them alive until the optimizer goes.
      if (i % 2 === 0) {
        for (const l of layers) l.dispose();
        opt.dispose();
      } else {
        opt.dispose();
        for (const l of layers) l.dispose();
      }
    }
    assert.ok(
      sawGrowth,
      'allocatedBytes() must grow while objects are alive (else this test proves nothing)',
    );
    assert.equal(backend.allocatedBytes(), start, 'allocatedBytes() back to its starting value');
  });

  it("a training forward's saved state is freed by dispose, and replaced (not stacked) by the next one", () => {
    const start = backend.allocatedBytes();
    const gru = new GRU({ inputSize: 3, hiddenSize: 16, numLayers: 2, seed: 1, backend });
    const x = uniform(20 * 4 * 3, -1, 1, rng(5));
    gru.forward(x, { batch: 4, train: true });
    const afterOne = backend.allocatedBytes();
    for (let i = 0; i < 20; i++) gru.forward(x, { batch: 4, train: true });
    assert.equal(
      backend.allocatedBytes(),
      afterOne,
      'repeated training forwards of one shape allocate nothing more',
    );
    gru.dispose();
    assert.equal(backend.allocatedBytes(), start);
  });

  it('300 SequenceModel create / trainStep / predict / dispose loops free everything', () => {
    const start = backend.allocatedBytes();
    const rand = rng(6);
    for (let i = 0; i < 300; i++) {
      const T = 1 + (i % 4);
      const B = 1 + (i % 3);
      const useEmb = i % 2 === 0;
      const model = new SequenceModel({
        ...(useEmb ? { embedding: { numEmbeddings: 5, embeddingDim: 3 } } : { inputSize: 2 }),
        gru: { hiddenSize: 1 + (i % 6), numLayers: 1 + (i % 2), bidirectional: i % 3 === 0 },
        output: { size: 3, mode: i % 4 < 2 ? 'last' : 'sequence' },
        loss: 'softmax-cross-entropy',
        optimizer: { type: i % 3 === 0 ? 'sgd' : 'adam', lr: 0.01 },
        seed: i,
        backend,
      });
      const x = useEmb
        ? Int32Array.from({ length: T * B }, () => Math.floor(rand() * 5))
        : uniform(T * B * 2, -1, 1, rand);
      const rows = i % 4 < 2 ? B : T * B;
      const targets = Int32Array.from({ length: rows }, (_, k) => k % 3);
      model.trainStep({ x, targets, batch: B });
      model.predict({ x, batch: B });
      model.dispose();
    }
    assert.equal(backend.allocatedBytes(), start, 'allocatedBytes() back to its starting value');
  });
}
