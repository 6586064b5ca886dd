/**
 * loadModel(): tfjs's tf.loadLayersModel for gru-simd's own file (ts/models/model-file.ts),
 * from a path (Node), a URL, 'indexeddb://name' or the bytes (ts/models/storage.ts).
 */
import { parsePrecision, type GRUPrecision } from '../gru.js';
import { currentBackend } from '../loader.js';
import * as check from '../validate.js';
import { modelFromBytes } from './model-file.js';
import type { Sequential } from './sequential.js';
import { readModelBytes, type ModelSource } from './storage.js';
import type { Backend } from '../backends/backend.js';

export interface LoadModelArgs {
  /** Backend of the model's layers; default: the one chosen by init(). */
  backend?: Backend;
  /**
   * How its recurrent layers store their weights for inference ('fp32', 'bf16', 'int8';
   * model.setPrecision()); default: as the file records.
   */
  precision?: GRUPrecision;
}

/**
 * The model a file holds, with its weights, compiled as it was and with its optimizer's state
 * (when saved with it): fit() goes on where it stopped. ERR_GRU_FORMAT for a file that is not
 * a valid gru-simd model file (naming what is wrong), ERR_GRU_IO when it cannot be read.
 */
export async function loadModel(
  source: ModelSource,
  options: LoadModelArgs = {},
): Promise<Sequential> {
  const o = check.options('loadModel options', options);
  check.knownKeys('loadModel options', o, ['backend', 'precision']);
  const given =
    o.backend === undefined ? undefined : check.backendOption(o.backend, currentBackend);
  const precision =
    o.precision === undefined ? undefined : parsePrecision('precision', o.precision);
  const bytes = await readModelBytes('source', source);
  // init()'s backend (ERR_GRU_NOT_INITIALIZED without one), known before the file is parsed.
  const model = modelFromBytes(bytes, given ?? currentBackend());
  if (precision !== undefined) model.setPrecision(precision);
  return model;
}
