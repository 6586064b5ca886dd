/**
 * Every operation the fuzzer draws from, by area. Their names are the coverage list
 * (test/fuzz.test.ts checks it against the public surface, surface.ts).
 */
import type { Op } from './call.js';
import { BACKEND_OPS } from './ops-backend.js';
import { FN_OPS } from './ops-fns.js';
import { GRU_OPS } from './ops-gru.js';
import { KERAS_FILE_OPS } from './ops-keras-files.js';
import { KERAS_LAYER_OPS } from './ops-keras-layers.js';
import { KERAS_MODEL_OPS } from './ops-keras-model.js';
import { KERAS_SCHEDULE_OPS } from './ops-keras-schedules.js';
import { LAYER_BASE_OPS } from './ops-layer.js';
import { LAYERS_OPS } from './ops-layers.js';
import { LOADER_OPS } from './ops-loader.js';
import { MODEL_OPS } from './ops-model.js';
import { MODEL_FILE_OPS } from './ops-model-file.js';
import { ONNX_OPS } from './ops-onnx.js';
import { OPTIM_OPS } from './ops-optim.js';
import { TORCH_STATE_DICT_OPS } from './ops-torch-state-dict.js';
import { TFJS_MODEL_OPS } from './ops-tfjs-model.js';

export const ALL_OPS: readonly Op[] = [
  ...LOADER_OPS,
  ...GRU_OPS,
  ...LAYER_BASE_OPS,
  ...LAYERS_OPS,
  ...FN_OPS,
  ...OPTIM_OPS,
  ...MODEL_OPS,
  ...KERAS_LAYER_OPS,
  ...KERAS_MODEL_OPS,
  ...MODEL_FILE_OPS,
  ...TORCH_STATE_DICT_OPS,
  ...KERAS_FILE_OPS,
  ...ONNX_OPS,
  ...TFJS_MODEL_OPS,
  ...KERAS_SCHEDULE_OPS,
  ...BACKEND_OPS,
];

/** The names the fuzzer covers. */
export const COVERED: ReadonlySet<string> = new Set(ALL_OPS.map((op) => op.name));
