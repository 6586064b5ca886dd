/**
 * A Sequential model as an ONNX graph (opset 17) that onnxruntime runs with the model's own
 * predictions. Each layer becomes a few standard operators:
 *
 *   GRU           Transpose to [T, B, F], GRU (linear_before_reset = resetAfter; direction
 *                 'reverse' for goBackwards), then Y [T, D, B, H] -> [B, T, D*H] (Transpose,
 *                 Reshape) or Y_h [D, B, H] -> [B, D*H]; goBackwards with returnSequences
 *                 reverses Y in time (Slice, step -1), as Keras outputs it.
 *   Bidirectional one GRU node with direction 'bidirectional'; 'concat' is the Reshape above,
 *                 'sum' / 'ave' / 'mul' a ReduceSum / ReduceMean / ReduceProd over the direction
 *   Dense         MatMul (+ Add), then its activation
 *   Activation    Relu, Sigmoid, Tanh, Softmax (last axis), Elu, Selu, Softplus, HardSigmoid
 *                 (both of Keras's), GELU (exact, via Erf; tanh form) as their formulas
 *   Embedding     Gather of its table by the ids (graph input INT32 [batch, steps])
 *   Dropout       nothing (inference)
 *   Masking       the padding steps zeroed (Mul by the step mask)
 *   LayerNormalization   the opset-17 operator (last axis, epsilon)
 *   BatchNormalization   inference: Mul and Add by the running statistics folded per feature
 *   GlobalAverage/MaxPooling1D   ReduceMean / ReduceMax over the steps (with a mask, over the
 *                 valid steps, 0 for a sample with none, as the model's pooling)
 *
 * Gate order: the core holds PyTorch's (r, z, n) rows; ONNX wants (z, r, h): the first two
 * blocks swap. B = [Wb, Rb] is [bias_ih, bias_hh] so reordered.
 *
 * Masks (Masking, Embedding maskZero): the GRUs get sequence_lens = the number of valid steps
 * of each sample, computed in the graph from the input (or, with sequenceLens: 'input', a graph
 * input 'sequence_lens' [batch] INT32). This equals the model's masks when each sample's valid
 * steps are a prefix (padding at the end), which is what ONNX's GRU can express.
 *
 * Over 400 lines: one branch per layer of one walk over the model, sharing the graph written.
 */
import type { ActivationName } from '../activations.js';
import { GruError } from '../errors.js';
import type { GRU } from '../gru.js';
import * as check from '../validate.js';
import { ActivationLayer } from '../models/activation.js';
import { BatchNormalizationLayer } from '../models/batch-normalization.js';
import { GlobalAveragePooling1DLayer, GlobalMaxPooling1DLayer } from '../models/global-pooling.js';
import { LayerNormalizationLayer } from '../models/layer-normalization.js';
import { BidirectionalLayer } from '../models/bidirectional.js';
import { DenseLayer } from '../models/dense.js';
import { DropoutLayer } from '../models/dropout.js';
import { EmbeddingLayer } from '../models/embedding.js';
import { GRULayer } from '../models/gru.js';
import { MaskingLayer } from '../models/masking.js';
import { Sequential } from '../models/sequential.js';
import { VERSION } from '../version.js';
import {
  encodeOnnx,
  ONNX_DTYPE,
  type AttributeToEncode,
  type ModelToEncode,
  type NodeToEncode,
  type TensorToEncode,
} from './onnx-proto.js';

export interface OnnxExportArgs {
  /**
   * Masked models: 'computed' (default) counts each sample's valid steps in the graph from the
   * input; 'input' adds a graph input 'sequence_lens' (INT32 [batch]) to give them.
   */
  sequenceLens?: 'computed' | 'input';
  /** The graph input's and output's names (default 'input' and 'output'). */
  inputName?: string;
  outputName?: string;
}

export const ONNX_OPSET = 17;

/** Rows [r; z; n] (each `block` values) -> [z; r; n]: PyTorch's gate order to ONNX's. */
export function swapFirstTwoBlocks(m: Float32Array, block: number): Float32Array {
  const out = m.slice();
  out.set(m.subarray(block, 2 * block), 0);
  out.set(m.subarray(0, block), block);
  return out;
}

/** The graph being written: unique names, nodes, initializers. */
class GraphWriter {
  readonly nodes: NodeToEncode[] = [];
  readonly initializers: TensorToEncode[] = [];
  #count = 0;

  name(hint: string): string {
    return `${hint}_${this.#count++}`;
  }

  /** One node; returns its (first) output's name. */
  op(
    op: string,
    inputs: string[],
    attributes: Record<string, AttributeToEncode> = {},
    outputs = 1,
  ): string {
    const names = Array.from({ length: outputs }, () => this.name(op.toLowerCase()));
    this.nodes.push({ op, inputs, outputs: names, name: names[0], attributes });
    return names[0]!;
  }

  /** Several outputs. */
  ops(op: string, inputs: string[], attributes: Record<string, AttributeToEncode>, n: number) {
    const names = Array.from({ length: n }, () => this.name(op.toLowerCase()));
    this.nodes.push({ op, inputs, outputs: names, name: names[0], attributes });
    return names;
  }

  weight(hint: string, dims: number[], data: Float32Array): string {
    const name = this.name(hint);
    this.initializers.push({ name, dims, data });
    return name;
  }

  int64s(hint: string, values: number[]): string {
    const name = this.name(hint);
    this.initializers.push({ name, dims: [values.length], data: values });
    return name;
  }

  scalar(hint: string, value: number): string {
    const name = this.name(hint);
    this.initializers.push({ name, dims: [], data: Float32Array.of(value) });
    return name;
  }
}

function unsupported(message: string): never {
  throw new GruError('ERR_GRU_ARG', `ONNX export: ${message}`);
}

/** Nodes computing `activation` of x (the model API's names, ts/activations.ts). */
function activation(g: GraphWriter, act: ActivationName, x: string): string {
  switch (act) {
    case 'linear':
      return x;
    case 'relu':
      return g.op('Relu', [x]);
    case 'sigmoid':
      return g.op('Sigmoid', [x]);
    case 'tanh':
      return g.op('Tanh', [x]);
    case 'softmax':
      return g.op('Softmax', [x], { axis: -1 });
    case 'softplus':
      return g.op('Softplus', [x]);
    case 'elu':
      return g.op('Elu', [x], { alpha: { f: 1 } });
    case 'selu':
      return g.op('Selu', [x]); // ONNX's default alpha and gamma are Keras's constants
    case 'hardSigmoid': // Keras 3: relu6(x + 3) / 6 = clip(x / 6 + 1/2, 0, 1)
      return g.op('HardSigmoid', [x], { alpha: { f: 1 / 6 }, beta: { f: 0.5 } });
    case 'hardSigmoidKeras2': // clip(0.2 x + 0.5, 0, 1)
      return g.op('HardSigmoid', [x], { alpha: { f: 0.2 }, beta: { f: 0.5 } });
    case 'gelu': {
      // x/2 (1 + erf(x / sqrt 2))
      const erf = g.op('Erf', [g.op('Div', [x, g.scalar('sqrt2', Math.SQRT2)])]);
      const onePlus = g.op('Add', [erf, g.scalar('one', 1)]);
      return g.op('Mul', [g.op('Mul', [x, onePlus]), g.scalar('half', 0.5)]);
    }
    case 'geluTanh': {
      // x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
      const cube = g.op('Mul', [g.op('Mul', [x, x]), x]);
      const inner = g.op('Add', [x, g.op('Mul', [cube, g.scalar('c', 0.044715)])]);
      const t = g.op('Tanh', [g.op('Mul', [inner, g.scalar('k', Math.sqrt(2 / Math.PI))])]);
      const onePlus = g.op('Add', [t, g.scalar('one', 1)]);
      return g.op('Mul', [g.op('Mul', [x, onePlus]), g.scalar('half', 0.5)]);
    }
  }
}

/** The GRU's gate (f) and candidate (g) activations as ONNX names with their alpha and beta. */
function gruActivations(gru: GRULayer, directions: number): Record<string, AttributeToEncode> {
  if (gru.recurrentActivation === 'sigmoid' && gru.activation === 'tanh') return {};
  const names: string[] = [];
  const alpha: number[] = [];
  const beta: number[] = [];
  for (let d = 0; d < directions; d++) {
    if (gru.recurrentActivation === 'sigmoid') names.push('Sigmoid');
    else {
      names.push('HardSigmoid');
      alpha.push(gru.recurrentActivation === 'hardSigmoid' ? 1 / 6 : 0.2);
      beta.push(0.5);
    }
    names.push(gru.activation === 'relu' ? 'Relu' : 'Tanh');
  }
  return {
    activations: { strings: names },
    ...(alpha.length
      ? { activation_alpha: { floats: alpha }, activation_beta: { floats: beta } }
      : {}),
  };
}

/** W, R, B of the core GRU's directions, in ONNX's layout and gate order. */
function gruWeights(g: GraphWriter, core: GRU, directions: number, useBias: boolean) {
  const H = core.hiddenSize;
  const I = core.inputSize;
  const W = new Float32Array(directions * 3 * H * I);
  const R = new Float32Array(directions * 3 * H * H);
  const B = new Float32Array(directions * 6 * H);
  for (let d = 0; d < directions; d++) {
    const s = d === 0 ? '' : '_reverse';
    W.set(swapFirstTwoBlocks(core.getParameter(`weight_ih_l0${s}`), H * I), d * 3 * H * I);
    R.set(swapFirstTwoBlocks(core.getParameter(`weight_hh_l0${s}`), H * H), d * 3 * H * H);
    if (useBias) {
      B.set(swapFirstTwoBlocks(core.getParameter(`bias_ih_l0${s}`), H), d * 6 * H);
      B.set(swapFirstTwoBlocks(core.getParameter(`bias_hh_l0${s}`), H), d * 6 * H + 3 * H);
    }
  }
  return {
    W: g.weight('W', [directions, 3 * H, I], W),
    R: g.weight('R', [directions, 3 * H, H], R),
    B: useBias ? g.weight('B', [directions, 6 * H], B) : '',
  };
}

/** The state of the walk over the layers. */
interface Flow {
  /** The current tensor's name: [B, T, F] or [B, F] (or ids [B, T]). */
  x: string;
  /** Per step (rank 3, or ids), else the last state. */
  sequence: boolean;
  /** The valid steps of each sample (INT32 [B]) once a layer made a mask. */
  lens: string | null;
  /** The step mask as FLOAT [B, T] (for Masking's zeros), once a layer made one. */
  valid: string | null;
  /** A layer whose outputs at padding steps differ from ONNX's (zeros), if one is upstream. */
  paddingDiffers: string | null;
}

function exportGru(
  g: GraphWriter,
  f: Flow,
  gru: GRULayer,
  core: GRU,
  layerName: string,
  merge: 'concat' | 'sum' | 'ave' | 'mul' | null,
): Flow {
  if (!f.sequence) unsupported(`${layerName} needs a sequence input`);
  if (gru.stateful)
    unsupported(
      `${layerName} is stateful (its state carries from batch to batch); the ONNX GRU starts each call from zeros: export a copy built with stateful false`,
    );
  const bidirectional = merge !== null;
  const D = bidirectional ? 2 : 1;
  const H = gru.units;
  if (f.lens !== null && gru.goBackwards && gru.returnSequences)
    unsupported(`${layerName}: goBackwards with returnSequences under a mask has no ONNX form`);
  const { W, R, B } = gruWeights(g, core, D, gru.useBias);
  const xt = g.op('Transpose', [f.x], { perm: { ints: [1, 0, 2] } });
  const [Y, Yh] = g.ops(
    'GRU',
    [xt, W, R, B, f.lens ?? ''],
    {
      hidden_size: H,
      linear_before_reset: gru.resetAfter ? 1 : 0,
      direction: bidirectional ? 'bidirectional' : gru.goBackwards ? 'reverse' : 'forward',
      ...gruActivations(gru, D),
    },
    2,
  ) as [string, string];
  // What the model's padding steps hold: Bidirectional's zeros and zeroOutputForMask's equal
  // ONNX's Y there; a GRU's carried state does not (checked at the output).
  if (gru.returnSequences) {
    const paddingDiffers =
      f.lens !== null && !bidirectional && !gru.zeroOutputForMask ? layerName : null;
    let y = Y; // [T, D, B, H]
    if (gru.goBackwards) {
      // Keras outputs the reversed run in its own order: step t holds input step T-1-t.
      y = g.op('Slice', [
        y,
        g.int64s('starts', [-1]),
        g.int64s('ends', [Number.MIN_SAFE_INTEGER]),
        g.int64s('axes', [0]),
        g.int64s('steps', [-1]),
      ]);
    }
    if (merge === 'concat' || merge === null) {
      const bt = g.op('Transpose', [y], { perm: { ints: [2, 0, 1, 3] } }); // [B, T, D, H]
      return { ...f, x: g.op('Reshape', [bt, g.int64s('shape', [0, 0, -1])]), paddingDiffers };
    }
    const merged = reduceDirections(g, y, 1, merge); // [T, B, H]
    return { ...f, x: g.op('Transpose', [merged], { perm: { ints: [1, 0, 2] } }), paddingDiffers };
  }
  let h: string;
  if (merge === 'concat' || merge === null) {
    const bd = g.op('Transpose', [Yh], { perm: { ints: [1, 0, 2] } }); // [B, D, H]
    h = g.op('Reshape', [bd, g.int64s('shape', [0, -1])]);
  } else h = reduceDirections(g, Yh, 0, merge);
  if (f.lens !== null && gru.zeroOutputForMask && !bidirectional) {
    // The model's last output is 0 for a sample whose last step is padding (lens < steps).
    const steps = g.op('Shape', [f.x], { start: 1, end: 2 });
    const full = g.op('Equal', [g.op('Cast', [f.lens], { to: ONNX_DTYPE.INT64 }), steps]);
    const keep = g.op('Cast', [full], { to: ONNX_DTYPE.FLOAT });
    h = g.op('Mul', [h, g.op('Unsqueeze', [keep, g.int64s('axes', [1])])]);
  }
  return { ...f, x: h, sequence: false, lens: null, valid: null, paddingDiffers: null };
}

/** Bidirectional's 'sum' / 'ave' / 'mul': reduces the direction axis. */
function reduceDirections(g: GraphWriter, y: string, axis: number, merge: 'sum' | 'ave' | 'mul') {
  if (merge === 'sum') return g.op('ReduceSum', [y, g.int64s('axes', [axis])], { keepdims: 0 });
  const op = merge === 'ave' ? 'ReduceMean' : 'ReduceProd'; // axes an attribute until opset 18
  return g.op(op, [y], { axes: { ints: [axis] }, keepdims: 0 });
}

/** The mask's valid-step counts (INT32 [B]) from a FLOAT [B, T] step mask. */
function lengthsOf(g: GraphWriter, valid: string): string {
  const sum = g.op('ReduceSum', [valid, g.int64s('axes', [1])], { keepdims: 0 });
  return g.op('Cast', [sum], { to: ONNX_DTYPE.INT32 });
}

const disposedGetter = Object.getOwnPropertyDescriptor(Sequential.prototype, 'disposed')!.get!;

/** A real Sequential (its private state readable): not a Proxy of one, which runs user code. */
function isSequential(value: unknown): value is Sequential {
  if (typeof value !== 'object' || value === null) return false;
  try {
    disposedGetter.call(value);
    return true;
  } catch {
    return false;
  }
}

/** The model description of `model` (built). */
export function onnxGraphOf(model: Sequential, args: OnnxExportArgs = {}): ModelToEncode {
  if (!isSequential(model))
    throw new GruError(
      'ERR_GRU_ARG',
      `model must be a Sequential (sequential(...)), got ${check.describe(model)}`,
    );
  const o = check.options('ONNX export options', args);
  check.knownKeys('ONNX export options', o, ['sequenceLens', 'inputName', 'outputName']);
  const lensGiven = o.sequenceLens; // each option read once (a getter may change)
  const lensMode = lensGiven === undefined ? 'computed' : lensGiven; // null is refused
  if (lensMode !== 'computed' && lensMode !== 'input')
    throw new GruError(
      'ERR_GRU_ARG',
      `sequenceLens must be 'computed' or 'input', got ${check.describe(lensMode)}`,
    );
  const names: Record<string, string> = {};
  for (const key of ['inputName', 'outputName'] as const) {
    const given = o[key];
    const v = given === undefined ? (key === 'inputName' ? 'input' : 'output') : given;
    if (typeof v !== 'string' || v === '' || v === 'sequence_lens')
      throw new GruError(
        'ERR_GRU_ARG',
        `${key} must be a non-empty string other than 'sequence_lens', got ${check.describe(v)}`,
      );
    names[key] = v;
  }
  if (names.inputName === names.outputName)
    throw new GruError('ERR_GRU_ARG', 'inputName and outputName must differ');
  if (model.disposed) throw new GruError('ERR_GRU_DISPOSED', 'the model is disposed');
  if (!model.built)
    throw new GruError(
      'ERR_GRU_STATE',
      'the model is not built: give the first layer an inputShape, call build(), or predict() once',
    );
  const layers = model.layers;
  const inputShape = model.inputShape;
  const takesIds = layers[0] instanceof EmbeddingLayer;
  const g = new GraphWriter();
  const inputs: ModelToEncode['inputs'] = [
    {
      name: names.inputName!,
      dtype: takesIds ? ONNX_DTYPE.INT32 : ONNX_DTYPE.FLOAT,
      dims: inputShape.map((d, i) => d ?? (i === 0 ? 'batch' : 'steps')),
    },
  ];
  let f: Flow = {
    x: names.inputName!,
    sequence: inputShape.length >= (takesIds ? 2 : 3),
    lens: null,
    valid: null,
    paddingDiffers: null,
  };
  const lensFrom = (valid: string): string => {
    if (lensMode === 'input') {
      if (!inputs.some((i) => i.name === 'sequence_lens'))
        inputs.push({ name: 'sequence_lens', dtype: ONNX_DTYPE.INT32, dims: ['batch'] });
      return 'sequence_lens';
    }
    return lengthsOf(g, valid);
  };
  for (const layer of layers) {
    const where = `${layer.name} (${layer.className})`;
    if (layer instanceof GRULayer) f = exportGru(g, f, layer, layer.core, where, null);
    else if (layer instanceof BidirectionalLayer)
      f = exportGru(g, f, layer.layer, layer.core, where, layer.mergeMode);
    else if (layer instanceof DenseLayer) {
      const core = layer.core;
      const w = core.getParameter('weight'); // [out, in]
      const wt = new Float32Array(w.length);
      const [out, inF] = [core.outFeatures, core.inFeatures];
      for (let r = 0; r < out; r++) for (let c = 0; c < inF; c++) wt[c * out + r] = w[r * inF + c]!;
      let y = g.op('MatMul', [f.x, g.weight('kernel', [inF, out], wt)]);
      if (layer.useBias) y = g.op('Add', [y, g.weight('bias', [out], core.getParameter('bias'))]);
      f = { ...f, x: activation(g, layer.activation, y) };
    } else if (layer instanceof ActivationLayer)
      f = { ...f, x: activation(g, layer.activation, f.x) };
    else if (layer instanceof DropoutLayer)
      continue; // identity at inference
    else if (layer instanceof EmbeddingLayer) {
      if (layer !== layers[0]) unsupported(`${where} must be the first layer`);
      const table = layer.core.getParameter('weight');
      const w = g.weight('embedding', [layer.inputDim, layer.outputDim], table);
      const y = g.op('Gather', [w, f.x], { axis: 0 });
      if (layer.maskZero) {
        const zero = g.name('zero');
        g.initializers.push({ name: zero, dims: [], data: Int32Array.of(0) });
        const pad = g.op('Equal', [f.x, zero]);
        const valid = g.op('Cast', [g.op('Not', [pad])], { to: ONNX_DTYPE.FLOAT });
        f = { ...f, x: y, valid, lens: lensFrom(valid) };
      } else f = { ...f, x: y };
    } else if (layer instanceof MaskingLayer) {
      if (!f.sequence) unsupported(`${where} needs a sequence input`);
      const same = g.op('Equal', [f.x, g.scalar('mask_value', layer.maskValue)]);
      const allSame = g.op('ReduceMin', [g.op('Cast', [same], { to: ONNX_DTYPE.FLOAT })], {
        axes: { ints: [2] },
        keepdims: 0,
      }); // 1 at a padding step
      const valid = g.op('Sub', [g.scalar('one', 1), allSame]);
      const x = g.op('Mul', [f.x, g.op('Unsqueeze', [valid, g.int64s('axes', [2])])]);
      f = { ...f, x, valid, lens: lensFrom(valid), paddingDiffers: null };
    } else if (layer instanceof LayerNormalizationLayer) {
      const n = layer.outputShape[layer.outputShape.length - 1] as number;
      const scale = layer.affine ? layer.core.getParameter('weight') : new Float32Array(n).fill(1);
      const bias = layer.affine ? layer.core.getParameter('bias') : new Float32Array(n);
      const x = g.op(
        'LayerNormalization',
        [f.x, g.weight('gamma', [n], scale), g.weight('beta', [n], bias)],
        { axis: -1, epsilon: { f: layer.epsilon } },
      );
      f = { ...f, x };
    } else if (layer instanceof BatchNormalizationLayer) {
      // Inference: y = x * a + b per feature, a = gamma / sqrt(var + eps), b = beta - mean * a.
      const core = layer.core;
      const mean = core.getParameter('running_mean');
      const variance = core.getParameter('running_var');
      const n = mean.length;
      const gamma = layer.affine ? core.getParameter('weight') : new Float32Array(n).fill(1);
      const beta = layer.affine ? core.getParameter('bias') : new Float32Array(n);
      const a = new Float32Array(n);
      const b = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        a[i] = gamma[i]! / Math.sqrt(variance[i]! + layer.epsilon);
        b[i] = beta[i]! - mean[i]! * a[i]!;
      }
      const x = g.op('Add', [
        g.op('Mul', [f.x, g.weight('scale', [n], a)]),
        g.weight('shift', [n], b),
      ]);
      f = { ...f, x };
    } else if (
      layer instanceof GlobalAveragePooling1DLayer ||
      layer instanceof GlobalMaxPooling1DLayer
    ) {
      if (!f.sequence) unsupported(`${where} needs a sequence input`);
      const average = layer instanceof GlobalAveragePooling1DLayer;
      let x: string;
      if (f.valid === null) {
        x = g.op(average ? 'ReduceMean' : 'ReduceMax', [f.x], { axes: { ints: [1] }, keepdims: 0 });
      } else {
        // Over the valid steps only; 0 for a sample with none (as the model's pooling).
        const valid3 = g.op('Unsqueeze', [f.valid, g.int64s('axes', [2])]); // [B, T, 1]
        if (average) {
          const sum = g.op('ReduceSum', [g.op('Mul', [f.x, valid3]), g.int64s('axes', [1])], {
            keepdims: 0,
          });
          const count = g.op('ReduceSum', [f.valid, g.int64s('axes', [1])], { keepdims: 1 });
          x = g.op('Div', [sum, g.op('Max', [count, g.scalar('one', 1)])]);
        } else {
          // Padding steps pushed to -FLT_MAX (x + (valid - 1) * FLT_MAX), then 0 where none counts.
          const push = g.op('Mul', [
            g.op('Sub', [valid3, g.scalar('one', 1)]),
            g.scalar('big', 3.4028234663852886e38),
          ]);
          const max = g.op('ReduceMax', [g.op('Add', [f.x, push])], {
            axes: { ints: [1] },
            keepdims: 0,
          });
          const any = g.op('ReduceMax', [f.valid], { axes: { ints: [1] }, keepdims: 1 });
          x = g.op('Mul', [max, any]);
        }
      }
      f = { ...f, x, sequence: false, lens: null, valid: null, paddingDiffers: null };
    } else {
      unsupported(
        `${where} has no ONNX mapping here (exported: GRU, Bidirectional, Dense, Activation, Embedding, Dropout, Masking, LayerNormalization, BatchNormalization, GlobalAveragePooling1D, GlobalMaxPooling1D)`,
      );
    }
  }
  if (f.sequence && f.lens !== null && f.paddingDiffers !== null)
    unsupported(
      `${f.paddingDiffers} outputs its carried state at padding steps where ONNX's GRU outputs zeros, and the model's output is per step: build it with zeroOutputForMask: true to export`,
    );
  g.nodes.push({ op: 'Identity', inputs: [f.x], outputs: [names.outputName!], name: 'output' });
  const outShape = model.outputShape.map((d, i) => d ?? (i === 0 ? 'batch' : 'steps'));
  return {
    graphName: model.name,
    nodes: g.nodes,
    initializers: g.initializers,
    inputs,
    outputs: [{ name: names.outputName!, dtype: ONNX_DTYPE.FLOAT, dims: outShape }],
    opset: ONNX_OPSET,
    producerName: 'gru-simd',
    producerVersion: VERSION,
  };
}

/** The .onnx bytes of a built Sequential model (see the top of this file for the mapping). */
export function onnxModelBytes(model: Sequential, args: OnnxExportArgs = {}): Uint8Array {
  return encodeOnnx(onnxGraphOf(model, args));
}
