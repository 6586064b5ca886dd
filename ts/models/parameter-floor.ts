/**
 * A lower bound of the parameters a model file's architecture declares, computed from the layers'
 * options alone, before anything is built (ts/models/model-file.ts refuses a file whose tensors
 * hold fewer values: the build would allocate what the file does not pay for). Each layer with
 * parameters sized by its options has its formula here (CONTRIBUTING: offer a layer).
 */
import { isPlainObject } from '../formats/safetensors.js';

const dim = (v: unknown): number =>
  typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 1;

/**
 * A lower bound of the parameters the architecture's layers will hold, from their options and
 * the features flowing between them, before any is built: a file that declares wide layers
 * without their tensors is refused before the core allocates them (the tensors are checked
 * exactly after the build). Options the factories refuse count as 1 here.
 */
export function parameterFloor(configs: unknown[], inputShape: unknown): number {
  const head = configs[0];
  const first = isPlainObject(head) && isPlainObject(head.config) ? head.config : {};
  // The shape the model is built from: the file's, the first layer's, or its shorthand.
  let shape: unknown = Array.isArray(inputShape) ? inputShape : first.inputShape;
  if (shape === undefined && isPlainObject(head)) {
    if (head.className === 'Dense' && first.inputDim !== undefined) shape = [first.inputDim];
    if (head.className === 'Embedding' && first.inputLength !== undefined)
      shape = [first.inputLength];
  }
  if (!Array.isArray(shape) || shape.length === 0) return 0; // not built: nothing is made
  let f = dim(shape[shape.length - 1]);
  let total = 0;
  for (const l of configs) {
    if (!isPlainObject(l) || !isPlainObject(l.config)) continue;
    const c = l.config;
    switch (l.className) {
      case 'GRU': {
        const u = dim(c.units);
        total += 3 * u * (f + u);
        f = u;
        break;
      }
      case 'Bidirectional': {
        const u =
          isPlainObject(c.layer) && isPlainObject(c.layer.config) ? dim(c.layer.config.units) : 1;
        total += 6 * u * (f + u);
        f = c.mergeMode === undefined || c.mergeMode === 'concat' ? 2 * u : u;
        break;
      }
      case 'Dense':
        if (c.inputDim !== undefined) f = dim(c.inputDim);
        total += dim(c.units) * f;
        f = dim(c.units);
        break;
      case 'Embedding':
        total += dim(c.inputDim) * dim(c.outputDim);
        f = dim(c.outputDim);
        break;
      case 'BatchNormalization':
        total += 2 * f; // the moving statistics
        break;
      case 'LayerNormalization':
        total += (c.center === false ? 0 : f) + (c.scale === false ? 0 : f);
        break;
    }
  }
  return total;
}
