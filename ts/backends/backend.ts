/**
 * The contract between the TypeScript facade and a compute backend (native addon, wasm-simd,
 * wasm scalar). Each method maps one-to-one onto a function of the C ABI in
 * native/include/gru_simd.h; a backend moves bytes and turns a failed status into a
 * GruError (code from gru_status_code, message from gru_last_error). It does no validation
 * of its own beyond what the core does: the facade validates first, the core checks again.
 */

export type BackendName = 'native' | 'wasm-simd' | 'wasm';

/** Opaque handle to a gru_net owned by a backend. */
export type NetHandle = { readonly __netHandle: unique symbol };

export interface NetConfig {
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bidirectional: boolean;
  bias: boolean;
  resetAfter: boolean;
}

/** Parameter kinds, in the order of the C ABI. */
export const ParamKind = { weightIh: 0, weightHh: 1, biasIh: 2, biasHh: 3 } as const;
export type ParamKind = (typeof ParamKind)[keyof typeof ParamKind];

export interface ForwardCall {
  seqLen: number;
  batch: number;
  batchFirst: boolean;
  x: Float32Array;
  h0: Float32Array | null;
  lengths: Int32Array | null;
  /** Output sequence, or null to compute only the final state. */
  y: Float32Array | null;
  /** Final state, or null. May be the same array as h0. */
  hN: Float32Array | null;
}

export interface Backend {
  readonly name: BackendName;
  /** The ISA variant new networks are created with ("avx512", "wasm128", "scalar", ...). */
  isa(): string;
  /** Variants compiled into this backend, best first. */
  isaList(): string[];
  isaSupported(isa: string): boolean;
  /** Changes the variant for networks created from now on. Throws ERR_GRU_ISA if unsupported. */
  setIsa(isa: string): void;
  threads(): number;

  evalSigmoid(x: Float32Array, y: Float32Array): void;
  evalTanh(x: Float32Array, y: Float32Array): void;

  netCreate(config: NetConfig): NetHandle;
  netDestroy(net: NetHandle): void;
  netParamSize(net: NetHandle, layer: number, direction: number, kind: ParamKind): number;
  netSetParam(net: NetHandle, layer: number, direction: number, kind: ParamKind, data: Float32Array): void;
  netGetParam(net: NetHandle, layer: number, direction: number, kind: ParamKind, out: Float32Array): void;
  netInitUniform(net: NetHandle, seed: number): void;
  netForward(net: NetHandle, call: ForwardCall): void;
  netBytes(net: NetHandle): number;
  /** Bytes allocated by the core in total (leak checks). */
  allocatedBytes(): number;
}
