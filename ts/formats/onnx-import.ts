/**
 * An ONNX graph read as a Sequential model: the nodes computing the chosen output are walked in
 * dependency order, each value tracked by what it means (onnx-values.ts), so the glue exporters
 * put around GRU nodes (PyTorch's Transpose / Reshape / Squeeze / Slice / Gather / Shape /
 * Concat / ConstantOfShape, tf2onnx's and our own) reduces to a chain of layers:
 *
 *   GRU            layers.gru (forward; 'reverse' as goBackwards) or layers.bidirectional
 *                  (concat of both directions, as PyTorch's cat(h[-2], h[-1]) or Y reshaped);
 *                  initial_h must be zeros (absent, ConstantOfShape / Expand of 0, or a zero
 *                  tensor); sequence_lens is refused (the model API takes masks, not lengths)
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
 * graph with other operators lists them with their counts before anything is read.
 *
 * Over 400 lines: one operator per case of a single walk; splitting it would scatter the
 * meaning of the values it shares.
 */
import type { ActivationName } from '../activations.js';
import { GruError } from '../errors.js';
import type { GRUActivation, GRURecurrentActivation } from '../gru.js';
import { swapFirstTwoBlocks } from './onnx-export.js';
import {
  ByteBudget,
  dtypeName,
  formatError,
  ONNX_DTYPE,
  type OnnxAttribute,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
} from './onnx-proto.js';
import {
  describeAxes,
  dimsOf,
  type Axis,
  type ConstValue,
  type DataValue,
  type Dim,
  type DirectionOf,
  type GruNodeSpec,
  type LayerSpec,
  type MaskValue,
  type Value,
} from './onnx-values.js';

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
] as const;

const ACTIVATION_OPS: Record<string, ActivationName> = {
  Relu: 'relu',
  Sigmoid: 'sigmoid',
  Tanh: 'tanh',
  Softmax: 'softmax',
  Elu: 'elu',
  Selu: 'selu',
  Softplus: 'softplus',
};

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
      if (top.next < node.inputs.length) {
        push(node.inputs[top.next++]!, `node ${JSON.stringify(node.name)} (${node.opType})`);
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

function attr(node: OnnxNode, name: string): OnnxAttribute | undefined {
  return node.attributes.get(name);
}

function intAttr(node: OnnxNode, name: string, fallback: number): number {
  const a = attr(node, name);
  if (a === undefined) return fallback;
  if (a.type !== 'int') formatError(`${where(node)}: attribute ${name} is not an INT`);
  return a.value;
}

function floatAttr(node: OnnxNode, name: string, fallback: number): number {
  const a = attr(node, name);
  if (a === undefined) return fallback;
  if (a.type !== 'float') formatError(`${where(node)}: attribute ${name} is not a FLOAT`);
  return a.value;
}

function intsAttr(node: OnnxNode, name: string): number[] | undefined {
  const a = attr(node, name);
  if (a === undefined) return undefined;
  if (a.type !== 'ints') formatError(`${where(node)}: attribute ${name} is not INTS`);
  return a.value;
}

function where(node: OnnxNode): string {
  return `node ${JSON.stringify(node.name)} (${node.opType})`;
}

const close = (a: number, b: number) => Math.abs(a - b) < 1e-6;

/** HardSigmoid(alpha, beta) as one of the model API's names. */
function hardSigmoid(
  alpha: number,
  beta: number,
  what: string,
): 'hardSigmoid' | 'hardSigmoidKeras2' {
  if (close(beta, 0.5) && close(alpha, 0.2)) return 'hardSigmoidKeras2';
  if (close(beta, 0.5) && close(alpha, 1 / 6)) return 'hardSigmoid';
  return formatError(
    `${what}: HardSigmoid with alpha ${alpha} and beta ${beta} (supported: alpha 0.2 or 1/6 with beta 0.5)`,
  );
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
    const walk = new Walk(model, budget, opset);
    try {
      const out = walk.run(nodes, input.name, start, output);
      const stepsAt = roles.indexOf('steps');
      const stepsDim = stepsAt >= 0 ? input.dims[stepsAt] : undefined;
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
class Walk {
  readonly #values = new Map<string, Value>();
  /** The output's axes as the graph lays them out. */
  outputAxes: Axis[] = [];
  /** Nodes read so far. */
  progress = 0;
  constructor(
    readonly model: OnnxModel,
    readonly budget: ByteBudget,
    readonly opset: number,
  ) {}

  run(nodes: OnnxNode[], inputName: string, start: DataValue, output: string): DataValue {
    this.#values.set(inputName, start);
    for (const node of nodes) {
      const outs = this.#node(node);
      this.progress++;
      outs.forEach((v, i) => {
        const name = node.outputs[i];
        if (name && v !== null) this.#values.set(name, v);
      });
    }
    let v = this.#value(output, 'the graph output');
    if (v.kind !== 'data') formatError(`the graph output ${output} does not depend on the input`);
    this.outputAxes = v.axes;
    const dirAt = v.axes.findIndex((a) => a.role === 'directions');
    const featuresAt = v.axes.findIndex((a) => a.role === 'features');
    if (v.pending !== null && dirAt >= 0 && featuresAt >= 0) {
      // A GRU's raw Y or Y_h as the output ([steps, directions, batch, hidden]): the Sequential
      // gives the same values batch-first, the directions' states side by side.
      const d = v.axes[dirAt]!.size!;
      const axes = v.axes
        .map((a, i) => (i === featuresAt ? { role: 'features' as const, size: a.size! * d } : a))
        .filter((_, i) => i !== dirAt);
      v = { ...v, axes };
    }
    const done = this.#settle(v, 'the graph output');
    if (done.ids || done.layers.length === 0)
      formatError('the graph output is its input: no layer computes it');
    const roles = done.axes.filter((a) => a.role !== 'unit').map((a) => a.role);
    if (roles.filter((r) => r === 'features').length !== 1 || !roles.includes('batch'))
      formatError(
        `the graph output has axes ${describeAxes(done)}: expected batch, (steps,) features`,
      );
    return done;
  }

  #value(name: string, what: string): Value {
    const v = this.#values.get(name);
    if (v !== undefined) return v;
    const t = this.model.graph.initializers.get(name);
    if (t === undefined)
      return formatError(`${what} reads ${JSON.stringify(name)}, which has no value`);
    const c = this.#tensor(t);
    this.#values.set(name, c);
    return c;
  }

  #tensor(t: OnnxTensor): ConstValue {
    const float = t.dtype === ONNX_DTYPE.FLOAT || t.dtype === ONNX_DTYPE.DOUBLE;
    return {
      kind: 'const',
      dims: t.dims,
      floats: float ? t.floats(this.budget) : null,
      ints: float ? null : t.numbers(this.budget),
    };
  }

  #input(node: OnnxNode, i: number): Value | null {
    const name = node.inputs[i];
    if (name === undefined || name === '') return null;
    return this.#value(name, where(node));
  }

  #need(node: OnnxNode, i: number): Value {
    const v = this.#input(node, i);
    if (v === null) formatError(`${where(node)} lacks its input ${i + 1}`);
    return v;
  }

  #const(node: OnnxNode, i: number, what: string): ConstValue {
    const v = this.#need(node, i);
    if (v.kind !== 'const')
      formatError(`${where(node)}: its ${what} must be a constant (an initializer or Constant)`);
    return v;
  }

  /** Integer values known now: constant ints or dims without symbols. */
  #ints(node: OnnxNode, i: number, what: string): number[] {
    const v = this.#need(node, i);
    if (v.kind === 'const' && v.ints) return v.ints;
    if (v.kind === 'dims' && v.values.every((d) => typeof d === 'number'))
      return v.values as number[];
    return formatError(`${where(node)}: its ${what} must be known integers`);
  }

  #data(node: OnnxNode, i: number): DataValue {
    const v = this.#need(node, i);
    if (v.kind !== 'data')
      formatError(`${where(node)}: input ${i + 1} must be the model's data, got a ${v.kind} value`);
    return v;
  }

  /** The data with a GRU's pending directions turned into its layer (an error where they cannot). */
  #settle(v: DataValue, what: string): DataValue {
    if (v.pending === null) return v;
    if (v.axes.some((a) => a.role === 'directions'))
      formatError(
        `${what}: a GRU's direction axis ${describeAxes(v)} is not merged into the features`,
      );
    const dirs = v.pending.directions;
    const gru = dirs[0]!.gru;
    const expected = gru.direction === 'bidirectional' ? [0, 1] : [0];
    if (
      dirs.length !== expected.length ||
      dirs.some((d, i) => d.gru !== gru || d.direction !== expected[i])
    )
      formatError(
        `${what}: the features are the states of ${dirs.map((d) => `${d.gru.node} direction ${d.direction}`).join(', ')}, not one GRU's directions in order (forward, backward)`,
      );
    const seq = v.axes.some((a) => a.role === 'steps');
    if (seq && gru.direction === 'reverse')
      formatError(
        `${what}: the per-step output of a reverse GRU (${gru.node}) is aligned with the input steps, which no layer gives (goBackwards outputs them reversed)`,
      );
    const layers: LayerSpec[] = [...gru.inputLayers, { type: 'gru', gru, returnSequences: seq }];
    return { ...v, layers, pending: null };
  }

  /** Takes the last step (axis `at`, the steps): valid where it is a forward run's last state. */
  #lastStep(node: OnnxNode, v: DataValue, at: number, keep: boolean): DataValue {
    const axes = keep
      ? v.axes.map((a, i) => (i === at ? { role: 'unit' as const, size: 1 } : a))
      : v.axes.filter((_, i) => i !== at);
    if (v.pending !== null) {
      if (v.pending.directions.some((d) => d.direction !== 0 || d.gru.direction === 'reverse'))
        formatError(
          `${where(node)} takes the last step of a backward direction, which is not its last state`,
        );
      if (v.pending.directions.some((d) => d.gru.masked))
        formatError(
          `${where(node)} takes the last step of a masked GRU, which is not its last state`,
        );
      return { ...v, axes, pending: { ...v.pending, final: true } };
    }
    const i = v.layers.map((l) => l.type).lastIndexOf('gru');
    const g = v.layers[i];
    if (g === undefined || g.type !== 'gru' || !g.returnSequences)
      formatError(`${where(node)} takes one step of a sequence that no GRU computed`);
    if (g.gru.direction !== 'forward' || g.gru.masked)
      formatError(
        `${where(node)} takes the last step of ${g.gru.node}'s ${g.gru.masked ? 'masked' : g.gru.direction} output, which is not its last state`,
      );
    const layers = [...v.layers];
    layers[i] = { ...g, returnSequences: false };
    return { ...v, axes, layers };
  }

  /** Appends a layer that works on the features (the last non-unit axis). */
  #perFeature(node: OnnxNode, v0: DataValue, layer: (features: number) => LayerSpec): DataValue {
    const v = this.#settle(v0, where(node));
    const last = [...v.axes].reverse().find((a) => a.role !== 'unit');
    if (last?.role !== 'features')
      formatError(
        `${where(node)} works on the last axis, which is ${last?.role ?? 'none'} here, not the features`,
      );
    if (v.ids) formatError(`${where(node)} works on the integer ids`);
    return { ...v, layers: [...v.layers, layer(last.size!)] };
  }

  #activation(node: OnnxNode, v: DataValue, act: ActivationName): DataValue {
    const settled = this.#settle(v, where(node));
    const lastLayer = settled.layers[settled.layers.length - 1];
    if (lastLayer?.type === 'dense' && lastLayer.activation === 'linear') {
      const layers = [...settled.layers];
      layers[layers.length - 1] = { ...lastLayer, activation: act };
      return { ...settled, layers };
    }
    return this.#perFeature(node, settled, () => ({
      type: 'activation',
      activation: act,
      node: node.name,
    }));
  }

  #node(node: OnnxNode): (Value | null)[] {
    const op = node.opType;
    if (op in ACTIVATION_OPS) {
      const v = this.#data(node, 0);
      if (op === 'Softmax') {
        const rank = v.axes.length;
        const axis = intAttr(node, 'axis', this.opset >= 13 ? -1 : 1);
        if ((axis + rank) % rank !== rank - 1)
          formatError(`${where(node)}: softmax over axis ${axis}, not the last one`);
      }
      if (op === 'Elu' && !close(floatAttr(node, 'alpha', 1), 1))
        formatError(
          `${where(node)}: Elu with alpha ${floatAttr(node, 'alpha', 1)} (only 1 is supported)`,
        );
      if (
        op === 'Selu' &&
        (!close(floatAttr(node, 'alpha', 1.6732632), 1.6732632) ||
          !close(floatAttr(node, 'gamma', 1.050701), 1.050701))
      )
        formatError(`${where(node)}: Selu with other constants than the defaults`);
      return [this.#activation(node, v, ACTIVATION_OPS[op]!)];
    }
    switch (op) {
      case 'HardSigmoid':
        return [
          this.#activation(
            node,
            this.#data(node, 0),
            hardSigmoid(floatAttr(node, 'alpha', 0.2), floatAttr(node, 'beta', 0.5), where(node)),
          ),
        ];
      case 'Gelu': {
        const approx = attr(node, 'approximate');
        const tanh = approx?.type === 'string' && approx.value === 'tanh';
        return [this.#activation(node, this.#data(node, 0), tanh ? 'geluTanh' : 'gelu')];
      }
      case 'Identity':
        return [this.#need(node, 0)];
      case 'Dropout':
        if (node.outputs[1]) formatError(`${where(node)}: its mask output is not supported`);
        return [this.#need(node, 0)];
      case 'Constant':
        return [this.#constant(node)];
      case 'GRU':
        return this.#gru(node);
      case 'Gemm':
        return [this.#gemm(node)];
      case 'MatMul':
        return [this.#matmul(node)];
      case 'Add':
        return [this.#add(node)];
      case 'Equal':
      case 'Not':
      case 'ReduceMin':
      case 'ReduceSum':
        return [this.#mask(node)];
      case 'Gather':
        return [this.#gather(node)];
      case 'Shape':
        return [this.#shape(node)];
      case 'ConstantOfShape':
      case 'Expand':
        return [this.#zeros(node)];
      default:
        return [this.#glue(node)];
    }
  }

  /** Equal, Not, ReduceMin, ReduceSum: the steps of a mask (gru-simd's exports compute them so). */
  #mask(node: OnnxNode): Value {
    const op = node.opType;
    const what = where(node);
    const v = this.#need(node, 0);
    const mask = (m: MaskValue, form: MaskValue['form']): MaskValue => ({ ...m, form });
    const axesOf = () =>
      node.inputs[1] ? this.#ints(node, 1, 'axes') : (intsAttr(node, 'axes') ?? []);
    if (op === 'Equal') {
      const c = this.#need(node, 1);
      if (v.kind !== 'data' || c.kind !== 'const' || (c.floats ?? c.ints ?? []).length !== 1)
        return formatError(
          `${what}: only a mask's comparison of the data with one value is supported`,
        );
      const value = (c.floats ?? c.ints)![0]!;
      if (v.ids) {
        if (value !== 0)
          formatError(`${what}: ids compared with ${value} (a mask compares with 0)`);
        return { kind: 'mask', source: { type: 'maskZero' }, form: 'pad' };
      }
      const settled = this.#settle(v, what);
      return { kind: 'mask', source: { type: 'masking', value, of: settled }, form: 'equal' };
    }
    if (v.kind !== 'mask') return formatError(`${what} on a ${v.kind} value is not supported`);
    if (op === 'Not' && (v.form === 'pad' || v.form === 'valid'))
      return mask(v, v.form === 'pad' ? 'valid' : 'pad');
    const axes = axesOf();
    const keep = intAttr(node, 'keepdims', 1);
    if (
      op === 'ReduceMin' &&
      v.form === 'equal' &&
      axes.length === 1 &&
      (axes[0] === 2 || axes[0] === -1) &&
      keep === 0
    )
      return mask(v, 'pad'); // every feature equal to the value: a padding step
    if (
      op === 'ReduceSum' &&
      v.form === 'valid' &&
      axes.length === 1 &&
      (axes[0] === 1 || axes[0] === -1) &&
      keep === 0
    )
      return mask(v, 'lens');
    return formatError(
      `${what} on a mask (${v.form}) is not one of the mask computations read here`,
    );
  }

  /** Cast, Unsqueeze, Sub (1 - pad) and Mul (data by the step mask: a Masking layer) of masks. */
  #maskGlue(node: OnnxNode, inputs: (Value | null)[]): Value {
    const what = where(node);
    const [a, b] = inputs;
    const op = node.opType;
    if (op === 'Cast' && a?.kind === 'mask') return a;
    if (op === 'Unsqueeze' && a?.kind === 'mask' && a.form === 'valid') {
      const axes = node.inputs[1] ? this.#ints(node, 1, 'axes') : (intsAttr(node, 'axes') ?? []);
      if (axes.length === 1 && (axes[0] === 2 || axes[0] === -1)) return { ...a, form: 'valid3' };
    }
    if (
      op === 'Sub' &&
      a?.kind === 'const' &&
      b?.kind === 'mask' &&
      (b.form === 'pad' || b.form === 'valid')
    ) {
      const one = a.floats ?? a.ints ?? [];
      if (one.length === 1 && one[0] === 1)
        return { ...b, form: b.form === 'pad' ? 'valid' : 'pad' };
    }
    if (op === 'Mul') {
      const [x, m] = (a?.kind === 'mask' ? [b, a] : [a, b]) as [Value | null, MaskValue];
      if (x?.kind === 'data' && m.form === 'valid3' && m.source.type === 'masking') {
        const settled = this.#settle(x, what);
        if (settled.layers !== m.source.of.layers)
          formatError(`${what} multiplies data by the mask of other data`);
        const spec: LayerSpec = { type: 'masking', maskValue: m.source.value, node: node.name };
        return { ...settled, layers: [...settled.layers, spec] };
      }
    }
    return formatError(`${what} on a mask is not one of the mask computations read here`);
  }

  /** The GRU input's layers with the mask its sequence_lens comes from made theirs. */
  #maskedLayers(node: OnnxNode, x: DataValue, lens: MaskValue): LayerSpec[] {
    if (lens.source.type === 'maskZero') {
      const first = x.layers[0];
      if (first?.type !== 'embedding')
        formatError(
          `${where(node)}: sequence_lens counts non-zero ids, but no embedding reads them`,
        );
      return [{ ...first, maskZero: true }, ...x.layers.slice(1)];
    }
    const value = lens.source.value;
    if (!x.layers.some((l) => l.type === 'masking' && l.maskValue === value))
      formatError(
        `${where(node)}: sequence_lens counts steps not equal to ${value}, but the input is not masked by it`,
      );
    return x.layers;
  }

  #constant(node: OnnxNode): Value {
    const a = [...node.attributes.values()][0];
    if (node.attributes.size !== 1 || a === undefined)
      formatError(`${where(node)} has no single value`);
    switch (a.type) {
      case 'tensor':
        return this.#tensor(a.value);
      case 'float':
        return { kind: 'const', dims: [], floats: Float32Array.of(a.value), ints: null };
      case 'floats':
        return {
          kind: 'const',
          dims: [a.value.length],
          floats: Float32Array.from(a.value),
          ints: null,
        };
      case 'int':
        return { kind: 'const', dims: [], floats: null, ints: [a.value] };
      case 'ints':
        return { kind: 'const', dims: [a.value.length], floats: null, ints: a.value };
      default:
        return formatError(`${where(node)}: a ${a.type} constant is not supported`);
    }
  }

  #shape(node: OnnxNode): Value {
    const v = this.#need(node, 0);
    const dims: Dim[] = v.kind === 'data' ? dimsOf(v) : v.kind === 'const' ? v.dims : [];
    if (v.kind !== 'data' && v.kind !== 'const')
      formatError(`${where(node)}: the shape of a ${v.kind} value`);
    const r = dims.length;
    const norm = (i: number) => Math.min(Math.max(i < 0 ? i + r : i, 0), r);
    const start = norm(intAttr(node, 'start', 0));
    const end = norm(intAttr(node, 'end', r));
    return { kind: 'dims', scalar: false, values: dims.slice(start, end) };
  }

  #zeros(node: OnnxNode): Value {
    if (node.opType === 'ConstantOfShape') {
      const a = attr(node, 'value');
      if (a !== undefined) {
        if (a.type !== 'tensor') formatError(`${where(node)}: value is not a tensor`);
        const c = this.#tensor(a.value);
        if ((c.floats ?? c.ints ?? []).some((x) => x !== 0))
          formatError(`${where(node)} fills with a value other than 0`);
      }
      return { kind: 'zeros' };
    }
    const v = this.#need(node, 0);
    if (v.kind === 'zeros') return v;
    if (v.kind === 'const' && (v.floats ?? v.ints ?? []).every((x) => x === 0))
      return { kind: 'zeros' };
    return formatError(`${where(node)}: Expand is supported for zeros only (a GRU's initial_h)`);
  }

  #gru(node: OnnxNode): (Value | null)[] {
    const what = where(node);
    const layout = intAttr(node, 'layout', 0);
    if (layout !== 0 && layout !== 1) formatError(`${what}: layout ${layout}`);
    const x = this.#settle(this.#data(node, 0), what);
    const expect = layout === 0 ? ['steps', 'batch', 'features'] : ['batch', 'steps', 'features'];
    if (x.ids || x.axes.length !== 3 || x.axes.some((a, i) => a.role !== expect[i]))
      formatError(
        `${what}: its input X has axes ${describeAxes(x)}, where [${expect.join(', ')}] (layout ${layout}) is expected`,
      );
    this.progress += 0.5; // X fits: an error from here on is about this layout's GRU
    const I = x.axes[2]!.size!;
    const direction = (() => {
      const a = attr(node, 'direction');
      const d = a === undefined ? 'forward' : a.type === 'string' ? a.value : '';
      if (d !== 'forward' && d !== 'reverse' && d !== 'bidirectional')
        formatError(`${what}: direction ${JSON.stringify(d)}`);
      return d;
    })();
    const D = direction === 'bidirectional' ? 2 : 1;
    const W = this.#const(node, 1, 'W');
    const R = this.#const(node, 2, 'R');
    if (W.floats === null || R.floats === null) formatError(`${what}: W and R must be FLOAT`);
    const H = R.dims[2] ?? 0;
    if (!(H > 0) || R.dims.length !== 3 || R.dims[0] !== D || R.dims[1] !== 3 * H)
      formatError(
        `${what}: R has shape [${R.dims.join(', ')}], expected [${D}, 3 * hidden, hidden]`,
      );
    const hidden = intAttr(node, 'hidden_size', H);
    if (hidden !== H) formatError(`${what}: hidden_size ${hidden} but R has hidden ${H}`);
    if (W.dims.length !== 3 || W.dims[0] !== D || W.dims[1] !== 3 * H || W.dims[2] !== I)
      formatError(
        `${what}: W has shape [${W.dims.join(', ')}], expected [${D}, ${3 * H}, ${I}] (input features ${I})`,
      );
    const Bv = this.#input(node, 3);
    let B: Float32Array | null = null;
    if (Bv !== null && Bv.kind !== 'zeros') {
      if (Bv.kind !== 'const' || Bv.floats === null)
        return formatError(`${what}: B must be a FLOAT constant`);
      if (Bv.dims.length !== 2 || Bv.dims[0] !== D || Bv.dims[1] !== 6 * H)
        formatError(`${what}: B has shape [${Bv.dims.join(', ')}], expected [${D}, ${6 * H}]`);
      B = Bv.floats;
    }
    const lens = this.#input(node, 4);
    let inputLayers = x.layers;
    if (lens !== null && lens.kind === 'mask' && lens.form === 'lens') {
      inputLayers = this.#maskedLayers(node, x, lens);
    } else if (lens !== null)
      formatError(
        `${what}: sequence_lens other than a mask computed from the input is not supported (a Sequential takes masks: pad with Masking or Embedding maskZero)`,
      );
    const h0 = this.#input(node, 5);
    if (
      h0 !== null &&
      h0.kind !== 'zeros' &&
      !(h0.kind === 'const' && (h0.floats ?? h0.ints ?? []).every((v) => v === 0))
    )
      formatError(
        `${what}: initial_h must be zeros (the model API starts each sequence from zeros)`,
      );
    if (attr(node, 'clip') !== undefined) formatError(`${what}: clip is not supported`);
    const lbr = intAttr(node, 'linear_before_reset', 0);
    const { activation, recurrentActivation } = this.#gruActivations(node, D);
    const weights = [];
    for (let d = 0; d < D; d++) {
      const wb = B ? B.subarray(d * 6 * H, d * 6 * H + 3 * H) : new Float32Array(3 * H);
      const rb = B ? B.subarray(d * 6 * H + 3 * H, (d + 1) * 6 * H) : new Float32Array(3 * H);
      // Reset-before (linear_before_reset 0): both biases only add, so rb folds into the input
      // bias and the recurrent one stays 0 (layers.gru keeps it 0 when resetAfter is false).
      const biasIh = lbr ? wb.slice() : Float32Array.from(wb, (v, i) => v + rb[i]!);
      weights.push({
        weightIh: swapFirstTwoBlocks(W.floats.subarray(d * 3 * H * I, (d + 1) * 3 * H * I), H * I),
        weightHh: swapFirstTwoBlocks(R.floats.subarray(d * 3 * H * H, (d + 1) * 3 * H * H), H * H),
        biasIh: swapFirstTwoBlocks(biasIh, H),
        biasHh: lbr ? swapFirstTwoBlocks(rb, H) : new Float32Array(3 * H),
      });
    }
    const gru: GruNodeSpec = {
      node: node.name,
      units: H,
      inputSize: I,
      direction,
      resetAfter: lbr !== 0,
      activation,
      recurrentActivation,
      useBias: B !== null,
      masked: lens !== null,
      weights,
      inputLayers,
    };
    const directions: DirectionOf[] = Array.from({ length: D }, (_, d) => ({
      gru,
      direction: d as 0 | 1,
    }));
    const dirAxis: Axis = { role: 'directions', size: D };
    const h: Axis = { role: 'features', size: H };
    const b: Axis = { role: 'batch', size: null };
    const t: Axis = { role: 'steps', size: null };
    const Y: DataValue = {
      kind: 'data',
      axes: layout === 0 ? [t, dirAxis, b, h] : [b, t, dirAxis, h],
      layers: [],
      pending: { directions, final: false },
      ids: false,
    };
    const Yh: DataValue = {
      kind: 'data',
      axes: layout === 0 ? [dirAxis, b, h] : [b, dirAxis, h],
      layers: [],
      pending: { directions, final: true },
      ids: false,
    };
    return [Y, Yh];
  }

  #gruActivations(
    node: OnnxNode,
    D: number,
  ): { activation: GRUActivation; recurrentActivation: GRURecurrentActivation } {
    const a = attr(node, 'activations');
    if (a === undefined) return { activation: 'tanh', recurrentActivation: 'sigmoid' };
    if (a.type !== 'strings' || a.value.length !== 2 * D)
      formatError(`${where(node)}: activations must list ${2 * D} names`);
    const alphas = [...(intsOrFloats(attr(node, 'activation_alpha')) ?? [])];
    const betas = [...(intsOrFloats(attr(node, 'activation_beta')) ?? [])];
    const picked: string[] = [];
    for (const name of a.value) {
      const n = name.toLowerCase();
      if (n === 'sigmoid') picked.push('sigmoid');
      else if (n === 'tanh') picked.push('tanh');
      else if (n === 'relu') picked.push('relu');
      else if (n === 'hardsigmoid')
        picked.push(hardSigmoid(alphas.shift() ?? 0.2, betas.shift() ?? 0.5, where(node)));
      else
        formatError(
          `${where(node)}: the GRU activation ${name} has no counterpart (supported: Sigmoid, HardSigmoid for the gates; Tanh, Relu for the candidate)`,
        );
    }
    const [f, g] = picked as [string, string];
    if (D === 2 && (picked[2] !== f || picked[3] !== g))
      formatError(`${where(node)}: the two directions use different activations`);
    if (
      !['sigmoid', 'hardSigmoid', 'hardSigmoidKeras2'].includes(f) ||
      !['tanh', 'relu'].includes(g)
    )
      formatError(
        `${where(node)}: activations ${f} (gates) and ${g} (candidate) are not supported`,
      );
    return { recurrentActivation: f as GRURecurrentActivation, activation: g as GRUActivation };
  }

  #dense(
    node: OnnxNode,
    x: DataValue,
    weight: Float32Array,
    out: number,
    inF: number,
    bias: Float32Array | null,
  ): DataValue {
    return this.#perFeature(node, x, (features) => {
      if (features !== inF)
        formatError(`${where(node)}: weights for ${inF} features, the input has ${features}`);
      return {
        type: 'dense',
        units: out,
        inFeatures: inF,
        weight,
        bias,
        activation: 'linear',
        node: node.name,
      };
    });
  }

  #gemm(node: OnnxNode): DataValue {
    const x = this.#data(node, 0);
    const Wc = this.#const(node, 1, 'B (the weights)');
    if (intAttr(node, 'transA', 0) !== 0) formatError(`${where(node)}: transA is not supported`);
    if (Wc.floats === null || Wc.dims.length !== 2)
      return formatError(`${where(node)}: weights must be a FLOAT matrix`);
    const transB = intAttr(node, 'transB', 0) !== 0;
    const alpha = floatAttr(node, 'alpha', 1);
    const beta = floatAttr(node, 'beta', 1);
    const [r, c] = Wc.dims as [number, number];
    const [out, inF] = transB ? [r, c] : [c, r];
    const weight = transB ? Wc.floats.slice() : transpose(Wc.floats, r, c);
    if (alpha !== 1) for (let i = 0; i < weight.length; i++) weight[i]! *= alpha;
    const C = this.#input(node, 2);
    let bias: Float32Array | null = null;
    if (C !== null) {
      if (C.kind !== 'const' || C.floats === null)
        return formatError(`${where(node)}: C must be a FLOAT constant`);
      bias = broadcastBias(C, out, where(node));
      if (beta !== 1) for (let i = 0; i < out; i++) bias[i]! *= beta;
    }
    return this.#dense(node, x, weight, out, inF, bias);
  }

  #matmul(node: OnnxNode): DataValue {
    const x = this.#data(node, 0);
    const Wc = this.#const(node, 1, 'second input (the weights)');
    if (Wc.floats === null || Wc.dims.length !== 2)
      return formatError(`${where(node)}: weights must be a FLOAT matrix`);
    const [inF, out] = Wc.dims as [number, number];
    return this.#dense(node, x, transpose(Wc.floats, inF, out), out, inF, null);
  }

  #add(node: OnnxNode): Value {
    const a = this.#need(node, 0);
    const b = this.#need(node, 1);
    if (a.kind !== 'data' && b.kind !== 'data') return this.#glue(node);
    const [x, c] = (a.kind === 'data' ? [a, b] : [b, a]) as [DataValue, Value];
    const last = x.layers[x.layers.length - 1];
    if (
      c.kind !== 'const' ||
      c.floats === null ||
      x.pending !== null ||
      last?.type !== 'dense' ||
      last.activation !== 'linear'
    )
      return formatError(`${where(node)}: only a constant bias added after MatMul is supported`);
    const bias = broadcastBias(c, last.units, where(node));
    if (last.bias) for (let i = 0; i < bias.length; i++) bias[i]! += last.bias[i]!;
    const layers = [...x.layers];
    layers[layers.length - 1] = { ...last, bias };
    return { ...x, layers };
  }

  #gather(node: OnnxNode): Value {
    const data = this.#need(node, 0);
    const index = this.#need(node, 1);
    const axis = intAttr(node, 'axis', 0);
    if (index.kind === 'data') {
      // An embedding: a float table gathered by the ids.
      if (!index.ids || index.layers.length > 0)
        formatError(`${where(node)}: indices must be the integer graph input`);
      if (data.kind !== 'const' || data.floats === null || data.dims.length !== 2 || axis !== 0)
        formatError(
          `${where(node)}: an embedding gathers rows of a FLOAT [vocabulary, features] constant`,
        );
      const [inputDim, outputDim] = data.dims as [number, number];
      return {
        kind: 'data',
        axes: [...index.axes, { role: 'features', size: outputDim }],
        layers: [
          {
            type: 'embedding',
            inputDim,
            outputDim,
            table: data.floats,
            node: node.name,
            maskZero: false,
          },
        ],
        pending: null,
        ids: false,
      };
    }
    if (data.kind === 'data') {
      const i = this.#ints(node, 1, 'index');
      if (i.length !== 1 || (index.kind === 'const' && index.dims.length > 1))
        formatError(
          `${where(node)}: gathers ${i.length} entries of the data; one index is supported`,
        );
      const scalar =
        index.kind === 'const' ? index.dims.length === 0 : (index as { scalar: boolean }).scalar;
      const k = i[0]!;
      // [k, k + 1), where k = -1 means the last entry: [-1, end of the axis).
      return this.#pick(node, data, axis, k, k === -1 ? Number.MAX_SAFE_INTEGER : k + 1, !scalar);
    }
    return this.#glue(node);
  }

  /** Indices [start, end) along `axis` of data (a Gather of one index, or a Slice). */
  #pick(
    node: OnnxNode,
    v: DataValue,
    axis0: number,
    start: number,
    end: number,
    keep: boolean,
  ): DataValue {
    const rank = v.axes.length;
    const at = axis0 < 0 ? axis0 + rank : axis0;
    const ax = v.axes[at];
    if (ax === undefined) return formatError(`${where(node)}: axis ${axis0} of ${describeAxes(v)}`);
    const size = ax.size;
    const norm = (i: number, dim: number) => Math.min(Math.max(i < 0 ? i + dim : i, 0), dim);
    if (ax.role === 'steps') {
      // [-1:] or -1, or [T-1:T] when T is fixed: the last step.
      if (start === -1 && end >= 2 ** 31 - 1) return this.#lastStep(node, v, at, keep);
      return formatError(
        `${where(node)} selects steps [${start}, ${end}): only the last step is supported`,
      );
    }
    if (size === null) return formatError(`${where(node)} selects part of the ${ax.role} axis`);
    const s = norm(start, size);
    const e = norm(end, size);
    if (s === 0 && e === size) return v;
    if (ax.role === 'directions' && v.pending !== null) {
      const dirsAt = v.pending.directions.slice(s, e);
      const axes = [...v.axes];
      if (keep) axes[at] = { role: 'directions', size: dirsAt.length };
      else {
        if (dirsAt.length !== 1) formatError(`${where(node)}: one direction`);
        axes.splice(at, 1);
      }
      return { ...v, axes, pending: { ...v.pending, directions: dirsAt } };
    }
    if (ax.role === 'unit' && !keep) return { ...v, axes: v.axes.filter((_, i) => i !== at) };
    return formatError(`${where(node)} selects part of the ${ax.role} axis of ${describeAxes(v)}`);
  }

  /** Shape glue and data moves: Transpose, Reshape, Squeeze, Unsqueeze, Slice, Concat, Cast, Flatten and integer arithmetic. */
  #glue(node: OnnxNode): Value {
    const op = node.opType;
    const inputs = node.inputs.map((_, i) => this.#input(node, i));
    const first = inputs[0];
    if (first === null || first === undefined) return formatError(`${where(node)} lacks its input`);
    if (
      first.kind === 'zeros' &&
      ['Slice', 'Transpose', 'Reshape', 'Squeeze', 'Unsqueeze', 'Cast'].includes(op)
    )
      return first;
    if (op === 'Concat') return this.#concat(node, inputs);
    if (inputs.some((v) => v?.kind === 'mask')) return this.#maskGlue(node, inputs);
    if (first.kind === 'data') return this.#move(node, first);
    // Integers: dims (symbolic) and small constants.
    const values = (v: Value | null): Dim[] => {
      if (v === null) return formatError(`${where(node)} lacks an input`);
      if (v.kind === 'dims') return v.values;
      if (v.kind === 'const') return v.ints ?? Array.from(v.floats!);
      return formatError(`${where(node)}: a ${v.kind} value where integers are expected`);
    };
    const scalarOf = (v: Value) =>
      v.kind === 'dims' ? v.scalar : v.kind === 'const' ? v.dims.length === 0 : false;
    const a = values(first);
    const out = (vals: Dim[], scalar: boolean): Value => {
      if (
        vals.every((d) => typeof d === 'number') &&
        first.kind === 'const' &&
        first.floats !== null &&
        op === 'Cast'
      )
        return {
          kind: 'const',
          dims: scalar ? [] : [vals.length],
          floats: null,
          ints: vals as number[],
        };
      return { kind: 'dims', scalar, values: vals };
    };
    switch (op) {
      case 'Cast':
        return out(a, scalarOf(first));
      case 'Unsqueeze':
        if (!scalarOf(first)) return formatError(`${where(node)}: unsqueezes a shape of rank 1`);
        return out(a, false);
      case 'Squeeze':
        if (a.length !== 1)
          return formatError(`${where(node)}: squeezes a shape of ${a.length} entries`);
        return out(a, true);
      case 'Reshape':
      case 'Flatten':
        return out(a, false);
      case 'Gather': {
        const i = this.#ints(node, 1, 'index');
        const picked = i.map((k) => a[k < 0 ? k + a.length : k]);
        if (picked.some((d) => d === undefined))
          return formatError(`${where(node)}: index out of range`);
        return out(picked as Dim[], scalarOf(inputs[1]!));
      }
      case 'Slice': {
        const [s] = this.#ints(node, 1, 'starts');
        const [e] = this.#ints(node, 2, 'ends');
        const norm = (k: number) => Math.min(Math.max(k < 0 ? k + a.length : k, 0), a.length);
        return out(a.slice(norm(s!), norm(e!)), false);
      }
      case 'Mul':
      case 'Div':
      case 'Sub':
      case 'Add': {
        const b = values(inputs[1] ?? null);
        const n = Math.max(a.length, b.length);
        const res: Dim[] = [];
        for (let k = 0; k < n; k++) {
          const x = a[a.length === 1 ? 0 : k];
          const y = b[b.length === 1 ? 0 : k];
          if (typeof x === 'number' && typeof y === 'number')
            res.push(
              op === 'Mul'
                ? x * y
                : op === 'Div'
                  ? Math.trunc(x / y)
                  : op === 'Sub'
                    ? x - y
                    : x + y,
            );
          else if (op === 'Mul' && (x === 1 || y === 1)) res.push(x === 1 ? y! : x!);
          else res.push(`${String(x)}${op}${String(y)}`);
        }
        return out(res, scalarOf(first) && scalarOf(inputs[1]!));
      }
      default:
        return formatError(`${where(node)} on ${first.kind} values is not supported`);
    }
  }

  #concat(node: OnnxNode, inputs: (Value | null)[]): Value {
    const axis = intAttr(node, 'axis', 0);
    if (inputs.some((v) => v === null)) formatError(`${where(node)} lacks an input`);
    const vs = inputs as Value[];
    if (vs.every((v) => v.kind === 'const' || v.kind === 'dims')) {
      const all: Dim[] = [];
      for (const v of vs)
        all.push(...(v.kind === 'dims' ? v.values : (v.ints ?? Array.from(v.floats!))));
      return { kind: 'dims', scalar: false, values: all };
    }
    if (vs.some((v) => v.kind !== 'data' || v.pending === null))
      formatError(`${where(node)}: concatenates values other than GRU states`);
    const ds = vs as DataValue[];
    const rank = ds[0]!.axes.length;
    const at = axis < 0 ? axis + rank : axis;
    const roles = ds[0]!.axes.map((a) => a.role).join();
    if (ds.some((d) => d.axes.map((a) => a.role).join() !== roles))
      formatError(`${where(node)}: its inputs have different axes`);
    const role = ds[0]!.axes[at]?.role;
    if (role !== 'directions' && role !== 'features')
      formatError(`${where(node)}: concatenates along ${role ?? `axis ${axis}`}`);
    if (role === 'features' && ds.some((d) => d.axes.some((a) => a.role === 'directions')))
      formatError(`${where(node)}: concatenates features of unmerged directions`);
    const final = ds.every((d) => d.pending!.final);
    if (!final && ds.some((d) => d.pending!.final))
      formatError(`${where(node)}: mixes states and sequences`);
    const directions = ds.flatMap((d) => d.pending!.directions);
    const axes = [...ds[0]!.axes];
    const size =
      role === 'features' ? ds.reduce((s, d) => s + d.axes[at]!.size!, 0) : directions.length;
    axes[at] = { role, size };
    return { ...ds[0]!, axes, pending: { directions, final } };
  }

  /** Axis moves of the model's data. */
  #move(node: OnnxNode, v: DataValue): DataValue {
    const op = node.opType;
    const rank = v.axes.length;
    const norm = (a: number) => (a < 0 ? a + rank : a);
    switch (op) {
      case 'Transpose': {
        const perm = intsAttr(node, 'perm') ?? v.axes.map((_, i) => rank - 1 - i);
        if (
          perm.length !== rank ||
          new Set(perm).size !== rank ||
          perm.some((p) => p < 0 || p >= rank)
        )
          formatError(`${where(node)}: perm [${perm.join(', ')}] for ${rank} axes`);
        return { ...v, axes: perm.map((p) => v.axes[p]!) };
      }
      case 'Squeeze':
      case 'Unsqueeze': {
        const axes = (node.inputs[1] ? this.#ints(node, 1, 'axes') : intsAttr(node, 'axes')) ?? [];
        if (op === 'Unsqueeze') {
          const out = [...v.axes];
          const n = rank + axes.length;
          for (const a of [...axes].map((a) => (a < 0 ? a + n : a)).sort((x, y) => x - y))
            out.splice(a, 0, { role: 'unit', size: 1 });
          return { ...v, axes: out };
        }
        const drop = new Set(
          axes.length ? axes.map(norm) : v.axes.flatMap((a, i) => (a.size === 1 ? [i] : [])),
        );
        for (const i of drop) {
          const a = v.axes[i];
          if (a === undefined || a.size !== 1)
            formatError(`${where(node)}: squeezes axis ${i}, which is not of size 1`);
        }
        let out = v;
        if ([...drop].some((i) => v.axes[i]!.role === 'directions')) out = { ...v };
        return { ...out, axes: v.axes.filter((_, i) => !drop.has(i)) };
      }
      case 'Slice': {
        const starts = this.#ints(node, 1, 'starts');
        const ends = this.#ints(node, 2, 'ends');
        const axes = node.inputs[3] ? this.#ints(node, 3, 'axes') : starts.map((_, i) => i);
        const steps = node.inputs[4] ? this.#ints(node, 4, 'steps') : starts.map(() => 1);
        if (starts.length !== 1 || ends.length !== 1 || axes.length !== 1 || steps[0] !== 1)
          formatError(`${where(node)}: slices of one axis with step 1 are supported`);
        return this.#pick(node, v, axes[0]!, starts[0]!, ends[0]!, true);
      }
      case 'Reshape':
      case 'Flatten':
        return this.#reshape(node, v);
      case 'Cast':
        return v;
      default:
        return formatError(`${where(node)} on the model's data is not supported`);
    }
  }

  /** Reshape of data: merging a direction axis into the features, or adding/removing unit axes. */
  #reshape(node: OnnxNode, v: DataValue): DataValue {
    const src = v.axes.filter((a) => a.size !== 1 || a.role === 'features');
    let target: Dim[];
    if (node.opType === 'Flatten') {
      const axis = intAttr(node, 'axis', 1);
      if (axis !== 1) formatError(`${where(node)}: Flatten axis ${axis}`);
      target = [0, -1];
    } else {
      const t = this.#need(node, 1);
      if (t.kind === 'dims') target = t.values;
      else if (t.kind === 'const' && t.ints) target = t.ints;
      else return formatError(`${where(node)}: the shape must be integers`);
    }
    const dims = dimsOf(v);
    const resolved = target.map((d, i) => (d === 0 ? dims[i] : d));
    // Group the non-unit source axes onto the target dims in order.
    const out: Axis[] = [];
    let k = 0;
    let directions: Axis | null = null;
    for (const d of resolved) {
      if (d === 1) {
        out.push({ role: 'unit', size: 1 });
        continue;
      }
      const a = src[k];
      if (a === undefined)
        return formatError(
          `${where(node)}: reshape to [${target.join(', ')}] from ${describeAxes(v)}`,
        );
      if (a.role === 'batch' || a.role === 'steps') {
        if (d !== a.role && d !== -1)
          formatError(`${where(node)}: reshape [${target.join(', ')}] moves the ${a.role} axis`);
        out.push(a);
        k++;
        continue;
      }
      // directions then features merge (concatenated directions); features alone stay.
      if (a.role === 'directions' && src[k + 1]?.role === 'features') {
        const f = src[k + 1]!;
        const size = a.size! * f.size!;
        if (d !== -1 && d !== size)
          formatError(`${where(node)}: reshape to ${String(d)} features from ${describeAxes(v)}`);
        directions = a;
        out.push({ role: 'features', size });
        k += 2;
        continue;
      }
      if (a.role === 'features' && (d === -1 || d === a.size)) {
        out.push(a);
        k++;
        continue;
      }
      return formatError(
        `${where(node)}: reshape to [${target.join(', ')}] from ${describeAxes(v)} splits or mixes axes`,
      );
    }
    if (k !== src.length)
      formatError(`${where(node)}: reshape to [${target.join(', ')}] from ${describeAxes(v)}`);
    void directions;
    return { ...v, axes: out };
  }
}

function intsOrFloats(a: OnnxAttribute | undefined): number[] | undefined {
  if (a === undefined) return undefined;
  if (a.type === 'floats' || a.type === 'ints') return a.value;
  return undefined;
}

function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c]!;
  return out;
}

/** A bias constant of `out` values ([out], [1, out], a scalar broadcast). */
function broadcastBias(c: ConstValue, out: number, what: string): Float32Array {
  const f = c.floats!;
  if (f.length === out && c.dims.slice(0, -1).every((d) => d === 1)) return f.slice();
  if (f.length === 1) return new Float32Array(out).fill(f[0]!);
  return formatError(`${what}: a bias of shape [${c.dims.join(', ')}] for ${out} features`);
}
