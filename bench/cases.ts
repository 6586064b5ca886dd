/** Workloads, contestants and the sampling settings of each mode. Shared by run.ts and worker.ts. */
import { F, flopsF, variant } from './model-f.js';

export type Mode = 'quick' | 'full';
export type Kind = 'forward' | 'train' | 'stream' | 'streams';

export interface Case {
  /** 'A'..'F', or 'sweep-b1-h256' style for sweep points. */
  id: string;
  workload: 'A' | 'B' | 'C' | 'D' | 'E' | 'E-many' | 'F' | 'sweep';
  kind: Kind;
  batch: number;
  seqLen: number;
  inputSize: number;
  hiddenSize: number;
  /** Floating-point operations of one call (see flops()). */
  flops: number;
  label: string;
}

/** Sweep: hidden sizes at batch 1 and 64, sequence and input fixed. */
export const SWEEP = {
  seqLen: 50,
  inputSize: 128,
  batches: [1, 64],
  hidden: { full: [64, 128, 256, 512, 1024], quick: [64, 256, 1024] } as Record<Mode, number[]>,
};

/**
 * Forward: 2·3·H·(I+H)·B·T (the six matrix products per step; gates and biases are O(H) and
 * left out). A training step (forward + BPTT + Adam) is counted as 3x its forward.
 */
export function flops(kind: Kind, B: number, T: number, I: number, H: number): number {
  const forward = 2 * 3 * H * (I + H) * B * T;
  return kind === 'train' ? 3 * forward : forward;
}

export function makeCase(
  id: string,
  workload: Case['workload'],
  kind: Kind,
  B: number,
  T: number,
  I: number,
  H: number,
  label: string,
): Case {
  return {
    id,
    workload,
    kind,
    batch: B,
    seqLen: T,
    inputSize: I,
    hiddenSize: H,
    flops: flops(kind, B, T, I, H),
    label,
  };
}

export function cases(mode: Mode): Case[] {
  const list = [
    makeCase('A', 'A', 'forward', 1, 100, 64, 128, 'A: inference B1 T100 I64 H128'),
    makeCase('B', 'B', 'forward', 64, 100, 128, 256, 'B: inference B64 T100 I128 H256'),
    makeCase('C', 'C', 'forward', 1, 1000, 256, 512, 'C: inference B1 T1000 I256 H512'),
    makeCase(
      'D',
      'D',
      'train',
      32,
      50,
      64,
      128,
      'D: training step B32 T50 I64 H128 (forward + BPTT + Adam)',
    ),
    makeCase('E', 'E', 'stream', 1, 1, 64, 256, 'E: streaming, one step per call, B1 I64 H256'),
    // E's server: many sessions, each one step, in one call (GRUStreams); against 256 E calls.
    makeCase(
      'E-many',
      'E-many',
      'streams',
      256,
      1,
      64,
      256,
      'E-many: 256 streams, one step each in one call (GRUStreams), I64 H256',
    ),
    // A whole model (bench/model-f.ts): inputSize is the embedding's width, flops its own count.
    {
      ...makeCase('F', 'F', 'train', F.batch, F.length, F.dim, F.units, variant().label),
      flops: flopsF(),
    },
  ];
  for (const B of SWEEP.batches) {
    for (const H of SWEEP.hidden[mode]) {
      list.push(
        makeCase(
          `sweep-b${B}-h${H}`,
          'sweep',
          'forward',
          B,
          SWEEP.seqLen,
          SWEEP.inputSize,
          H,
          `sweep B${B} T${SWEEP.seqLen} I${SWEEP.inputSize} H${H}`,
        ),
      );
    }
  }
  return list;
}

/**
 * The cases of a run: every case of the mode, or those whose id is listed (--cases; 'sweep'
 * selects every sweep point). An unknown id is an error naming the known ones.
 */
export function selectCases(mode: Mode, ids?: readonly string[]): Case[] {
  const all = cases(mode);
  if (!ids) return all;
  const known = new Set(all.map((c) => (c.workload === 'sweep' ? 'sweep' : c.id)));
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length)
    throw new Error(`--cases: unknown ${unknown.join(', ')}; known: ${[...known].join(', ')}`);
  return all.filter((c) => ids.includes(c.workload === 'sweep' ? 'sweep' : c.id));
}

export type Family = 'gru-simd' | 'ort-node' | 'ort-web' | 'tfjs-wasm' | 'tfjs-cpu';
/** Which measured peak a contestant's % of peak is relative to (times its threads). */
export type PeakKind = 'native' | 'wasm-relaxed' | 'wasm-simd' | 'wasm-scalar';

export interface GroupSpec {
  /** Stable id, also the worker's --group argument. */
  id: string;
  family: Family;
  /** gru-simd backend name. */
  backend?: 'native' | 'wasm-relaxed' | 'wasm-simd' | 'wasm';
  /** Threads asked for (ORT); gru-simd reports its own. */
  threads: number;
  /**
   * gru-simd native at a fixed thread count: set with setThreads where the library has it,
   * else by starting the worker with a CPU affinity of that many CPUs (taskset), since the
   * core's pool defaults to the CPUs the process may run on.
   */
  fixedThreads?: number;
  /**
   * gru-simd native with reduced-precision weights (GRUOptions.precision): inference cases only,
   * checked against the fp32 reference with a tolerance of its own (bench/measure.ts).
   */
  precision?: 'bf16' | 'int8';
  name: string;
  peak: PeakKind;
  /**
   * Timed again in every round (see run.ts --rounds): the contestants whose ratios the targets
   * are about. The slow ones (scalar wasm, tfjs) run in the first round only.
   */
  everyRound?: boolean;
}

export const GROUPS: GroupSpec[] = [
  // The library's default thread count (or --threads N), then 1 thread.
  {
    id: 'native',
    family: 'gru-simd',
    backend: 'native',
    threads: 1,
    name: 'gru-simd native',
    peak: 'native',
    everyRound: true,
  },
  {
    id: 'native-1t',
    family: 'gru-simd',
    backend: 'native',
    threads: 1,
    fixedThreads: 1,
    name: 'gru-simd native',
    peak: 'native',
    everyRound: true,
  },
  // Reduced-precision weights (issue 13): the default thread count, then 1 thread.
  ...(['bf16', 'int8'] as const).flatMap((precision): GroupSpec[] => [
    {
      id: `native-${precision}`,
      family: 'gru-simd',
      backend: 'native',
      threads: 1,
      precision,
      name: `gru-simd native ${precision}`,
      peak: 'native',
      everyRound: true,
    },
    {
      id: `native-${precision}-1t`,
      family: 'gru-simd',
      backend: 'native',
      threads: 1,
      fixedThreads: 1,
      precision,
      name: `gru-simd native ${precision} 1T`,
      peak: 'native',
      everyRound: true,
    },
  ]),
  // Node 20 runs it with --experimental-wasm-relaxed-simd (bench/run.ts gives its worker the flag).
  {
    id: 'wasm-relaxed',
    family: 'gru-simd',
    backend: 'wasm-relaxed',
    threads: 1,
    name: 'gru-simd wasm-relaxed',
    peak: 'wasm-relaxed',
    everyRound: true,
  },
  {
    id: 'wasm-simd',
    family: 'gru-simd',
    backend: 'wasm-simd',
    threads: 1,
    name: 'gru-simd wasm-simd',
    peak: 'wasm-simd',
    everyRound: true,
  },
  // The threaded wasm modules with 2 threads (worker_threads), beside ort-web-2.
  ...(['wasm-relaxed', 'wasm-simd'] as const).map((backend): GroupSpec => ({
    id: `${backend}-2t`,
    family: 'gru-simd',
    backend,
    threads: 2,
    fixedThreads: 2,
    name: `gru-simd ${backend} 2T`,
    peak: backend,
    everyRound: true,
  })),
  {
    id: 'wasm',
    family: 'gru-simd',
    backend: 'wasm',
    threads: 1,
    name: 'gru-simd wasm (scalar)',
    peak: 'wasm-scalar',
  },
  {
    id: 'ort-node-1',
    family: 'ort-node',
    threads: 1,
    name: 'onnxruntime-node',
    peak: 'native',
    everyRound: true,
  },
  {
    id: 'ort-node-2',
    family: 'ort-node',
    threads: 2,
    name: 'onnxruntime-node',
    peak: 'native',
    everyRound: true,
  },
  {
    id: 'ort-web-1',
    family: 'ort-web',
    threads: 1,
    name: 'onnxruntime-web (wasm)',
    peak: 'wasm-simd',
    everyRound: true,
  },
  {
    id: 'ort-web-2',
    family: 'ort-web',
    threads: 2,
    name: 'onnxruntime-web (wasm)',
    peak: 'wasm-simd',
    everyRound: true,
  },
  {
    id: 'tfjs-wasm',
    family: 'tfjs-wasm',
    threads: 1,
    name: 'tfjs wasm backend',
    peak: 'wasm-simd',
  },
  // Plain JavaScript: compared with the scalar wasm peak (the JIT emits the same scalar code).
  { id: 'tfjs-cpu', family: 'tfjs-cpu', threads: 1, name: 'tfjs cpu backend', peak: 'wasm-scalar' },
];

export interface Settings {
  mode: Mode;
  /** benchmark.js options for calls shorter than slowCall. */
  minSamples: number;
  maxTime: number;
  minTime: number;
  /** Calls longer than this (s, measured on the warm-up call) are timed by hand... */
  slowCall: number;
  /** ...over this much time in all (s), between minCalls and maxCalls calls. */
  slowBudget: number;
  minCalls: number;
  maxCalls: number;
  /** A case whose estimated time per call exceeds this (s) is skipped. */
  cap: number;
  /** Quick mode skips the scalar wasm backend above this many flops per call. */
  scalarMaxFlops: number;
  /**
   * Seconds of calls before timing (s), after the check: engines run new wasm code in a
   * baseline tier first and compile the hot functions optimized in the background (V8's
   * dynamic tiering). Under load that takes up to a second, and timed calls of that second
   * measured the baseline code (E in Chromium: 150-1600 µs a call where warm code takes 22).
   */
  warmup: number;
}

/**
 * Sampling settings of a mode. With several rounds, each round of a contestant gets its share
 * of the time budgets, so the whole run takes about as long as one round with the full budget.
 */
export function settings(mode: Mode, rounds = 1): Settings {
  const s: Settings =
    mode === 'quick'
      ? {
          mode,
          minSamples: 3,
          maxTime: 0.15,
          minTime: 0.02,
          slowCall: 0.1,
          slowBudget: 0.4,
          minCalls: 1,
          maxCalls: 4,
          cap: 2,
          scalarMaxFlops: 0.5e9,
          warmup: 0.3,
        }
      : {
          mode,
          minSamples: 5,
          maxTime: 1,
          minTime: 0.05,
          slowCall: 0.25,
          slowBudget: 2.5,
          minCalls: 2,
          maxCalls: 10,
          cap: 15,
          scalarMaxFlops: Infinity,
          warmup: 1,
        };
  if (rounds <= 1) return s;
  return {
    ...s,
    maxTime: s.maxTime / rounds,
    slowBudget: s.slowBudget / rounds,
    maxCalls: Math.max(s.minCalls, Math.ceil(s.maxCalls / rounds)),
  };
}

/** Rounds of a mode unless --rounds says otherwise. */
export function defaultRounds(mode: Mode): number {
  return mode === 'quick' ? 1 : 3;
}

/** What a worker reports for one case. */
export interface CaseResult {
  caseId: string;
  status: 'ok' | 'skipped' | 'failed';
  /** Why skipped/failed; for ok, what the check found. */
  note: string;
  /** Median seconds per call. */
  median?: number;
  mean?: number;
  /** Relative margin of error (%): benchmark.js's 95% one for sampled cases, half the range for hand-timed ones. */
  rme?: number;
  /** Samples (benchmark.js cycles) or calls timed by hand. */
  samples?: number;
  method?: 'benchmark.js' | 'hand-timed' | 'batch-timed';
  /** CPU seconds of the process (all threads) per wall second while timing. */
  cpuPerWall?: number;
  /** Result of comparing with gru-simd on the same weights. */
  check?: string;
  /** The median of each round this case ran in (s), in round order; median is the smallest. */
  roundMedians?: number[];
  /** Workload F, gru-simd: the step's time against the sum of its core calls. */
  overhead?: Overhead;
}

/**
 * The model API's own time in a training step: trainOnBatch's wall time against the sum of the
 * core calls it made (bench/call-timer.ts), medians over `steps` steps; and one fit() epoch.
 */
export interface Overhead {
  steps: number;
  stepSeconds: number;
  coreSeconds: number;
  /** Median over the steps of (step - core) / step, in %. */
  overheadPercent: number;
  callsPerStep: number;
  /** The calls taking most of the core's time, with their share. */
  top: string;
  fit: { batches: number; seconds: number; coreSeconds: number; overheadPercent: number };
}

export interface GroupResult {
  group: string;
  name: string;
  threads: number;
  /** ISA or engine detail, e.g. 'avx512' for gru-simd native. */
  detail: string;
  /** Set when the whole contestant could not load. */
  error?: string;
  /** The worker could not set its thread count and asks to be started with a CPU affinity. */
  needsAffinity?: number;
  results: CaseResult[];
  wallSeconds: number;
}
