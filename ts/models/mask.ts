/**
 * Keras's masks in the model API: a mask is a Float32Array [batch, steps], 1 where a step
 * counts and 0 where it is padding, made by layers.masking or an Embedding with maskZero, and
 * carried by Sequential beside each layer's output until a layer consumes it (a GRU without
 * returnSequences, a global pooling) or the loss and metrics (as sample weights).
 *
 * The core GRU skips padding through per-row lengths (a valid prefix). A mask whose valid steps
 * of each sample are one run (a prefix: right padding; a suffix: Keras's pad_sequences default,
 * left padding; or a run in the middle) is run as that prefix: the run's rows are copied to the
 * front (one copy per sample), and the outputs back into place. Keras's state carries over
 * masked steps, so outputs before the run are the initial state (0) and outputs after it the
 * last state. A mask with holes (padding between valid steps) is refused (ERR_GRU_ARG).
 * Everything here is a scan per step or a copy per sample or per step: no per-element loop.
 */
import { GruError } from '../errors.js';

/** [batch, steps]: 1 where a step counts, 0 where it is padding; null: every step counts. */
export type Mask = Float32Array | null;

/** Where each sample's valid steps are: steps [starts[b], starts[b] + lengths[b]). */
export interface MaskRuns {
  starts: Int32Array;
  lengths: Int32Array;
}

/** Each sample's run of valid steps; ERR_GRU_ARG naming `who` if a sample's mask has holes. */
export function maskRuns(who: string, mask: Float32Array, batch: number, steps: number): MaskRuns {
  checkMask(who, mask, batch, steps);
  const starts = new Int32Array(batch);
  const lengths = new Int32Array(batch);
  for (let b = 0; b < batch; b++) {
    const row = mask.subarray(b * steps, (b + 1) * steps);
    const first = row.findIndex((v) => v !== 0);
    if (first < 0) continue; // nothing valid: length 0, the state stays at 0
    let end = first;
    while (end < steps && row[end] !== 0) end++;
    if (row.subarray(end).some((v) => v !== 0)) {
      throw new GruError(
        'ERR_GRU_ARG',
        `${who}: the mask of sample ${b} has padding between valid steps (steps ${first}..${end - 1} valid, then padding, then valid again); a recurrent layer takes a mask whose valid steps are one run per sample (right or left padding)`,
      );
    }
    starts[b] = first;
    lengths[b] = end - first;
  }
  return { starts, lengths };
}

/** x [batch, steps, f] with each sample's valid run moved to the front (zeros after it). */
export function packSteps(
  x: Float32Array,
  batch: number,
  steps: number,
  f: number,
  runs: MaskRuns,
): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < batch; b++) {
    const from = (b * steps + runs.starts[b]!) * f;
    out.set(x.subarray(from, from + runs.lengths[b]! * f), b * steps * f);
  }
  return out;
}

/**
 * The inverse of packSteps for y [batch, steps, f]: each sample's first lengths[b] steps back at
 * starts[b]; zeros before the run, and after it each step a copy of `carry` [batch, f] (the
 * state that carries over), or zeros when carry is null.
 */
export function unpackSteps(
  y: Float32Array,
  batch: number,
  steps: number,
  f: number,
  runs: MaskRuns,
  carry: Float32Array | null,
): Float32Array {
  const out = new Float32Array(y.length);
  for (let b = 0; b < batch; b++) {
    const [start, length] = [runs.starts[b]!, runs.lengths[b]!];
    out.set(y.subarray(b * steps * f, (b * steps + length) * f), (b * steps + start) * f);
    if (carry === null) continue;
    const state = carry.subarray(b * f, (b + 1) * f);
    for (let t = start + length; t < steps; t++) out.set(state, (b * steps + t) * f);
  }
  return out;
}

/** The mask with each sample's steps reversed (goBackwards), one scan per sample. */
export function reverseMask(mask: Float32Array, batch: number, steps: number): Float32Array {
  const out = new Float32Array(mask.length);
  for (let b = 0; b < batch; b++) {
    const row = mask.subarray(b * steps, (b + 1) * steps);
    out.set(row.slice().reverse(), b * steps);
  }
  return out;
}

/**
 * Keras's apply_mask for the loss (reduction sum_over_batch_size): weights [batch * steps]
 * w * mask * total / valid, so the core's mean over all rows is sum(w l) / valid over the steps
 * that count (0 when none does). w: per sample [batch], per step [batch * steps], or null.
 */
export function maskedLossWeights(mask: Float32Array, w: Float32Array | null): Float32Array {
  let valid = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) valid++;
  const scale = valid > 0 ? mask.length / valid : 0;
  return maskedWeights(mask, w, scale);
}

/** Keras's apply_mask for the metrics (reduction sum): w * mask per step. */
export function maskedMetricWeights(mask: Float32Array, w: Float32Array | null): Float32Array {
  return maskedWeights(mask, w, 1);
}

function maskedWeights(mask: Float32Array, w: Float32Array | null, scale: number): Float32Array {
  const out = new Float32Array(mask.length);
  const per = w === null ? 0 : mask.length / w.length; // steps per weight
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] === 0) continue;
    out[i] = (w === null ? 1 : w[Math.floor(i / per)]!) * scale;
  }
  return out;
}

/** ERR_GRU_SHAPE naming `who` unless the mask is [batch, steps]. */
export function checkMask(who: string, mask: Float32Array, batch: number, steps: number): void {
  if (mask.length !== batch * steps) {
    throw new GruError(
      'ERR_GRU_SHAPE',
      `${who}: the mask must have one entry per step, [${batch}, ${steps}], got ${mask.length}`,
    );
  }
}
