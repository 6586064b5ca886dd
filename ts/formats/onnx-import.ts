/**
 * An ONNX graph read as a Sequential model: the nodes computing the chosen output are walked in
 * dependency order, each value tracked by what it means (onnx-values.ts), so the glue exporters
 * put around GRU nodes (PyTorch's Transpose / Reshape / Squeeze / Slice / Gather / Shape /
 * Concat / ConstantOfShape, tf2onnx's and our own) reduces to a chain of layers:
 *
 *   GRU            layers.gru (forward; 'reverse' as goBackwards) or layers.bidirectional
 *                  (concat of both directions, as PyTorch's cat(h[-2], h[-1]) or Y reshaped;
 *                  ReduceSum / ReduceMean / ReduceProd of the two: mergeMode sum / ave / mul);
 *                  initial_h must be zeros (absent, ConstantOfShape / Expand of 0, or a zero
 *                  tensor); sequence_lens must be a mask computed from the input, as
 *                  gru-simd's exports write it (onnx-walk-masks.ts: layers.masking, maskZero)
 *   Gather         of a float table by the (integer) graph input: layers.embedding
 *   Gemm, MatMul (+ Add of a constant)   layers.dense
 *   Relu, Sigmoid, Tanh, Softmax (last axis), Elu, Selu, Softplus, HardSigmoid, Gelu
 *                  the Dense's activation (or layers.activation)
 *   Identity, Dropout   nothing
 *
 * Taking the last step of a forward GRU's sequence (PyTorch's out[:, -1]) makes that GRU
 * return its last state; the graph's input may be batch-first or time-first, the Sequential
 * takes [batch, steps, features] (or [batch, steps] ids) and returns batch-first outputs with
 * the directions' features concatenated.
 *
 * Every refusal is one ERR_GRU_FORMAT naming the node and what it does that has no layer: a
 * graph with other operators lists them with their counts before anything is read. The walk
 * itself is in onnx-walk.ts (GRU nodes: onnx-walk-gru.ts; masks: onnx-walk-masks.ts; axis moves
 * and shape arithmetic: onnx-walk-moves.ts).
 */
import { GruError } from '../errors.js';
import {
  ByteBudget,
  dtypeName,
  formatError,
  ONNX_DTYPE,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
} from './onnx-proto.js';
import type { Axis, ConstValue, DataValue, LayerSpec } from './onnx-values.js';
import { Walk } from './onnx-walk.js';
import { outerReads } from './onnx-walk-loop.js';

/** Operators the importer maps (ai.onnx domain). */
export const SUPPORTED_OPERATORS = [
  'GRU',
  'Gather',
  'Gemm',
  'MatMul',
  'Add',
  'Transpose',
  'Reshape',
  'Squeeze',
  'Unsqueeze',
  'Slice',
  'Concat',
  'Shape',
  'ConstantOfShape',
  'Expand',
  'Constant',
  'Cast',
  'Mul',
  'Div',
  'Sub',
  'Identity',
  'Dropout',
  'Flatten',
  'Relu',
  'Sigmoid',
  'Tanh',
  'Softmax',
  'Elu',
  'Selu',
  'Softplus',
  'HardSigmoid',
  'Gelu',
  'Equal',
  'Not',
  'ReduceMin',
  'ReduceSum',
  'ReduceMean',
  'ReduceProd',
  'Loop',
  'Less',
  'And',
] as const;

/** The operators of `nodes` that the importer has no mapping for, with their counts. */
export function unsupportedOperators(nodes: readonly OnnxNode[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const n of nodes) {
    const known =
      (n.domain === '' || n.domain === 'ai.onnx') &&
      (SUPPORTED_OPERATORS as readonly string[]).includes(n.opType);
    if (known) continue;
    const op = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}:${n.opType}` : n.opType;
    out.set(op, (out.get(op) ?? 0) + 1);
  }
  return out;
}

/** The result of reading a graph: the layer chain, and how its input and output are laid out. */
export interface ImportedGraph {
  layers: LayerSpec[];
  /** The Sequential's per-sample input shape ([steps] of ids, [steps, features] or [features]). */
  inputShape: (number | null)[];
  ids: boolean;
  inputName: string;
  outputName: string;
  /** The graph's own layouts, e.g. 'steps, batch, features' (the Sequential's are batch-first). */
  inputLayout: string;
  outputLayout: string;
}

/** The nodes that `output` depends on, in an order where each comes after its inputs. */
function nodesFor(model: OnnxModel, output: string): OnnxNode[] {
  const producer = new Map<string, OnnxNode>();
  for (const n of model.graph.nodes)
    for (const o of n.outputs) {
      if (o === '') continue;
      if (producer.has(o)) formatError(`two nodes write the value ${JSON.stringify(o)}`);
      producer.set(o, n);
    }
  const known = new Set([
    ...model.graph.initializers.keys(),
    ...model.graph.inputs.map((i) => i.name),
  ]);
  const order: OnnxNode[] = [];
  const state = new Map<OnnxNode, 'visiting' | 'done'>();
  // Iterative depth-first search: a hostile graph may be deep, and a cycle must be an error.
  const visit = (root: string) => {
    const stack: { name: string; node: OnnxNode | null; next: number }[] = [];
    const push = (name: string, from: string) => {
      if (name === '' || known.has(name)) return;
      const node = producer.get(name);
      if (node === undefined)
        formatError(
          `${from} reads ${JSON.stringify(name)}, which no node, initializer or input gives`,
        );
      const s = state.get(node);
      if (s === 'done') return;
      if (s === 'visiting')
        formatError(
          `the graph has a cycle through node ${JSON.stringify(node.name)} (${node.opType})`,
        );
      state.set(node, 'visiting');
      stack.push({ name, node, next: 0 });
    };
    push(root, 'the graph output');
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const node = top.node!;
      if (top.next < node.inputs.length + outerReads(node).length) {
        const reads = [...node.inputs, ...outerReads(node)];
        push(reads[top.next++]!, `node ${JSON.stringify(node.name)} (${node.opType})`);
      } else {
        state.set(node, 'done');
        order.push(node);
        stack.pop();
      }
    }
  };
  visit(output);
  return order;
}

/** Reads a graph (decoded) as a layer chain, following `outputName` (default: the first output). */
export function importGraph(
  model: OnnxModel,
  budget: ByteBudget,
  outputName?: string,
): ImportedGraph {
  const graph = model.graph;
  const opset = model.opsets.get('') ?? model.opsets.get('ai.onnx') ?? 1;
  if (graph.outputs.length === 0) formatError('the graph has no output');
  const output = outputName ?? graph.outputs[0]!.name;
  if (!graph.outputs.some((o) => o.name === output))
    formatError(
      `the graph has no output ${JSON.stringify(output)} (outputs: ${graph.outputs.map((o) => o.name).join(', ')})`,
    );
  const nodes = nodesFor(model, output);
  const unsupported = unsupportedOperators(nodes);
  if (unsupported.size > 0) {
    const list = [...unsupported].map(([op, n]) => `${op} (${n})`).join(', ');
    formatError(
      `the graph uses operators gru-simd cannot map to its layers: ${list}. Supported: ${SUPPORTED_OPERATORS.join(', ')}`,
    );
  }
  const used = new Set(nodes.flatMap((n) => n.inputs));
  const inputs = graph.inputs.filter((i) => used.has(i.name) || i.name === output);
  if (inputs.length !== 1)
    formatError(
      `the graph's output needs ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ') || 'none'}); a Sequential model takes exactly one (a GRU's initial_h or sequence_lens as an input is not supported)`,
    );
  const input = inputs[0]!;
  const ids = [ONNX_DTYPE.INT32, ONNX_DTYPE.INT64].includes(input.dtype as 6 | 7);
  if (!ids && input.dtype !== ONNX_DTYPE.FLOAT)
    formatError(
      `the graph input ${input.name} is ${dtypeName(input.dtype)}: FLOAT features or INT32/INT64 ids are supported`,
    );
  if (input.dims === null) formatError(`the graph input ${input.name} has no declared shape`);
  const rank = input.dims.length;
  const hypotheses: ('batch' | 'steps' | 'features')[][] = ids
    ? [
        ['batch', 'steps'],
        ['steps', 'batch'],
      ]
    : rank === 3
      ? [
          ['batch', 'steps', 'features'],
          ['steps', 'batch', 'features'],
        ]
      : rank === 2
        ? [['batch', 'features']]
        : [];
  if (hypotheses.length === 0 || (ids && rank !== 2))
    formatError(
      `the graph input ${input.name} has rank ${rank}: supported are [batch, steps, features], [batch, features] and ids [batch, steps] (either of batch and steps first)`,
    );
  const tensors = new Map<OnnxTensor, ConstValue>();
  // The error of the hypothesis that got furthest through the nodes names the real problem.
  let best: { error: unknown; progress: number } | null = null;
  for (const roles of hypotheses) {
    const axes: Axis[] = roles.map((role, i) => {
      const d = input.dims![i];
      if (role === 'features') {
        if (typeof d !== 'number' || d < 1)
          formatError(
            `the graph input ${input.name} must have a fixed number of features, got ${String(d)}`,
          );
        return { role, size: d };
      }
      return { role, size: null };
    });
    const start: DataValue = { kind: 'data', axes, layers: [], pending: null, ids };
    const walk = new Walk(model, budget, opset, tensors);
    const stepsAt = roles.indexOf('steps');
    const stepsDim = stepsAt >= 0 ? input.dims[stepsAt] : undefined;
    walk.declaredSteps = typeof stepsDim === 'number' ? stepsDim : null;
    try {
      const out = walk.run(nodes, input.name, start, output);
      const steps = typeof stepsDim === 'number' ? stepsDim : null;
      const features = axes.find((a) => a.role === 'features')?.size ?? null;
      return {
        layers: out.layers,
        inputShape: ids ? [steps] : stepsAt >= 0 ? [steps, features] : [features],
        ids,
        inputName: input.name,
        outputName: output,
        inputLayout: roles.join(', '),
        outputLayout: walk.outputAxes.map((a) => a.role).join(', '),
      };
    } catch (error) {
      if (best === null || walk.progress > best.progress) best = { error, progress: walk.progress };
    }
  }
  const hasGru = nodes.some((n) => n.opType === 'GRU');
  if (!hasGru && best!.error instanceof GruError && nodes.some((n) => n.opType === 'Sigmoid'))
    formatError(
      `the graph has no GRU operator: a recurrent layer unrolled into MatMul / Sigmoid / Tanh steps (as Keras 3's model.export(format='onnx') writes it) has no layer here (${best!.error.message})`,
    );
  throw best!.error;
}

/** One walk over the nodes under one hypothesis of the input's layout. */
