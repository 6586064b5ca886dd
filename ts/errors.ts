/**
 * Every error gru-simd throws is a GruError: a plain Error with a stable `code`.
 * Codes from the kernel core ("ERR_GRU_SHAPE", ...) are produced by native/core/c_api.cpp
 * (gru_status_code); the TypeScript layer uses the same codes so a caller can switch on them
 * whichever layer caught the problem first.
 */
export type GruErrorCode =
  | 'ERR_GRU_ARG'
  | 'ERR_GRU_SHAPE'
  | 'ERR_GRU_ALLOC'
  | 'ERR_GRU_NULL'
  | 'ERR_GRU_RANGE'
  | 'ERR_GRU_STATE'
  | 'ERR_GRU_ISA'
  | 'ERR_GRU_TYPE'
  | 'ERR_GRU_DISPOSED'
  /** An async call is in flight on the object (or, for setThreads, on the backend): await it first. */
  | 'ERR_GRU_BUSY'
  | 'ERR_GRU_NOT_INITIALIZED'
  | 'ERR_GRU_BACKEND_UNAVAILABLE'
  /** A model file (or bytes) that is not a valid gru-simd file: truncated, forged or hostile. */
  | 'ERR_GRU_FORMAT'
  /** Reading or writing a model file failed (not found, permissions, disk full, network). */
  | 'ERR_GRU_IO';

export class GruError extends Error {
  readonly code: GruErrorCode;
  constructor(code: GruErrorCode, message: string) {
    super(message);
    this.name = 'GruError';
    this.code = code;
  }
}
