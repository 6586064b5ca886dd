/**
 * The WebAssembly backends ('wasm-relaxed', 'wasm-simd', 'wasm'): the standalone modules built by
 * wasm/build.sh from the same kernel core as the native addon, instantiated here without
 * Emscripten's JS glue (which Node 20 breaks: it fetches file paths and uses __dirname in ES modules).
 *
 * This file finds, fetches and instantiates a module; wasm-caller.ts binds its exports to the
 * C ABI's description; wasm-instance.ts holds the instance and renews it (with a fresh memory)
 * once no object is live. Browser-safe: it references no node: module. Under Node the loader
 * passes `files` (ts/platform-node.ts) to read the modules with fs.
 */

import { GruError } from '../errors.js';
import { type Backend, type BackendName, makeBackend } from './backend.js';
import { isNode } from './locate.js';
import { bindWasm, missingExports } from './wasm-caller.js';
import { WasmInstance } from './wasm-instance.js';
import type { HelpersState, StartHelperWorker } from './wasm-threads-types.js';
import { threadsUnavailableReason, WasmHelpers } from './wasm-threads.js';

export type WasmVariant = 'relaxed' | 'simd' | 'scalar';
/** A module file: a variant, or its threaded build (gru_simd-<variant>-mt.wasm). */
export type WasmModuleFile = WasmVariant | 'relaxed-mt' | 'simd-mt';

/** The backend each module is. */
const BACKEND_OF: Record<WasmVariant, BackendName> = {
  relaxed: 'wasm-relaxed',
  simd: 'wasm-simd',
  scalar: 'wasm',
};

/** How a runtime with a filesystem (Node) finds and reads the modules; see ts/platform-node.ts. */
export interface WasmFiles {
  /** The default location of gru_simd-<file>.wasm, instead of defaultWasmUrl(). */
  defaultUrl(file: WasmModuleFile): URL;
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
  /** @internal Node only: starts a worker_thread (browsers use Web Workers). */
  startWorker?: StartHelperWorker;
}

/**
 * Where the modules are when no location is given and no `files` says otherwise (browsers):
 * beside this module. Each is a literal `new URL('<relative path>', import.meta.url)`, the
 * pattern bundlers (Vite, webpack 5, Parcel) recognise: they copy the .wasm into the build and
 * rewrite the URL. The path holds from ts/backends/ (the package's wasm/) and from
 * dist/esm/backends/ (dist/wasm/, the copy scripts/build-ts.mjs makes).
 */
export function defaultWasmUrl(file: WasmModuleFile): URL {
  switch (file) {
    case 'relaxed':
      return new URL('../../wasm/gru_simd-relaxed.wasm', import.meta.url);
    case 'simd':
      return new URL('../../wasm/gru_simd-simd.wasm', import.meta.url);
    case 'scalar':
      return new URL('../../wasm/gru_simd-scalar.wasm', import.meta.url);
    case 'relaxed-mt':
      return new URL('../../wasm/gru_simd-relaxed-mt.wasm', import.meta.url);
    case 'simd-mt':
      return new URL('../../wasm/gru_simd-simd-mt.wasm', import.meta.url);
  }
}

/** The exports of gru_simd-*.wasm: every GRU_API function of the header, plus the heap. */

// (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt)): valid only where the
// engine has fixed-width SIMD (the same probe as wasm-feature-detect).
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15,
  253, 98, 11,
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

// (module (func (result v128) i32.const 0 i8x16.splat i32.const 0 i8x16.splat i32.const 0
// i8x16.splat f32x4.relaxed_madd)): valid only where the engine has relaxed SIMD (Chromium;
// Node 20 with --experimental-wasm-relaxed-simd). relaxed_madd (0xfd 0x105) is the instruction
// the wasm-relaxed kernels are built on.
const RELAXED_SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 19, 1, 17, 0, 65, 0, 253, 15,
  65, 0, 253, 15, 65, 0, 253, 15, 253, 133, 2, 11,
]);

let relaxedSupported: boolean | undefined;

/** Whether this engine runs WebAssembly relaxed SIMD (the gru_simd-relaxed.wasm module). */
export function wasmRelaxedSimdSupported(): boolean {
  if (relaxedSupported === undefined) {
    let ok: boolean;
    try {
      ok = typeof WebAssembly === 'object' && WebAssembly.validate(RELAXED_SIMD_PROBE);
    } catch {
      ok = false;
    }
    relaxedSupported = ok;
  }
  return relaxedSupported;
}

function isUrlLike(s: string): boolean {
  // A scheme of two or more letters (so "C:\\dir" stays a Windows path).
  return /^[a-z][a-z0-9+.-]+:/i.test(s);
}

async function compileFromResponse(res: Response, where: string): Promise<WebAssembly.Module> {
  if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText} for ${where}`);
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  // Streaming compiles while downloading but needs the right MIME type; servers that send
  // another one get the plain path instead of a TypeError.
  if (type === 'application/wasm' && typeof WebAssembly.compileStreaming === 'function') {
    return WebAssembly.compileStreaming(res);
  }
  return WebAssembly.compile(await res.arrayBuffer());
}

// Compiled first, instantiated after: whether the module is a threaded one (it imports a
// shared memory) decides its imports.
async function compileFrom(
  location: string | URL,
  files: WasmFiles | undefined,
): Promise<WebAssembly.Module> {
  const url = location instanceof URL ? location : isUrlLike(location) ? new URL(location) : null;
  if (files !== undefined && (url === null || url.protocol === 'file:')) {
    // Node: its fetch does not take file: URLs; fs takes both paths and file: URLs.
    return WebAssembly.compile(await files.read(url ?? location));
  }
  if (url?.protocol === 'file:' && isNode()) {
    throw new Error(
      'Node cannot fetch a file: URL; this is gru-simd\'s browser build (resolved with the "browser" condition): ' +
        'import gru-simd without that condition under Node',
    );
  }
  // A browser (or a worker of one): a relative string resolves against the page, as fetch does.
  return compileFromResponse(await fetch(url ?? location), String(url ?? location));
}

/**
 * Loads one of the three wasm modules. The bytes come from options.wasmBytes, else
 * options.wasmUrl, else the default location: <package root>/wasm/gru_simd-<variant>.wasm read
 * with fs under Node (options.files), defaultWasmUrl() fetched elsewhere. A response served as
 * application/wasm is compiled while it downloads (compileStreaming). The simd and relaxed
 * variants load their threaded build (gru_simd-<variant>-mt.wasm) by default where the runtime has
 * shared memory and workers (Node; cross-origin isolated pages): wasm-threads.ts. Throws
 * ERR_GRU_BACKEND_UNAVAILABLE when the engine lacks SIMD (for 'simd') or relaxed SIMD (for
 * 'relaxed'), or the module cannot be found or instantiated.
 */
export async function loadWasmBackend(
  variant: WasmVariant,
  options: WasmLoadOptions = {},
): Promise<Backend> {
  if (variant !== 'relaxed' && variant !== 'simd' && variant !== 'scalar') {
    throw new GruError(
      'ERR_GRU_ARG',
      `variant must be 'relaxed', 'simd' or 'scalar', got ${String(variant)}`,
    );
  }
  const name: BackendName = BACKEND_OF[variant];
  if (variant === 'simd' && !wasmSimdSupported()) {
    throw new GruError(
      'ERR_GRU_BACKEND_UNAVAILABLE',
      'wasm-simd: this WebAssembly engine does not support SIMD; use the scalar wasm backend',
    );
  }
  if (variant === 'relaxed' && !wasmRelaxedSimdSupported()) {
    throw new GruError(
      'ERR_GRU_BACKEND_UNAVAILABLE',
      'wasm-relaxed: this WebAssembly engine does not support relaxed SIMD (Node 20 needs ' +
        '--experimental-wasm-relaxed-simd); use the wasm-simd backend',
    );
  }
  // The threaded build of the variant where this runtime can run it (and no other module was
  // asked for); else the single-threaded one, and the reason stays in threadsNote.
  let threadsNote =
    variant === 'scalar'
      ? 'one thread: the scalar module is single-threaded (use wasm-simd or wasm-relaxed)'
      : threadsUnavailableReason(options.startWorker);
  const defaultFile: WasmModuleFile =
    threadsNote === null && variant !== 'scalar' ? `${variant}-mt` : variant;
  const explicit = options.wasmBytes !== undefined || options.wasmUrl !== undefined;
  let where =
    options.wasmBytes !== undefined
      ? 'options.wasmBytes'
      : String(options.wasmUrl ?? `wasm/gru_simd-${defaultFile}.wasm`);
  const wasm = new WasmInstance();
  let threaded = false;
  /** Compiles the module (a default file unless one was given) and instantiates it. */
  const loadModule = async (file: WasmModuleFile): Promise<void> => {
    let module: WebAssembly.Module;
    if (options.wasmBytes !== undefined) {
      module = await WebAssembly.compile(options.wasmBytes);
    } else {
      let location = options.wasmUrl;
      if (location === undefined) {
        const url =
          options.files !== undefined ? options.files.defaultUrl(file) : defaultWasmUrl(file);
        where = url.href;
        location = url;
      }
      module = await compileFrom(location, options.files);
    }
    threaded = WasmInstance.isThreaded(module);
    wasm.adopt(module, await WebAssembly.instantiate(module, wasm.imports(threaded)));
  };
  try {
    try {
      await loadModule(defaultFile);
    } catch (e) {
      // The threaded module failed here (a shared memory of its 2 GiB maximum refused, ...):
      // the single-threaded one, saying why.
      if (explicit || defaultFile === variant) throw e;
      threadsNote = `one thread: the threaded module could not load (${e instanceof Error ? e.message : String(e)})`;
      await loadModule(variant);
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

  const missing = missingExports(wasm.exports);
  if (missing.length > 0) {
    throw new GruError(
      'ERR_GRU_BACKEND_UNAVAILABLE',
      `${name}: ${where} is not a gru-simd module of this version (missing exports: ${missing.join(', ')})`,
    );
  }
  wasm.initialize();
  const calls = bindWasm(wasm);
  let threadsReady = (): Promise<number> => Promise.resolve(1);
  let helpersState: ((force?: boolean, phaseSpinNs?: number) => HelpersState) | undefined;
  if (threaded) {
    threadsNote = null;
    const helpers = new WasmHelpers(wasm.module, () => wasm.exports, options.startWorker);
    wasm.renewable = () => helpers.idle();
    // The core sets its pool's size (and refuses what it refuses); then the helpers follow.
    const setThreads = calls.setThreads;
    calls.setThreads = (n: number) => {
      setThreads(n);
      helpers.resize(n);
    };
    threadsReady = () => helpers.ready();
    helpersState = (force?: boolean, phaseSpinNs?: number) => helpers.state(force, phaseSpinNs);
  } else if (threadsNote === null) {
    threadsNote = `one thread: ${where} is a single-threaded module`;
  }
  return makeBackend(name, calls, {
    wasmMemoryBytes: () => wasm.memoryBytes(),
    threadsNote,
    threadsReady,
    helpers: helpersState,
  });
}
