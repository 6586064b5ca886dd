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

export interface Backend extends TrainingBackend, AsyncBackend {
  readonly name: BackendName;
  /** The ISA variant new networks are created with ("avx512", "wasm128", "scalar", ...). */
  isa(): string;
  /** Variants compiled into this backend, best first. */
  isaList(): string[];
  isaSupported(isa: string): boolean;
  /** Changes the variant for networks created from now on. Throws ERR_GRU_ISA if unsupported. */
  setIsa(isa: string): void;
  /** Threads the core computes with (its persistent pool, the calling thread included). */
  threads(): number;
  /**
   * Resizes the core's thread pool (1..1024; the wasm backends: only 1, they are
   * single-threaded). Process-wide for the native backend. ERR_GRU_ARG out of range;
   * ERR_GRU_BUSY (native) while an async call is in flight.
   */
  setThreads(n: number): void;

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

/* ---- Training (issue 3): one method per C ABI function of the training section ---------- */

/** Opaque handles to objects owned by a backend. */
export type DenseHandle = { readonly __denseHandle: unique symbol };
export type EmbeddingHandle = { readonly __embeddingHandle: unique symbol };
export type OptimHandle = { readonly __optimHandle: unique symbol };

export interface ForwardTrainCall extends ForwardCall {
  /** Dropout probability between stacked layers, in [0, 1). */
  dropout: number;
  dropoutSeed: number;
}

export interface BackwardCall {
  /** Gradient of the loss w.r.t. the output sequence (layout of y), or null. */
  dy: Float32Array | null;
  /** Gradient w.r.t. the final state [L*D, B, H], or null. */
  dhN: Float32Array | null;
  /** Receives the gradient w.r.t. x (layout of x), or null. */
  dx: Float32Array | null;
  /** Receives the gradient w.r.t. h0, or null. */
  dh0: Float32Array | null;
}

export const OptimKind = { sgd: 0, adam: 1, adamw: 2 } as const;
export type OptimKind = (typeof OptimKind)[keyof typeof OptimKind];
export const OptimFlags = { amsgrad: 1, maximize: 2, nesterov: 4 } as const;

export interface OptimConfig {
  kind: OptimKind;
  lr: number;
  /** beta1 (Adam) or momentum (SGD). */
  a: number;
  /** beta2 (Adam) or dampening (SGD). */
  b: number;
  eps: number;
  weightDecay: number;
  /** Bitwise OR of OptimFlags. */
  flags: number;
}

export interface TrainingBackend {
  netForwardTrain(net: NetHandle, call: ForwardTrainCall): void;
  netBackward(net: NetHandle, call: BackwardCall): void;
  netGetGrad(net: NetHandle, layer: number, direction: number, kind: ParamKind, out: Float32Array): void;
  netZeroGrad(net: NetHandle): void;
  netTrainBytesPerStep(net: NetHandle): number;
  netTrainBytes(net: NetHandle): number;

  denseCreate(inFeatures: number, outFeatures: number, bias: boolean): DenseHandle;
  denseDestroy(layer: DenseHandle): void;
  denseSetParam(layer: DenseHandle, kind: number, data: Float32Array): void;
  denseGetParam(layer: DenseHandle, kind: number, out: Float32Array): void;
  denseGetGrad(layer: DenseHandle, kind: number, out: Float32Array): void;
  denseInitUniform(layer: DenseHandle, seed: number): void;
  denseForward(layer: DenseHandle, rows: number, x: Float32Array, y: Float32Array, train: boolean): void;
  denseBackward(layer: DenseHandle, dy: Float32Array, dx: Float32Array | null): void;
  denseZeroGrad(layer: DenseHandle): void;

  embeddingCreate(numEmbeddings: number, dim: number): EmbeddingHandle;
  embeddingDestroy(layer: EmbeddingHandle): void;
  embeddingSetParam(layer: EmbeddingHandle, kind: number, data: Float32Array): void;
  embeddingGetParam(layer: EmbeddingHandle, kind: number, out: Float32Array): void;
  embeddingGetGrad(layer: EmbeddingHandle, kind: number, out: Float32Array): void;
  embeddingInitNormal(layer: EmbeddingHandle, seed: number): void;
  embeddingForward(layer: EmbeddingHandle, indices: Int32Array, y: Float32Array, train: boolean): void;
  embeddingBackward(layer: EmbeddingHandle, dy: Float32Array): void;
  embeddingZeroGrad(layer: EmbeddingHandle): void;

  /** Each returns the mean loss; the gradient output may be null. */
  lossSoftmaxCrossEntropy(logits: Float32Array, rows: number, classes: number, targets: Int32Array, dlogits: Float32Array | null): number;
  lossBceWithLogits(logits: Float32Array, targets: Float32Array, dlogits: Float32Array | null): number;
  lossMse(pred: Float32Array, targets: Float32Array, dpred: Float32Array | null): number;

  dropoutForward(x: Float32Array, p: number, seed: number, y: Float32Array): void;
  dropoutBackward(dy: Float32Array, p: number, seed: number, dx: Float32Array): void;

  optimCreate(config: OptimConfig): OptimHandle;
  optimDestroy(opt: OptimHandle): void;
  optimAddNet(opt: OptimHandle, net: NetHandle): void;
  optimAddDense(opt: OptimHandle, layer: DenseHandle): void;
  optimAddEmbedding(opt: OptimHandle, layer: EmbeddingHandle): void;
  /** Returns the total norm before clipping. */
  optimClipGradNorm(opt: OptimHandle, maxNorm: number): number;
  optimClipGradValue(opt: OptimHandle, clip: number): void;
  optimStep(opt: OptimHandle, lr: number): void;
  optimZeroGrad(opt: OptimHandle): void;
  optimStateSize(opt: OptimHandle): number;
  optimGetState(opt: OptimHandle, out: Float32Array): void;
  optimSetState(opt: OptimHandle, data: Float32Array): void;
}

/* ---- Async (issue 5): the long calls, off the event loop ---------------------------------- */

/**
 * Each method runs the call of the same name without `Async` and settles when it is done.
 * Native: on a worker thread of libuv's pool, so the event loop keeps running; the typed
 * arrays passed are held (kept alive) until the promise settles and must not be modified
 * meanwhile; the object called on (an optimizer: with its layers) is busy: every other call on
 * it throws ERR_GRU_BUSY. A failure rejects with a GruError (code and message of the core).
 * Wasm: no threads here, the call runs synchronously inside the promise; same results.
 */
export interface AsyncBackend {
  netForwardAsync(net: NetHandle, call: ForwardCall): Promise<void>;
  netForwardTrainAsync(net: NetHandle, call: ForwardTrainCall): Promise<void>;
  netBackwardAsync(net: NetHandle, call: BackwardCall): Promise<void>;
  denseForwardAsync(layer: DenseHandle, rows: number, x: Float32Array, y: Float32Array, train: boolean): Promise<void>;
  denseBackwardAsync(layer: DenseHandle, dy: Float32Array, dx: Float32Array | null): Promise<void>;
  lossSoftmaxCrossEntropyAsync(
    logits: Float32Array,
    rows: number,
    classes: number,
    targets: Int32Array,
    dlogits: Float32Array | null,
  ): Promise<number>;
  lossBceWithLogitsAsync(logits: Float32Array, targets: Float32Array, dlogits: Float32Array | null): Promise<number>;
  lossMseAsync(pred: Float32Array, targets: Float32Array, dpred: Float32Array | null): Promise<number>;
  optimClipGradNormAsync(opt: OptimHandle, maxNorm: number): Promise<number>;
  optimStepAsync(opt: OptimHandle, lr: number): Promise<void>;
}
