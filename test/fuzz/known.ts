/**
 * Bugs the fuzzer found below the TypeScript facade (in the addon or the core), reported and
 * not fixed here: each with where it is, a standalone reproduction, and how to recognise its
 * calls. The test slice and the CLI report them apart ("known, still open") and fail only on
 * bugs not listed here. Remove an entry when its fix lands: the fuzzer then counts its calls as
 * bugs again if it comes back.
 *
 * A crash cannot be attributed reliably (a corrupted heap can fault calls later), so crashes
 * are never matched here: a bug that crashes is kept out of the default mix by a flag instead
 * (call.ts Flags), and listed here with the flag that brings it back.
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

const ABI_ROWS = /^Backend\.(denseForward|layerNormForward|lossSoftmaxCrossEntropy)(Async)?$/;

export const KNOWN: readonly KnownBug[] = [
  {
    id: 'native-shared-array-buffer',
    where: 'native/addon/addon.cpp ReadArg (a.ArrayBuffer() of a SharedArrayBuffer view)',
    summary:
      'A Float32Array / Int32Array over a SharedArrayBuffer, on the native backend: every call ' +
      'throws a plain Error "Invalid argument" (no code: not a GruError), and an async call ' +
      'with one crashes the process (SIGSEGV within a few calls or at the next GC). Wasm copies ' +
      'such views like any other. Kept out of the default mix: --shared-on-native brings it back.',
    repro:
      "const b = await loadBackend('native'); const s = new Float32Array(new SharedArrayBuffer(12)); " +
      'b.lossMse(s, new Float32Array(3), null) /* Error: Invalid argument */; for (let k = 0; k < 50; k++) ' +
      'await b.lossMseAsync(s, new Float32Array(3), null).catch(() => {}) /* SIGSEGV */',
    matches: (r) =>
      r.backend === 'native' &&
      r.cls === 'otherError' &&
      /^Error: Invalid argument/.test(r.detail ?? ''),
  },
  {
    id: 'core-rows-zero',
    where: 'native/core/dense.cpp, layer_norm.cpp, losses.cpp (rows checked >= 0, not >= 1)',
    summary:
      'gru_dense_forward, gru_layer_norm_forward and gru_loss_softmax_cross_entropy accept ' +
      'rows = 0 with empty arrays on every backend, where the header says a size <= 0 is ' +
      'GRU_ERR_ARG (the facade never passes it: it refuses an empty x).',
    repro:
      "const b = await loadBackend('wasm'); const d = b.denseCreate(2, 3, 1); " +
      'b.denseForward(d, 0, new Float32Array(0), new Float32Array(0), 0) /* returns */',
    matches: (r) =>
      r.cls === 'silent' &&
      ABI_ROWS.test(r.op.split(' + ')[0]!) && // alone, or with a call made during it
      /accepted: rows: -?0$/.test(r.detail ?? ''),
  },
];

export function knownBug(r: CallRecord): KnownBug | undefined {
  return KNOWN.find((k) => k.matches(r));
}
