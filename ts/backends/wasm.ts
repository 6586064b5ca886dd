/**
 * The WebAssembly backends ('wasm-simd', 'wasm'): the standalone modules built by
 * wasm/build.sh from the same kernel core as the native addon, instantiated here without
 * Emscripten's JS glue (broken under Node 20, see TOOLCHAIN.md).
 *
 * Each method is one C ABI call (native/include/gru_simd.h): copy inputs into the wasm heap,
 * call, copy outputs out only on success, free in `finally`. Heap views are made fresh after
 * every call that may grow memory (malloc, the core itself), never cached; pointers and
 * size_t results are read with `>>> 0`. This module stays browser-safe: Node's fs is only
 * reached through a dynamic import.
 */

import { GruError, type GruErrorCode } from '../errors.js';
import type { Backend, BackendName, ForwardCall, NetConfig, NetHandle, ParamKind } from './backend.js';
import { isNode, packageRootUrl } from './locate.js';

export type WasmVariant = 'simd' | 'scalar';

export interface WasmLoadOptions {
  /** Where to load the module from: a URL, or under Node also a filesystem path. */
  wasmUrl?: string | URL;
  /** The module's bytes; wins over wasmUrl. */
  wasmBytes?: BufferSource;
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

async function instantiateFrom(location: string | URL, imports: Imports): Promise<WebAssembly.Instance> {
  if (isNode()) {
    const url = location instanceof URL ? location : isUrlLike(location) ? new URL(location) : null;
    if (url === null || url.protocol === 'file:') {
      // Node's fetch does not take file: URLs; fs takes both paths and file: URLs.
      const fs = await import('node:fs/promises');
      const bytes = await fs.readFile(url ?? location);
      return (await WebAssembly.instantiate(bytes, imports)).instance;
    }
    return instantiateFromResponse(await fetch(url), url.href, imports);
  }
  return instantiateFromResponse(await fetch(location), String(location), imports);
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

function bytesOf(a: Float32Array | Int32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** A gru_net pointer in one backend's heap. Zeroed on destroy, so a stale handle is caught. */
class WasmNet {
  constructor(
    readonly backend: WasmBackend,
    public ptr: number,
  ) {}
}

const utf8 = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

/** Transient heap allocations of one call, all freed by `WasmBackend.scope`. */
interface Scope {
  /** malloc(bytes) (at least 8, so a zero-length buffer still gets a non-null pointer). */
  alloc(bytes: number): number;
  /** Copies a typed array into a fresh allocation. */
  copyIn(a: Float32Array | Int32Array): number;
  /** A NUL-terminated UTF-8 copy of s. */
  cString(s: string): number;
}

class WasmBackend implements Backend {
  readonly name: BackendName;
  private readonly ex: GruExports;
  private readonly registry: FinalizationRegistry<number>;

  constructor(name: BackendName, ex: GruExports) {
    this.name = name;
    this.ex = ex;
    // The safety net for networks never disposed: destroy them when their handle is
    // collected. Explicit netDestroy unregisters. Never throws out of the callback.
    this.registry = new FinalizationRegistry((ptr: number) => {
      try {
        ex.gru_net_destroy(ptr);
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

  private copyOut(ptr: number, dst: Float32Array): void {
    bytesOf(dst).set(new Uint8Array(this.ex.memory.buffer, ptr, dst.byteLength));
  }

  private scope<T>(body: (s: Scope) => T): T {
    const ptrs: number[] = [];
    const alloc = (bytes: number): number => {
      const p = this.ex.malloc(Math.max(bytes, 8)) >>> 0;
      if (p === 0) throw new GruError('ERR_GRU_ALLOC', `wasm heap: could not allocate ${bytes} bytes`);
      ptrs.push(p);
      return p;
    };
    const s: Scope = {
      alloc,
      copyIn: (a) => {
        const p = alloc(a.byteLength);
        new Uint8Array(this.ex.memory.buffer, p, a.byteLength).set(bytesOf(a));
        return p;
      },
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

  private ptrOf(net: NetHandle): number {
    const h = net as unknown as WasmNet;
    if (!(h instanceof WasmNet) || h.backend !== this) {
      throw new GruError('ERR_GRU_ARG', `net must be a network created by this ${this.name} backend`);
    }
    if (h.ptr === 0) throw new GruError('ERR_GRU_DISPOSED', 'the network was disposed');
    return h.ptr;
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
    const ptr = this.scope((s) => {
      const out = s.alloc(4);
      this.check(
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
      return this.readU32(out);
    });
    const handle = new WasmNet(this, ptr);
    this.registry.register(handle, ptr, handle);
    return handle as unknown as NetHandle;
  }

  netDestroy(net: NetHandle): void {
    const h = net as unknown as WasmNet;
    if (h instanceof WasmNet && h.backend === this && h.ptr === 0) return; // already destroyed
    const ptr = this.ptrOf(net);
    this.registry.unregister(h);
    h.ptr = 0;
    this.ex.gru_net_destroy(ptr);
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
    const ptr = this.ptrOf(net);
    const { x, h0, lengths, y, hN } = call;
    requireF32('x', x);
    if (h0 !== null) requireF32('h0', h0);
    if (lengths !== null && !isInt32Array(lengths)) {
      throw new GruError('ERR_GRU_TYPE', `lengths must be an Int32Array, got ${typeName(lengths)}`);
    }
    if (y !== null) requireF32('y', y);
    if (hN !== null) requireF32('hN', hN);
    this.scope((s) => {
      const px = s.copyIn(x);
      const ph0 = h0 !== null ? s.copyIn(h0) : 0;
      const plen = lengths !== null ? s.copyIn(lengths) : 0;
      const py = y !== null ? s.alloc(y.byteLength) : 0;
      // h0 and hN the same array: one heap buffer, state in and state out, as the ABI allows.
      const phN = hN === null ? 0 : hN === h0 ? ph0 : s.alloc(hN.byteLength);
      this.check(
        this.ex.gru_net_forward(
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
        ),
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
}

/**
 * Loads one of the two wasm modules. The bytes come from options.wasmBytes, else
 * options.wasmUrl, else <package root>/wasm/gru_simd-<variant>.wasm (read with fs under Node,
 * fetched in a browser). Throws ERR_GRU_BACKEND_UNAVAILABLE when the engine lacks SIMD (for
 * 'simd') or the module cannot be found or instantiated.
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
        const url = new URL(`wasm/${file}`, await packageRootUrl());
        where = url.href;
        location = url;
      }
      instance = await instantiateFrom(location, imports);
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
