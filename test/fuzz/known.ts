/**
 * Bugs the fuzzer found below the TypeScript facade (in the addon or the core), reported and
 * not fixed here: each with where it is, a standalone reproduction, and how to recognise its
 * calls. The test slice and the CLI report them apart ("known, still open") and fail only on
 * bugs not listed here. Remove an entry when its fix lands: the fuzzer then counts its calls as
 * bugs again if it comes back.
 *
 * A crash cannot be attributed reliably (a corrupted heap can fault calls later), so crashes
 * are never matched here: a crash is always a new bug.
 */
import type { CallRecord } from './parent.js';

export interface KnownBug {
  id: string;
  /** Where the fix belongs. */
  where: string;
  summary: string;
  /** A standalone reproduction. */
  repro: string;
  matches(r: CallRecord): boolean;
}

/**
 * None open. Fixed and removed: 'native-shared-array-buffer' (a SharedArrayBuffer view on
 * native threw a plain Error, and crashed an async call: the addon now reads such views, and
 * async calls copy them) and 'core-rows-zero' (gru_dense_forward, gru_layer_norm_forward and
 * gru_loss_softmax_cross_entropy accepted rows = 0: the core now refuses it, GRU_ERR_ARG, as
 * the header's rule for sizes says).
 */
export const KNOWN: readonly KnownBug[] = [];

export function knownBug(r: CallRecord): KnownBug | undefined {
  return KNOWN.find((k) => k.matches(r));
}
