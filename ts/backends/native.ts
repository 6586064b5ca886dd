/**
 * The native backend: the N-API addon gru_simd.node (native/addon). The npm package ships it
 * prebuilt for some platforms (prebuilds/<platform>-<arch>/, made at pack time by
 * scripts/prebuild.mjs); elsewhere the install script builds it with cmake-js into
 * build/Release/ (node-gyp and sanitizer builds are used through GRU_SIMD_ADDON).
 *
 * Each Backend method calls one addon function, which calls one function of the C ABI. The
 * addon checks argument types and passes typed arrays to the core without a copy; the core
 * checks sizes. Errors from the addon carry a `code` ("ERR_GRU_SHAPE", ...) and are re-thrown
 * here as GruError with the same code and message.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { GruError, type GruErrorCode } from '../errors.js';
import type {
  Backend,
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
import { moduleUrl, packageRootFromSync } from './locate.js';

/** The addon's own interface (native/addon/addon.cpp, functions.cpp, *_wrap.cpp). */
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
  forwardTrain(
    seqLen: number,
    batch: number,
    batchFirst: boolean,
    x: Float32Array,
    h0: Float32Array | null,
    lengths: Int32Array | null,
    y: Float32Array | null,
    hN: Float32Array | null,
    dropout: number,
    dropoutSeed: number,
  ): void;
  backward(dy: Float32Array | null, dhN: Float32Array | null, dx: Float32Array | null, dh0: Float32Array | null): void;
  forwardAsync(...args: Parameters<AddonNet['forward']>): Promise<void>;
  forwardTrainAsync(...args: Parameters<AddonNet['forwardTrain']>): Promise<void>;
  backwardAsync(...args: Parameters<AddonNet['backward']>): Promise<void>;
  getGrad(layer: number, dir: number, kind: number, out: Float32Array): void;
  zeroGrad(): void;
  trainBytesPerStep(): number;
  trainBytes(): number;
  bytes(): number;
  destroy(): void;
}

interface AddonDense {
  setParam(kind: number, data: Float32Array): void;
  getParam(kind: number, out: Float32Array): void;
  getGrad(kind: number, out: Float32Array): void;
  initUniform(seed: number): void;
  forward(rows: number, x: Float32Array, y: Float32Array, train: boolean): void;
  backward(dy: Float32Array, dx: Float32Array | null): void;
  forwardAsync(rows: number, x: Float32Array, y: Float32Array, train: boolean): Promise<void>;
  backwardAsync(dy: Float32Array, dx: Float32Array | null): Promise<void>;
  zeroGrad(): void;
  destroy(): void;
}

interface AddonEmbedding {
  setParam(kind: number, data: Float32Array): void;
  getParam(kind: number, out: Float32Array): void;
  getGrad(kind: number, out: Float32Array): void;
  initNormal(seed: number): void;
  forward(indices: Int32Array, y: Float32Array, train: boolean): void;
  backward(dy: Float32Array): void;
  zeroGrad(): void;
  destroy(): void;
}

interface AddonOptim {
  addNet(net: AddonNet): void;
  addDense(layer: AddonDense): void;
  addEmbedding(layer: AddonEmbedding): void;
  clipGradNorm(maxNorm: number): number;
  clipGradNormAsync(maxNorm: number): Promise<number>;
  clipGradValue(clip: number): void;
  step(lr: number): void;
  stepAsync(lr: number): Promise<void>;
  zeroGrad(): void;
  stateSize(): number;
  getState(out: Float32Array): void;
  setState(data: Float32Array): void;
  destroy(): void;
}

interface Addon {
  isaName(): string;
  isaList(): string;
  isaSupported(name: string): boolean;
  setIsa(name: string): void;
  threads(): number;
  setThreads(n: number): void;
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
  Dense: new (inFeatures: number, outFeatures: number, bias: boolean) => AddonDense;
  Embedding: new (numEmbeddings: number, dim: number) => AddonEmbedding;
  Optim: new (kind: number, lr: number, a: number, b: number, eps: number, weightDecay: number, flags: number) => AddonOptim;
  lossSoftmaxCrossEntropy(
    logits: Float32Array,
    rows: number,
    classes: number,
    targets: Int32Array,
    dlogits: Float32Array | null,
  ): number;
  lossBceWithLogits(logits: Float32Array, targets: Float32Array, dlogits: Float32Array | null): number;
  lossMse(pred: Float32Array, targets: Float32Array, dpred: Float32Array | null): number;
  lossSoftmaxCrossEntropyAsync(...args: Parameters<Addon['lossSoftmaxCrossEntropy']>): Promise<number>;
  lossBceWithLogitsAsync(...args: Parameters<Addon['lossBceWithLogits']>): Promise<number>;
  lossMseAsync(...args: Parameters<Addon['lossMse']>): Promise<number>;
  dropoutForward(x: Float32Array, p: number, seed: number, y: Float32Array): void;
  dropoutBackward(dy: Float32Array, p: number, seed: number, dx: Float32Array): void;
}

/** Re-throws an addon error as a GruError with the same code and message. */
/** Runs one addon call; an addon error comes out as a GruError with the same code. */
function guard<T>(call: () => T): T {
  try {
    return call();
  } catch (err) {
    rethrow(err);
  }
}

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

/**
 * Runs an addon async call (a worker thread does the work) and awaits it. A failure becomes a
 * GruError as in rethrow, with the stack of the caller, captured here before the call went off
 * the event loop (the addon makes its error on the JS thread after the join, with no JS frames).
 */
async function settle<T>(start: () => Promise<T>): Promise<T> {
  const site: { stack?: string } = {};
  Error.captureStackTrace(site, settle);
  try {
    return await start(); // a synchronous throw (argument checks, ERR_GRU_BUSY) lands here too
  } catch (err) {
    try {
      rethrow(err);
    } catch (e) {
      const frames = site.stack?.indexOf('\n') ?? -1;
      if (e instanceof Error && frames >= 0) e.stack = `${e.name}: ${e.message}${(site.stack as string).slice(frames)}`;
      throw e;
    }
  }
}

/**
 * The addon object behind a handle. A handle of another backend (or anything else) is
 * ERR_GRU_ARG here, as on the wasm backends, rather than a TypeError from a missing method;
 * the addon's own type tags are the last line behind this.
 */
function unwrap<T>(cls: abstract new (...args: never[]) => T, handle: unknown, name: string, what: string): T {
  if (!(handle instanceof cls)) {
    throw new GruError('ERR_GRU_ARG', `${name} must be ${what} created by this native backend`);
  }
  return handle;
}

/** How to get a native addon where there is none: shown when the default paths are empty. */
const HOW_TO_BUILD =
  'install a C++17 compiler and cmake, then run `npm rebuild gru-simd` ' +
  '(where npm blocks install scripts, first `npm install-scripts approve gru-simd`)';

/**
 * Where to load the addon from: options.addonPath, else the environment variable
 * GRU_SIMD_ADDON, else the first that exists of <package root>/build/Release/gru_simd.node (a
 * build from source, which wins over the shipped binary: a developer's fresh build, or the
 * install script's on a platform without a prebuild) and
 * <package root>/prebuilds/<platform>-<arch>/gru_simd.node. Throws when none exists.
 */
function addonLocation(addonPath: string | undefined): { path: string; source: string } {
  if (addonPath !== undefined) return { path: addonPath, source: 'options.addonPath' };
  const fromEnv = process.env.GRU_SIMD_ADDON;
  if (fromEnv !== undefined && fromEnv !== '') return { path: fromEnv, source: 'GRU_SIMD_ADDON' };
  let root: string;
  try {
    root = fileURLToPath(packageRootFromSync(moduleUrl(), (u) => readFileSync(u, 'utf8')));
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new GruError('ERR_GRU_BACKEND_UNAVAILABLE', `native addon not found: ${why}`);
  }
  const target = `${process.platform}-${process.arch}`;
  const candidates = [
    { path: join(root, 'build', 'Release', 'gru_simd.node'), source: 'the local build' },
    { path: join(root, 'prebuilds', target, 'gru_simd.node'), source: `the prebuilt binary for ${target}` },
  ];
  const found = candidates.find((c) => existsSync(c.path));
  if (found) return found;
  throw new GruError(
    'ERR_GRU_BACKEND_UNAVAILABLE',
    `no native addon for ${target}: no prebuilt binary ships for it and none was built from source ` +
      `(looked for ${candidates.map((c) => c.path).join(' and ')}); for the native backend, ${HOW_TO_BUILD}`,
  );
}

/**
 * Loads the addon (see addonLocation for where) and returns a Backend over it.
 * Throws GruError ERR_GRU_BACKEND_UNAVAILABLE naming the path tried and why it failed.
 */
export function loadNativeBackend(options?: { addonPath?: string }): Backend {
  const requireAddon = createRequire(moduleUrl());
  const location = addonLocation(options?.addonPath);
  const source = location.source;
  const path = resolve(location.path); // a relative path is taken from the working directory, not a package

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
  const { Net, Dense, Embedding, Optim } = addon;
  if (typeof Dense !== 'function' || typeof Embedding !== 'function' || typeof Optim !== 'function') {
    throw new GruError(
      'ERR_GRU_BACKEND_UNAVAILABLE',
      `native addon at ${path} (${source}) is out of date: it exports no training classes; rebuild it (npm run build:native)`,
    );
  }
  const netOf = (h: unknown, name = 'net'): AddonNet => unwrap(Net, h, name, 'a network');
  const denseOf = (h: unknown, name = 'layer'): AddonDense => unwrap(Dense, h, name, 'a dense layer');
  const embeddingOf = (h: unknown, name = 'layer'): AddonEmbedding => unwrap(Embedding, h, name, 'an embedding');
  const optimOf = (h: unknown): AddonOptim => unwrap(Optim, h, 'opt', 'an optimizer');

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
      return guard(() => addon.isaSupported(isa));
    },
    setIsa(isa: string): void {
      return guard(() => addon.setIsa(isa));
    },
    threads(): number {
      return addon.threads();
    },
    setThreads(n: number): void {
      return guard(() => addon.setThreads(n));
    },
    evalSigmoid(x: Float32Array, y: Float32Array): void {
      return guard(() => addon.evalSigmoid(x, y));
    },
    evalTanh(x: Float32Array, y: Float32Array): void {
      return guard(() => addon.evalTanh(x, y));
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
      return guard(() => netOf(net).destroy());
    },
    netParamSize(net: NetHandle, layer: number, direction: number, kind: ParamKind): number {
      return guard(() => netOf(net).paramSize(layer, direction, kind));
    },
    netSetParam(
      net: NetHandle,
      layer: number,
      direction: number,
      kind: ParamKind,
      data: Float32Array,
    ): void {
      return guard(() => netOf(net).setParam(layer, direction, kind, data));
    },
    netGetParam(
      net: NetHandle,
      layer: number,
      direction: number,
      kind: ParamKind,
      out: Float32Array,
    ): void {
      return guard(() => netOf(net).getParam(layer, direction, kind, out));
    },
    netInitUniform(net: NetHandle, seed: number): void {
      return guard(() => netOf(net).initUniform(seed));
    },
    netForward(net: NetHandle, call: ForwardCall): void {
      return guard(() => netOf(net).forward(
        call.seqLen,
        call.batch,
        call.batchFirst,
        call.x,
        call.h0,
        call.lengths,
        call.y,
        call.hN,
      ));
    },
    netBytes(net: NetHandle): number {
      return guard(() => netOf(net).bytes());
    },
    allocatedBytes(): number {
      return addon.allocatedBytes();
    },

    // ---- training: networks ----------------------------------------------------------------
    netForwardTrain(net: NetHandle, call: ForwardTrainCall): void {
      return guard(() => netOf(net).forwardTrain(
        call.seqLen,
        call.batch,
        call.batchFirst,
        call.x,
        call.h0,
        call.lengths,
        call.y,
        call.hN,
        call.dropout,
        call.dropoutSeed,
      ));
    },
    netBackward(net: NetHandle, call: BackwardCall): void {
      return guard(() => netOf(net).backward(call.dy, call.dhN, call.dx, call.dh0));
    },
    netGetGrad(net: NetHandle, layer: number, direction: number, kind: ParamKind, out: Float32Array): void {
      return guard(() => netOf(net).getGrad(layer, direction, kind, out));
    },
    netZeroGrad(net: NetHandle): void {
      return guard(() => netOf(net).zeroGrad());
    },
    netTrainBytesPerStep(net: NetHandle): number {
      return guard(() => netOf(net).trainBytesPerStep());
    },
    netTrainBytes(net: NetHandle): number {
      return guard(() => netOf(net).trainBytes());
    },

    // ---- training: dense layers ------------------------------------------------------------
    denseCreate(inFeatures: number, outFeatures: number, bias: boolean): DenseHandle {
      return guard(() => new Dense(inFeatures, outFeatures, bias) as unknown as DenseHandle);
    },
    denseDestroy(layer: DenseHandle): void {
      return guard(() => denseOf(layer).destroy());
    },
    denseSetParam(layer: DenseHandle, kind: number, data: Float32Array): void {
      return guard(() => denseOf(layer).setParam(kind, data));
    },
    denseGetParam(layer: DenseHandle, kind: number, out: Float32Array): void {
      return guard(() => denseOf(layer).getParam(kind, out));
    },
    denseGetGrad(layer: DenseHandle, kind: number, out: Float32Array): void {
      return guard(() => denseOf(layer).getGrad(kind, out));
    },
    denseInitUniform(layer: DenseHandle, seed: number): void {
      return guard(() => denseOf(layer).initUniform(seed));
    },
    denseForward(layer: DenseHandle, rows: number, x: Float32Array, y: Float32Array, train: boolean): void {
      return guard(() => denseOf(layer).forward(rows, x, y, train));
    },
    denseBackward(layer: DenseHandle, dy: Float32Array, dx: Float32Array | null): void {
      return guard(() => denseOf(layer).backward(dy, dx));
    },
    denseZeroGrad(layer: DenseHandle): void {
      return guard(() => denseOf(layer).zeroGrad());
    },

    // ---- training: embeddings --------------------------------------------------------------
    embeddingCreate(numEmbeddings: number, dim: number): EmbeddingHandle {
      return guard(() => new Embedding(numEmbeddings, dim) as unknown as EmbeddingHandle);
    },
    embeddingDestroy(layer: EmbeddingHandle): void {
      return guard(() => embeddingOf(layer).destroy());
    },
    embeddingSetParam(layer: EmbeddingHandle, kind: number, data: Float32Array): void {
      return guard(() => embeddingOf(layer).setParam(kind, data));
    },
    embeddingGetParam(layer: EmbeddingHandle, kind: number, out: Float32Array): void {
      return guard(() => embeddingOf(layer).getParam(kind, out));
    },
    embeddingGetGrad(layer: EmbeddingHandle, kind: number, out: Float32Array): void {
      return guard(() => embeddingOf(layer).getGrad(kind, out));
    },
    embeddingInitNormal(layer: EmbeddingHandle, seed: number): void {
      return guard(() => embeddingOf(layer).initNormal(seed));
    },
    embeddingForward(layer: EmbeddingHandle, indices: Int32Array, y: Float32Array, train: boolean): void {
      return guard(() => embeddingOf(layer).forward(indices, y, train));
    },
    embeddingBackward(layer: EmbeddingHandle, dy: Float32Array): void {
      return guard(() => embeddingOf(layer).backward(dy));
    },
    embeddingZeroGrad(layer: EmbeddingHandle): void {
      return guard(() => embeddingOf(layer).zeroGrad());
    },

    // ---- training: losses and dropout ------------------------------------------------------
    lossSoftmaxCrossEntropy(
      logits: Float32Array,
      rows: number,
      classes: number,
      targets: Int32Array,
      dlogits: Float32Array | null,
    ): number {
      return guard(() => addon.lossSoftmaxCrossEntropy(logits, rows, classes, targets, dlogits));
    },
    lossBceWithLogits(logits: Float32Array, targets: Float32Array, dlogits: Float32Array | null): number {
      return guard(() => addon.lossBceWithLogits(logits, targets, dlogits));
    },
    lossMse(pred: Float32Array, targets: Float32Array, dpred: Float32Array | null): number {
      return guard(() => addon.lossMse(pred, targets, dpred));
    },
    dropoutForward(x: Float32Array, p: number, seed: number, y: Float32Array): void {
      return guard(() => addon.dropoutForward(x, p, seed, y));
    },
    dropoutBackward(dy: Float32Array, p: number, seed: number, dx: Float32Array): void {
      return guard(() => addon.dropoutBackward(dy, p, seed, dx));
    },

    // ---- training: optimizers --------------------------------------------------------------
    optimCreate(config: OptimConfig): OptimHandle {
      try {
        const opt = new Optim(config.kind, config.lr, config.a, config.b, config.eps, config.weightDecay, config.flags);
        return opt as unknown as OptimHandle;
      } catch (err) {
        rethrow(err);
      }
    },
    optimDestroy(opt: OptimHandle): void {
      return guard(() => optimOf(opt).destroy());
    },
    optimAddNet(opt: OptimHandle, net: NetHandle): void {
      return guard(() => optimOf(opt).addNet(netOf(net)));
    },
    optimAddDense(opt: OptimHandle, layer: DenseHandle): void {
      return guard(() => optimOf(opt).addDense(denseOf(layer)));
    },
    optimAddEmbedding(opt: OptimHandle, layer: EmbeddingHandle): void {
      return guard(() => optimOf(opt).addEmbedding(embeddingOf(layer)));
    },
    optimClipGradNorm(opt: OptimHandle, maxNorm: number): number {
      return guard(() => optimOf(opt).clipGradNorm(maxNorm));
    },
    optimClipGradValue(opt: OptimHandle, clip: number): void {
      return guard(() => optimOf(opt).clipGradValue(clip));
    },
    optimStep(opt: OptimHandle, lr: number): void {
      return guard(() => optimOf(opt).step(lr));
    },
    optimZeroGrad(opt: OptimHandle): void {
      return guard(() => optimOf(opt).zeroGrad());
    },
    optimStateSize(opt: OptimHandle): number {
      return guard(() => optimOf(opt).stateSize());
    },
    optimGetState(opt: OptimHandle, out: Float32Array): void {
      return guard(() => optimOf(opt).getState(out));
    },
    optimSetState(opt: OptimHandle, data: Float32Array): void {
      return guard(() => optimOf(opt).setState(data));
    },

    // ---- async: worker threads (native/addon/async.h) ---------------------------------------
    netForwardAsync(net: NetHandle, call: ForwardCall): Promise<void> {
      const { seqLen, batch, batchFirst, x, h0, lengths, y, hN } = call;
      return settle(() => netOf(net).forwardAsync(seqLen, batch, batchFirst, x, h0, lengths, y, hN));
    },
    netForwardTrainAsync(net: NetHandle, call: ForwardTrainCall): Promise<void> {
      const { seqLen, batch, batchFirst, x, h0, lengths, y, hN, dropout, dropoutSeed } = call;
      return settle(() =>
        netOf(net).forwardTrainAsync(seqLen, batch, batchFirst, x, h0, lengths, y, hN, dropout, dropoutSeed),
      );
    },
    netBackwardAsync(net: NetHandle, call: BackwardCall): Promise<void> {
      return settle(() => netOf(net).backwardAsync(call.dy, call.dhN, call.dx, call.dh0));
    },
    denseForwardAsync(layer: DenseHandle, rows: number, x: Float32Array, y: Float32Array, train: boolean): Promise<void> {
      return settle(() => denseOf(layer).forwardAsync(rows, x, y, train));
    },
    denseBackwardAsync(layer: DenseHandle, dy: Float32Array, dx: Float32Array | null): Promise<void> {
      return settle(() => denseOf(layer).backwardAsync(dy, dx));
    },
    lossSoftmaxCrossEntropyAsync(
      logits: Float32Array,
      rows: number,
      classes: number,
      targets: Int32Array,
      dlogits: Float32Array | null,
    ): Promise<number> {
      return settle(() => addon.lossSoftmaxCrossEntropyAsync(logits, rows, classes, targets, dlogits));
    },
    lossBceWithLogitsAsync(logits: Float32Array, targets: Float32Array, dlogits: Float32Array | null): Promise<number> {
      return settle(() => addon.lossBceWithLogitsAsync(logits, targets, dlogits));
    },
    lossMseAsync(pred: Float32Array, targets: Float32Array, dpred: Float32Array | null): Promise<number> {
      return settle(() => addon.lossMseAsync(pred, targets, dpred));
    },
    optimClipGradNormAsync(opt: OptimHandle, maxNorm: number): Promise<number> {
      return settle(() => optimOf(opt).clipGradNormAsync(maxNorm));
    },
    optimStepAsync(opt: OptimHandle, lr: number): Promise<void> {
      return settle(() => optimOf(opt).stepAsync(lr));
    },
  };
}
