/**
 * Keras's variables <-> the core layers' parameters (PyTorch's names and layouts: ts/state-dict.ts),
 * layer by layer, in Keras's order of variables (the order of `layer.weights`, which both the
 * Keras 3 `vars/0, 1, ...` datasets and legacy `.h5` weight_names follow):
 *
 *   Dense               kernel [in, out] -> weight [out, in] (transposed); bias -> bias
 *   Embedding           embeddings [input_dim, output_dim] -> weight (the same layout)
 *   LayerNormalization  gamma -> weight, beta -> bias
 *   BatchNormalization  gamma -> weight, beta -> bias, moving_mean -> running_mean,
 *                       moving_variance -> running_var (both biased variances)
 *   GRU                 kernel [in, 3H], gate columns (z, r, h) -> weight_ih_l0 [3H, in], gate rows
 *                       (r, z, n); recurrent_kernel [H, 3H] -> weight_hh_l0 [3H, H]; bias [2, 3H]
 *                       (reset_after) -> bias_ih_l0 (row 0) and bias_hh_l0 (row 1), reordered the
 *                       same way; reset_after False: one bias [3H] -> bias_ih_l0, bias_hh_l0 zeros
 *   Bidirectional       forward_layer's three -> the *_l0 tensors, backward_layer's -> *_l0_reverse
 *
 * (The same mapping scripts/gen-keras-layers-fixtures.py applies in Python.)
 */
import { GruError } from '../errors.js';
import type { Layer } from '../layer.js';
import { BatchNormalizationLayer } from '../models/batch-normalization.js';
import { BidirectionalLayer } from '../models/bidirectional.js';
import { DenseLayer } from '../models/dense.js';
import { EmbeddingLayer } from '../models/embedding.js';
import { GRULayer } from '../models/gru.js';
import type { ModelLayer } from '../models/layer.js';
import { LayerNormalizationLayer } from '../models/layer-normalization.js';

/** One Keras variable: its role (for messages) and shape. */
export interface KerasVar {
  name: string;
  shape: number[];
}

/** Keras's gate block g (z, r, h) of PyTorch's row block (r, z, n). */
const KERAS_BLOCK = [1, 0, 2];

function core(layer: ModelLayer): Layer {
  const [c] = layer.trainables();
  if (c === undefined) throw new GruError('ERR_GRU_STATE', `${layer.name} is not built`);
  return c;
}

/** A GRU direction's variables (suffix '' or '_reverse'). */
function gruVars(c: Layer, suffix: string, resetAfter: boolean, prefix: string): KerasVar[] {
  const [h3, input] = c.parameterShape(`weight_ih_l0${suffix}`) as [number, number];
  const vars = [
    { name: `${prefix}kernel`, shape: [input, h3] },
    { name: `${prefix}recurrent_kernel`, shape: [h3 / 3, h3] },
  ];
  if (c.parameterNames().includes(`bias_ih_l0${suffix}`))
    vars.push({ name: `${prefix}bias`, shape: resetAfter ? [2, h3] : [h3] });
  return vars;
}

/** The Keras variables a built layer has, in Keras's order (none for a layer without weights). */
export function kerasVars(layer: ModelLayer): KerasVar[] {
  if (layer instanceof GRULayer) return gruVars(core(layer), '', layer.resetAfter, '');
  if (layer instanceof BidirectionalLayer) {
    const c = core(layer);
    const ra = layer.layer.resetAfter;
    return [
      ...gruVars(c, '', ra, 'forward_layer/'),
      ...gruVars(c, '_reverse', ra, 'backward_layer/'),
    ];
  }
  if (layer instanceof DenseLayer) {
    const [out, input] = core(layer).parameterShape('weight') as [number, number];
    return [
      { name: 'kernel', shape: [input, out] },
      ...(layer.useBias ? [{ name: 'bias', shape: [out] }] : []),
    ];
  }
  if (layer instanceof EmbeddingLayer)
    return [{ name: 'embeddings', shape: core(layer).parameterShape('weight') }];
  if (layer instanceof LayerNormalizationLayer || layer instanceof BatchNormalizationLayer) {
    const c = core(layer);
    const names = c.parameterNames();
    const f = c.parameterShape(names.includes('weight') ? 'weight' : 'running_mean');
    const affine = names.includes('weight')
      ? [
          { name: 'gamma', shape: f },
          { name: 'beta', shape: f },
        ]
      : [];
    if (layer instanceof LayerNormalizationLayer) return affine;
    return [...affine, { name: 'moving_mean', shape: f }, { name: 'moving_variance', shape: f }];
  }
  return [];
}

/** Keras's (z, r, h) columns of a [rows, 3H] matrix -> PyTorch's [3H, rows] with rows (r, z, n). */
function gatesToRows(m: Float32Array, rows: number, h: number): Float32Array {
  const out = new Float32Array(3 * h * rows);
  for (let g = 0; g < 3; g++)
    for (let j = 0; j < h; j++)
      for (let i = 0; i < rows; i++)
        out[(g * h + j) * rows + i] = m[i * 3 * h + KERAS_BLOCK[g]! * h + j]!;
  return out;
}

/** The inverse of gatesToRows. */
function rowsToGates(w: Float32Array, rows: number, h: number): Float32Array {
  const out = new Float32Array(3 * h * rows);
  for (let g = 0; g < 3; g++)
    for (let j = 0; j < h; j++)
      for (let i = 0; i < rows; i++)
        out[i * 3 * h + KERAS_BLOCK[g]! * h + j] = w[(g * h + j) * rows + i]!;
  return out;
}

/** Transposes a row-major [rows, cols] matrix. */
function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c]!;
  return out;
}

function setGru(c: Layer, suffix: string, vars: Float32Array[], shapes: KerasVar[]): void {
  const [input, h3] = shapes[0]!.shape as [number, number];
  const h = h3 / 3;
  c.setParameter(`weight_ih_l0${suffix}`, gatesToRows(vars[0]!, input, h));
  c.setParameter(`weight_hh_l0${suffix}`, gatesToRows(vars[1]!, h, h));
  if (vars.length < 3) return;
  const bias = vars[2]!;
  const ih = bias.length === 2 * h3 ? bias.subarray(0, h3) : bias;
  const hh = bias.length === 2 * h3 ? bias.subarray(h3) : new Float32Array(h3);
  c.setParameter(`bias_ih_l0${suffix}`, gatesToRows(ih, 1, h));
  c.setParameter(`bias_hh_l0${suffix}`, gatesToRows(hh, 1, h));
}

/** Sets a built layer's parameters from its Keras variables (checked against kerasVars()). */
export function setKerasVars(layer: ModelLayer, vars: Float32Array[]): void {
  const shapes = kerasVars(layer);
  if (shapes.length === 0) return;
  const c = core(layer);
  if (layer instanceof GRULayer) return setGru(c, '', vars, shapes);
  if (layer instanceof BidirectionalLayer) {
    const n = shapes.length / 2;
    setGru(c, '', vars.slice(0, n), shapes.slice(0, n));
    return setGru(c, '_reverse', vars.slice(n), shapes.slice(n));
  }
  if (layer instanceof DenseLayer) {
    const [input, out] = shapes[0]!.shape as [number, number];
    c.setParameter('weight', transpose(vars[0]!, input, out));
    if (vars[1] !== undefined) c.setParameter('bias', vars[1]);
    return;
  }
  if (layer instanceof EmbeddingLayer) return c.setParameter('weight', vars[0]!);
  const names = shapes.map((s) => s.name);
  const to: Record<string, string> = {
    gamma: 'weight',
    beta: 'bias',
    moving_mean: 'running_mean',
    moving_variance: 'running_var',
  };
  names.forEach((n, i) => c.setParameter(to[n]!, vars[i]!));
}

/** A built layer's Keras variables (for writing), in kerasVars()'s order. */
export function getKerasVars(layer: ModelLayer): Float32Array[] {
  const shapes = kerasVars(layer);
  if (shapes.length === 0) return [];
  const c = core(layer);
  const gru = (suffix: string, s: KerasVar[]): Float32Array[] => {
    const [input, h3] = s[0]!.shape as [number, number];
    const h = h3 / 3;
    const out = [
      rowsToGates(c.getParameter(`weight_ih_l0${suffix}`), input, h),
      rowsToGates(c.getParameter(`weight_hh_l0${suffix}`), h, h),
    ];
    if (s.length < 3) return out;
    const ih = rowsToGates(c.getParameter(`bias_ih_l0${suffix}`), 1, h);
    if (s[2]!.shape.length === 1) {
      // reset_after False: Keras has no recurrent bias (the model API keeps it at zero).
      if (c.getParameter(`bias_hh_l0${suffix}`).some((v) => v !== 0))
        throw new GruError(
          'ERR_GRU_ARG',
          `layer '${layer.name}' (${layer.className}): resetAfter false with a non-zero bias_hh_l0${suffix}, which Keras's GRU (one bias) cannot hold`,
        );
      return [...out, ih];
    }
    const both = new Float32Array(2 * h3);
    both.set(ih);
    both.set(rowsToGates(c.getParameter(`bias_hh_l0${suffix}`), 1, h), h3);
    return [...out, both];
  };
  if (layer instanceof GRULayer) return gru('', shapes);
  if (layer instanceof BidirectionalLayer) {
    const n = shapes.length / 2;
    return [...gru('', shapes.slice(0, n)), ...gru('_reverse', shapes.slice(n))];
  }
  if (layer instanceof DenseLayer) {
    const [input, out] = shapes[0]!.shape as [number, number];
    const w = transpose(c.getParameter('weight'), out, input);
    return layer.useBias ? [w, c.getParameter('bias')] : [w];
  }
  if (layer instanceof EmbeddingLayer) return [c.getParameter('weight')];
  const from: Record<string, string> = {
    gamma: 'weight',
    beta: 'bias',
    moving_mean: 'running_mean',
    moving_variance: 'running_var',
  };
  return shapes.map((s) => c.getParameter(from[s.name]!));
}
