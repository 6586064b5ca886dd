/**
 * The native backend: the N-API addon gru_simd.node (native/addon), built by cmake-js into
 * build/Release/ (or by node-gyp, or with sanitizers, at a path given in GRU_SIMD_ADDON).
 *
 * Each Backend method calls one addon function, which calls one function of the C ABI. The
 * addon checks argument types and passes typed arrays to the core without a copy; the core
 * checks sizes. Errors from the addon carry a `code` ("ERR_GRU_SHAPE", ...) and are re-thrown
 * here as GruError with the same code and message.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { GruError, type GruErrorCode } from '../errors.js';
import type { Backend, ForwardCall, NetConfig, NetHandle, ParamKind } from './backend.js';
import { moduleUrl, packageRootFromSync } from './locate.js';

/** The addon's own interface (native/addon/addon.cpp, net_wrap.cpp). */
interface AddonNet {
  paramSize(layer: number, dir: number, kind: number): number;
  setParam(layer: number, dir: number, kind: number, data: Float32Array): void;
  getParam(layer: number, dir: number, kind: number, out: Float32Array): void;
  initUniform(seed: number): void;
  forward(
    seqLen: number,
    batch: number,
    batchFirst: boolean,
    x: Float32Array,
    h0: Float32Array | null,
    lengths: Int32Array | null,
    y: Float32Array | null,
    hN: Float32Array | null,
  ): void;
  bytes(): number;
  destroy(): void;
}

interface Addon {
  isaName(): string;
  isaList(): string;
  isaSupported(name: string): boolean;
  setIsa(name: string): void;
  threads(): number;
  evalSigmoid(x: Float32Array, y: Float32Array): void;
  evalTanh(x: Float32Array, y: Float32Array): void;
  allocatedBytes(): number;
  Net: new (
    inputSize: number,
    hiddenSize: number,
    numLayers: number,
    bidirectional: boolean,
    bias: boolean,
    resetAfter: boolean,
  ) => AddonNet;
}

/** Re-throws an addon error as a GruError with the same code and message. */
function rethrow(err: unknown): never {
  if (err instanceof GruError) throw err;
  if (err instanceof Error) {
    const code = (err as Error & { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_GRU_')) {
      throw new GruError(code as GruErrorCode, err.message);
    }
  }
  throw err;
}

function netOf(handle: NetHandle): AddonNet {
  return handle as unknown as AddonNet;
}

/**
 * Loads the addon and returns a Backend over it. Tries, in order: options.addonPath, the
 * environment variable GRU_SIMD_ADDON, <package root>/build/Release/gru_simd.node.
 * Throws GruError ERR_GRU_BACKEND_UNAVAILABLE naming the path tried and why it failed.
 */
export function loadNativeBackend(options?: { addonPath?: string }): Backend {
  const requireAddon = createRequire(moduleUrl());

  let path = options?.addonPath ?? process.env.GRU_SIMD_ADDON;
  let source = options?.addonPath !== undefined ? 'options.addonPath' : 'GRU_SIMD_ADDON';
  if (path === undefined || path === '') {
    let root: string;
    try {
      root = fileURLToPath(packageRootFromSync(moduleUrl(), (u) => readFileSync(u, 'utf8')));
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new GruError('ERR_GRU_BACKEND_UNAVAILABLE', `native addon not found: ${why}`);
    }
    path = join(root, 'build', 'Release', 'gru_simd.node');
    source = 'the default path';
  }
  path = resolve(path); // a relative path is taken from the working directory, not a package

  let addon: Addon;
  try {
    addon = requireAddon(path) as Addon;
  } catch (err) {
    // First line only: Node appends the whole "Require stack" to a missing module's message.
    const why = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    throw new GruError(
      'ERR_GRU_BACKEND_UNAVAILABLE',
      `native addon could not be loaded from ${path} (${source}): ${why}`,
    );
  }
  if (typeof addon?.Net !== 'function' || typeof addon.isaName !== 'function') {
    throw new GruError(
      'ERR_GRU_BACKEND_UNAVAILABLE',
      `native addon at ${path} (${source}) is not gru_simd.node: it exports no Net class`,
    );
  }
  const Net = addon.Net;

  return {
    name: 'native',
    isa(): string {
      return addon.isaName();
    },
    isaList(): string[] {
      return addon
        .isaList()
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
    },
    isaSupported(isa: string): boolean {
      try {
        return addon.isaSupported(isa);
      } catch (err) {
        rethrow(err);
      }
    },
    setIsa(isa: string): void {
      try {
        addon.setIsa(isa);
      } catch (err) {
        rethrow(err);
      }
    },
    threads(): number {
      return addon.threads();
    },
    evalSigmoid(x: Float32Array, y: Float32Array): void {
      try {
        addon.evalSigmoid(x, y);
      } catch (err) {
        rethrow(err);
      }
    },
    evalTanh(x: Float32Array, y: Float32Array): void {
      try {
        addon.evalTanh(x, y);
      } catch (err) {
        rethrow(err);
      }
    },
    netCreate(config: NetConfig): NetHandle {
      try {
        const net = new Net(
          config.inputSize,
          config.hiddenSize,
          config.numLayers,
          config.bidirectional,
          config.bias,
          config.resetAfter,
        );
        return net as unknown as NetHandle;
      } catch (err) {
        rethrow(err);
      }
    },
    netDestroy(net: NetHandle): void {
      try {
        netOf(net).destroy();
      } catch (err) {
        rethrow(err);
      }
    },
    netParamSize(net: NetHandle, layer: number, direction: number, kind: ParamKind): number {
      try {
        return netOf(net).paramSize(layer, direction, kind);
      } catch (err) {
        rethrow(err);
      }
    },
    netSetParam(
      net: NetHandle,
      layer: number,
      direction: number,
      kind: ParamKind,
      data: Float32Array,
    ): void {
      try {
        netOf(net).setParam(layer, direction, kind, data);
      } catch (err) {
        rethrow(err);
      }
    },
    netGetParam(
      net: NetHandle,
      layer: number,
      direction: number,
      kind: ParamKind,
      out: Float32Array,
    ): void {
      try {
        netOf(net).getParam(layer, direction, kind, out);
      } catch (err) {
        rethrow(err);
      }
    },
    netInitUniform(net: NetHandle, seed: number): void {
      try {
        netOf(net).initUniform(seed);
      } catch (err) {
        rethrow(err);
      }
    },
    netForward(net: NetHandle, call: ForwardCall): void {
      try {
        netOf(net).forward(
          call.seqLen,
          call.batch,
          call.batchFirst,
          call.x,
          call.h0,
          call.lengths,
          call.y,
          call.hN,
        );
      } catch (err) {
        rethrow(err);
      }
    },
    netBytes(net: NetHandle): number {
      try {
        return netOf(net).bytes();
      } catch (err) {
        rethrow(err);
      }
    },
    allocatedBytes(): number {
      return addon.allocatedBytes();
    },
  };
}
