/**
 * GRU nodes, read by the ONNX importer's walk (onnx-walk.ts): X must be [steps, batch,
 * features] (layout 0) or batch-first (layout 1); W, R, B constants, reordered from ONNX's gates
 * (z, r, h) to the core's (r, z, n); a reset-before node (linear_before_reset 0) has its two
 * biases folded into the input one, as layers.gru keeps the recurrent one 0; initial_h must be
 * zeros; sequence_lens must be the model's mask (onnx-walk-masks.ts). Y and Y_h come out as
 * pending directions, merged into layers by the walk (settle) when used.
 */
import type { GRUActivation, GRURecurrentActivation } from '../gru.js';
import { swapFirstTwoBlocks } from './onnx-export.js';
import { attr, hardSigmoid, intAttr, intsOrFloats, where } from './onnx-import-util.js';
import { formatError, type OnnxNode } from './onnx-proto.js';
import {
  describeAxes,
  type Axis,
  type DataValue,
  type DirectionOf,
  type GruNodeSpec,
  type Value,
} from './onnx-values.js';
import type { Walk } from './onnx-walk.js';
import { maskedLayers } from './onnx-walk-masks.js';

export function readGru(w: Walk, node: OnnxNode): (Value | null)[] {
  const what = where(node);
  const layout = intAttr(node, 'layout', 0);
  if (layout !== 0 && layout !== 1) formatError(`${what}: layout ${layout}`);
  const x = w.settle(w.data(node, 0), what);
  const expect = layout === 0 ? ['steps', 'batch', 'features'] : ['batch', 'steps', 'features'];
  if (x.ids || x.axes.length !== 3 || x.axes.some((a, i) => a.role !== expect[i]))
    formatError(
      `${what}: its input X has axes ${describeAxes(x)}, where [${expect.join(', ')}] (layout ${layout}) is expected`,
    );
  w.progress += 0.5; // X fits: an error from here on is about this layout's GRU
  const I = x.axes[2]!.size!;
  const direction = (() => {
    const a = attr(node, 'direction');
    const d = a === undefined ? 'forward' : a.type === 'string' ? a.value : '';
    if (d !== 'forward' && d !== 'reverse' && d !== 'bidirectional')
      formatError(`${what}: direction ${JSON.stringify(d)}`);
    return d;
  })();
  const D = direction === 'bidirectional' ? 2 : 1;
  const W = w.const(node, 1, 'W');
  const R = w.const(node, 2, 'R');
  if (W.floats === null || R.floats === null) formatError(`${what}: W and R must be FLOAT`);
  const H = R.dims[2] ?? 0;
  if (!(H > 0) || R.dims.length !== 3 || R.dims[0] !== D || R.dims[1] !== 3 * H)
    formatError(`${what}: R has shape [${R.dims.join(', ')}], expected [${D}, 3 * hidden, hidden]`);
  const hidden = intAttr(node, 'hidden_size', H);
  if (hidden !== H) formatError(`${what}: hidden_size ${hidden} but R has hidden ${H}`);
  if (W.dims.length !== 3 || W.dims[0] !== D || W.dims[1] !== 3 * H || W.dims[2] !== I)
    formatError(
      `${what}: W has shape [${W.dims.join(', ')}], expected [${D}, ${3 * H}, ${I}] (input features ${I})`,
    );
  const Bv = w.input(node, 3);
  let B: Float32Array | null = null;
  if (Bv !== null && Bv.kind !== 'zeros') {
    if (Bv.kind !== 'const' || Bv.floats === null)
      return formatError(`${what}: B must be a FLOAT constant`);
    if (Bv.dims.length !== 2 || Bv.dims[0] !== D || Bv.dims[1] !== 6 * H)
      formatError(`${what}: B has shape [${Bv.dims.join(', ')}], expected [${D}, ${6 * H}]`);
    B = Bv.floats;
  }
  const lens = w.input(node, 4);
  let inputLayers = x.layers;
  if (lens !== null && lens.kind === 'mask' && lens.form === 'lens') {
    inputLayers = maskedLayers(w, node, x, lens);
  } else if (lens !== null)
    formatError(
      `${what}: sequence_lens other than a mask computed from the input is not supported (a Sequential takes masks: pad with Masking or Embedding maskZero)`,
    );
  const h0 = w.input(node, 5);
  if (
    h0 !== null &&
    h0.kind !== 'zeros' &&
    !(h0.kind === 'const' && (h0.floats ?? h0.ints ?? []).every((v) => v === 0))
  )
    formatError(`${what}: initial_h must be zeros (the model API starts each sequence from zeros)`);
  if (attr(node, 'clip') !== undefined) formatError(`${what}: clip is not supported`);
  const lbr = intAttr(node, 'linear_before_reset', 0);
  const { activation, recurrentActivation } = gruActivations(w, node, D);
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

export function gruActivations(
  w: Walk,
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
  if (!['sigmoid', 'hardSigmoid', 'hardSigmoidKeras2'].includes(f) || !['tanh', 'relu'].includes(g))
    formatError(`${where(node)}: activations ${f} (gates) and ${g} (candidate) are not supported`);
  return { recurrentActivation: f as GRURecurrentActivation, activation: g as GRUActivation };
}
