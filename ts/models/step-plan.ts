/**
 * Which rows a recurrent layer of the model API moves around the core GRU, and the core op
 * that moves them (gru_rows_gather / gru_rows_scatter_sum: the copies run in the core, this file
 * only writes one index entry per step).
 *
 * Keras 3's recurrent loop (keras/src/backend/jax/rnn.py, the scan form a GRU runs) with a mask:
 * at a masked step the state is carried unchanged, and the output there is the carried state
 * (the state of the last valid step, or the initial state before any), or zeros with
 * zero_output_for_mask (which Keras's Bidirectional sets whenever it returns sequences).
 * go_backwards runs the steps in reverse and returns the outputs in that reversed order. So a
 * sequence runs exactly as its valid steps alone would, in processing order: the core GRU runs
 * them packed at the front of each sequence (its per-row lengths), holes in the middle
 * included, and the outputs are gathered back to the steps, the masked ones from the state they
 * carry. The backward passes are the adjoints: the packed output gradient is the scatter-sum of
 * the output gradient (a carried state collects the gradients of the masked steps that repeat
 * it), and dx the inverse gather of the packed dx (zeros at masked steps).
 */
import type { Backend } from '../backends/backend.js';
import { checkMask, type Mask } from './mask.js';

/** Rows are sequences' steps, batch-major: row b * steps + t. */
export interface StepPlan {
  batch: number;
  steps: number;
  /** The core's input rows: packed row b * steps + j <- input row, -1 past the valid steps. */
  pack: Int32Array | null;
  /** pack's inverse: input row <- packed row, -1 at a masked step. */
  unpack: Int32Array | null;
  /** Valid steps per sequence (the core's lengths); null: all of them. */
  lengths: Int32Array | null;
  /**
   * Output row (processing order) <- packed output row; batch * steps + b names the initial
   * state of sequence b (given with `initial`), -1 zeros. null: the core's output as it is.
   */
  output: Int32Array | null;
  /** zeroOutput without returnSequences: the last output is 0 where the last step is masked. */
  last: Int32Array | null;
}

/**
 * The plan of a run over [batch, steps] with `mask` (null: every step counts), steps in reverse
 * (goBackwards), masked outputs zero (zeroOutput) or the carried state, which before the first
 * valid step is the initial state (`initial`: given per sequence, else zeros).
 */
export function stepPlan(
  who: string,
  mask: Mask,
  batch: number,
  steps: number,
  o: { reverse: boolean; zeroOutput: boolean; initial: boolean },
): StepPlan {
  const rows = batch * steps;
  if (mask === null) {
    if (!o.reverse)
      return { batch, steps, pack: null, unpack: null, lengths: null, output: null, last: null };
    // Reversing is its own inverse.
    const reverse = new Int32Array(rows);
    for (let b = 0; b < batch; b++)
      for (let t = 0; t < steps; t++) reverse[b * steps + t] = b * steps + steps - 1 - t;
    return {
      batch,
      steps,
      pack: reverse,
      unpack: reverse,
      lengths: null,
      output: null,
      last: null,
    };
  }
  checkMask(who, mask, batch, steps);
  const pack = new Int32Array(rows).fill(-1);
  const unpack = new Int32Array(rows);
  const output = new Int32Array(rows);
  const lengths = new Int32Array(batch);
  const last = o.zeroOutput ? new Int32Array(batch) : null;
  for (let b = 0; b < batch; b++) {
    const base = b * steps;
    let valid = 0;
    for (let p = 0; p < steps; p++) {
      const row = base + (o.reverse ? steps - 1 - p : p);
      if (mask[row] !== 0) {
        pack[base + valid] = row;
        unpack[row] = base + valid;
        output[base + p] = base + valid;
        valid++;
      } else {
        unpack[row] = -1;
        // The carried state: the last valid step's, else the initial state (zeros if none).
        output[base + p] = o.zeroOutput
          ? -1
          : valid > 0
            ? base + valid - 1
            : o.initial
              ? rows + b
              : -1;
      }
    }
    lengths[b] = valid;
    if (last) last[b] = mask[base + (o.reverse ? 0 : steps - 1)] !== 0 ? b : -1;
  }
  return { batch, steps, pack, unpack, lengths, output, last };
}

/** x [rows, width] -> [index.length, width]: row i is x's row index[i], zeros for -1 (core op). */
export function gatherRows(
  backend: Backend,
  x: Float32Array,
  width: number,
  index: Int32Array,
): Float32Array {
  const y = new Float32Array(index.length * width);
  backend.rowsGather(x.length / width, width, x, index, y);
  return y;
}

/** gatherRows's adjoint: dy [index.length, width] -> [rows, width], summed per target row. */
export function scatterRows(
  backend: Backend,
  dy: Float32Array,
  width: number,
  index: Int32Array,
  rows: number,
): Float32Array {
  const y = new Float32Array(rows * width);
  backend.rowsScatterSum(rows, width, dy, index, y);
  return y;
}
