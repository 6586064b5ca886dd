/**
 * A small interpreter for the body of a Loop (onnx-walk-loop.ts): it runs one iteration on
 * probe values, so that the importer can check what the body computes rather than how it is
 * spelled. It knows the operators of a recurrent cell (MatMul, element-wise arithmetic with
 * broadcasting, Split, Slice, Squeeze, Unsqueeze, Concat, Gather, Cast, comparisons and the
 * activations); any other operator is an error naming it. Values are float64 (the weights'
 * float32 values exactly, the arithmetic exact enough to compare formulas to 1e-6). The model's
 * data, read from the enclosing graph, is only taken one step at a time (Gather on the steps
 * axis at the iteration's index): `readStep` gives the probe for that step.
 */
import { floatAttr, intAttr, intsAttr, where } from './onnx-import-util.js';
import { formatError, type OnnxGraph, type OnnxNode } from './onnx-proto.js';
import { describeAxes, type ConstValue, type DataValue, type Value } from './onnx-values.js';
import type { Walk } from './onnx-walk.js';

export interface Tensor {
  dims: number[];
  v: Float64Array;
}

/** Probes are small (a batch of 2): a body that would make large tensors is not a cell step. */
const MAX_ELEMENTS = 1 << 20;

/** Constants as tensors, converted once per import (the body runs once per step). */
const TENSORS = new WeakMap<ConstValue, Tensor>();
export function toTensor(c: ConstValue): Tensor {
  const known = TENSORS.get(c);
  if (known !== undefined) return known;
  const t = { dims: c.dims, v: Float64Array.from(c.floats ?? c.ints ?? []) };
  TENSORS.set(c, t);
  return t;
}

/**
 * What checking a Loop may compute, in elements written and products summed, over all its
 * steps: a real cell's probes are a few thousand per step; a hostile body is refused past it.
 */
export const CHECK_WORK = 1 << 27;
export interface Work {
  left: number;
}

const size = (dims: number[]) => dims.reduce((a, b) => a * b, 1);

export interface BodyRun {
  /** The condition the body returns (continue or not). */
  cond: boolean;
  /** The carried values it returns, in order. */
  outputs: Tensor[];
  /** Its scan outputs (one step each). */
  scans: Tensor[];
  /** The step of the input it read (null if none). */
  x: Tensor | null;
}

export function runBody(
  w: Walk,
  loop: OnnxNode,
  body: OnnxGraph,
  step: number,
  carried: Tensor[],
  readStep: (data: DataValue) => Tensor,
  work: Work,
): BodyRun {
  const env = new Map<string, Tensor>();
  body.inputs.forEach((input, k) => {
    env.set(
      input.name,
      k === 0
        ? { dims: [], v: Float64Array.of(step) }
        : k === 1
          ? { dims: [], v: Float64Array.of(1) }
          : carried[k - 2]!,
    );
  });
  for (const [name, t] of body.initializers)
    if (!env.has(name)) env.set(name, toTensor(w.tensor(t)));
  let x: Tensor | null = null;
  const outer = (name: string, n: OnnxNode): Tensor | DataValue => {
    const v: Value = w.value(name, `${where(loop)}'s body node ${where(n)}`);
    if (v.kind === 'const') return toTensor(v);
    if (v.kind === 'data') return v;
    return formatError(`${where(loop)}'s body reads ${JSON.stringify(name)}, a ${v.kind} value`);
  };
  const get = (n: OnnxNode, i: number): Tensor => {
    const name = n.inputs[i];
    if (name === undefined || name === '')
      return formatError(`${where(loop)}'s body node ${where(n)} lacks its input ${i + 1}`);
    const t = env.get(name) ?? outer(name, n);
    if ('kind' in t)
      return formatError(
        `${where(loop)}'s body node ${where(n)} computes on the model's data other than taking one step of it`,
      );
    return t;
  };
  for (const n of body.nodes) {
    const what = `${where(loop)}'s body node ${where(n)}`;
    let outs: Tensor[];
    if (n.opType === 'Gather') {
      const data = env.get(n.inputs[0] ?? '') ?? outer(n.inputs[0] ?? '', n);
      if ('kind' in data) {
        const index = get(n, 1);
        if (intAttr(n, 'axis', 0) !== 0 || index.v.length !== 1 || index.dims.length !== 0)
          formatError(`${what}: the data is read by one scalar index on its first axis`);
        if (data.ids || data.axes.map((a) => a.role).join() !== 'steps,batch,features')
          formatError(
            `${what} reads steps of data with axes ${describeAxes(data)}, not [steps, batch, features]`,
          );
        if (index.v[0] !== step)
          formatError(`${what} reads step ${index.v[0]} of the input at iteration ${step}`);
        x = readStep(data);
        outs = [x];
      } else outs = [evaluate(n, what, [data, ...n.inputs.slice(1).map((_, i) => get(n, i + 1))])];
    } else
      outs = evaluateMany(
        n,
        what,
        n.inputs.map((name, i) => (name === '' ? null : get(n, i))),
      );
    outs.forEach((t, k) => {
      if (size(t.dims) > MAX_ELEMENTS)
        formatError(`${what} makes a tensor of ${size(t.dims)} elements`);
      const terms = n.opType === 'MatMul' ? (get(n, 0).dims[1] ?? 0) : 0;
      work.left -= size(t.dims) * (1 + terms);
      if (work.left < 0)
        formatError(`${where(loop)}: its body is more work than ${CHECK_WORK} operations to check`);
      const name = n.outputs[k];
      if (name) env.set(name, t);
    });
  }
  const result = body.outputs.map((o) => {
    const t = env.get(o.name);
    if (t === undefined) return formatError(`${where(loop)}'s body output ${o.name} has no value`);
    return t;
  });
  const N = carried.length;
  if (result[0]!.v.length !== 1) formatError(`${where(loop)}'s body condition is not one value`);
  return {
    cond: result[0]!.v[0] !== 0,
    outputs: result.slice(1, N + 1),
    scans: result.slice(N + 1),
    x,
  };
}

function evaluateMany(n: OnnxNode, what: string, ins: (Tensor | null)[]): Tensor[] {
  if (n.opType !== 'Split') return [evaluate(n, what, ins)];
  const x = ins[0]!;
  const axis = norm(intAttr(n, 'axis', 0), x.dims.length, what);
  const given = ins[1] ? Array.from(ins[1].v) : intsAttr(n, 'split');
  const parts = n.outputs.length;
  const len = x.dims[axis]!;
  const sizes = given ?? Array.from({ length: parts }, () => len / parts);
  if (
    sizes.length !== parts ||
    sizes.some((s) => !Number.isInteger(s) || s < 0) ||
    sizes.reduce((a, b) => a + b, 0) !== len
  )
    formatError(`${what}: splits ${len} into ${sizes.join(', ')}`);
  let at = 0;
  return sizes.map((s) => {
    const out = slice(x, axis, at, at + s);
    at += s;
    return out;
  });
}

function norm(axis: number, rank: number, what: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) formatError(`${what}: axis ${axis} of a rank ${rank} tensor`);
  return a;
}

function slice(x: Tensor, axis: number, from: number, to: number, stepBy = 1): Tensor {
  const dims = [...x.dims];
  const idx: number[] = [];
  for (let k = from; stepBy > 0 ? k < to : k > to; k += stepBy) idx.push(k);
  dims[axis] = idx.length;
  const inner = size(x.dims.slice(axis + 1));
  const outer = size(x.dims.slice(0, axis));
  const v = new Float64Array(size(dims));
  let o = 0;
  for (let a = 0; a < outer; a++)
    for (const k of idx)
      for (let b = 0; b < inner; b++) v[o++] = x.v[(a * x.dims[axis]! + k) * inner + b]!;
  return { dims, v };
}

/** numpy broadcasting of two tensors, element by element. */
function broadcast(
  a: Tensor,
  b: Tensor,
  f: (x: number, y: number) => number,
  what: string,
): Tensor {
  const rank = Math.max(a.dims.length, b.dims.length);
  const pad = (d: number[]) => [...Array<number>(rank - d.length).fill(1), ...d];
  const da = pad(a.dims);
  const db = pad(b.dims);
  const dims = da.map((x, i) => {
    const y = db[i]!;
    if (x !== y && x !== 1 && y !== 1)
      formatError(
        `${what}: shapes [${a.dims.join(', ')}] and [${b.dims.join(', ')}] do not broadcast`,
      );
    return x === 1 ? y : x;
  });
  const v = new Float64Array(size(dims));
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < v.length; o++) {
    let ia = 0;
    let ib = 0;
    for (let k = 0; k < rank; k++) {
      ia = ia * da[k]! + (da[k] === 1 ? 0 : idx[k]!);
      ib = ib * db[k]! + (db[k] === 1 ? 0 : idx[k]!);
    }
    v[o] = f(a.v[ia]!, b.v[ib]!);
    for (let k = rank - 1; k >= 0; k--) {
      if (++idx[k]! < dims[k]!) break;
      idx[k] = 0;
    }
  }
  return { dims, v };
}

const map = (x: Tensor, f: (v: number) => number): Tensor => ({ dims: x.dims, v: x.v.map(f) });

const BINARY: Record<string, (x: number, y: number) => number> = {
  Add: (x, y) => x + y,
  Sub: (x, y) => x - y,
  Mul: (x, y) => x * y,
  Div: (x, y) => x / y,
  Less: (x, y) => (x < y ? 1 : 0),
  Greater: (x, y) => (x > y ? 1 : 0),
  And: (x, y) => (x && y ? 1 : 0),
  Or: (x, y) => (x || y ? 1 : 0),
};

function evaluate(n: OnnxNode, what: string, ins: (Tensor | null)[]): Tensor {
  const x = ins[0];
  if (x === null || x === undefined) return formatError(`${what} lacks its input`);
  const op = n.opType;
  if (op in BINARY) {
    const y = ins[1];
    if (!y) return formatError(`${what} lacks its second input`);
    return broadcast(x, y, BINARY[op]!, what);
  }
  switch (op) {
    case 'Identity':
      return x;
    case 'Not':
      return map(x, (v) => (v ? 0 : 1));
    case 'Cast': {
      const to = intAttr(n, 'to', 1);
      if (to === 1 || to === 11) return x; // FLOAT, DOUBLE
      if (to === 9) return map(x, (v) => (v ? 1 : 0)); // BOOL
      if ([2, 3, 4, 5, 6, 7, 12, 13].includes(to)) return map(x, Math.trunc);
      return formatError(`${what}: a cast to data type ${to}`);
    }
    case 'Sigmoid':
      return map(x, (v) => 1 / (1 + Math.exp(-v)));
    case 'Tanh':
      return map(x, Math.tanh);
    case 'Relu':
      return map(x, (v) => Math.max(0, v));
    case 'HardSigmoid': {
      const a = floatAttr(n, 'alpha', 0.2);
      const b = floatAttr(n, 'beta', 0.5);
      return map(x, (v) => Math.min(1, Math.max(0, a * v + b)));
    }
    case 'MatMul': {
      const y = ins[1];
      if (!y || x.dims.length !== 2 || y.dims.length !== 2 || x.dims[1] !== y.dims[0])
        return formatError(
          `${what}: multiplies [${x.dims.join(', ')}] by [${y?.dims.join(', ') ?? ''}] (matrices are supported)`,
        );
      const [r, k] = x.dims as [number, number];
      const c = y.dims[1]!;
      if (r * k * c > CHECK_WORK) formatError(`${what}: a product of ${r * k * c} terms`);
      const v = new Float64Array(r * c);
      for (let i = 0; i < r; i++)
        for (let j = 0; j < c; j++) {
          let s = 0;
          for (let t = 0; t < k; t++) s += x.v[i * k + t]! * y.v[t * c + j]!;
          v[i * c + j] = s;
        }
      return { dims: [r, c], v };
    }
    case 'Squeeze':
    case 'Unsqueeze': {
      const given = ins[1] ? Array.from(ins[1].v) : intsAttr(n, 'axes');
      if (op === 'Squeeze') {
        const axes = (given ?? x.dims.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) =>
          norm(a, x.dims.length, what),
        );
        if (axes.some((a) => x.dims[a] !== 1))
          formatError(`${what}: squeezes an axis that is not 1`);
        return { dims: x.dims.filter((_, i) => !axes.includes(i)), v: x.v };
      }
      if (!given) return formatError(`${what} has no axes`);
      const rank = x.dims.length + given.length;
      const axes = given.map((a) => norm(a, rank, what));
      const dims: number[] = [];
      let k = 0;
      for (let i = 0; i < rank; i++) dims.push(axes.includes(i) ? 1 : x.dims[k++]!);
      return { dims, v: x.v };
    }
    case 'Slice': {
      const starts = ins[1] ? Array.from(ins[1].v) : (intsAttr(n, 'starts') ?? []);
      const ends = ins[2] ? Array.from(ins[2].v) : (intsAttr(n, 'ends') ?? []);
      const axes = ins[3] ? Array.from(ins[3].v) : (intsAttr(n, 'axes') ?? starts.map((_, i) => i));
      const steps = ins[4] ? Array.from(ins[4].v) : starts.map(() => 1);
      let out = x;
      axes.forEach((a0, i) => {
        const a = norm(a0, x.dims.length, what);
        const len = out.dims[a]!;
        const st = steps[i] ?? 1;
        if (st !== 1) formatError(`${what}: slices with step ${st}`);
        const clamp = (k: number) => Math.min(Math.max(k < 0 ? k + len : k, 0), len);
        out = slice(out, a, clamp(starts[i]!), Math.max(clamp(starts[i]!), clamp(ends[i]!)));
      });
      return out;
    }
    case 'Concat': {
      const parts = ins.filter((t): t is Tensor => t !== null);
      const axis = norm(intAttr(n, 'axis', 0), x.dims.length, what);
      const dims = [...x.dims];
      dims[axis] = parts.reduce((s, t) => s + t.dims[axis]!, 0);
      const outer = size(x.dims.slice(0, axis));
      const v = new Float64Array(size(dims));
      let o = 0;
      for (let a = 0; a < outer; a++)
        for (const t of parts) {
          if (t.dims.length !== x.dims.length) formatError(`${what}: inputs of different ranks`);
          const chunk = size(t.dims.slice(axis));
          v.set(t.v.subarray(a * chunk, (a + 1) * chunk), o);
          o += chunk;
        }
      return { dims, v };
    }
    default:
      return formatError(
        `${what}: ${op} is not an operator of a GRU step (supported in a Loop body: ${[...Object.keys(BINARY), 'Identity', 'Not', 'Cast', 'Sigmoid', 'Tanh', 'Relu', 'HardSigmoid', 'MatMul', 'Split', 'Squeeze', 'Unsqueeze', 'Slice', 'Concat'].join(', ')}, and Gather of one step of the input)`,
      );
  }
}
