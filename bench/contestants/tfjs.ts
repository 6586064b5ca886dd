/**
 * TensorFlow.js 4.22, cpu (plain JS) and wasm backends: tf.layers.gru. tfjs cannot do the
 * reset-after equation (resetAfter: true throws), so it computes the reset-before one (Cho et
 * al.; the same flops), checked against gru-simd with resetAfter: false on the same weights.
 * recurrentActivation 'sigmoid' (tfjs defaults to hardSigmoid), initializers glorotUniform
 * (the default orthogonal one takes about a minute at H 256) and then overwritten.
 */
import type { Case } from '../cases.js';
import { timeToBatchMajor, toKeras, torchWeights, uniform } from '../weights.js';
import { prepareTfjsModelF } from './tfjs-model-f.js';
import { registerWasmSegmentSum } from './tfjs-wasm-segment-sum.js';
import { SEED, STREAM_FRAMES, PROBE_STEPS, type Contestant, type Prepared } from './types.js';

type Tf = typeof import('@tensorflow/tfjs');
type Tensor = import('@tensorflow/tfjs').Tensor;

/**
 * tfjs-backend-cpu's UnsortedSegmentSum (the gradient of the Embedding's gather) makes one pass
 * over the whole gradient per segment, here per vocabulary id: 10,000 masks, products and sums
 * of [3200, 64] per step. Measured on this machine: one F step had not finished after 7 minutes
 * of CPU time, with 7 GB resident. So F skips tfjs cpu unless BENCH_TFJS_CPU_F=1.
 */
const CPU_F_SKIPPED =
  "tfjs cpu's UnsortedSegmentSum (the Embedding's gradient) loops over all 10,000 ids per step: one step took over 7 CPU minutes and 7 GB; BENCH_TFJS_CPU_F=1 runs it";

export async function tfjs(backendName: 'cpu' | 'wasm'): Promise<Contestant> {
  // tfjs greets Node users on console.warn at import and on setBackend; keep the bench output clean.
  const warn = console.warn;
  console.warn = () => {};
  let tf: Tf;
  let wasmBackend: typeof import('@tensorflow/tfjs-backend-wasm') | null = null;
  try {
    tf = await import('@tensorflow/tfjs');
    if (backendName === 'wasm') wasmBackend = await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend(backendName)))
      throw new Error(`tf.setBackend('${backendName}') failed`);
    await tf.ready();
  } finally {
    console.warn = warn;
  }
  let detail = `tfjs ${tf.version.tfjs}`;
  let threads = 1;
  if (backendName === 'wasm') {
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const mt = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    detail += `, SIMD ${simd ? 'on' : 'off'}, threads ${mt ? 'on' : 'off'}`;
    // In Node tfjs-backend-wasm loads its single-threaded SIMD module; in a cross-origin
    // isolated page its threaded one, with XNNPACK's pool (one thread per logical core).
    threads = mt && wasmBackend ? wasmBackend.getThreadsCount() : 1;
  }
  return {
    detail,
    threads,
    resetAfter: false,
    unsupported: (c) =>
      c.kind === 'streams'
        ? 'no stream groups (a call per session)'
        : backendName === 'cpu' && c.workload === 'F' && process.env.BENCH_TFJS_CPU_F !== '1'
          ? CPU_F_SKIPPED
          : null,
    prepare: async (c) => prepareTfjs(tf, c),
  };
}

function prepareTfjs(tf: Tf, c: Case): Prepared {
  if (c.workload === 'F') {
    if (tf.getBackend() === 'wasm') registerWasmSegmentSum(tf);
    return prepareTfjsModelF(tf);
  }
  const { batch: B, seqLen: T, inputSize: I, hiddenSize: H } = c;
  const stream = c.kind === 'stream';
  const layer = tf.layers.gru({
    units: H,
    returnSequences: !stream,
    // resetAfter is left at tfjs's only supported value, false (not even in GRULayerArgs' type).
    recurrentActivation: 'sigmoid',
    kernelInitializer: 'glorotUniform' as const,
    recurrentInitializer: 'glorotUniform' as const,
    ...(stream ? { stateful: true, batchInputShape: [B, 1, I] } : { inputShape: [T, I] }),
  });
  const model = tf.sequential({ layers: [layer] });
  const k = toKeras(torchWeights(I, H, SEED.weights));
  const weights = [
    tf.tensor2d(k.kernel, [I, 3 * H]),
    tf.tensor2d(k.recurrentKernel, [H, 3 * H]),
    tf.tensor1d(k.bias),
  ];
  layer.setWeights(weights);
  tf.dispose(weights);
  const owned: Tensor[] = [];
  const dispose = (): void => {
    tf.dispose(owned);
    model.dispose();
  };

  if (c.kind === 'forward') {
    const x = tf.tensor3d(timeToBatchMajor(uniform(T * B * I, SEED.x), T, B, I), [B, T, I]);
    owned.push(x);
    const call = (): Float32Array => {
      // batchSize: B, or predict() splits the batch into chunks of 32.
      const y = model.predict(x, { batchSize: B }) as Tensor;
      const data = y.dataSync() as Float32Array;
      y.dispose();
      return data;
    };
    return {
      async: false,
      run: () => void call(),
      // [B, T, H] back to gru-simd's [T, B, H] for the check.
      probe: async () => ({
        probe: { kind: 'output', data: timeToBatchMajor(call(), B, T, H) },
        calls: 1,
      }),
      dispose,
    };
  }
  if (stream) {
    const all = uniform(STREAM_FRAMES * B * I, SEED.frames);
    const frames = Array.from({ length: STREAM_FRAMES }, (_, f) =>
      tf.tensor3d(all.slice(f * B * I, (f + 1) * B * I), [B, 1, I]),
    );
    owned.push(...frames);
    let f = 0;
    const step = (frame: number): Float32Array => {
      const y = model.predict(frames[frame] as Tensor, { batchSize: B }) as Tensor;
      const data = y.dataSync() as Float32Array;
      y.dispose();
      return data;
    };
    return {
      async: false,
      run: () => {
        step(f);
        f = (f + 1) % STREAM_FRAMES;
      },
      probe: async () => {
        model.resetStates();
        let y: Float32Array | null = null;
        for (let s = 0; s < PROBE_STEPS; s++) y = step(s);
        model.resetStates();
        return { probe: { kind: 'output', data: y as Float32Array }, calls: PROBE_STEPS };
      },
      dispose,
    };
  }
  // Training step: model.trainOnBatch = forward + BPTT (tf's autodiff) + Adam, MSE over the
  // whole output sequence (the same loss as gru-simd's mse: a mean over every element).
  const x = tf.tensor3d(timeToBatchMajor(uniform(T * B * I, SEED.x), T, B, I), [B, T, I]);
  const y = tf.tensor3d(timeToBatchMajor(uniform(T * B * H, SEED.target, 0.5), T, B, H), [B, T, H]);
  owned.push(x, y);
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'meanSquaredError' });
  const step = async (): Promise<number> => {
    const loss = await model.trainOnBatch(x, y);
    return Array.isArray(loss) ? (loss[0] as number) : loss;
  };
  return {
    async: true,
    run: async () => void (await step()),
    probe: async () => ({ probe: { kind: 'loss', value: await step() }, calls: 1 }),
    dispose,
  };
}
