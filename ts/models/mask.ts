/**
 * Keras's masks in the model API: a mask is a Float32Array [batch, steps], 1 where a step
 * counts and 0 where it is padding, made by layers.masking or an Embedding with maskZero, and
 * carried by Sequential beside each layer's output until a layer consumes it (a GRU without
 * returnSequences, a global pooling) or the loss and metrics (as sample weights). The
 * recurrent layers run each sequence over its valid steps, any of them (./step-plan.ts).
 * Everything here is a scan per step: no per-element loop.
 */
import { GruError } from '../errors.js';

/** [batch, steps]: 1 where a step counts, 0 where it is padding; null: every step counts. */
export type Mask = Float32Array | null;

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
