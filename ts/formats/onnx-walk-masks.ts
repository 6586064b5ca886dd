/**
 * Masks in an ONNX graph, as gru-simd's exports compute them (onnx-export.ts): Masking's
 * Equal(x, value) -> ReduceMin over the features -> 1 - pad, Embedding maskZero's
 * Not(Equal(ids, 0)), each counted by ReduceSum into the GRUs' sequence_lens. Read back they
 * become layers.masking (where the data is multiplied by the step mask) or maskZero on the
 * embedding. Anything else computed from the data is refused.
 */
import { intAttr, intsAttr, where } from './onnx-import-util.js';
import { formatError, type OnnxNode } from './onnx-proto.js';
import type { DataValue, LayerSpec, MaskValue, Value } from './onnx-values.js';
import type { Walk } from './onnx-walk.js';

/** Equal, Not, ReduceMin, ReduceSum: the steps of a mask (gru-simd's exports compute them so). */
export function readMask(w: Walk, node: OnnxNode): Value {
  const op = node.opType;
  const what = where(node);
  const v = w.need(node, 0);
  const mask = (m: MaskValue, form: MaskValue['form']): MaskValue => ({ ...m, form });
  const axesOf = () => (node.inputs[1] ? w.ints(node, 1, 'axes') : (intsAttr(node, 'axes') ?? []));
  if (op === 'Equal') {
    const c = w.need(node, 1);
    if (v.kind !== 'data' || c.kind !== 'const' || (c.floats ?? c.ints ?? []).length !== 1)
      return formatError(
        `${what}: only a mask's comparison of the data with one value is supported`,
      );
    const value = (c.floats ?? c.ints)![0]!;
    if (v.ids) {
      if (value !== 0) formatError(`${what}: ids compared with ${value} (a mask compares with 0)`);
      return { kind: 'mask', source: { type: 'maskZero' }, form: 'pad' };
    }
    const settled = w.settle(v, what);
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
  return formatError(`${what} on a mask (${v.form}) is not one of the mask computations read here`);
}

/** Cast, Unsqueeze, Sub (1 - pad) and Mul (data by the step mask: a Masking layer) of masks. */
export function maskGlue(w: Walk, node: OnnxNode, inputs: (Value | null)[]): Value {
  const what = where(node);
  const [a, b] = inputs;
  const op = node.opType;
  if (op === 'Cast' && a?.kind === 'mask') return a;
  if (op === 'Unsqueeze' && a?.kind === 'mask' && a.form === 'valid') {
    const axes = node.inputs[1] ? w.ints(node, 1, 'axes') : (intsAttr(node, 'axes') ?? []);
    if (axes.length === 1 && (axes[0] === 2 || axes[0] === -1)) return { ...a, form: 'valid3' };
  }
  if (
    op === 'Sub' &&
    a?.kind === 'const' &&
    b?.kind === 'mask' &&
    (b.form === 'pad' || b.form === 'valid')
  ) {
    const one = a.floats ?? a.ints ?? [];
    if (one.length === 1 && one[0] === 1) return { ...b, form: b.form === 'pad' ? 'valid' : 'pad' };
  }
  if (op === 'Mul') {
    const [x, m] = (a?.kind === 'mask' ? [b, a] : [a, b]) as [Value | null, MaskValue];
    if (x?.kind === 'data' && m.form === 'valid3' && m.source.type === 'masking') {
      const settled = w.settle(x, what);
      if (settled.layers !== m.source.of.layers)
        formatError(`${what} multiplies data by the mask of other data`);
      const spec: LayerSpec = { type: 'masking', maskValue: m.source.value, node: node.name };
      return { ...settled, layers: [...settled.layers, spec] };
    }
  }
  return formatError(`${what} on a mask is not one of the mask computations read here`);
}

/** The GRU input's layers with the mask its sequence_lens comes from made theirs. */
export function maskedLayers(w: Walk, node: OnnxNode, x: DataValue, lens: MaskValue): LayerSpec[] {
  if (lens.source.type === 'maskZero') {
    const first = x.layers[0];
    if (first?.type !== 'embedding')
      formatError(`${where(node)}: sequence_lens counts non-zero ids, but no embedding reads them`);
    return [{ ...first, maskZero: true }, ...x.layers.slice(1)];
  }
  const value = lens.source.value;
  if (!x.layers.some((l) => l.type === 'masking' && l.maskValue === value))
    formatError(
      `${where(node)}: sequence_lens counts steps not equal to ${value}, but the input is not masked by it`,
    );
  return x.layers;
}
