/**
 * Workload F: the model 3 (text classification), one training step (trainOnBatch with
 * Adam, categorical cross-entropy) on batch 32:
 *
 *   Embedding(10000, 64, length 100) -> BatchNormalization -> GRU(128, returnSequences,
 *   dropout 0.2, recurrentDropout 0.2) -> BatchNormalization -> GRU(128, dropout 0.2,
 *   recurrentDropout 0.2) -> Dense(10, softmax)
 *
 * Until gru-simd's model API has BatchNormalization and GRU dropout, the case runs as
 * F-reduced, without them (Embedding -> GRU -> GRU -> Dense), for every contestant alike, and
 * says so in its label; variant() decides from what the library offers, so the full F runs as
 * soon as both exist, with no change here. This file holds what every contestant shares: the
 * shape, the variant, the weights (PyTorch's layouts, from seeds) and the batch.
 */
import type { ModelLayer } from '../ts/index.js';
import * as gs from '../ts/index.js';
import { torchWeights, uniform, type TorchWeights } from './weights.js';

export const F = {
  vocabulary: 10000,
  dim: 64,
  length: 100,
  units: 128,
  batch: 32,
  classes: 10,
  dropout: 0.2,
};

export interface Variant {
  full: boolean;
  /** What gru-simd lacks for the full model (empty when full). */
  missing: string[];
  label: string;
}

type Factory = (args?: Record<string, unknown>) => ModelLayer;

/** layers.<name> if gru-simd's model API has it. */
export function optionalLayer(name: string): Factory | undefined {
  const f = (gs.layers as unknown as Record<string, unknown>)[name];
  return typeof f === 'function' ? (f as Factory) : undefined;
}

/** Whether layers.gru takes dropout and recurrentDropout (it refuses options it lacks; both are
 * there now, so F runs the full model). */
function gruHasDropout(): boolean {
  try {
    gs.layers.gru({ units: 1, dropout: F.dropout, recurrentDropout: F.dropout });
    return true;
  } catch {
    return false;
  }
}

let cached: Variant | null = null;

/** The variant of F that gru-simd can build today. */
export function variant(): Variant {
  if (cached) return cached;
  const missing: string[] = [];
  if (!optionalLayer('batchNormalization')) missing.push('BatchNormalization');
  if (!gruHasDropout()) missing.push('GRU dropout');
  const shape = `B${F.batch} T${F.length} vocab ${F.vocabulary / 1000}k dim ${F.dim} H${F.units}, one trainOnBatch (Adam)`;
  cached = missing.length
    ? {
        full: false,
        missing,
        // Reduced for every contestant alike: without BatchNormalization and GRU dropout both.
        label: `F-reduced (gru-simd lacks ${missing.join(' and ')}): model 3 without BatchNormalization and dropout: Embedding -> GRU -> GRU -> Dense(softmax), ${shape}`,
      }
    : {
        full: true,
        missing,
        label: `F: model 3, Embedding -> BatchNorm -> GRU (dropout) -> BatchNorm -> GRU (dropout) -> Dense(softmax), ${shape}`,
      };
  return cached;
}

/**
 * FLOPs of one step, as the other training cases count them: 3x the forward's matrix products
 * (the two GRUs' 2·3·H·(I+H)·B·T and the Dense's 2·H·K·B; the embedding gathers, BatchNorm and
 * the loss are O(elements) and left out).
 */
export function flopsF(): number {
  const { batch: B, length: T, dim: I, units: H, classes: K } = F;
  const forward = 2 * 3 * H * (I + H) * B * T + 2 * 3 * H * (H + H) * B * T + 2 * H * K * B;
  return 3 * forward;
}

/** The model's parameters in PyTorch's layouts, the same in every process. */
export interface FWeights {
  /** [vocabulary, dim], Keras's uniform(-0.05, 0.05) range. */
  embedding: Float32Array;
  gru1: TorchWeights;
  gru2: TorchWeights;
  /** [classes, units] (PyTorch's Linear), and [classes]. */
  denseWeight: Float32Array;
  denseBias: Float32Array;
}

export function weightsF(): FWeights {
  const k = 1 / Math.sqrt(F.units);
  return {
    embedding: uniform(F.vocabulary * F.dim, 101, 0.05),
    gru1: torchWeights(F.dim, F.units, 102),
    gru2: torchWeights(F.units, F.units, 103),
    denseWeight: uniform(F.classes * F.units, 104, k),
    denseBias: uniform(F.classes, 105, k),
  };
}

/** The batch: ids [batch, length] and one-hot labels [batch, classes]. */
export function batchF(): { ids: Int32Array; labels: Float32Array } {
  const u = uniform(F.batch * F.length + F.batch, 106);
  const ids = new Int32Array(F.batch * F.length);
  for (let i = 0; i < ids.length; i++)
    ids[i] = Math.min(F.vocabulary - 1, Math.floor(((u[i]! + 1) / 2) * F.vocabulary));
  const labels = new Float32Array(F.batch * F.classes);
  for (let b = 0; b < F.batch; b++) {
    const c = Math.min(F.classes - 1, Math.floor(((u[ids.length + b]! + 1) / 2) * F.classes));
    labels[b * F.classes + c] = 1;
  }
  return { ids, labels };
}
