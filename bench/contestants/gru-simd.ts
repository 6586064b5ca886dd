/** gru-simd itself, on one backend: GRU.forward, GRU.stream().step, and a training step with Adam. */
import type { Case } from '../cases.js';
import { torchWeights, uniform, type TorchWeights } from '../weights.js';
import { TOLERANCE } from '../measure.js';
import { prepareModelF } from './gru-simd-model-f.js';
import {
  SEED,
  STREAM_FRAMES,
  PROBE_STEPS,
  type Contestant,
  type Prepared,
  type Probe,
} from './types.js';
import * as gs from '../../ts/index.js';

type Backend = Awaited<ReturnType<typeof gs.loadBackend>>;

export function stateDict(w: TorchWeights, zeroHiddenBias = false): Record<string, Float32Array> {
  return {
    weight_ih_l0: w.weight_ih,
    weight_hh_l0: w.weight_hh,
    bias_ih_l0: w.bias_ih,
    bias_hh_l0: zeroHiddenBias ? new Float32Array(w.bias_hh.length) : w.bias_hh,
  };
}

/**
 * A GRU on `backend` with the bench's weights. resetAfter false is the tfjs equation: one
 * bias, so bias_hh is zero.
 */
export function makeGru(backend: Backend, c: Case, resetAfter = true): gs.GRU {
  const gru = new gs.GRU({ inputSize: c.inputSize, hiddenSize: c.hiddenSize, resetAfter, backend });
  gru.loadStateDict(stateDict(torchWeights(c.inputSize, c.hiddenSize, SEED.weights), !resetAfter));
  return gru;
}

/**
 * Applies `--threads N` where the library has a way to set it (a setThreads on the module or
 * on the backend, once the thread pool lands); returns a note when it could not.
 */
function applyThreads(backend: Backend, threads: number | undefined): string {
  if (threads === undefined) return '';
  const onBackend = (backend as unknown as { setThreads?: (n: number) => void }).setThreads;
  const onModule = (gs as unknown as { setThreads?: (n: number, b?: Backend) => void }).setThreads;
  if (typeof onBackend === 'function') onBackend.call(backend, threads);
  else if (typeof onModule === 'function') onModule(threads, backend);
  else return ` (--threads ${threads} ignored: no setThreads yet)`;
  return '';
}

export async function gruSimd(
  name: 'native' | 'wasm-relaxed' | 'wasm-simd' | 'wasm',
  threads?: number,
  precision?: 'bf16' | 'int8',
): Promise<Contestant> {
  const backend = await gs.loadBackend(name);
  const note = applyThreads(backend, threads);
  await backend.threadsReady(); // a threaded wasm module's helpers start in the background
  if (!precision) {
    return {
      detail: `ISA ${backend.isa()}${note}`,
      threads: backend.threads(),
      resetAfter: true,
      unsupported: () => null,
      prepare: async (c) => prepareGruSimd(backend, c),
    };
  }
  // Reduced-precision weights: widened to fp32 in the ISA's registers (native/kernels/lowp_panels.h),
  // or, on avx512-dot, multiplied by the CPU's dot-product instructions with the activations
  // rounded too (native/kernels/dot_products.h).
  const dot: Record<string, string> = {
    bf16: 'bf16 weights x bf16-rounded activations by AVX512-BF16 vdpbf16ps',
    int8: 'int8 weights x per-row int8-quantized activations by AVX512-VNNI vpdpbusd',
  };
  // avx512-dot uses vdpbf16ps on AMD CPUs only (native/kernels/isa_avx512_dot.cpp). This file
  // also runs in the browser bench's page (no node:os there, and no avx512-dot either).
  const os = (
    globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
  ).process?.getBuiltinModule?.('node:os') as typeof import('node:os') | undefined;
  const amd = os?.cpus()[0]?.model.includes('AMD') ?? false;
  const how =
    backend.isa() === 'avx512-dot' && (precision === 'int8' || amd)
      ? dot[precision]!
      : `${precision} weights widened to fp32 in ${backend.isa()} registers`;
  return {
    detail: `ISA ${backend.isa()}, ${how}${note}`,
    threads: backend.threads(),
    resetAfter: true,
    outputTolerance: TOLERANCE.reducedPrecision,
    unsupported: (c) =>
      c.kind === 'train' ? `training needs fp32 weights (${precision} is for inference)` : null,
    prepare: async (c) => prepareGruSimd(backend, c, true, precision),
  };
}

/** Also the reference of the checks (with resetAfter false for tfjs). */
export function prepareGruSimd(
  backend: Backend,
  c: Case,
  resetAfter = true,
  precision?: 'bf16' | 'int8',
): Prepared {
  if (c.workload === 'F') return prepareModelF(backend, resetAfter);
  const gru = makeGru(backend, c, resetAfter);
  if (precision) gru.setPrecision(precision);
  const { batch, seqLen: T, inputSize: I } = c;
  if (c.kind === 'forward') {
    const x = uniform(T * batch * I, SEED.x);
    // The server-loop API: output and final state written into buffers reused across calls.
    // A fresh output array per call costs page faults on first touch (B: 6.5 MB, about 3 ms on
    // this VM). The peers have no such API here: onnxruntime-node returns new arrays even when
    // given pre-allocated output tensors (checked: the data are not written in place).
    const output = new Float32Array(T * batch * c.hiddenSize);
    const hN = new Float32Array(batch * c.hiddenSize);
    return {
      async: false,
      run: () => void gru.forward(x, { batch, output, hN }),
      probe: async () => ({
        probe: { kind: 'output', data: gru.forward(x, { batch }).output as Float32Array },
        calls: 1,
      }),
      dispose: () => gru.dispose(),
    };
  }
  if (c.kind === 'stream') {
    const all = uniform(STREAM_FRAMES * batch * I, SEED.frames);
    const frames = Array.from({ length: STREAM_FRAMES }, (_, k) =>
      all.subarray(k * batch * I, (k + 1) * batch * I),
    );
    const stream = gru.stream({ batch });
    // The hot-loop API: outputs into a reused buffer, no allocation per step (the peers'
    // APIs return new arrays; a kilobyte typed array costs about a microsecond in Node).
    const output = new Float32Array(batch * c.hiddenSize);
    let k = 0;
    return {
      async: false,
      run: () => {
        stream.stepInto(frames[k] as Float32Array, output);
        k = (k + 1) % STREAM_FRAMES;
      },
      probe: async () => {
        let out: Float32Array | null = null;
        for (let s = 0; s < PROBE_STEPS; s++) out = stream.step(frames[s] as Float32Array).output;
        stream.reset();
        return { probe: { kind: 'output', data: out as Float32Array }, calls: PROBE_STEPS };
      },
      dispose: () => gru.dispose(),
    };
  }
  if (c.kind === 'streams') {
    // batch streams in one GRUStreams, each with its own state, all stepped by one call.
    const H = c.hiddenSize;
    const group = gru.streams({ capacity: batch });
    const h0 = uniform(batch * H, SEED.frames, 0.5);
    for (let s = 0; s < batch; s++) group.open(h0.subarray(s * H, (s + 1) * H));
    const ids = Int32Array.from({ length: batch }, (_, s) => s);
    const x = uniform(batch * I, SEED.x);
    const output = new Float32Array(batch * H);
    return {
      async: false,
      run: () => void group.step(ids, x, output),
      probe: async () => {
        const out = group.step(ids, x);
        for (let s = 0; s < batch; s++) group.reset(s, h0.subarray(s * H, (s + 1) * H));
        return { probe: { kind: 'output', data: out }, calls: 1 };
      },
      dispose: () => gru.dispose(),
    };
  }
  // Training step: forward (train) + MSE on the whole output sequence + BPTT + Adam.
  const x = uniform(T * batch * I, SEED.x);
  const target = uniform(T * batch * c.hiddenSize, SEED.target, 0.5);
  const opt = new gs.Adam([gru], { lr: 1e-3 });
  // Reused output and gradient buffers, as for the forward cases.
  const output = new Float32Array(T * batch * c.hiddenSize);
  const dOutput = new Float32Array(output.length);
  const step = (): number => {
    opt.zeroGrad();
    gru.forward(x, { batch, train: true, output });
    const { loss } = gs.mse(output, target, { backend, grad: dOutput });
    gru.backward({ dOutput, inputGrad: false });
    opt.step();
    return loss;
  };
  return {
    async: false,
    run: () => void step(),
    probe: async () => ({ probe: { kind: 'loss', value: step() } as Probe, calls: 1 }),
    dispose: () => {
      opt.dispose();
      gru.dispose();
    },
  };
}
