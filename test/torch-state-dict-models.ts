/**
 * The two PyTorch modules of scripts/gen-torch-safetensors-fixtures.py described in JS, and their
 * forward, shared by test/torch-state-dict.test.ts and scripts/write-torch-state-dict.ts:
 *   A: Embedding(10, 6) -> GRU(6, 5, 2 layers, bidirectional, batch_first) -> LayerNorm(10)
 *      -> Linear(10, 3), on every step
 *   B: GRU(3, 4, bias=False, batch_first) -> last state -> BatchNorm1d(4) (eval) -> Linear(4, 2)
 */
import type { Backend } from '../ts/backends/backend.js';
import { BatchNorm1d, Dense, Embedding, GRU, LayerNorm } from '../ts/index.js';

export function moduleA(backend: Backend, seed = 1) {
  return {
    emb: new Embedding({ numEmbeddings: 10, embeddingDim: 6, seed, backend }),
    gru: new GRU({
      inputSize: 6,
      hiddenSize: 5,
      numLayers: 2,
      bidirectional: true,
      batchFirst: true,
      seed: seed + 1,
      backend,
    }),
    norm: new LayerNorm({ normalizedShape: 10, backend }),
    head: new Dense({ inFeatures: 10, outFeatures: 3, seed: seed + 2, backend }),
  };
}

/** ids [batch, seq] -> [batch, seq, 3]. */
export function predictA(m: ReturnType<typeof moduleA>, ids: number[], batch: number) {
  const x = m.emb.forward(ids);
  const h = m.gru.forward(x, { batch }).output!;
  return m.head.forward(m.norm.forward(h));
}

export function moduleB(backend: Backend, seed = 1) {
  return {
    gru: new GRU({ inputSize: 3, hiddenSize: 4, bias: false, batchFirst: true, seed, backend }),
    bn: new BatchNorm1d({ numFeatures: 4, backend }),
    head: new Dense({ inFeatures: 4, outFeatures: 2, seed: seed + 1, backend }),
  };
}

/** x [batch, seq, 3] -> [batch, 2]. */
export function predictB(m: ReturnType<typeof moduleB>, x: Float32Array, batch: number) {
  const hN = m.gru.forward(x, { batch, returnSequences: false }).hN;
  return m.head.forward(m.bn.forward(hN));
}

export function disposeAll(m: Record<string, { dispose(): void }>): void {
  for (const layer of Object.values(m)) layer.dispose();
}
