/**
 * A TensorFlow.js LayersModel's weights: model.json's `weightsManifest` (groups of shard files,
 * each group's weights laid end to end across its shards, float32 little-endian) read and
 * checked, and the layers' weights moved between Keras's layouts (the file's) and the core
 * layers' (PyTorch's).
 *
 * Reading trusts nothing: the manifest's counts, names, shapes, dtypes and paths are checked
 * before any shard is fetched, each group's declared bytes (computed without overflow) must be
 * what its shards hold, and a weight is copied out of the shards only once every check passed.
 * A shard path is a plain relative name (no '..', no scheme, not absolute), as tfjs's converter
 * and model.save() write them: a file cannot point the reader elsewhere.
 *
 * Layouts (Keras's on the left, the core's on the right; gates z, r, h in Keras's columns, r, z, n
 * in the core's rows):
 *   Dense               kernel [in, out] -> weight [out, in]; bias -> bias
 *   Embedding           embeddings [inputDim, outputDim] -> weight
 *   LayerNormalization  gamma -> weight, beta -> bias
 *   BatchNormalization  gamma, beta, moving_mean, moving_variance -> weight, bias,
 *                       running_mean, running_var
 *   GRU                 kernel [in, 3H] -> weight_ih_l0 [3H, in]; recurrent_kernel [H, 3H] ->
 *                       weight_hh_l0 [3H, H]; bias [2, 3H] (reset_after) -> bias_ih_l0 (row 0),
 *                       bias_hh_l0 (row 1); bias [3H] (reset-before) -> bias_ih_l0, and
 *                       bias_hh_l0 zero (the layer keeps it so)
 *   Bidirectional       forward_<gru>/... -> *_l0, backward_<gru>/... -> *_l0_reverse
 * File names are '<layer name>/<...>/<weight>' ('gru_GRU1/kernel' from tfjs,
 * 'gru/gru_cell/kernel' from Keras 2's converter); the layer name and the last part decide.
 *
 * Browser-safe: no node: module.
 */
import { GruError } from '../errors.js';
import type { Layer } from '../layer.js';
import type { ModelLayer } from '../models/layer.js';
import { isPlainObject } from './safetensors.js';

function fail(message: string): never {
  throw new GruError('ERR_GRU_FORMAT', message);
}

/** The most weights and shard paths a manifest may declare (a GRU layer has 3 weights). */
export const MAX_WEIGHTS = 8_192;
export const MAX_SHARDS = 4_096;
/** The most bytes a manifest may declare in all (far beyond any GRU model; 2^53 stays exact). */
export const MAX_WEIGHT_BYTES = 2 ** 40;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const show = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

/** One weight of the manifest: where its bytes are (its group, the byte offset in it). */
export interface ManifestWeight {
  name: string;
  shape: number[];
  group: number;
  offset: number;
  bytes: number;
}

export interface Manifest {
  /** Per group, its shard paths (in order) and its declared byte count. */
  groups: { paths: string[]; bytes: number }[];
  weights: ManifestWeight[];
  /** The float32 values the manifest declares in all. */
  values: number;
}

/** Whether a shard path is a plain relative name (see the top of this file). */
function safePath(p: string): boolean {
  return (
    p.length > 0 &&
    p.length <= 1024 &&
    !/^[/\\]/.test(p) &&
    !/^[a-z][a-z0-9+.-]*:/i.test(p) &&
    !p.split(/[/\\]/).some((s) => s === '..' || s === '.') &&
    !p.includes('\0')
  );
}

/** weightsManifest, checked (see the top of this file). */
export function readManifest(value: unknown): Manifest {
  if (!Array.isArray(value)) fail('weightsManifest must be an array of { paths, weights }');
  if (value.length > MAX_SHARDS)
    fail(`weightsManifest has ${value.length} groups, over ${MAX_SHARDS}`);
  const groups: Manifest['groups'] = [];
  const weights: ManifestWeight[] = [];
  const names = new Set<string>();
  let total = 0;
  let shards = 0;
  for (const [g, group] of value.entries()) {
    const where = `weightsManifest[${g}]`;
    if (!isPlainObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights))
      fail(`${where} must be { paths: [...], weights: [...] }`);
    shards += group.paths.length;
    if (shards > MAX_SHARDS) fail(`weightsManifest names over ${MAX_SHARDS} shard files`);
    if (weights.length + group.weights.length > MAX_WEIGHTS)
      fail(`weightsManifest declares over ${MAX_WEIGHTS} weights`);
    for (const [i, p] of group.paths.entries()) {
      if (typeof p !== 'string' || !safePath(p))
        fail(
          `${where}.paths[${i}] ${show(p)} must be a file name relative to model.json (no '..', no scheme, not absolute)`,
        );
    }
    if (group.paths.length === 0 && group.weights.length > 0)
      fail(`${where} has weights but no paths`);
    let offset = 0;
    for (const [i, w] of group.weights.entries()) {
      const at = `${where}.weights[${i}]`;
      if (!isPlainObject(w)) fail(`${at} must be { name, shape, dtype }`);
      const { name, shape, dtype } = w;
      if (typeof name !== 'string' || name === '' || name.length > 1024)
        fail(`${at}.name must be a non-empty string`);
      if (names.has(name)) fail(`${at}: the weight ${show(name)} is declared twice`);
      names.add(name);
      if (w.quantization !== undefined && w.quantization !== null)
        fail(
          `${at} (${show(name)}) is quantized (${show(isPlainObject(w.quantization) ? w.quantization.dtype : w.quantization)}): gru-simd reads float32 weights; convert the model without --quantize`,
        );
      if (dtype !== 'float32')
        fail(`${at} (${show(name)}) has dtype ${show(dtype)}: gru-simd reads float32 weights only`);
      if (!Array.isArray(shape) || shape.length > 8)
        fail(`${at} (${show(name)}).shape must be an array of at most 8 integers >= 0`);
      let n = 1;
      for (const d of shape) {
        if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)
          fail(`${at} (${show(name)}).shape must hold integers >= 0, got ${show(shape)}`);
        n *= d;
        if (n * 4 > MAX_WEIGHT_BYTES)
          fail(`${at} (${show(name)}) declares over ${MAX_WEIGHT_BYTES} bytes`);
      }
      if (total + n * 4 > MAX_WEIGHT_BYTES)
        fail(`weightsManifest declares over ${MAX_WEIGHT_BYTES} bytes in all`);
      total += n * 4;
      weights.push({ name, shape: shape as number[], group: g, offset, bytes: n * 4 });
      offset += n * 4;
    }
    groups.push({ paths: group.paths as string[], bytes: offset });
  }
  return { groups, weights, values: total / 4 };
}

/** Each group's shards, checked against the bytes the manifest declares for it. */
export function checkShards(manifest: Manifest, shards: readonly Uint8Array[][]): void {
  for (const [g, group] of manifest.groups.entries()) {
    const got = shards[g]!.reduce((a, s) => a + s.length, 0);
    if (got !== group.bytes)
      fail(
        `weightsManifest[${g}] declares ${group.bytes} bytes of weights, and its shard files (${group.paths.join(', ').slice(0, 200)}) hold ${got}: a truncated or mismatched file`,
      );
  }
}

/** A weight's values copied out of its group's shards (which checkShards() accepted). */
export function weightValues(w: ManifestWeight, shards: readonly Uint8Array[]): Float32Array {
  const out = new Uint8Array(w.bytes);
  let at = 0; // where the current shard starts in the group
  let copied = 0;
  for (const s of shards) {
    if (copied === w.bytes) break;
    const from = w.offset + copied - at;
    if (from < s.length) {
      const n = Math.min(s.length - from, w.bytes - copied);
      out.set(s.subarray(from, from + n), copied);
      copied += n;
    }
    at += s.length;
  }
  if (!LITTLE_ENDIAN) for (let i = 0; i < out.length; i += 4) out.subarray(i, i + 4).reverse();
  return new Float32Array(out.buffer);
}

// ---------------------------------------------------------------------------------------------
// Layouts

/** Keras's gate columns (z, r, h) of [rows, 3H] -> the core's gate rows (r, z, n) of [3H, rows]. */
function gateColumnsToRows(a: Float32Array, rows: number, h: number): Float32Array {
  const out = new Float32Array(a.length);
  const from = [h, 0, 2 * h]; // the core's gate g comes from Keras's column block from[g]
  for (let g = 0; g < 3; g++)
    for (let j = 0; j < h; j++)
      for (let i = 0; i < rows; i++) out[(g * h + j) * rows + i] = a[i * 3 * h + from[g]! + j]!;
  return out;
}

/** The inverse of gateColumnsToRows. */
function gateRowsToColumns(a: Float32Array, rows: number, h: number): Float32Array {
  const out = new Float32Array(a.length);
  const from = [h, 0, 2 * h];
  for (let g = 0; g < 3; g++)
    for (let j = 0; j < h; j++)
      for (let i = 0; i < rows; i++) out[i * 3 * h + from[g]! + j] = a[(g * h + j) * rows + i]!;
  return out;
}

function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c]!;
  return out;
}

/** A weight of a layer as the file holds it: its role ('kernel', 'forward/bias') and shape. */
export interface Slot {
  role: string;
  shape: number[];
}

interface Mapping {
  slots: Slot[];
  /** The file's values by role -> the core layer's parameters. */
  toCore(values: Map<string, Float32Array>): void;
  /** The core layer's parameters -> the file's values, by role. */
  fromCore(): Map<string, Float32Array>;
}

/** A GRU's three file weights <-> its core parameters (suffix '' or '_reverse'). */
function gruMapping(
  core: Layer,
  resetAfter: boolean,
  useBias: boolean,
  prefix: string,
  suffix: string,
): Mapping {
  const [h3, input] = core.parameterShape(`weight_ih_l0${suffix}`) as [number, number];
  const h = h3 / 3;
  const slots: Slot[] = [
    { role: `${prefix}kernel`, shape: [input, h3] },
    { role: `${prefix}recurrent_kernel`, shape: [h, h3] },
  ];
  if (useBias) slots.push({ role: `${prefix}bias`, shape: resetAfter ? [2, h3] : [h3] });
  return {
    slots,
    toCore(values) {
      core.setParameter(
        `weight_ih_l0${suffix}`,
        gateColumnsToRows(values.get(`${prefix}kernel`)!, input, h),
      );
      core.setParameter(
        `weight_hh_l0${suffix}`,
        gateColumnsToRows(values.get(`${prefix}recurrent_kernel`)!, h, h),
      );
      if (!useBias) return;
      const b = values.get(`${prefix}bias`)!;
      core.setParameter(`bias_ih_l0${suffix}`, gateColumnsToRows(b.subarray(0, h3), 1, h));
      core.setParameter(
        `bias_hh_l0${suffix}`,
        resetAfter ? gateColumnsToRows(b.subarray(h3), 1, h) : new Float32Array(h3),
      );
    },
    fromCore() {
      const m = new Map<string, Float32Array>();
      m.set(
        `${prefix}kernel`,
        gateRowsToColumns(core.getParameter(`weight_ih_l0${suffix}`), input, h),
      );
      m.set(
        `${prefix}recurrent_kernel`,
        gateRowsToColumns(core.getParameter(`weight_hh_l0${suffix}`), h, h),
      );
      if (useBias) {
        const bi = gateRowsToColumns(core.getParameter(`bias_ih_l0${suffix}`), 1, h);
        if (!resetAfter) {
          // Reset-before adds bias_hh outside the reset (as bias_ih): one bias, their sum.
          const bh = gateRowsToColumns(core.getParameter(`bias_hh_l0${suffix}`), 1, h);
          for (let i = 0; i < h3; i++) bi[i] = bi[i]! + bh[i]!;
          m.set(`${prefix}bias`, bi);
        } else {
          const b = new Float32Array(2 * h3);
          b.set(bi);
          b.set(gateRowsToColumns(core.getParameter(`bias_hh_l0${suffix}`), 1, h), h3);
          m.set(`${prefix}bias`, b);
        }
      }
      return m;
    },
  };
}

/** Parameters copied as they are, renamed (file role -> core name). */
function renamed(core: Layer, names: Record<string, string>): Mapping {
  const present = Object.entries(names).filter(([, p]) => core.parameterNames().includes(p));
  return {
    slots: present.map(([role, p]) => ({ role, shape: core.parameterShape(p) })),
    toCore(values) {
      for (const [role, p] of present) core.setParameter(p, values.get(role)!);
    },
    fromCore: () => new Map(present.map(([role, p]) => [role, core.getParameter(p)])),
  };
}

const NONE: Mapping = { slots: [], toCore() {}, fromCore: () => new Map() };

/** How a built layer's weights map to a file's (see the top of this file). */
export function layerMapping(layer: ModelLayer): Mapping {
  const [core] = layer.trainables();
  const weighted = [
    'GRU',
    'Bidirectional',
    'Dense',
    'Embedding',
    'LayerNormalization',
    'BatchNormalization',
  ];
  if (core === undefined && weighted.includes(layer.className))
    throw new GruError(
      'ERR_GRU_STATE',
      `${layer.name} (${layer.className}) holds no weights now (disposed, or not built)`,
    );
  const l = layer as unknown as {
    resetAfter: boolean;
    useBias: boolean;
    layer: { resetAfter: boolean; useBias: boolean };
  };
  switch (layer.className) {
    case 'GRU':
      return gruMapping(core!, l.resetAfter, l.useBias, '', '');
    case 'Bidirectional': {
      const f = gruMapping(core!, l.layer.resetAfter, l.layer.useBias, 'forward/', '');
      const b = gruMapping(core!, l.layer.resetAfter, l.layer.useBias, 'backward/', '_reverse');
      return {
        slots: [...f.slots, ...b.slots],
        toCore(values) {
          f.toCore(values);
          b.toCore(values);
        },
        fromCore: () => new Map([...f.fromCore(), ...b.fromCore()]),
      };
    }
    case 'Dense': {
      const [out, input] = core!.parameterShape('weight') as [number, number];
      const bias = core!.parameterNames().includes('bias');
      return {
        slots: [
          { role: 'kernel', shape: [input, out] },
          ...(bias ? [{ role: 'bias', shape: [out] }] : []),
        ],
        toCore(values) {
          core!.setParameter('weight', transpose(values.get('kernel')!, input, out));
          if (bias) core!.setParameter('bias', values.get('bias')!);
        },
        fromCore() {
          const m = new Map([['kernel', transpose(core!.getParameter('weight'), out, input)]]);
          if (bias) m.set('bias', core!.getParameter('bias'));
          return m;
        },
      };
    }
    case 'Embedding':
      return renamed(core!, { embeddings: 'weight' });
    case 'LayerNormalization':
      return renamed(core!, { gamma: 'weight', beta: 'bias' });
    case 'BatchNormalization':
      return renamed(core!, {
        gamma: 'weight',
        beta: 'bias',
        moving_mean: 'running_mean',
        moving_variance: 'running_var',
      });
    default:
      if (core !== undefined) fail(`${layer.name} (${layer.className}) has no tfjs weight layout`);
      return NONE;
  }
}

/**
 * The role of a file weight in the layer named `layer` ('kernel', 'forward/bias'), or null when
 * the name is not that layer's: '<layer>/[<scopes>/]<weight>[:0]'; in a Bidirectional the scope
 * beginning 'forward' or 'backward' names the direction.
 */
export function roleOf(layer: string, name: string, bidirectional: boolean): string | null {
  if (!name.startsWith(`${layer}/`)) return null;
  const parts = name
    .slice(layer.length + 1)
    .replace(/:\d+$/, '')
    .split('/');
  const last = parts[parts.length - 1]!;
  if (!bidirectional) return last;
  const dir = parts.slice(0, -1).find((p) => /^(forward|backward)/.test(p));
  return dir === undefined ? null : `${dir.startsWith('forward') ? 'forward' : 'backward'}/${last}`;
}

/** The file name tfjs gives a weight of `layer` in role `role` (as its model.save writes it). */
export function tfjsWeightName(layer: ModelLayer, role: string): string {
  if (layer.className !== 'Bidirectional') return `${layer.name}/${role}`;
  const inner = (layer as unknown as { layer: ModelLayer }).layer.name;
  const [dir, weight] = role.split('/') as [string, string];
  return `${layer.name}/${dir}_${inner}/${weight}`;
}
