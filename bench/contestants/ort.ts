/**
 * onnxruntime-node (native CPU EP) and onnxruntime-web (its wasm build, run in Node): the ONNX
 * GRU operator in a one-node model with the bench's weights (linear_before_reset=1). Inference
 * only: ONNX Runtime has no training here. Streaming feeds Y_h back as initial_h each call.
 */
import type { Case } from '../cases.js';
import { gruModel } from '../onnx.js';
import { toOnnx, torchWeights, uniform } from '../weights.js';
import { SEED, STREAM_FRAMES, PROBE_STEPS, type Contestant, type Prepared } from './types.js';

type Ort = typeof import('onnxruntime-node');

export async function ort(flavour: 'node' | 'web', threads: number): Promise<Contestant> {
  let lib: Ort;
  let sessionOptions: Record<string, unknown>;
  if (flavour === 'node') {
    lib = await import('onnxruntime-node');
    sessionOptions = {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    };
  } else {
    lib = (await import('onnxruntime-web')) as unknown as Ort;
    // Global and read once, at the first session: one process per thread count (run.ts does that).
    lib.env.wasm.numThreads = threads;
    sessionOptions = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
  }
  return {
    detail:
      flavour === 'node'
        ? `CPU EP, ${lib.env.versions.node ?? ''}`
        : `wasm EP, ${lib.env.versions.web ?? ''}`,
    threads,
    resetAfter: true,
    unsupported: (c) =>
      c.kind === 'train'
        ? 'no training API'
        : c.kind === 'streams'
          ? 'no stream groups (a call per session)'
          : null,
    prepare: async (c) => prepareOrt(lib, sessionOptions, c),
  };
}

async function prepareOrt(lib: Ort, options: Record<string, unknown>, c: Case): Promise<Prepared> {
  const { batch: B, seqLen: T, inputSize: I, hiddenSize: H } = c;
  const stream = c.kind === 'stream';
  const model = gruModel(
    { seqLen: T, batch: B, inputSize: I, hiddenSize: H },
    toOnnx(torchWeights(I, H, SEED.weights)),
    stream,
  );
  const session = await lib.InferenceSession.create(model, options);
  if (!stream) {
    const X = new lib.Tensor('float32', uniform(T * B * I, SEED.x), [T, B, I]);
    const call = async (): Promise<Float32Array> =>
      (await session.run({ X })).Y?.data as Float32Array;
    return {
      async: true,
      run: async () => void (await call()),
      probe: async () => ({ probe: { kind: 'output', data: await call() }, calls: 1 }),
      dispose: () => void session.release(),
    };
  }
  const all = uniform(STREAM_FRAMES * B * I, SEED.frames);
  const frames = Array.from(
    { length: STREAM_FRAMES },
    (_, k) => new lib.Tensor('float32', all.slice(k * B * I, (k + 1) * B * I), [1, B, I]),
  );
  const zeros = new lib.Tensor('float32', new Float32Array(B * H), [1, B, H]);
  let h = zeros;
  let k = 0;
  const step = async (frame: number): Promise<Float32Array> => {
    const out = await session.run({ X: frames[frame] as typeof zeros, initial_h: h });
    h = out.Y_h as typeof zeros;
    return out.Y?.data as Float32Array;
  };
  return {
    async: true,
    run: async () => {
      await step(k);
      k = (k + 1) % STREAM_FRAMES;
    },
    probe: async () => {
      let y: Float32Array | null = null;
      for (let s = 0; s < PROBE_STEPS; s++) y = await step(s);
      h = zeros;
      return { probe: { kind: 'output', data: y as Float32Array }, calls: PROBE_STEPS };
    },
    dispose: () => void session.release(),
  };
}
