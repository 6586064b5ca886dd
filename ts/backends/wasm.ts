/**
 * The WebAssembly backends ('wasm-simd', 'wasm'): the standalone modules built by
 * wasm/build.sh from the same kernel core as the native addon, instantiated here without
 * Emscripten's JS glue (broken under Node 20, see TOOLCHAIN.md).
 *
 * Each method is one C ABI call (native/include/gru_simd.h): copy inputs into the wasm heap,
 * call, copy outputs out only on success, free in `finally`. Heap views are made fresh after
 * every call that may grow memory (malloc, the core itself), never cached; pointers and
 * size_t results are read with `>>> 0`. This module is browser-safe: it references no node:
 * module. Under Node the loader passes `files` (ts/platform-node.ts) to read the modules with fs.
 */

import { GruError, type GruErrorCode } from '../errors.js';
import type {
  Backend,
  BackendName,
  BackwardCall,
  DenseHandle,
  EmbeddingHandle,
  ForwardCall,
  ForwardTrainCall,
  NetConfig,
  NetHandle,
  OptimConfig,
  OptimHandle,
  ParamKind,
} from './backend.js';
import { isNode } from './locate.js';

export type WasmVariant = 'simd' | 'scalar';

/** How a runtime with a filesystem (Node) finds and reads the modules; see ts/platform-node.ts. */
export interface WasmFiles {
  /** The default location of gru_simd-<variant>.wasm, instead of defaultWasmUrl(). */
  defaultUrl(variant: WasmVariant): URL;
  /** Reads a filesystem path or file: URL (which fetch cannot). */
  read(location: string | URL): Promise<ArrayBuffer | ArrayBufferView<ArrayBuffer>>;
}

export interface WasmLoadOptions {
  /** Where to load the module from: a URL, or under Node also a filesystem path. */
  wasmUrl?: string | URL;
  /** The module's bytes; wins over wasmUrl. */
  wasmBytes?: ArrayBuffer | ArrayBufferView<ArrayBuffer>;
  /** @internal Node only: file access (without it, every location is fetched). */
  files?: WasmFiles;
}

/**
 * Where the modules are when no location is given and no `files` says otherwise (browsers):
 * beside this module. Each is a literal `new URL('<relative path>', import.meta.url)`, the
 * pattern bundlers (Vite, webpack 5, Parcel) recognise: they copy the .wasm into the build and
 * rewrite the URL. The path holds from ts/backends/ (the package's wasm/) and from
 * dist/esm/backends/ (dist/wasm/, the copy scripts/build-ts.mjs makes).
 */
export function defaultWasmUrl(variant: WasmVariant): URL {
  return variant === 'simd'
    ? new URL('../../wasm/gru_simd-simd.wasm', import.meta.url)
    : new URL('../../wasm/gru_simd-scalar.wasm', import.meta.url);
}

/** The exports of gru_simd-*.wasm: every GRU_API function of the header, plus the heap. */
interface GruExports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  malloc(bytes: number): number;
  free(ptr: number): void;
  gru_status_code(status: number): number;
  gru_last_error(): number;
  gru_isa_name(): number;
  gru_isa_supported(name: number): number;
  gru_set_isa(name: number): number;
  gru_isa_list(): number;
  gru_threads(): number;
  gru_set_threads(n: number): number;
  gru_eval_sigmoid(x: number, xLen: number, y: number, yLen: number): number;
  gru_eval_tanh(x: number, xLen: number, y: number, yLen: number): number;
  gru_net_create(
    inputSize: number,
    hiddenSize: number,
    numLayers: number,
    bidirectional: number,
    hasBias: number,
    resetAfter: number,
    out: number,
  ): number;
  gru_net_destroy(net: number): void;
  gru_net_param_size(net: number, layer: number, direction: number, kind: number, outLen: number): number;
  gru_net_set_param(net: number, layer: number, direction: number, kind: number, data: number, len: number): number;
  gru_net_get_param(net: number, layer: number, direction: number, kind: number, data: number, len: number): number;
  gru_net_init_uniform(net: number, seed: number): number;
  gru_net_forward(
    net: number,
    seqLen: number,
    batch: number,
    batchFirst: number,
    x: number,
    xLen: number,
    h0: number,
    h0Len: number,
    lengths: number,
    lengthsLen: number,
    y: number,
    yLen: number,
    hN: number,
    hNLen: number,
  ): number;
  gru_net_bytes(net: number): number;
  gru_allocated_bytes(): number;

  // ---- training ----
  gru_net_forward_train(
    net: number,
    seqLen: number,
    batch: number,
    batchFirst: number,
    x: number,
    xLen: number,
    h0: number,
    h0Len: number,
    lengths: number,
    lengthsLen: number,
    y: number,
    yLen: number,
    hN: number,
    hNLen: number,
    dropout: number,
    dropoutSeed: number,
  ): number;
  gru_net_backward(
    net: number,
    dy: number,
    dyLen: number,
    dhN: number,
    dhNLen: number,
    dx: number,
    dxLen: number,
    dh0: number,
    dh0Len: number,
  ): number;
  gru_net_get_grad(net: number, layer: number, direction: number, kind: number, data: number, len: number): number;
  gru_net_zero_grad(net: number): number;
  gru_net_train_bytes_per_step(net: number): number;
  gru_net_train_bytes(net: number): number;

  gru_dense_create(inFeatures: number, outFeatures: number, hasBias: number, out: number): number;
  gru_dense_destroy(layer: number): void;
  gru_dense_set_param(layer: number, kind: number, data: number, len: number): number;
  gru_dense_get_param(layer: number, kind: number, data: number, len: number): number;
  gru_dense_get_grad(layer: number, kind: number, data: number, len: number): number;
  gru_dense_init_uniform(layer: number, seed: number): number;
  gru_dense_forward(layer: number, rows: number, x: number, xLen: number, y: number, yLen: number, train: number): number;
  gru_dense_backward(layer: number, dy: number, dyLen: number, dx: number, dxLen: number): number;
  gru_dense_zero_grad(layer: number): number;

  gru_embedding_create(numEmbeddings: number, dim: number, out: number): number;
  gru_embedding_destroy(layer: number): void;
  gru_embedding_set_param(layer: number, kind: number, data: number, len: number): number;
  gru_embedding_get_param(layer: number, kind: number, data: number, len: number): number;
  gru_embedding_get_grad(layer: number, kind: number, data: number, len: number): number;
  gru_embedding_init_normal(layer: number, seed: number): number;
  gru_embedding_forward(layer: number, indices: number, n: number, y: number, yLen: number, train: number): number;
  gru_embedding_backward(layer: number, dy: number, dyLen: number): number;
  gru_embedding_zero_grad(layer: number): number;

  gru_loss_softmax_cross_entropy(
    logits: number,
    logitsLen: number,
    rows: number,
    classes: number,
    targets: number,
    targetsLen: number,
    dlogits: number,
    dlogitsLen: number,
    loss: number,
  ): number;
  gru_loss_bce_with_logits(
    logits: number,
    n: number,
    targets: number,
    targetsLen: number,
    dlogits: number,
    dlogitsLen: number,
    loss: number,
  ): number;
  gru_loss_mse(
    pred: number,
    n: number,
    targets: number,
    targetsLen: number,
    dpred: number,
    dpredLen: number,
    loss: number,
  ): number;
  gru_dropout_forward(x: number, n: number, p: number, seed: number, y: number, yLen: number): number;
  gru_dropout_backward(dy: number, n: number, p: number, seed: number, dx: number, dxLen: number): number;

  gru_optim_create(
    kind: number,
    lr: number,
    a: number,
    b: number,
    eps: number,
    weightDecay: number,
    flags: number,
    out: number,
  ): number;
  gru_optim_destroy(opt: number): void;
  gru_optim_add_net(opt: number, net: number): number;
  gru_optim_add_dense(opt: number, layer: number): number;
  gru_optim_add_embedding(opt: number, layer: number): number;
  gru_optim_clip_grad_norm(opt: number, maxNorm: number, totalNorm: number): number;
  gru_optim_clip_grad_value(opt: number, clip: number): number;
  gru_optim_step(opt: number, lr: number): number;
  gru_optim_zero_grad(opt: number): number;
  gru_optim_state_size(opt: number, outLen: number): number;
  gru_optim_get_state(opt: number, data: number, len: number): number;
  gru_optim_set_state(opt: number, data: number, len: number): number;
}

const REQUIRED_EXPORTS: readonly (keyof GruExports)[] = [
  'memory',
  '_initialize',
  'malloc',
  'free',
  'gru_status_code',
  'gru_last_error',
  'gru_isa_name',
  'gru_isa_supported',
  'gru_set_isa',
  'gru_isa_list',
  'gru_threads',
  'gru_set_threads',
  'gru_eval_sigmoid',
  'gru_eval_tanh',
  'gru_net_create',
  'gru_net_destroy',
  'gru_net_param_size',
  'gru_net_set_param',
  'gru_net_get_param',
  'gru_net_init_uniform',
  'gru_net_forward',
  'gru_net_bytes',
  'gru_allocated_bytes',
  'gru_net_forward_train',
  'gru_net_backward',
  'gru_net_get_grad',
  'gru_net_zero_grad',
  'gru_net_train_bytes_per_step',
  'gru_net_train_bytes',
  'gru_dense_create',
  'gru_dense_destroy',
  'gru_dense_set_param',
  'gru_dense_get_param',
  'gru_dense_get_grad',
  'gru_dense_init_uniform',
  'gru_dense_forward',
  'gru_dense_backward',
  'gru_dense_zero_grad',
  'gru_embedding_create',
  'gru_embedding_destroy',
  'gru_embedding_set_param',
  'gru_embedding_get_param',
  'gru_embedding_get_grad',
  'gru_embedding_init_normal',
  'gru_embedding_forward',
  'gru_embedding_backward',
  'gru_embedding_zero_grad',
  'gru_loss_softmax_cross_entropy',
  'gru_loss_bce_with_logits',
  'gru_loss_mse',
  'gru_dropout_forward',
  'gru_dropout_backward',
  'gru_optim_create',
  'gru_optim_destroy',
  'gru_optim_add_net',
  'gru_optim_add_dense',
  'gru_optim_add_embedding',
  'gru_optim_clip_grad_norm',
  'gru_optim_clip_grad_value',
  'gru_optim_step',
  'gru_optim_zero_grad',
  'gru_optim_state_size',
  'gru_optim_get_state',
  'gru_optim_set_state',
];

// (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt)): valid only where the
// engine has fixed-width SIMD (the same probe as wasm-feature-detect).
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

let simdSupported: boolean | undefined;

/** Whether this engine runs WebAssembly fixed-width SIMD (true in Node 20, Chromium, ...). */
export function wasmSimdSupported(): boolean {
  if (simdSupported === undefined) {
    let ok: boolean;
    try {
      ok = typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
    } catch {
      ok = false;
    }
    simdSupported = ok;
  }
  return simdSupported;
}

type Imports = WebAssembly.Imports;

/** The only imports the modules have (wasm/build.sh fails the build on any other). */
function makeImports(): Imports {
  return {
    env: {
      // Memory grew: nothing to do, heap views are never cached.
      emscripten_notify_memory_growth: () => {},
    },
    wasi_snapshot_preview1: {
      // Reached only through abort() (e.g. operator new out of memory, built without
      // exceptions). Unwind out of the module instead of exiting the process.
      proc_exit: (code: number) => {
        throw new GruError('ERR_GRU_ALLOC', `gru-simd wasm module aborted (exit code ${code}), most likely out of memory`);
      },
    },
  };
}

function isUrlLike(s: string): boolean {
  // A scheme of two or more letters (so "C:\\dir" stays a Windows path).
  return /^[a-z][a-z0-9+.-]+:/i.test(s);
}

async function instantiateFromResponse(res: Response, where: string, imports: Imports): Promise<WebAssembly.Instance> {
  if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText} for ${where}`);
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  // Streaming compiles while downloading but needs the right MIME type; servers that send
  // another one get the plain path instead of a TypeError.
  if (type === 'application/wasm' && typeof WebAssembly.instantiateStreaming === 'function') {
    return (await WebAssembly.instantiateStreaming(res, imports)).instance;
  }
  return (await WebAssembly.instantiate(await res.arrayBuffer(), imports)).instance;
}

async function instantiateFrom(
  location: string | URL,
  imports: Imports,
  files: WasmFiles | undefined,
): Promise<WebAssembly.Instance> {
  const url = location instanceof URL ? location : isUrlLike(location) ? new URL(location) : null;
  if (files !== undefined && (url === null || url.protocol === 'file:')) {
    // Node: its fetch does not take file: URLs; fs takes both paths and file: URLs.
    return (await WebAssembly.instantiate(await files.read(url ?? location), imports)).instance;
  }
  if (url?.protocol === 'file:' && isNode()) {
    throw new Error(
      "Node cannot fetch a file: URL; this is gru-simd's browser build (resolved with the \"browser\" condition): " +
        'import gru-simd without that condition under Node',
    );
  }
  // A browser (or a worker of one): a relative string resolves against the page, as fetch does.
  return instantiateFromResponse(await fetch(url ?? location), String(url ?? location), imports);
}

function isFloat32Array(a: unknown): a is Float32Array {
  // By tag rather than instanceof, so arrays from another realm (vm, iframe) pass too.
  return ArrayBuffer.isView(a) && (a as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] === 'Float32Array';
}

function isInt32Array(a: unknown): a is Int32Array {
  return ArrayBuffer.isView(a) && (a as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] === 'Int32Array';
}

function typeName(a: unknown): string {
  if (a === null) return 'null';
  if (ArrayBuffer.isView(a)) return (a as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] ?? 'ArrayBufferView';
  return typeof a === 'object' ? ((a as object).constructor?.name ?? 'object') : typeof a;
}

function requireF32(name: string, a: unknown): Float32Array {
  if (!isFloat32Array(a)) throw new GruError('ERR_GRU_TYPE', `${name} must be a Float32Array, got ${typeName(a)}`);
  return a;
}

function requireI32(name: string, a: unknown): Int32Array {
  if (!isInt32Array(a)) throw new GruError('ERR_GRU_TYPE', `${name} must be an Int32Array, got ${typeName(a)}`);
  return a;
}

const FLT_MAX = 3.4028234663852886e38;

/**
 * A float scalar of the C ABI (learning rate, probability, beta, ...): a number that stays
 * finite as a float32, as the addon checks it (args.cpp ReadFloat). The core checks the range.
 */
function requireFinite(name: string, v: unknown): number {
  if (typeof v !== 'number') throw new GruError('ERR_GRU_TYPE', `${name} must be a number, got ${typeName(v)}`);
  if (!Number.isFinite(v) || Math.abs(v) > FLT_MAX) {
    throw new GruError('ERR_GRU_ARG', `${name} must be a finite number, got ${v}`);
  }
  return v;
}

function bytesOf(a: Float32Array | Int32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** An object pointer in one backend's heap. Zeroed on destroy, so a stale handle is caught. */
abstract class WasmObject {
  constructor(
    readonly backend: WasmBackend,
    public ptr: number,
  ) {}
}

/** A gru_net. */
class WasmNet extends WasmObject {}
/** A gru_dense. */
class WasmDense extends WasmObject {}
/** A gru_embedding. */
class WasmEmbedding extends WasmObject {}
/**
 * A gru_optim. It also holds the handles it was given, so that the garbage collector does not
 * destroy a layer (through the FinalizationRegistry) while the optimizer still trains it; the
 * core reference-counts the objects themselves.
 */
class WasmOptim extends WasmObject {
  readonly held: WasmObject[] = [];
}

type WasmClass = abstract new (backend: WasmBackend, ptr: number) => WasmObject;

/** The destroy function of each kind of object, for explicit destroy and the finalizer. */
type DestroyExport = 'gru_net_destroy' | 'gru_dense_destroy' | 'gru_embedding_destroy' | 'gru_optim_destroy';

const utf8 = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

/** Transient heap allocations of one call, all freed by `WasmBackend.scope`. */
interface Scope {
  /** malloc(bytes) (at least 8, so a zero-length buffer still gets a non-null pointer). */
  alloc(bytes: number): number;
  /** Copies a typed array into a fresh allocation (once per array and call). */
  copyIn(a: Float32Array | Int32Array): number;
  /**
   * Heap room for an output array: the input's own buffer when the same array was copied in
   * (in place, as the native addon sees it), else a fresh allocation.
   */
  output(a: Float32Array): number;
  /** A NUL-terminated UTF-8 copy of s. */
  cString(s: string): number;
}

class WasmBackend implements Backend {
  readonly name: BackendName;
  private readonly ex: GruExports;
  private readonly registry: FinalizationRegistry<{ destroy: DestroyExport; ptr: number }>;

  constructor(name: BackendName, ex: GruExports) {
    this.name = name;
    this.ex = ex;
    // The safety net for objects never disposed: destroy them when their handle is
    // collected. Explicit destroy unregisters. Never throws out of the callback. The core
    // reference-counts, so the order in which an optimizer and its layers go does not matter.
    this.registry = new FinalizationRegistry(({ destroy, ptr }) => {
      try {
        ex[destroy](ptr);
      } catch {
        /* nothing sensible to do in a finalizer */
      }
    });
  }

  // ---- heap helpers ------------------------------------------------------------------------

  private u8(): Uint8Array {
    return new Uint8Array(this.ex.memory.buffer);
  }

  private readCString(ptr: number): string {
    ptr >>>= 0;
    if (ptr === 0) return '';
    const heap = this.u8();
    let end = ptr;
    while (end < heap.length && heap[end] !== 0) end++;
    return utf8.decode(heap.subarray(ptr, end));
  }

  private readU32(ptr: number): number {
    return new DataView(this.ex.memory.buffer).getUint32(ptr, true);
  }

  private readF32(ptr: number): number {
    return new DataView(this.ex.memory.buffer).getFloat32(ptr, true);
  }

  private copyOut(ptr: number, dst: Float32Array): void {
    bytesOf(dst).set(new Uint8Array(this.ex.memory.buffer, ptr, dst.byteLength));
  }

  private scope<T>(body: (s: Scope) => T): T {
    const ptrs: number[] = [];
    const copied = new Map<Float32Array | Int32Array, number>();
    const alloc = (bytes: number): number => {
      const p = this.ex.malloc(Math.max(bytes, 8)) >>> 0;
      if (p === 0) throw new GruError('ERR_GRU_ALLOC', `wasm heap: could not allocate ${bytes} bytes`);
      ptrs.push(p);
      return p;
    };
    const s: Scope = {
      alloc,
      copyIn: (a) => {
        const seen = copied.get(a);
        if (seen !== undefined) return seen;
        const p = alloc(a.byteLength);
        new Uint8Array(this.ex.memory.buffer, p, a.byteLength).set(bytesOf(a));
        copied.set(a, p);
        return p;
      },
      output: (a) => copied.get(a) ?? alloc(a.byteLength),
      cString: (str) => {
        const encoded = utf8Encoder.encode(str);
        const p = alloc(encoded.length + 1);
        const heap = this.u8();
        heap.set(encoded, p);
        heap[p + encoded.length] = 0;
        return p;
      },
    };
    try {
      return body(s);
    } finally {
      for (const p of ptrs) this.ex.free(p);
    }
  }

  /** Throws the core's error for a non-OK status. */
  private check(status: number): void {
    if (status === 0) return;
    const code = this.readCString(this.ex.gru_status_code(status)) as GruErrorCode;
    const message = this.readCString(this.ex.gru_last_error());
    throw new GruError(code || 'ERR_GRU_ARG', message || `gru-simd core failed with status ${status}`);
  }

  /**
   * The pointer behind a handle: ERR_GRU_ARG for anything but an object of class cls made by
   * this backend (a handle of another backend included), ERR_GRU_DISPOSED once destroyed.
   */
  private live(cls: WasmClass, handle: unknown, name: string, what: string): number {
    if (!(handle instanceof cls) || handle.backend !== this) {
      throw new GruError('ERR_GRU_ARG', `${name} must be ${what} created by this ${this.name} backend`);
    }
    if (handle.ptr === 0) throw new GruError('ERR_GRU_DISPOSED', `the ${what.replace(/^an? /, '')} was disposed`);
    return handle.ptr;
  }

  private ptrOf(net: NetHandle, name = 'net'): number {
    return this.live(WasmNet, net, name, 'a network');
  }

  private densePtr(layer: DenseHandle, name = 'layer'): number {
    return this.live(WasmDense, layer, name, 'a dense layer');
  }

  private embeddingPtr(layer: EmbeddingHandle, name = 'layer'): number {
    return this.live(WasmEmbedding, layer, name, 'an embedding');
  }

  private optimPtr(opt: OptimHandle): number {
    return this.live(WasmOptim, opt, 'opt', 'an optimizer');
  }

  /** Calls a create function whose last argument receives the new pointer. */
  private create(fn: (out: number) => number): number {
    return this.scope((s) => {
      const out = s.alloc(4);
      this.check(fn(out));
      return this.readU32(out);
    });
  }

  /** Wraps a new pointer in a handle the FinalizationRegistry watches. */
  private adopt<T extends WasmObject>(handle: T, destroy: DestroyExport): T {
    this.registry.register(handle, { destroy, ptr: handle.ptr }, handle);
    return handle;
  }

  /** Explicit destroy: a no-op the second time, ERR_GRU_ARG for a foreign handle. */
  private destroy(cls: WasmClass, handle: unknown, name: string, what: string, destroy: DestroyExport): void {
    if (handle instanceof cls && handle.backend === this && handle.ptr === 0) return; // already destroyed
    const ptr = this.live(cls, handle, name, what);
    const h = handle as WasmObject;
    this.registry.unregister(h);
    h.ptr = 0;
    this.ex[destroy](ptr);
  }

  // ---- ISA -----------------------------------------------------------------------------------

  isa(): string {
    return this.readCString(this.ex.gru_isa_name());
  }

  isaList(): string[] {
    return this.readCString(this.ex.gru_isa_list())
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
  }

  isaSupported(isa: string): boolean {
    return this.scope((s) => this.ex.gru_isa_supported(s.cString(String(isa))) !== 0);
  }

  setIsa(isa: string): void {
    this.scope((s) => this.check(this.ex.gru_set_isa(s.cString(String(isa)))));
  }

  threads(): number {
    return this.ex.gru_threads();
  }

  setThreads(n: number): void {
    if (n !== 1) {
      throw new GruError(
        'ERR_GRU_ARG',
        `threads must be 1 on the ${this.name} backend: WebAssembly is single-threaded here, got ${typeof n === 'number' ? n : typeName(n)}`,
      );
    }
    this.check(this.ex.gru_set_threads(1));
  }

  // ---- activations ---------------------------------------------------------------------------

  private evalActivation(fn: 'gru_eval_sigmoid' | 'gru_eval_tanh', x: Float32Array, y: Float32Array): void {
    requireF32('x', x);
    requireF32('y', y);
    this.scope((s) => {
      const px = s.copyIn(x);
      const py = s.alloc(y.byteLength);
      this.check(this.ex[fn](px, x.length, py, y.length));
      this.copyOut(py, y);
    });
  }

  evalSigmoid(x: Float32Array, y: Float32Array): void {
    this.evalActivation('gru_eval_sigmoid', x, y);
  }

  evalTanh(x: Float32Array, y: Float32Array): void {
    this.evalActivation('gru_eval_tanh', x, y);
  }

  // ---- networks ------------------------------------------------------------------------------

  netCreate(config: NetConfig): NetHandle {
    const ptr = this.create((out) =>
      this.ex.gru_net_create(
        config.inputSize,
        config.hiddenSize,
        config.numLayers,
        config.bidirectional ? 1 : 0,
        config.bias ? 1 : 0,
        config.resetAfter ? 1 : 0,
        out,
      ),
    );
    return this.adopt(new WasmNet(this, ptr), 'gru_net_destroy') as unknown as NetHandle;
  }

  netDestroy(net: NetHandle): void {
    this.destroy(WasmNet, net, 'net', 'a network', 'gru_net_destroy');
  }

  netParamSize(net: NetHandle, layer: number, direction: number, kind: ParamKind): number {
    const ptr = this.ptrOf(net);
    return this.scope((s) => {
      const out = s.alloc(4); // size_t is 32-bit in wasm32
      this.check(this.ex.gru_net_param_size(ptr, layer, direction, kind, out));
      return this.readU32(out);
    });
  }

  netSetParam(net: NetHandle, layer: number, direction: number, kind: ParamKind, data: Float32Array): void {
    const ptr = this.ptrOf(net);
    requireF32('data', data);
    this.scope((s) => {
      const p = s.copyIn(data);
      this.check(this.ex.gru_net_set_param(ptr, layer, direction, kind, p, data.length));
    });
  }

  netGetParam(net: NetHandle, layer: number, direction: number, kind: ParamKind, out: Float32Array): void {
    const ptr = this.ptrOf(net);
    requireF32('out', out);
    this.scope((s) => {
      const p = s.alloc(out.byteLength);
      this.check(this.ex.gru_net_get_param(ptr, layer, direction, kind, p, out.length));
      this.copyOut(p, out);
    });
  }

  netInitUniform(net: NetHandle, seed: number): void {
    const ptr = this.ptrOf(net);
    this.check(this.ex.gru_net_init_uniform(ptr, seed >>> 0));
  }

  netForward(net: NetHandle, call: ForwardCall): void {
    this.forward(this.ptrOf(net), call, null);
  }

  /** gru_net_forward, or gru_net_forward_train when train is given. */
  private forward(ptr: number, call: ForwardCall, train: { dropout: number; dropoutSeed: number } | null): void {
    const { x, h0, lengths, y, hN } = call;
    requireF32('x', x);
    if (h0 !== null) requireF32('h0', h0);
    if (lengths !== null) requireI32('lengths', lengths);
    if (y !== null) requireF32('y', y);
    if (hN !== null) requireF32('hN', hN);
    this.scope((s) => {
      const px = s.copyIn(x);
      const ph0 = h0 !== null ? s.copyIn(h0) : 0;
      const plen = lengths !== null ? s.copyIn(lengths) : 0;
      const py = y !== null ? s.output(y) : 0;
      // h0 and hN the same array: one heap buffer, state in and state out, as the ABI allows.
      const phN = hN !== null ? s.output(hN) : 0;
      const args = [
        ptr,
        call.seqLen,
        call.batch,
        call.batchFirst ? 1 : 0,
        px,
        x.length,
        ph0,
        h0?.length ?? 0,
        plen,
        lengths?.length ?? 0,
        py,
        y?.length ?? 0,
        phN,
        hN?.length ?? 0,
      ] as const;
      this.check(
        train === null
          ? this.ex.gru_net_forward(...args)
          : this.ex.gru_net_forward_train(...args, train.dropout, train.dropoutSeed >>> 0),
      );
      if (y !== null) this.copyOut(py, y);
      if (hN !== null) this.copyOut(phN, hN);
    });
  }

  netBytes(net: NetHandle): number {
    return this.ex.gru_net_bytes(this.ptrOf(net)) >>> 0;
  }

  allocatedBytes(): number {
    return this.ex.gru_allocated_bytes() >>> 0;
  }

  // ---- training: networks --------------------------------------------------------------------

  netForwardTrain(net: NetHandle, call: ForwardTrainCall): void {
    const ptr = this.ptrOf(net);
    const dropout = requireFinite('dropout', call.dropout);
    this.forward(ptr, call, { dropout, dropoutSeed: call.dropoutSeed });
  }

  netBackward(net: NetHandle, call: BackwardCall): void {
    const ptr = this.ptrOf(net);
    const { dy, dhN, dx, dh0 } = call;
    if (dy !== null) requireF32('dy', dy);
    if (dhN !== null) requireF32('dhN', dhN);
    if (dx !== null) requireF32('dx', dx);
    if (dh0 !== null) requireF32('dh0', dh0);
    this.scope((s) => {
      const pdy = dy !== null ? s.copyIn(dy) : 0;
      const pdhN = dhN !== null ? s.copyIn(dhN) : 0;
      const pdx = dx !== null ? s.output(dx) : 0;
      const pdh0 = dh0 !== null ? s.output(dh0) : 0;
      this.check(
        this.ex.gru_net_backward(
          ptr,
          pdy,
          dy?.length ?? 0,
          pdhN,
          dhN?.length ?? 0,
          pdx,
          dx?.length ?? 0,
          pdh0,
          dh0?.length ?? 0,
        ),
      );
      if (dx !== null) this.copyOut(pdx, dx);
      if (dh0 !== null) this.copyOut(pdh0, dh0);
    });
  }

  netGetGrad(net: NetHandle, layer: number, direction: number, kind: ParamKind, out: Float32Array): void {
    const ptr = this.ptrOf(net);
    requireF32('out', out);
    this.scope((s) => {
      const p = s.alloc(out.byteLength);
      this.check(this.ex.gru_net_get_grad(ptr, layer, direction, kind, p, out.length));
      this.copyOut(p, out);
    });
  }

  netZeroGrad(net: NetHandle): void {
    this.check(this.ex.gru_net_zero_grad(this.ptrOf(net)));
  }

  netTrainBytesPerStep(net: NetHandle): number {
    return this.ex.gru_net_train_bytes_per_step(this.ptrOf(net)) >>> 0;
  }

  netTrainBytes(net: NetHandle): number {
    return this.ex.gru_net_train_bytes(this.ptrOf(net)) >>> 0;
  }

  // ---- training: parameter get/set shared by dense layers and embeddings ----------------------

  private setParam(fn: (kind: number, p: number, len: number) => number, kind: number, data: Float32Array): void {
    requireF32('data', data);
    this.scope((s) => this.check(fn(kind, s.copyIn(data), data.length)));
  }

  private getParam(fn: (kind: number, p: number, len: number) => number, kind: number, out: Float32Array): void {
    requireF32('out', out);
    this.scope((s) => {
      const p = s.alloc(out.byteLength);
      this.check(fn(kind, p, out.length));
      this.copyOut(p, out);
    });
  }

  // ---- training: dense layers ----------------------------------------------------------------

  denseCreate(inFeatures: number, outFeatures: number, bias: boolean): DenseHandle {
    const ptr = this.create((out) => this.ex.gru_dense_create(inFeatures, outFeatures, bias ? 1 : 0, out));
    return this.adopt(new WasmDense(this, ptr), 'gru_dense_destroy') as unknown as DenseHandle;
  }

  denseDestroy(layer: DenseHandle): void {
    this.destroy(WasmDense, layer, 'layer', 'a dense layer', 'gru_dense_destroy');
  }

  denseSetParam(layer: DenseHandle, kind: number, data: Float32Array): void {
    const ptr = this.densePtr(layer);
    this.setParam((k, p, n) => this.ex.gru_dense_set_param(ptr, k, p, n), kind, data);
  }

  denseGetParam(layer: DenseHandle, kind: number, out: Float32Array): void {
    const ptr = this.densePtr(layer);
    this.getParam((k, p, n) => this.ex.gru_dense_get_param(ptr, k, p, n), kind, out);
  }

  denseGetGrad(layer: DenseHandle, kind: number, out: Float32Array): void {
    const ptr = this.densePtr(layer);
    this.getParam((k, p, n) => this.ex.gru_dense_get_grad(ptr, k, p, n), kind, out);
  }

  denseInitUniform(layer: DenseHandle, seed: number): void {
    this.check(this.ex.gru_dense_init_uniform(this.densePtr(layer), seed >>> 0));
  }

  denseForward(layer: DenseHandle, rows: number, x: Float32Array, y: Float32Array, train: boolean): void {
    const ptr = this.densePtr(layer);
    requireF32('x', x);
    requireF32('y', y);
    this.scope((s) => {
      const px = s.copyIn(x);
      const py = s.output(y);
      this.check(this.ex.gru_dense_forward(ptr, rows, px, x.length, py, y.length, train ? 1 : 0));
      this.copyOut(py, y);
    });
  }

  denseBackward(layer: DenseHandle, dy: Float32Array, dx: Float32Array | null): void {
    const ptr = this.densePtr(layer);
    requireF32('dy', dy);
    if (dx !== null) requireF32('dx', dx);
    this.scope((s) => {
      const pdy = s.copyIn(dy);
      const pdx = dx !== null ? s.output(dx) : 0;
      this.check(this.ex.gru_dense_backward(ptr, pdy, dy.length, pdx, dx?.length ?? 0));
      if (dx !== null) this.copyOut(pdx, dx);
    });
  }

  denseZeroGrad(layer: DenseHandle): void {
    this.check(this.ex.gru_dense_zero_grad(this.densePtr(layer)));
  }

  // ---- training: embeddings ------------------------------------------------------------------

  embeddingCreate(numEmbeddings: number, dim: number): EmbeddingHandle {
    const ptr = this.create((out) => this.ex.gru_embedding_create(numEmbeddings, dim, out));
    return this.adopt(new WasmEmbedding(this, ptr), 'gru_embedding_destroy') as unknown as EmbeddingHandle;
  }

  embeddingDestroy(layer: EmbeddingHandle): void {
    this.destroy(WasmEmbedding, layer, 'layer', 'an embedding', 'gru_embedding_destroy');
  }

  embeddingSetParam(layer: EmbeddingHandle, kind: number, data: Float32Array): void {
    const ptr = this.embeddingPtr(layer);
    this.setParam((k, p, n) => this.ex.gru_embedding_set_param(ptr, k, p, n), kind, data);
  }

  embeddingGetParam(layer: EmbeddingHandle, kind: number, out: Float32Array): void {
    const ptr = this.embeddingPtr(layer);
    this.getParam((k, p, n) => this.ex.gru_embedding_get_param(ptr, k, p, n), kind, out);
  }

  embeddingGetGrad(layer: EmbeddingHandle, kind: number, out: Float32Array): void {
    const ptr = this.embeddingPtr(layer);
    this.getParam((k, p, n) => this.ex.gru_embedding_get_grad(ptr, k, p, n), kind, out);
  }

  embeddingInitNormal(layer: EmbeddingHandle, seed: number): void {
    this.check(this.ex.gru_embedding_init_normal(this.embeddingPtr(layer), seed >>> 0));
  }

  embeddingForward(layer: EmbeddingHandle, indices: Int32Array, y: Float32Array, train: boolean): void {
    const ptr = this.embeddingPtr(layer);
    requireI32('indices', indices);
    requireF32('y', y);
    this.scope((s) => {
      const pi = s.copyIn(indices);
      const py = s.output(y);
      this.check(this.ex.gru_embedding_forward(ptr, pi, indices.length, py, y.length, train ? 1 : 0));
      this.copyOut(py, y);
    });
  }

  embeddingBackward(layer: EmbeddingHandle, dy: Float32Array): void {
    const ptr = this.embeddingPtr(layer);
    requireF32('dy', dy);
    this.scope((s) => this.check(this.ex.gru_embedding_backward(ptr, s.copyIn(dy), dy.length)));
  }

  embeddingZeroGrad(layer: EmbeddingHandle): void {
    this.check(this.ex.gru_embedding_zero_grad(this.embeddingPtr(layer)));
  }

  // ---- training: losses and dropout ----------------------------------------------------------

  lossSoftmaxCrossEntropy(
    logits: Float32Array,
    rows: number,
    classes: number,
    targets: Int32Array,
    dlogits: Float32Array | null,
  ): number {
    requireF32('logits', logits);
    requireI32('targets', targets);
    if (dlogits !== null) requireF32('dlogits', dlogits);
    return this.scope((s) => {
      const pl = s.copyIn(logits);
      const pt = s.copyIn(targets);
      const pd = dlogits !== null ? s.output(dlogits) : 0;
      const ploss = s.alloc(4);
      this.check(
        this.ex.gru_loss_softmax_cross_entropy(
          pl,
          logits.length,
          rows,
          classes,
          pt,
          targets.length,
          pd,
          dlogits?.length ?? 0,
          ploss,
        ),
      );
      if (dlogits !== null) this.copyOut(pd, dlogits);
      return this.readF32(ploss);
    });
  }

  /** bce_with_logits and mse: (input, targets, gradient or null) -> mean loss. */
  private pairLoss(
    fn: 'gru_loss_bce_with_logits' | 'gru_loss_mse',
    inputName: string,
    input: Float32Array,
    targets: Float32Array,
    gradName: string,
    grad: Float32Array | null,
  ): number {
    requireF32(inputName, input);
    requireF32('targets', targets);
    if (grad !== null) requireF32(gradName, grad);
    return this.scope((s) => {
      const pi = s.copyIn(input);
      const pt = s.copyIn(targets);
      const pg = grad !== null ? s.output(grad) : 0;
      const ploss = s.alloc(4);
      this.check(this.ex[fn](pi, input.length, pt, targets.length, pg, grad?.length ?? 0, ploss));
      if (grad !== null) this.copyOut(pg, grad);
      return this.readF32(ploss);
    });
  }

  lossBceWithLogits(logits: Float32Array, targets: Float32Array, dlogits: Float32Array | null): number {
    return this.pairLoss('gru_loss_bce_with_logits', 'logits', logits, targets, 'dlogits', dlogits);
  }

  lossMse(pred: Float32Array, targets: Float32Array, dpred: Float32Array | null): number {
    return this.pairLoss('gru_loss_mse', 'pred', pred, targets, 'dpred', dpred);
  }

  /** dropout forward and backward: (in, p, seed, out). */
  private dropout(
    fn: 'gru_dropout_forward' | 'gru_dropout_backward',
    inName: string,
    input: Float32Array,
    p: number,
    seed: number,
    outName: string,
    out: Float32Array,
  ): void {
    requireF32(inName, input);
    requireFinite('p', p);
    requireF32(outName, out);
    this.scope((s) => {
      const pin = s.copyIn(input);
      const pout = s.output(out);
      this.check(this.ex[fn](pin, input.length, p, seed >>> 0, pout, out.length));
      this.copyOut(pout, out);
    });
  }

  dropoutForward(x: Float32Array, p: number, seed: number, y: Float32Array): void {
    this.dropout('gru_dropout_forward', 'x', x, p, seed, 'y', y);
  }

  dropoutBackward(dy: Float32Array, p: number, seed: number, dx: Float32Array): void {
    this.dropout('gru_dropout_backward', 'dy', dy, p, seed, 'dx', dx);
  }

  // ---- training: optimizers ------------------------------------------------------------------

  optimCreate(config: OptimConfig): OptimHandle {
    const lr = requireFinite('lr', config.lr);
    const a = requireFinite('a', config.a);
    const b = requireFinite('b', config.b);
    const eps = requireFinite('eps', config.eps);
    const wd = requireFinite('weightDecay', config.weightDecay);
    const ptr = this.create((out) => this.ex.gru_optim_create(config.kind, lr, a, b, eps, wd, config.flags, out));
    return this.adopt(new WasmOptim(this, ptr), 'gru_optim_destroy') as unknown as OptimHandle;
  }

  optimDestroy(opt: OptimHandle): void {
    this.destroy(WasmOptim, opt, 'opt', 'an optimizer', 'gru_optim_destroy');
    // The core released its references; let the garbage collector have the handles too.
    (opt as unknown as WasmOptim).held.length = 0;
  }

  /** Adds one object to an optimizer and keeps its handle alive as long as the optimizer. */
  private optimAdd(
    opt: OptimHandle,
    fn: 'gru_optim_add_net' | 'gru_optim_add_dense' | 'gru_optim_add_embedding',
    handle: unknown,
    ptrOf: () => number,
  ): void {
    const optPtr = this.optimPtr(opt);
    this.check(this.ex[fn](optPtr, ptrOf()));
    (opt as unknown as WasmOptim).held.push(handle as WasmObject);
  }

  optimAddNet(opt: OptimHandle, net: NetHandle): void {
    this.optimAdd(opt, 'gru_optim_add_net', net, () => this.ptrOf(net));
  }

  optimAddDense(opt: OptimHandle, layer: DenseHandle): void {
    this.optimAdd(opt, 'gru_optim_add_dense', layer, () => this.densePtr(layer));
  }

  optimAddEmbedding(opt: OptimHandle, layer: EmbeddingHandle): void {
    this.optimAdd(opt, 'gru_optim_add_embedding', layer, () => this.embeddingPtr(layer));
  }

  optimClipGradNorm(opt: OptimHandle, maxNorm: number): number {
    const ptr = this.optimPtr(opt);
    requireFinite('maxNorm', maxNorm);
    return this.scope((s) => {
      const out = s.alloc(4);
      this.check(this.ex.gru_optim_clip_grad_norm(ptr, maxNorm, out));
      return this.readF32(out);
    });
  }

  optimClipGradValue(opt: OptimHandle, clip: number): void {
    const ptr = this.optimPtr(opt);
    this.check(this.ex.gru_optim_clip_grad_value(ptr, requireFinite('clip', clip)));
  }

  optimStep(opt: OptimHandle, lr: number): void {
    const ptr = this.optimPtr(opt);
    this.check(this.ex.gru_optim_step(ptr, requireFinite('lr', lr)));
  }

  optimZeroGrad(opt: OptimHandle): void {
    this.check(this.ex.gru_optim_zero_grad(this.optimPtr(opt)));
  }

  optimStateSize(opt: OptimHandle): number {
    const ptr = this.optimPtr(opt);
    return this.scope((s) => {
      const out = s.alloc(4); // size_t is 32-bit in wasm32
      this.check(this.ex.gru_optim_state_size(ptr, out));
      return this.readU32(out);
    });
  }

  optimGetState(opt: OptimHandle, out: Float32Array): void {
    const ptr = this.optimPtr(opt);
    requireF32('out', out);
    this.scope((s) => {
      const p = s.alloc(out.byteLength);
      this.check(this.ex.gru_optim_get_state(ptr, p, out.length));
      this.copyOut(p, out);
    });
  }

  optimSetState(opt: OptimHandle, data: Float32Array): void {
    const ptr = this.optimPtr(opt);
    requireF32('data', data);
    this.scope((s) => this.check(this.ex.gru_optim_set_state(ptr, s.copyIn(data), data.length)));
  }

  // ---- async: no threads in wasm, so each runs synchronously inside its promise -----------
  // (an async method turns a throw into a rejection; results equal the sync calls')

  async netForwardAsync(net: NetHandle, call: ForwardCall): Promise<void> {
    this.netForward(net, call);
  }

  async netForwardTrainAsync(net: NetHandle, call: ForwardTrainCall): Promise<void> {
    this.netForwardTrain(net, call);
  }

  async netBackwardAsync(net: NetHandle, call: BackwardCall): Promise<void> {
    this.netBackward(net, call);
  }

  async denseForwardAsync(layer: DenseHandle, rows: number, x: Float32Array, y: Float32Array, train: boolean): Promise<void> {
    this.denseForward(layer, rows, x, y, train);
  }

  async denseBackwardAsync(layer: DenseHandle, dy: Float32Array, dx: Float32Array | null): Promise<void> {
    this.denseBackward(layer, dy, dx);
  }

  async lossSoftmaxCrossEntropyAsync(
    logits: Float32Array,
    rows: number,
    classes: number,
    targets: Int32Array,
    dlogits: Float32Array | null,
  ): Promise<number> {
    return this.lossSoftmaxCrossEntropy(logits, rows, classes, targets, dlogits);
  }

  async lossBceWithLogitsAsync(logits: Float32Array, targets: Float32Array, dlogits: Float32Array | null): Promise<number> {
    return this.lossBceWithLogits(logits, targets, dlogits);
  }

  async lossMseAsync(pred: Float32Array, targets: Float32Array, dpred: Float32Array | null): Promise<number> {
    return this.lossMse(pred, targets, dpred);
  }

  async optimClipGradNormAsync(opt: OptimHandle, maxNorm: number): Promise<number> {
    return this.optimClipGradNorm(opt, maxNorm);
  }

  async optimStepAsync(opt: OptimHandle, lr: number): Promise<void> {
    this.optimStep(opt, lr);
  }
}

/**
 * Loads one of the two wasm modules. The bytes come from options.wasmBytes, else
 * options.wasmUrl, else the default location: <package root>/wasm/gru_simd-<variant>.wasm read
 * with fs under Node (options.files), defaultWasmUrl() fetched elsewhere. A response served as
 * application/wasm is compiled while it downloads (instantiateStreaming). Throws
 * ERR_GRU_BACKEND_UNAVAILABLE when the engine lacks SIMD (for 'simd') or the module cannot be
 * found or instantiated.
 */
export async function loadWasmBackend(variant: WasmVariant, options: WasmLoadOptions = {}): Promise<Backend> {
  if (variant !== 'simd' && variant !== 'scalar') {
    throw new GruError('ERR_GRU_ARG', `variant must be 'simd' or 'scalar', got ${String(variant)}`);
  }
  const name: BackendName = variant === 'simd' ? 'wasm-simd' : 'wasm';
  if (variant === 'simd' && !wasmSimdSupported()) {
    throw new GruError(
      'ERR_GRU_BACKEND_UNAVAILABLE',
      'wasm-simd: this WebAssembly engine does not support SIMD; use the scalar wasm backend',
    );
  }
  const file = `gru_simd-${variant}.wasm`;
  let where = options.wasmBytes !== undefined ? 'options.wasmBytes' : String(options.wasmUrl ?? `wasm/${file}`);
  let instance: WebAssembly.Instance;
  try {
    const imports = makeImports();
    if (options.wasmBytes !== undefined) {
      instance = (await WebAssembly.instantiate(options.wasmBytes, imports)).instance;
    } else {
      let location = options.wasmUrl;
      if (location === undefined) {
        const url = options.files !== undefined ? options.files.defaultUrl(variant) : defaultWasmUrl(variant);
        where = url.href;
        location = url;
      }
      instance = await instantiateFrom(location, imports, options.files);
    }
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new GruError(
      'ERR_GRU_BACKEND_UNAVAILABLE',
      `${name}: could not load ${where}: ${reason}` +
        (options.wasmUrl === undefined && options.wasmBytes === undefined
          ? ' (pass options.wasmUrl or options.wasmBytes if the package files are served elsewhere)'
          : ''),
    );
  }

  const ex = instance.exports as unknown as GruExports;
  const missing = REQUIRED_EXPORTS.filter((k) => ex[k] === undefined);
  if (missing.length > 0) {
    throw new GruError(
      'ERR_GRU_BACKEND_UNAVAILABLE',
      `${name}: ${where} is not a gru-simd module of this version (missing exports: ${missing.join(', ')})`,
    );
  }
  ex._initialize();
  return new WasmBackend(name, ex);
}
