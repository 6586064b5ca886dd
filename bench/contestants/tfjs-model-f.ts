/**
 * TensorFlow.js on workload F (bench/model-f.ts): the same model with tf.layers, the same
 * weights (reordered to Keras's layouts) and batch, one model.trainOnBatch with Adam. tfjs's GRU
 * is reset-before (it has no resetAfter: true) with recurrentActivation 'sigmoid' (its default
 * is hardSigmoid); BatchNormalization and dropout are in it exactly when gru-simd's variant has
 * them. The check (first-step loss) builds it without dropout, as gru-simd's side does.
 */
import { batchF, F, variant, weightsF } from '../model-f.js';
import { toKeras } from '../weights.js';
import type { Prepared } from './types.js';

type Tf = typeof import('@tensorflow/tfjs');
type LayersModel = import('@tensorflow/tfjs').Sequential;

/** PyTorch's Linear weight [out, in] as Keras's kernel [in, out]. */
function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c]!;
  return out;
}

function build(tf: Tf, dropout: number): LayersModel {
  const full = variant().full;
  const norm = () => (full ? [tf.layers.batchNormalization()] : []);
  const gru = (returnSequences: boolean) =>
    tf.layers.gru({
      units: F.units,
      returnSequences,
      recurrentActivation: 'sigmoid',
      // The default orthogonal initializer is slow at this size; the weights are overwritten.
      kernelInitializer: 'glorotUniform',
      recurrentInitializer: 'glorotUniform',
      ...(full ? { dropout, recurrentDropout: dropout } : {}),
    });
  const grus = [gru(true), gru(false)];
  const embedding = tf.layers.embedding({
    inputDim: F.vocabulary,
    outputDim: F.dim,
    inputLength: F.length,
  });
  const dense = tf.layers.dense({ units: F.classes, activation: 'softmax' });
  const model = tf.sequential({
    layers: [embedding, ...norm(), grus[0]!, ...norm(), grus[1]!, dense],
  });
  const w = weightsF();
  const set = (
    layer: { setWeights(t: import('@tensorflow/tfjs').Tensor[]): void },
    ts: import('@tensorflow/tfjs').Tensor[],
  ) => {
    layer.setWeights(ts);
    tf.dispose(ts);
  };
  set(embedding, [tf.tensor2d(w.embedding, [F.vocabulary, F.dim])]);
  [w.gru1, w.gru2].forEach((g, i) => {
    const k = toKeras(g);
    set(grus[i]!, [
      tf.tensor2d(k.kernel, [g.inputSize, 3 * F.units]),
      tf.tensor2d(k.recurrentKernel, [F.units, 3 * F.units]),
      tf.tensor1d(k.bias),
    ]);
  });
  set(dense, [
    tf.tensor2d(transpose(w.denseWeight, F.classes, F.units), [F.units, F.classes]),
    tf.tensor1d(w.denseBias),
  ]);
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  return model;
}

export function prepareTfjsModelF(tf: Tf): Prepared {
  const model = build(tf, F.dropout);
  const { ids, labels } = batchF();
  const x = tf.tensor2d(ids, [F.batch, F.length], 'int32');
  const y = tf.tensor2d(labels, [F.batch, F.classes]);
  const step = async (m: LayersModel): Promise<number> => {
    const loss = await m.trainOnBatch(x, y);
    return Array.isArray(loss) ? loss[0]! : loss;
  };
  return {
    async: true,
    run: async () => void (await step(model)),
    probe: async () => {
      if (!variant().full) return { probe: { kind: 'loss', value: await step(model) }, calls: 1 };
      const check = build(tf, 0);
      try {
        const value = await step(check);
        await step(model);
        return { probe: { kind: 'loss', value }, calls: 2 };
      } finally {
        check.dispose();
      }
    },
    dispose: () => {
      tf.dispose([x, y]);
      model.dispose();
    },
  };
}
