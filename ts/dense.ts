/**
 * A dense (linear) layer, y = x W^T + b with W [outFeatures, inFeatures] and b [outFeatures],
 * as PyTorch's nn.Linear. Weights and gradients live in a backend; names and layouts are
 * nn.Linear's state_dict ('weight', 'bias').
 */
import type { Backend, DenseHandle } from './backends/backend.js';
import { Busy, holding } from './busy.js';
import { GruError } from './errors.js';
import { currentBackend } from './loader.js';
import { loadStateDictInto, stateDictOf } from './state-dict.js';
import * as check from './validate.js';

export interface DenseOptions {
  inFeatures: number;
  outFeatures: number;
  /** Learnable bias (default true). */
  bias?: boolean;
  /** Seed of the initial parameters, U(-1/sqrt(in), 1/sqrt(in)); random if omitted. */
  seed?: number;
  /** Backend to hold the weights; default: the one chosen by init(). */
  backend?: Backend;
}

const DENSE_KEYS = ['inFeatures', 'outFeatures', 'bias', 'seed', 'backend'] as const;
const NAMES = ['weight', 'bias'] as const;

export class Dense {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly bias: boolean;
  readonly backend: Backend;
  #layer: DenseHandle | null;
  /** Rows of the last training forward that backward() has not consumed yet. */
  #trainedRows: number | null = null;
  /** @internal Set while an async call (its own, an optimizer's, a model's) holds this layer. */
  readonly _busy = new Busy('this Dense layer');

  constructor(options: DenseOptions) {
    const o = check.options('Dense options', options);
    check.knownKeys('Dense options', o, DENSE_KEYS);
    this.inFeatures = check.positiveInt('inFeatures', o.inFeatures);
    this.outFeatures = check.positiveInt('outFeatures', o.outFeatures);
    this.bias = check.boolean('bias', o.bias, true);
    const seed = check.seedOption(o.seed);
    this.backend = check.backendOption(o.backend, currentBackend);
    this.#layer = this.backend.denseCreate(this.inFeatures, this.outFeatures, this.bias);
    try {
      this.backend.denseInitUniform(this.#layer, seed);
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  get disposed(): boolean {
    return this.#layer === null;
  }

  /** Frees the weights in the backend. Every later call throws ERR_GRU_DISPOSED. Idempotent. */
  dispose(): void {
    if (this.#layer !== null) {
      this._busy.check();
      const layer = this.#layer;
      this.#layer = null;
      this.#trainedRows = null;
      this.backend.denseDestroy(layer);
    }
  }

  /** ['weight', 'bias'], or ['weight'] without bias. */
  parameterNames(): string[] {
    this.#live();
    return this.bias ? [...NAMES] : ['weight'];
  }

  /** [outFeatures, inFeatures] or [outFeatures]. */
  parameterShape(name: string): number[] {
    return this.#kind(name) === 0 ? [this.outFeatures, this.inFeatures] : [this.outFeatures];
  }

  getParameter(name: string): Float32Array {
    const kind = this.#kind(name);
    const out = new Float32Array(this.#size(kind));
    this.backend.denseGetParam(this.#handle(), kind, out);
    return out;
  }

  setParameter(name: string, data: Float32Array): void {
    const kind = this.#kind(name);
    check.float32ArrayOfLength(name, data, this.#size(kind), `shape [${this.parameterShape(name).join(', ')}]`);
    this.backend.denseSetParam(this.#handle(), kind, data);
  }

  /** The gradient of a parameter accumulated by backward() since zeroGrad(). */
  getGradient(name: string): Float32Array {
    const kind = this.#kind(name);
    const out = new Float32Array(this.#size(kind));
    this.backend.denseGetGrad(this.#handle(), kind, out);
    return out;
  }

  zeroGrad(): void {
    this.backend.denseZeroGrad(this.#handle());
  }

  stateDict(): Record<string, Float32Array> {
    return stateDictOf(this);
  }

  /** strict (default): the dict must hold exactly this layer's parameters. Checks all, then writes. */
  loadStateDict(dict: Record<string, Float32Array>, options: { strict?: boolean } = {}): void {
    loadStateDictInto(this, dict, options, 'Dense');
  }

  /** x [rows, inFeatures] -> y [rows, outFeatures]. train: keep x for backward(). */
  forward(x: Float32Array, options: { train?: boolean } = {}): Float32Array {
    const layer = this.#handle();
    const f = this.#prepareForward(x, options);
    if (f.train) this.#trainedRows = null;
    this.backend.denseForward(layer, f.rows, f.x, f.y, f.train);
    if (f.train) this.#trainedRows = f.rows;
    return f.y;
  }

  /**
   * forward() off the event loop (native: a worker thread; wasm: synchronously inside the
   * promise). Leave x unmodified until it settles; the layer is busy (ERR_GRU_BUSY) meanwhile.
   */
  forwardAsync(x: Float32Array, options: { train?: boolean } = {}): Promise<Float32Array> {
    return holding('forwardAsync()', [this._busy], async (run) => {
      const { layer, f } = run(() => ({ layer: this.#handle(), f: this.#prepareForward(x, options) }));
      if (f.train) this.#trainedRows = null;
      await run(() => this.backend.denseForwardAsync(layer, f.rows, f.x, f.y, f.train));
      if (f.train) this.#trainedRows = f.rows;
      return f.y;
    });
  }

  #prepareForward(x: Float32Array, options: { train?: boolean }): { rows: number; x: Float32Array; y: Float32Array; train: boolean } {
    const input = check.float32Array('x', x);
    const o = check.options('forward options', options);
    check.knownKeys('forward options', o, ['train']);
    const train = check.boolean('train', o.train, false);
    if (input.length === 0 || input.length % this.inFeatures !== 0) {
      throw new GruError(
        'ERR_GRU_SHAPE',
        `x must hold rows x inFeatures (${this.inFeatures}) floats, a positive multiple of ${this.inFeatures}, got ${input.length}`,
      );
    }
    const rows = input.length / this.inFeatures;
    return { rows, x: input, y: new Float32Array(rows * this.outFeatures), train };
  }

  /** dy [rows, outFeatures] of the last training forward: adds into the gradients, returns dx [rows, inFeatures]. */
  backward(dy: Float32Array): Float32Array {
    const layer = this.#handle();
    const b = this.#prepareBackward(dy);
    this.backend.denseBackward(layer, b.dy, b.dx);
    this.#trainedRows = null;
    return b.dx;
  }

  /** backward() off the event loop, as forwardAsync() is to forward(). */
  backwardAsync(dy: Float32Array): Promise<Float32Array> {
    return holding('backwardAsync()', [this._busy], async (run) => {
      const { layer, b } = run(() => ({ layer: this.#handle(), b: this.#prepareBackward(dy) }));
      await run(() => this.backend.denseBackwardAsync(layer, b.dy, b.dx));
      this.#trainedRows = null;
      return b.dx;
    });
  }

  #prepareBackward(dy: Float32Array): { dy: Float32Array; dx: Float32Array } {
    const rows = this.#trainedRows;
    if (rows === null) {
      throw new GruError('ERR_GRU_STATE', 'backward() needs a forward(x, { train: true }) first (once per training forward)');
    }
    const grad = check.float32ArrayOfLength('dy', dy, rows * this.outFeatures, `[${rows}, ${this.outFeatures}]`);
    return { dy: grad, dx: new Float32Array(rows * this.inFeatures) };
  }

  /** @internal the live handle, for an optimizer. */
  _denseHandle(): DenseHandle {
    return this.#handle();
  }

  /** The live handle: ERR_GRU_DISPOSED once freed, ERR_GRU_BUSY while an async call holds it. */
  #handle(): DenseHandle {
    const layer = this.#live();
    this._busy.check();
    return layer;
  }

  /** The live handle, or ERR_GRU_DISPOSED (for what reads no backend state). */
  #live(): DenseHandle {
    if (this.#layer === null) throw new GruError('ERR_GRU_DISPOSED', 'this Dense layer has been disposed');
    return this.#layer;
  }

  #size(kind: number): number {
    return kind === 0 ? this.outFeatures * this.inFeatures : this.outFeatures;
  }

  #kind(name: string): number {
    this.#live();
    if (typeof name !== 'string') {
      throw new GruError('ERR_GRU_TYPE', `parameter name must be a string, got ${check.describe(name)}`);
    }
    const kind = (NAMES as readonly string[]).indexOf(name);
    if (kind < 0 || (kind === 1 && !this.bias)) {
      throw new GruError(
        'ERR_GRU_RANGE',
        `unknown parameter name ${check.describe(name)}; this Dense layer has: ${this.parameterNames().join(', ')}`,
      );
    }
    return kind;
  }
}
