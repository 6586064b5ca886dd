/**
 * What the ONNX importer (onnx-import.ts) knows about each value of a graph, found by walking
 * the nodes in order: instead of running the graph, it follows what each tensor *means*.
 *
 *   const   a tensor known in full (initializers, Constant nodes, arithmetic on them)
 *   dims    a shape being computed (Shape, Gather, Concat, ... of shapes): each entry a number
 *           or a symbol ('batch', 'steps') that is only known when the model runs
 *   zeros   a tensor of zeros of any shape (ConstantOfShape, Expand of 0): a GRU's initial_h
 *   data    the model's activations: each axis has a role (batch, steps, features, the GRU's
 *           direction axis, or a unit axis) and `layers` is what computed it, as model-API
 *           layer specs; while a GRU's directions are not yet merged into the features
 *           (`pending`), the features are the states of those directions
 *
 * A graph that only moves axes around (Transpose, Reshape, Squeeze, Slice, Gather of a step)
 * is thus read as the layer chain of a Sequential, whatever layout its exporter chose.
 */
import type { ActivationName } from '../activations.js';
import type { GRUActivation, GRURecurrentActivation } from '../gru.js';

/** A symbolic dimension or a number. */
export type Dim = number | string;

export interface ConstValue {
  kind: 'const';
  dims: number[];
  /** Float32 weights keep their array; integer tensors as numbers. */
  floats: Float32Array | null;
  ints: number[] | null;
}

export interface DimsValue {
  kind: 'dims';
  /** Rank 0 (a scalar) or 1. */
  scalar: boolean;
  values: Dim[];
}

export interface ZerosValue {
  kind: 'zeros';
}

export type Role = 'batch' | 'steps' | 'features' | 'directions' | 'unit';

export interface Axis {
  role: Role;
  /** Features and directions: their size; unit: 1; batch and steps: null (dynamic). */
  size: number | null;
}

/** One direction of a GRU node: its states make up features. */
export interface DirectionOf {
  gru: GruNodeSpec;
  direction: 0 | 1;
}

/** A GRU node, read: what becomes a layers.gru (one direction) or layers.bidirectional. */
export interface GruNodeSpec {
  node: string;
  units: number;
  inputSize: number;
  direction: 'forward' | 'reverse' | 'bidirectional';
  resetAfter: boolean;
  activation: GRUActivation;
  recurrentActivation: GRURecurrentActivation;
  useBias: boolean;
  /** Its sequence_lens is the model's mask: it outputs zeros at padding (zeroOutputForMask). */
  masked: boolean;
  /** In the core's layout and gate order, per direction. */
  weights: {
    weightIh: Float32Array;
    weightHh: Float32Array;
    biasIh: Float32Array;
    biasHh: Float32Array;
  }[];
  /** The layers computing its input. */
  inputLayers: LayerSpec[];
}

export type LayerSpec =
  | {
      type: 'embedding';
      inputDim: number;
      outputDim: number;
      table: Float32Array;
      node: string;
      maskZero: boolean;
    }
  | { type: 'masking'; maskValue: number; node: string }
  | {
      type: 'gru';
      gru: GruNodeSpec;
      returnSequences: boolean;
      /** A bidirectional GRU's mergeMode (default 'concat'). */
      mergeMode?: 'sum' | 'ave' | 'mul';
    }
  | {
      type: 'dense';
      units: number;
      inFeatures: number;
      /** [out, in] (PyTorch's and the core's layout). */
      weight: Float32Array;
      bias: Float32Array | null;
      activation: ActivationName;
      node: string;
    }
  | { type: 'activation'; activation: ActivationName; node: string };

export interface DataValue {
  kind: 'data';
  axes: Axis[];
  /** The layers computing it (complete when pending is null). */
  layers: LayerSpec[];
  /**
   * A GRU's raw output: the `directions` axis (if still there) or, once merged, the features,
   * are these directions' states, in this order.
   */
  pending: {
    directions: DirectionOf[];
    final: boolean;
    /** The directions combined element-wise (Bidirectional's mergeMode) rather than side by side. */
    merge?: 'sum' | 'ave' | 'mul';
  } | null;
  /** Integer ids (the graph input before an Embedding). */
  ids: boolean;
}

/**
 * A mask computed in the graph (gru-simd's own exports of Masking and Embedding maskZero): which
 * steps are padding, as it goes from the comparison to the GRUs' sequence_lens. `of` is the data
 * a Masking compares (its layer is added where that data is multiplied by the mask).
 */
export interface MaskValue {
  kind: 'mask';
  source: { type: 'maskZero' } | { type: 'masking'; value: number; of: DataValue };
  /** equal: per feature [B, T, F]; pad / valid: per step [B, T]; valid3: [B, T, 1]; lens: [B]. */
  form: 'equal' | 'pad' | 'valid' | 'valid3' | 'lens';
}

export type Value = ConstValue | DimsValue | ZerosValue | DataValue | MaskValue;

/** The dims a data value has when the model runs (symbols for batch and steps). */
export function dimsOf(v: DataValue): Dim[] {
  return v.axes.map((a) =>
    a.role === 'batch' ? 'batch' : a.role === 'steps' ? 'steps' : (a.size as number),
  );
}

export function describeAxes(v: DataValue): string {
  return `[${v.axes.map((a) => (a.size === null ? a.role : `${a.role} ${a.size}`)).join(', ')}]`;
}
