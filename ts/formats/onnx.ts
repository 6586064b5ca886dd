/**
 * ONNX files: the public functions. exportOnnx / onnxModelBytes write a Sequential as an .onnx
 * graph (onnx-export.ts); loadOnnxModel reads a graph made of GRU, Gemm/MatMul, Gather
 * (embedding) and activation operators with their glue into a Sequential (onnx-import.ts);
 * describeOnnx summarises a file without building anything (onnx-describe.ts). The protobuf is
 * read and written by protobufjs with the ONNX schema (onnx-proto.ts). Browser-safe: files come
 * and go through ts/models/storage.ts.
 */
import type { Backend } from '../backends/backend.js';
import { GruError } from '../errors.js';
import { currentBackend } from '../loader.js';
import * as check from '../validate.js';
import * as layers from '../models/layers.js';
import type { ModelLayer } from '../models/layer.js';
import { Sequential } from '../models/sequential.js';
import { readModelBytes, writeModelBytes, type ModelSource } from '../models/storage.js';
import { onnxModelBytes, type OnnxExportArgs } from './onnx-export.js';
import { importGraph, type ImportedGraph } from './onnx-import.js';
import { decodeOnnx, readingBudget } from './onnx-proto.js';
import type { GruNodeSpec, LayerSpec } from './onnx-values.js';

export { onnxModelBytes, type OnnxExportArgs } from './onnx-export.js';
export { describeOnnx, type OnnxDescription } from './onnx-describe.js';

/** Writes the model as an .onnx file (Node) or to 'indexeddb://name'. */
export async function exportOnnx(
  model: Sequential,
  destination: string,
  args: OnnxExportArgs = {},
): Promise<void> {
  const bytes = onnxModelBytes(model, args);
  await writeModelBytes('destination', destination, bytes);
}

export interface LoadOnnxModelArgs {
  /** Backend of the model's layers; default: the one chosen by init(). */
  backend?: Backend;
  /** The graph output to follow (default: the first). */
  output?: string;
}

/**
 * The layer chain (with weights) of ONNX bytes; ERR_GRU_FORMAT naming what is not supported.
 * What reading allocates (decoded objects, then tensor values) is charged to one budget of
 * twice the file's size plus 2 MiB (readingBudget, onnx-proto.ts).
 */
export function importOnnxBytes(bytes: Uint8Array, output?: string): ImportedGraph {
  const budget = readingBudget(bytes);
  return importGraph(decodeOnnx(bytes, budget), budget, output);
}

function gruArgs(g: GruNodeSpec, returnSequences: boolean) {
  return {
    units: g.units,
    returnSequences,
    resetAfter: g.resetAfter,
    useBias: g.useBias,
    activation: g.activation,
    recurrentActivation: g.recurrentActivation,
    ...(g.direction === 'reverse' ? { goBackwards: true } : {}),
    // ONNX's GRU outputs zeros at padding steps (Bidirectional's layer does so by itself); its
    // Y_h is the last valid state, which zeroOutputForMask would zero for a padded sample.
    ...(g.masked && returnSequences && g.direction !== 'bidirectional'
      ? { zeroOutputForMask: true }
      : {}),
  };
}

function layerOf(spec: LayerSpec, inputShape: (number | null)[] | undefined): ModelLayer {
  const first = inputShape ? { inputShape } : {};
  switch (spec.type) {
    case 'embedding':
      return layers.embedding({
        inputDim: spec.inputDim,
        outputDim: spec.outputDim,
        ...(spec.maskZero ? { maskZero: true } : {}),
        ...first,
      });
    case 'masking':
      return layers.masking({ maskValue: spec.maskValue, ...first });
    case 'dense':
      return layers.dense({
        units: spec.units,
        activation: spec.activation,
        useBias: spec.bias !== null,
        ...first,
      });
    case 'activation':
      return layers.activation({ activation: spec.activation, ...first });
    case 'gru':
      if (spec.gru.direction === 'bidirectional')
        return layers.bidirectional({
          layer: layers.gru(gruArgs(spec.gru, spec.returnSequences)),
          ...(spec.mergeMode ? { mergeMode: spec.mergeMode } : {}),
          ...first,
        });
      return layers.gru({ ...gruArgs(spec.gru, spec.returnSequences), ...first });
  }
}

/** Writes a spec's weights into its built layer. */
function setWeights(layer: ModelLayer, spec: LayerSpec): void {
  const core = (layer as unknown as { core: import('../layer.js').Layer }).core;
  switch (spec.type) {
    case 'embedding':
      core.setParameter('weight', spec.table);
      return;
    case 'dense':
      core.setParameter('weight', spec.weight);
      if (spec.bias) core.setParameter('bias', spec.bias);
      return;
    case 'activation':
    case 'masking':
      return;
    case 'gru':
      spec.gru.weights.forEach((w, d) => {
        const s = d === 0 ? '' : '_reverse';
        core.setParameter(`weight_ih_l0${s}`, w.weightIh);
        core.setParameter(`weight_hh_l0${s}`, w.weightHh);
        if (spec.gru.useBias) {
          core.setParameter(`bias_ih_l0${s}`, w.biasIh);
          core.setParameter(`bias_hh_l0${s}`, w.biasHh);
        }
      });
  }
}

/** A Sequential with the weights of an imported graph. */
export function sequentialFromGraph(imported: ImportedGraph, backend: Backend): Sequential {
  const made = imported.layers.map((spec, i) =>
    layerOf(spec, i === 0 ? imported.inputShape : undefined),
  );
  const model = new Sequential({ layers: made, backend, seed: 0 });
  try {
    imported.layers.forEach((spec, i) => setWeights(made[i]!, spec));
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/**
 * The Sequential model an .onnx file computes (from a path in Node, a URL, 'indexeddb://name'
 * or the bytes). It takes [batch, steps, features] (or integer ids [batch, steps]) whatever the
 * graph's layout, and outputs batch-first with a bidirectional GRU's directions concatenated.
 * ERR_GRU_FORMAT naming what has no layer (operators, with their counts), ERR_GRU_IO when the
 * file cannot be read.
 */
export async function loadOnnxModel(
  source: ModelSource,
  options: LoadOnnxModelArgs = {},
): Promise<Sequential> {
  const o = check.options('loadOnnxModel options', options);
  check.knownKeys('loadOnnxModel options', o, ['backend', 'output']);
  const output = o.output; // read once (a getter may change)
  if (output !== undefined && (typeof output !== 'string' || output === ''))
    throw new GruError(
      'ERR_GRU_ARG',
      `output must be the name of a graph output, got ${check.describe(output)}`,
    );
  const backend = check.backendOption(o.backend, currentBackend);
  const bytes = await readModelBytes('source', source);
  return sequentialFromGraph(importOnnxBytes(bytes, output), backend);
}
