/**
 * An embedding table, y[i] = W[indices[i]] with W [numEmbeddings, embeddingDim], as PyTorch's
 * nn.Embedding (state_dict name 'weight'). backward() adds into the gradient rows of the
 * indices the last training forward used, and no other row.
 */
import type { Backend, EmbeddingHandle } from './backends/backend.js';
import { Busy } from './busy.js';
import { loadStateDictInto, stateDictOf } from './state-dict.js';
import { GruError } from './errors.js';
import { currentBackend } from './loader.js';
import * as check from './validate.js';

export interface EmbeddingOptions {
  numEmbeddings: number;
  embeddingDim: number;
  /** Seed of the initial weights, approximately N(0, 1); random if omitted. */
  seed?: number;
  /** Backend to hold the weights; default: the one chosen by init(). */
  backend?: Backend;
}

const EMBEDDING_KEYS = ['numEmbeddings', 'embeddingDim', 'seed', 'backend'] as const;

export class Embedding {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly backend: Backend;
  #layer: EmbeddingHandle | null;
  /** Indices of the last training forward that backward() has not consumed yet. */
  #trainedRows: number | null = null;
  /** @internal Set while an async call (an optimizer's, a model's) holds this layer. */
  readonly _busy = new Busy('this Embedding');

  constructor(options: EmbeddingOptions) {
    const o = check.options('Embedding options', options);
    check.knownKeys('Embedding options', o, EMBEDDING_KEYS);
    this.numEmbeddings = check.positiveInt('numEmbeddings', o.numEmbeddings, 1 << 30);
    this.embeddingDim = check.positiveInt('embeddingDim', o.embeddingDim);
    const seed = check.seedOption(o.seed);
    this.backend = check.backendOption(o.backend, currentBackend);
    this.#layer = this.backend.embeddingCreate(this.numEmbeddings, this.embeddingDim);
    try {
      this.backend.embeddingInitNormal(this.#layer, seed);
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  get disposed(): boolean {
    return this.#layer === null;
  }

  /** Frees the table in the backend. Every later call throws ERR_GRU_DISPOSED. Idempotent. */
  dispose(): void {
    if (this.#layer !== null) {
      this._busy.check();
      const layer = this.#layer;
      this.#layer = null;
      this.#trainedRows = null;
      this.backend.embeddingDestroy(layer);
    }
  }

  parameterNames(): string[] {
    this.#live();
    return ['weight'];
  }

  /** [numEmbeddings, embeddingDim]. */
  parameterShape(name: string): number[] {
    this.#check(name);
    return [this.numEmbeddings, this.embeddingDim];
  }

  getParameter(name: string): Float32Array {
    this.#check(name);
    const out = new Float32Array(this.numEmbeddings * this.embeddingDim);
    this.backend.embeddingGetParam(this.#handle(), 0, out);
    return out;
  }

  setParameter(name: string, data: Float32Array): void {
    this.#check(name);
    check.float32ArrayOfLength(name, data, this.numEmbeddings * this.embeddingDim, `shape [${this.numEmbeddings}, ${this.embeddingDim}]`);
    this.backend.embeddingSetParam(this.#handle(), 0, data);
  }

  /** The gradient accumulated by backward() since zeroGrad(). */
  getGradient(name: string): Float32Array {
    this.#check(name);
    const out = new Float32Array(this.numEmbeddings * this.embeddingDim);
    this.backend.embeddingGetGrad(this.#handle(), 0, out);
    return out;
  }

  zeroGrad(): void {
    this.backend.embeddingZeroGrad(this.#handle());
  }

  stateDict(): Record<string, Float32Array> {
    return stateDictOf(this);
  }

  /** strict (default): the dict must hold exactly { weight }. */
  loadStateDict(dict: Record<string, Float32Array>, options: { strict?: boolean } = {}): void {
    loadStateDictInto(this, dict, options, 'Embedding');
  }

  /** indices [n], each in [0, numEmbeddings) -> y [n, embeddingDim]. train: keep them for backward(). */
  forward(indices: Int32Array | readonly number[], options: { train?: boolean } = {}): Float32Array {
    const layer = this.#handle();
    const ids = check.int32Indices('indices', indices, 0, this.numEmbeddings);
    if (ids.length === 0) throw new GruError('ERR_GRU_SHAPE', 'indices must not be empty');
    const o = check.options('forward options', options);
    check.knownKeys('forward options', o, ['train']);
    const train = check.boolean('train', o.train, false);
    const y = new Float32Array(ids.length * this.embeddingDim);
    if (train) this.#trainedRows = null;
    this.backend.embeddingForward(layer, ids, y, train);
    if (train) this.#trainedRows = ids.length;
    return y;
  }

  /** dy [n, embeddingDim] of the last training forward: adds into the rows of its indices. */
  backward(dy: Float32Array): void {
    const layer = this.#handle();
    const rows = this.#trainedRows;
    if (rows === null) throw new GruError('ERR_GRU_STATE', 'backward() needs a forward(indices, { train: true }) first');
    const grad = check.float32ArrayOfLength('dy', dy, rows * this.embeddingDim, `[${rows}, ${this.embeddingDim}]`);
    this.backend.embeddingBackward(layer, grad);
  }

  /** @internal the live handle, for an optimizer. */
  _embeddingHandle(): EmbeddingHandle {
    return this.#handle();
  }

  /** The live handle: ERR_GRU_DISPOSED once freed, ERR_GRU_BUSY while an async call holds it. */
  #handle(): EmbeddingHandle {
    const layer = this.#live();
    this._busy.check();
    return layer;
  }

  /** The live handle, or ERR_GRU_DISPOSED (for what reads no backend state). */
  #live(): EmbeddingHandle {
    if (this.#layer === null) throw new GruError('ERR_GRU_DISPOSED', 'this Embedding has been disposed');
    return this.#layer;
  }

  #check(name: string): void {
    this.#live();
    if (typeof name !== 'string') {
      throw new GruError('ERR_GRU_TYPE', `parameter name must be a string, got ${check.describe(name)}`);
    }
    if (name !== 'weight') {
      throw new GruError('ERR_GRU_RANGE', `unknown parameter name ${check.describe(name)}; this Embedding has: weight`);
    }
  }
}
