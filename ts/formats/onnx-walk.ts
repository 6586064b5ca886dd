/**
 * The walk of the ONNX importer (onnx-import.ts): the nodes in dependency order, each output
 * given what it means (onnx-values.ts). This file holds the values' bookkeeping and the
 * operators that make layers (Gemm, MatMul, Add, Gather, the activations) or constants; GRU
 * nodes are read in onnx-walk-gru.ts, the mask computations in onnx-walk-masks.ts, and the
 * axis moves and shape arithmetic in onnx-walk-moves.ts. Its methods are the helpers those
 * files use (the value of an input, checked to be a constant, integers or the model's data).
 *
 * Over 400 lines: the values' bookkeeping and the operators that make layers share one class.
 */
import type { ActivationName } from '../activations.js';
import {
  attr,
  broadcastBias,
  close,
  floatAttr,
  hardSigmoid,
  intAttr,
  intsAttr,
  transpose,
  where,
} from './onnx-import-util.js';
import {
  ByteBudget,
  formatError,
  ONNX_DTYPE,
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
  type LayerSpec,
  type Value,
} from './onnx-values.js';
import { readGru } from './onnx-walk-gru.js';
import { readLoop } from './onnx-walk-loop.js';
import { readMask } from './onnx-walk-masks.js';
import { glue, pick } from './onnx-walk-moves.js';

const ACTIVATION_OPS: Record<string, ActivationName> = {
  Relu: 'relu',
  Sigmoid: 'sigmoid',
  Tanh: 'tanh',
  Softmax: 'softmax',
  Elu: 'elu',
  Selu: 'selu',
  Softplus: 'softplus',
};

/** One walk over the nodes under one hypothesis of the input's layout. */
export class Walk {
  readonly #values = new Map<string, Value>();
  /** The output's axes as the graph lays them out. */
  outputAxes: Axis[] = [];
  /** Nodes read so far. */
  progress = 0;
  /** The graph input's declared number of steps, where it is a number (a Loop's trip count). */
  declaredSteps: number | null = null;
  constructor(
    readonly model: OnnxModel,
    readonly budget: ByteBudget,
    readonly opset: number,
    readonly tensors: Map<OnnxTensor, ConstValue>,
  ) {}

  run(nodes: OnnxNode[], inputName: string, start: DataValue, output: string): DataValue {
    this.#values.set(inputName, start);
    for (const node of nodes) {
      const outs = this.node(node);
      this.progress++;
      outs.forEach((v, i) => {
        const name = node.outputs[i];
        if (name && v !== null) this.#values.set(name, v);
      });
    }
    let v = this.value(output, 'the graph output');
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
    const done = this.settle(v, 'the graph output');
    if (done.ids || done.layers.length === 0)
      formatError('the graph output is its input: no layer computes it');
    const roles = done.axes.filter((a) => a.role !== 'unit').map((a) => a.role);
    if (roles.filter((r) => r === 'features').length !== 1 || !roles.includes('batch'))
      formatError(
        `the graph output has axes ${describeAxes(done)}: expected batch, (steps,) features`,
      );
    return done;
  }

  value(name: string, what: string): Value {
    const v = this.#values.get(name);
    if (v !== undefined) return v;
    const t = this.model.graph.initializers.get(name);
    if (t === undefined)
      return formatError(`${what} reads ${JSON.stringify(name)}, which has no value`);
    const c = this.tensor(t);
    this.#values.set(name, c);
    return c;
  }

  /** A tensor's values, read once per import (the walks of both layouts share them). */
  tensor(t: OnnxTensor): ConstValue {
    const known = this.tensors.get(t);
    if (known !== undefined) return known;
    const float = t.dtype === ONNX_DTYPE.FLOAT || t.dtype === ONNX_DTYPE.DOUBLE;
    const c: ConstValue = {
      kind: 'const',
      dims: t.dims,
      floats: float ? t.floats(this.budget) : null,
      ints: float ? null : t.numbers(this.budget),
    };
    this.tensors.set(t, c);
    return c;
  }

  input(node: OnnxNode, i: number): Value | null {
    const name = node.inputs[i];
    if (name === undefined || name === '') return null;
    return this.value(name, where(node));
  }

  need(node: OnnxNode, i: number): Value {
    const v = this.input(node, i);
    if (v === null) formatError(`${where(node)} lacks its input ${i + 1}`);
    return v;
  }

  const(node: OnnxNode, i: number, what: string): ConstValue {
    const v = this.need(node, i);
    if (v.kind !== 'const')
      formatError(`${where(node)}: its ${what} must be a constant (an initializer or Constant)`);
    return v;
  }

  /** Integer values known now: constant ints or dims without symbols. */
  ints(node: OnnxNode, i: number, what: string): number[] {
    const v = this.need(node, i);
    if (v.kind === 'const' && v.ints) return v.ints;
    if (v.kind === 'dims' && v.values.every((d) => typeof d === 'number'))
      return v.values as number[];
    return formatError(`${where(node)}: its ${what} must be known integers`);
  }

  data(node: OnnxNode, i: number): DataValue {
    const v = this.need(node, i);
    if (v.kind !== 'data')
      formatError(`${where(node)}: input ${i + 1} must be the model's data, got a ${v.kind} value`);
    return v;
  }

  /** The data with a GRU's pending directions turned into its layer (an error where they cannot). */
  settle(v: DataValue, what: string): DataValue {
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
    const merge = v.pending.merge;
    const layers: LayerSpec[] = [
      ...gru.inputLayers,
      { type: 'gru', gru, returnSequences: seq, ...(merge ? { mergeMode: merge } : {}) },
    ];
    return { ...v, layers, pending: null };
  }

  /** ReduceSum / ReduceMean / ReduceProd over a bidirectional GRU's direction axis: a merge mode. */
  mergeDirections(node: OnnxNode, v: DataValue): DataValue {
    const axes = node.inputs[1] ? this.ints(node, 1, 'axes') : (intsAttr(node, 'axes') ?? []);
    const at = axes.length === 1 ? (axes[0]! < 0 ? axes[0]! + v.axes.length : axes[0]!) : -1;
    const merge = ({ ReduceSum: 'sum', ReduceMean: 'ave', ReduceProd: 'mul' } as const)[
      node.opType as 'ReduceSum' | 'ReduceMean' | 'ReduceProd'
    ];
    if (
      v.pending === null ||
      v.pending.merge !== undefined ||
      v.axes[at]?.role !== 'directions' ||
      v.pending.directions.length !== 2 ||
      intAttr(node, 'keepdims', 1) !== 0
    )
      return formatError(
        `${where(node)}: only the reduction of a bidirectional GRU's two directions (keepdims 0) is supported`,
      );
    return {
      ...v,
      axes: v.axes.filter((_, i) => i !== at),
      pending: { ...v.pending, merge },
    };
  }

  /** Takes the last step (axis `at`, the steps): valid where it is a forward run's last state. */
  lastStep(node: OnnxNode, v: DataValue, at: number, keep: boolean): DataValue {
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
  perFeature(node: OnnxNode, v0: DataValue, layer: (features: number) => LayerSpec): DataValue {
    const v = this.settle(v0, where(node));
    const last = [...v.axes].reverse().find((a) => a.role !== 'unit');
    if (last?.role !== 'features')
      formatError(
        `${where(node)} works on the last axis, which is ${last?.role ?? 'none'} here, not the features`,
      );
    if (v.ids) formatError(`${where(node)} works on the integer ids`);
    return { ...v, layers: [...v.layers, layer(last.size!)] };
  }

  activation(node: OnnxNode, v: DataValue, act: ActivationName): DataValue {
    const settled = this.settle(v, where(node));
    const lastLayer = settled.layers[settled.layers.length - 1];
    if (lastLayer?.type === 'dense' && lastLayer.activation === 'linear') {
      const layers = [...settled.layers];
      layers[layers.length - 1] = { ...lastLayer, activation: act };
      return { ...settled, layers };
    }
    return this.perFeature(node, settled, () => ({
      type: 'activation',
      activation: act,
      node: node.name,
    }));
  }

  node(node: OnnxNode): (Value | null)[] {
    const op = node.opType;
    if (op in ACTIVATION_OPS) {
      const v = this.data(node, 0);
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
      return [this.activation(node, v, ACTIVATION_OPS[op]!)];
    }
    switch (op) {
      case 'HardSigmoid':
        return [
          this.activation(
            node,
            this.data(node, 0),
            hardSigmoid(floatAttr(node, 'alpha', 0.2), floatAttr(node, 'beta', 0.5), where(node)),
          ),
        ];
      case 'Gelu': {
        const approx = attr(node, 'approximate');
        const tanh = approx?.type === 'string' && approx.value === 'tanh';
        return [this.activation(node, this.data(node, 0), tanh ? 'geluTanh' : 'gelu')];
      }
      case 'Identity':
        return [this.need(node, 0)];
      case 'Dropout':
        if (node.outputs[1]) formatError(`${where(node)}: its mask output is not supported`);
        return [this.need(node, 0)];
      case 'Constant':
        return [this.constant(node)];
      case 'GRU':
        return readGru(this, node);
      case 'Loop':
        return readLoop(this, node);
      case 'Less':
      case 'And':
        return [this.foldCondition(node)];
      case 'Gemm':
        return [this.gemm(node)];
      case 'MatMul':
        return [this.matmul(node)];
      case 'Add':
        return [this.add(node)];
      case 'Equal':
      case 'Not':
      case 'ReduceMin':
        return [readMask(this, node)];
      case 'ReduceSum':
      case 'ReduceMean':
      case 'ReduceProd': {
        const v = this.need(node, 0);
        if (v.kind === 'data') return [this.mergeDirections(node, v)];
        return [readMask(this, node)];
      }
      case 'Gather':
        return [this.gather(node)];
      case 'Shape':
        return [this.shape(node)];
      case 'ConstantOfShape':
      case 'Expand':
        return [this.zeros(node)];
      default:
        return [glue(this, node)];
    }
  }

  /** Less / And of constants: a Loop's first condition, as tf2onnx computes it (0 < steps). */
  foldCondition(node: OnnxNode): Value {
    const [a, b] = [0, 1].map((i) => {
      const c = this.const(node, i, `input ${i + 1}`);
      const v = c.floats ?? c.ints ?? [];
      if (v.length !== 1) formatError(`${where(node)}: only scalar conditions are supported`);
      return v[0]!;
    }) as [number, number];
    const value = node.opType === 'Less' ? a < b : a !== 0 && b !== 0;
    return { kind: 'const', dims: [], floats: null, ints: [value ? 1 : 0] };
  }

  constant(node: OnnxNode): Value {
    const a = [...node.attributes.values()][0];
    if (node.attributes.size !== 1 || a === undefined)
      formatError(`${where(node)} has no single value`);
    switch (a.type) {
      case 'tensor':
        return this.tensor(a.value);
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

  shape(node: OnnxNode): Value {
    const v = this.need(node, 0);
    const dims: Dim[] = v.kind === 'data' ? dimsOf(v) : v.kind === 'const' ? v.dims : [];
    if (v.kind !== 'data' && v.kind !== 'const')
      formatError(`${where(node)}: the shape of a ${v.kind} value`);
    const r = dims.length;
    const norm = (i: number) => Math.min(Math.max(i < 0 ? i + r : i, 0), r);
    const start = norm(intAttr(node, 'start', 0));
    const end = norm(intAttr(node, 'end', r));
    return { kind: 'dims', scalar: false, values: dims.slice(start, end) };
  }

  zeros(node: OnnxNode): Value {
    if (node.opType === 'ConstantOfShape') {
      const a = attr(node, 'value');
      if (a !== undefined) {
        if (a.type !== 'tensor') formatError(`${where(node)}: value is not a tensor`);
        const c = this.tensor(a.value);
        if ((c.floats ?? c.ints ?? []).some((x) => x !== 0))
          formatError(`${where(node)} fills with a value other than 0`);
      }
      return { kind: 'zeros' };
    }
    const v = this.need(node, 0);
    if (v.kind === 'zeros') return v;
    if (v.kind === 'const' && (v.floats ?? v.ints ?? []).every((x) => x === 0))
      return { kind: 'zeros' };
    return formatError(`${where(node)}: Expand is supported for zeros only (a GRU's initial_h)`);
  }

  dense(
    node: OnnxNode,
    x: DataValue,
    weight: Float32Array,
    out: number,
    inF: number,
    bias: Float32Array | null,
  ): DataValue {
    return this.perFeature(node, x, (features) => {
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

  gemm(node: OnnxNode): DataValue {
    const x = this.data(node, 0);
    const Wc = this.const(node, 1, 'B (the weights)');
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
    const C = this.input(node, 2);
    let bias: Float32Array | null = null;
    if (C !== null) {
      if (C.kind !== 'const' || C.floats === null)
        return formatError(`${where(node)}: C must be a FLOAT constant`);
      bias = broadcastBias(C, out, where(node));
      if (beta !== 1) for (let i = 0; i < out; i++) bias[i]! *= beta;
    }
    return this.dense(node, x, weight, out, inF, bias);
  }

  matmul(node: OnnxNode): DataValue {
    const x = this.data(node, 0);
    const Wc = this.const(node, 1, 'second input (the weights)');
    if (Wc.floats === null || Wc.dims.length !== 2)
      return formatError(`${where(node)}: weights must be a FLOAT matrix`);
    const [inF, out] = Wc.dims as [number, number];
    return this.dense(node, x, transpose(Wc.floats, inF, out), out, inF, null);
  }

  add(node: OnnxNode): Value {
    const a = this.need(node, 0);
    const b = this.need(node, 1);
    if (a.kind !== 'data' && b.kind !== 'data') return glue(this, node);
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

  gather(node: OnnxNode): Value {
    const data = this.need(node, 0);
    const index = this.need(node, 1);
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
      const i = this.ints(node, 1, 'index');
      if (i.length !== 1 || (index.kind === 'const' && index.dims.length > 1))
        formatError(
          `${where(node)}: gathers ${i.length} entries of the data; one index is supported`,
        );
      const scalar =
        index.kind === 'const' ? index.dims.length === 0 : (index as { scalar: boolean }).scalar;
      const k = i[0]!;
      // [k, k + 1), where k = -1 means the last entry: [-1, end of the axis).
      return pick(this, node, data, axis, k, k === -1 ? Number.MAX_SAFE_INTEGER : k + 1, !scalar);
    }
    return glue(this, node);
  }
}
