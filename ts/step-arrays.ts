/**
 * Output arrays that a model's training step reuses from one step to the next.
 *
 * Why: one training step of issue 10's model 3 (B32 T100, GRUs of 128) makes ~10 MB of layer
 * outputs and input gradients. Fresh typed arrays that size cost more than a small model's
 * arithmetic around them: the allocator maps new pages, the OS zeroes them, the core's first
 * write faults them in, and the collector frees them again. Measured on this project's 2-core
 * machine: 3-7 ms per step to allocate and fill 10 MB, 0.3 ms to fill the same arrays again.
 *
 * A Sequential turns reuse on for its layers' core objects only while it runs a training step
 * (compiled.ts), where every array a layer returns stays inside the step (the next layer's input,
 * the loss's prediction, the previous layer's output gradient) and the next step may overwrite
 * it. A layer used on its own, and every inference call, still returns a fresh array. The core
 * writes every element of an output (it never accumulates into one), so a reused array holds
 * exactly what a fresh one would; test/models/step-arrays.test.ts fills the reused arrays with
 * NaN between steps to prove it.
 */
import * as check from './validate.js';

/** The symbol under which a core object keeps its StepArrays (not part of the public API). */
export const STEP_ARRAYS: unique symbol = Symbol('gru-simd.stepArrays');

/** An object that may reuse its training outputs (GRU, Dense, Embedding, the norms). */
export interface ReusesStepArrays {
  [STEP_ARRAYS]?: StepArrays;
}

export class StepArrays {
  /** True while the owning model runs a training step. */
  active = false;
  readonly #arrays = new Map<string, Float32Array>();

  /** The array for `role` of `length` floats: the same one every step while the length holds. */
  take(role: string, length: number): Float32Array {
    let a = this.#arrays.get(role);
    if (a === undefined || a.length !== length) {
      a = check.allocFloat32(role, length);
      this.#arrays.set(role, a);
    }
    return a;
  }

  /** @internal Every array held (tests fill them with garbage between steps). */
  _all(): Float32Array[] {
    return [...this.#arrays.values()];
  }
}

/**
 * A training output of `owner` named `role`: the step's reused array while its model runs a
 * training step, else a fresh zeroed one.
 */
export function trainingOutput(owner: object, role: string, length: number): Float32Array {
  const arrays = (owner as ReusesStepArrays)[STEP_ARRAYS];
  return arrays?.active ? arrays.take(role, length) : check.allocFloat32(role, length);
}

/**
 * Runs `body` with reuse on for `owners` (turned off again however body ends); the arrays stay
 * with their owners for the next step.
 */
export function withStepArrays<T>(owners: readonly object[], body: () => T): T {
  const sets = owners.map((o) => ((o as ReusesStepArrays)[STEP_ARRAYS] ??= new StepArrays()));
  for (const s of sets) s.active = true;
  let async = false;
  try {
    const result = body();
    if (result instanceof Promise) {
      async = true;
      return result.finally(() => {
        for (const s of sets) s.active = false;
      }) as T;
    }
    return result;
  } finally {
    if (!async) for (const s of sets) s.active = false;
  }
}
