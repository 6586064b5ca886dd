/** What every contestant (gru-simd backend or peer) provides to the worker. */
import type { Case } from '../cases.js';

/** What a probe returns, compared with gru-simd's on the same weights and inputs. */
export type Probe =
  | { kind: 'output'; data: Float32Array } // forward: the output sequence [T, B, H]; stream: h after 3 steps
  | { kind: 'loss'; value: number }; // training: the loss of the first step (before its update)

export interface Prepared {
  /** One call, as timed: returns a promise for asynchronous APIs. */
  run(): void | Promise<void>;
  async: boolean;
  /**
   * Computes what the check compares (its calls double as the warm-up); leaves the
   * contestant ready for run(). Returns the calls it made, for the slow-call decision.
   */
  probe(): Promise<{ probe: Probe; calls: number }>;
  dispose(): void;
  /** Workload F on gru-simd: the model API's time around its core calls, over `steps` steps. */
  overhead?(steps: number): Promise<import('../cases.js').Overhead>;
}

export interface Contestant {
  /** ISA / engine detail for the report. */
  detail: string;
  threads: number;
  /** The GRU equation it computes: reset-after (PyTorch, ONNX lbr=1) or reset-before (tfjs). */
  resetAfter: boolean;
  /**
   * Largest |diff| from gru-simd's fp32 outputs the check accepts, when not TOLERANCE.output:
   * gru-simd with bf16 / int8 weights (bench/measure.ts, TOLERANCE.reducedPrecision).
   */
  outputTolerance?: number;
  /** null if the case is supported, else why not. */
  unsupported(c: Case): string | null;
  prepare(c: Case): Promise<Prepared>;
}

/** Seeds of the shared data. */
export const SEED = { weights: 1, x: 7, target: 8, frames: 9 };
/** Frames cycled through by the streaming workload. */
export const STREAM_FRAMES = 64;
/** Steps of the streaming check. */
export const PROBE_STEPS = 3;
