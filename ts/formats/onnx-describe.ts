/**
 * describeOnnx: what an .onnx file holds, without building a model (for the `inspect` command
 * and for a user deciding whether loadOnnxModel can read it): producer, opsets, inputs and
 * outputs, operators with their counts (and those loadOnnxModel has no mapping for), the GRU
 * nodes with their sizes, and the number of parameters (values of FLOAT/DOUBLE initializers).
 *
 * A GRU may also be a Loop whose body is one GRU step (tf2onnx's export of a Keras 3 GRU): no
 * attribute says so, so such a Loop is listed only when the importer reads it as a GRU
 * (onnx-walk-loop.ts runs its body), with form 'Loop'.
 */
import { GruError } from '../errors.js';
import { readModelBytes, type ModelSource } from '../models/storage.js';
import { importGraph, unsupportedOperators } from './onnx-import.js';
import { decodeOnnx, dtypeName, readingBudget, type OnnxValueInfo } from './onnx-proto.js';

export interface OnnxDescription {
  producer: string;
  irVersion: number;
  /** Opset version by domain ('' is ai.onnx). */
  opsets: Record<string, number>;
  inputs: { name: string; dtype: string; shape: (number | string | null)[] | null }[];
  outputs: { name: string; dtype: string; shape: (number | string | null)[] | null }[];
  /** Every operator of the graph and how many nodes use it. */
  operators: Record<string, number>;
  /** Operators loadOnnxModel cannot map (empty when it may read the file). */
  unsupportedOperators: Record<string, number>;
  gruNodes: {
    name: string;
    /** 'GRU': an ONNX GRU operator; 'Loop': a Loop whose body the importer read as a GRU step. */
    form: 'GRU' | 'Loop';
    hiddenSize: number | null;
    inputSize: number | null;
    direction: string;
    directions: number;
    linearBeforeReset: boolean;
  }[];
  /** Values of the float initializers (weights). */
  parameterCount: number;
}

function valueOf(v: OnnxValueInfo) {
  return { name: v.name, dtype: dtypeName(v.dtype), shape: v.dims };
}

/** The description of an .onnx file's bytes (ERR_GRU_FORMAT when they are not one). */
export function describeOnnxBytes(bytes: Uint8Array): OnnxDescription {
  const budget = readingBudget(bytes);
  const model = decodeOnnx(bytes, budget);
  const g = model.graph;
  const operators: Record<string, number> = {};
  for (const n of g.nodes) {
    const op = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}:${n.opType}` : n.opType;
    operators[op] = (operators[op] ?? 0) + 1;
  }
  let parameterCount = 0;
  for (const t of g.initializers.values())
    if (t.dtype === 1 || t.dtype === 11) parameterCount += t.count;
  const gruNodes: OnnxDescription['gruNodes'] = g.nodes
    .filter((n) => n.opType === 'GRU' && (n.domain === '' || n.domain === 'ai.onnx'))
    .map((n) => {
      const d = n.attributes.get('direction');
      const direction = d?.type === 'string' ? d.value : 'forward';
      const h = n.attributes.get('hidden_size');
      const W = g.initializers.get(n.inputs[1] ?? '');
      const lbr = n.attributes.get('linear_before_reset');
      return {
        name: n.name,
        form: 'GRU' as const,
        hiddenSize: h?.type === 'int' ? h.value : W ? (W.dims[1] ?? 0) / 3 : null,
        inputSize: W?.dims[2] ?? null,
        direction,
        directions: direction === 'bidirectional' ? 2 : 1,
        linearBeforeReset: lbr?.type === 'int' && lbr.value !== 0,
      };
    });
  const unsupported = unsupportedOperators(g.nodes);
  if (unsupported.size === 0 && g.nodes.some((n) => n.opType === 'Loop'))
    gruNodes.push(...loopGrus(model, budget));
  return {
    producer: `${model.producerName} ${model.producerVersion}`.trim(),
    irVersion: model.irVersion,
    opsets: Object.fromEntries(model.opsets),
    inputs: g.inputs.map(valueOf),
    outputs: g.outputs.map(valueOf),
    operators,
    unsupportedOperators: Object.fromEntries(unsupported),
    gruNodes,
    parameterCount,
  };
}

/**
 * The Loops the importer reads as GRU steps. A graph it cannot read at all (or a Loop that is
 * not a GRU) lists none here: loadOnnxModel gives the reason.
 */
function loopGrus(
  model: ReturnType<typeof decodeOnnx>,
  budget: ReturnType<typeof readingBudget>,
): OnnxDescription['gruNodes'] {
  let layers;
  try {
    layers = importGraph(model, budget).layers;
  } catch (error) {
    if (error instanceof GruError) return [];
    throw error;
  }
  const loops = new Set(model.graph.nodes.filter((n) => n.opType === 'Loop').map((n) => n.name));
  return layers.flatMap((l) =>
    l.type === 'gru' && loops.has(l.gru.node)
      ? [
          {
            name: l.gru.node,
            form: 'Loop' as const,
            hiddenSize: l.gru.units,
            inputSize: l.gru.inputSize,
            direction: l.gru.direction,
            directions: l.gru.direction === 'bidirectional' ? 2 : 1,
            linearBeforeReset: l.gru.resetAfter,
          },
        ]
      : [],
  );
}

/** describeOnnxBytes of a path (Node), URL, 'indexeddb://name' or bytes. */
export async function describeOnnx(source: ModelSource): Promise<OnnxDescription> {
  return describeOnnxBytes(await readModelBytes('source', source));
}
