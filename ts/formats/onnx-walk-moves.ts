/**
 * Axis moves and shape arithmetic in the ONNX importer's walk (onnx-walk.ts): Transpose,
 * Reshape / Flatten (a direction axis merged into the features, unit axes), Squeeze /
 * Unsqueeze, Slice and Gather of the last step or of a direction (pick), Concat of GRU states,
 * Cast, and integer arithmetic on shapes (dims, with 'batch' and 'steps' as symbols).
 */
import { intAttr, intsAttr, where } from './onnx-import-util.js';
import { formatError, type OnnxNode } from './onnx-proto.js';
import {
  describeAxes,
  dimsOf,
  type Axis,
  type DataValue,
  type Dim,
  type Value,
} from './onnx-values.js';
import type { Walk } from './onnx-walk.js';
import { maskGlue } from './onnx-walk-masks.js';

/** Indices [start, end) along `axis` of data (a Gather of one index, or a Slice). */
export function pick(
  w: Walk,
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
    // [-1:] (Slice to the end) or index -1 (Gather): the last step.
    if (start === -1 && end >= 2 ** 31 - 1) return w.lastStep(node, v, at, keep);
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
export function glue(w: Walk, node: OnnxNode): Value {
  const op = node.opType;
  const inputs = node.inputs.map((_, i) => w.input(node, i));
  const first = inputs[0];
  if (first === null || first === undefined) return formatError(`${where(node)} lacks its input`);
  if (
    first.kind === 'zeros' &&
    ['Slice', 'Transpose', 'Reshape', 'Squeeze', 'Unsqueeze', 'Cast'].includes(op)
  )
    return first;
  if (op === 'Concat') return concat(w, node, inputs);
  if (inputs.some((v) => v?.kind === 'mask')) return maskGlue(w, node, inputs);
  if (first.kind === 'data') return move(w, node, first);
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
      const i = w.ints(node, 1, 'index');
      const picked = i.map((k) => a[k < 0 ? k + a.length : k]);
      if (picked.some((d) => d === undefined))
        return formatError(`${where(node)}: index out of range`);
      return out(picked as Dim[], scalarOf(inputs[1]!));
    }
    case 'Slice': {
      const [s] = w.ints(node, 1, 'starts');
      const [e] = w.ints(node, 2, 'ends');
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
            op === 'Mul' ? x * y : op === 'Div' ? Math.trunc(x / y) : op === 'Sub' ? x - y : x + y,
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

export function concat(w: Walk, node: OnnxNode, inputs: (Value | null)[]): Value {
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
  if (ds.some((d) => d.pending!.merge !== undefined))
    formatError(`${where(node)}: concatenates merged directions`);
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
export function move(w: Walk, node: OnnxNode, v: DataValue): DataValue {
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
      const axes = (node.inputs[1] ? w.ints(node, 1, 'axes') : intsAttr(node, 'axes')) ?? [];
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
      const starts = w.ints(node, 1, 'starts');
      const ends = w.ints(node, 2, 'ends');
      const axes = node.inputs[3] ? w.ints(node, 3, 'axes') : starts.map((_, i) => i);
      const steps = node.inputs[4] ? w.ints(node, 4, 'steps') : starts.map(() => 1);
      if (starts.length !== 1 || ends.length !== 1 || axes.length !== 1 || steps[0] !== 1)
        formatError(`${where(node)}: slices of one axis with step 1 are supported`);
      return pick(w, node, v, axes[0]!, starts[0]!, ends[0]!, true);
    }
    case 'Reshape':
    case 'Flatten':
      return reshape(w, node, v);
    case 'Cast':
      return v;
    default:
      return formatError(`${where(node)} on the model's data is not supported`);
  }
}

/** Reshape of data: merging a direction axis into the features, or adding/removing unit axes. */
export function reshape(w: Walk, node: OnnxNode, v: DataValue): DataValue {
  const src = v.axes.filter((a) => a.size !== 1 || a.role === 'features');
  let target: Dim[];
  if (node.opType === 'Flatten') {
    const axis = intAttr(node, 'axis', 1);
    if (axis !== 1) formatError(`${where(node)}: Flatten axis ${axis}`);
    target = [0, -1];
  } else {
    const t = w.need(node, 1);
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
