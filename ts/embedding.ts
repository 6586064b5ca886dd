/**
 * An embedding table, y[i] = W[indices[i]] with W [numEmbeddings, embeddingDim], as PyTorch's
 * nn.Embedding (state_dict name 'weight'). backward() adds into the gradient rows of the
 * indices the last training forward used, and no other row.
 */
import type { Backend, EmbeddingHandle } from './backends/backend.js';
import { holding } from './busy.js';
import { GruError } from './errors.js';
import { Layer } from './layer.js';
import { currentBackend } from './loader.js';
import { trainingOutput } from './step-arrays.js';
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

export class Embedding extends Layer<EmbeddingHandle> {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  /** Indices of the last training forward that backward() has not consumed yet. */
  #trainedRows: number | null = null;

  constructor(options: EmbeddingOptions) {
    const o = check.options('Embedding options', options);
    check.knownKeys('Embedding options', o, EMBEDDING_KEYS);
    const numEmbeddings = check.positiveInt('numEmbeddings', o.numEmbeddings, 1 << 30);
    const embeddingDim = check.positiveInt('embeddingDim', o.embeddingDim);
    const seed = check.seedOption(o.seed);
    const backend = check.backendOption(o.backend, currentBackend);
    super(backend, 'Embedding', backend.embeddingCreate(numEmbeddings, embeddingDim), seed);
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
  }

  protected override _disposed(): void {
    this.#trainedRows = null;
  }

  /** indices [n], each in [0, numEmbeddings) -> y [n, embeddingDim]. train: keep them for backward(). */
  forward(
    indices: Int32Array | readonly number[],
    options: { train?: boolean } = {},
  ): Float32Array {
    const layer = this._handle();
    const f = this.#prepareForward(indices, options);
    if (f.train) this.#trainedRows = null;
    this.backend.embeddingForward(layer, f.ids, f.y, +f.train);
    if (f.train) this.#trainedRows = f.ids.length;
    return f.y;
  }

  /**
   * forward() off the event loop (native: a worker thread; wasm: synchronously inside the
   * promise); the layer is busy (ERR_GRU_BUSY) until the promise settles.
   */
  forwardAsync(
    indices: Int32Array | readonly number[],
    options: { train?: boolean } = {},
  ): Promise<Float32Array> {
    return holding('forwardAsync()', [this._busy], async (run) => {
      const { layer, f } = run(() => ({
        layer: this._handle(),
        f: this.#prepareForward(indices, options),
      }));
      if (f.train) this.#trainedRows = null;
      await run(() => this.backend.embeddingForwardAsync(layer, f.ids, f.y, +f.train));
      if (f.train) this.#trainedRows = f.ids.length;
      return f.y;
    });
  }

  #prepareForward(indices: Int32Array | readonly number[], options: { train?: boolean }) {
    const ids = check.int32Indices('indices', indices, 0, this.numEmbeddings);
    if (ids.length === 0) throw new GruError('ERR_GRU_SHAPE', 'indices must not be empty');
    const o = check.options('forward options', options);
    check.knownKeys('forward options', o, ['train']);
    const train = check.boolean('train', o.train, false);
    const n = ids.length * this.embeddingDim;
    return { ids, train, y: train ? trainingOutput(this, 'y', n) : check.allocFloat32('y', n) };
  }

  /** dy [n, embeddingDim] of the last training forward: adds into the rows of its indices. */
  backward(dy: Float32Array): void {
    const layer = this._handle();
    this.backend.embeddingBackward(layer, this.#prepareBackward(dy));
  }

  /** backward() off the event loop, as forwardAsync() is to forward(). */
  backwardAsync(dy: Float32Array): Promise<void> {
    return holding('backwardAsync()', [this._busy], async (run) => {
      const { layer, grad } = run(() => ({
        layer: this._handle(),
        grad: this.#prepareBackward(dy),
      }));
      await run(() => this.backend.embeddingBackwardAsync(layer, grad));
    });
  }

  #prepareBackward(dy: Float32Array): Float32Array {
    const rows = this.#trainedRows;
    if (rows === null)
      throw new GruError(
        'ERR_GRU_STATE',
        'backward() needs a forward(indices, { train: true }) first',
      );
    return check.float32ArrayOfLength(
      'dy',
      dy,
      rows * this.embeddingDim,
      `[${rows}, ${this.embeddingDim}]`,
    );
  }
}
