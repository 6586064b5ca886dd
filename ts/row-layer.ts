/**
 * What Dense and LayerNorm share: a layer applied to each row of x [rows, inWidth], giving y
 * [rows, outWidth], whose training forward keeps what exactly one backward() consumes. The
 * subclass names its widths and its four core calls; this class validates the arrays, hands
 * out the outputs (a training step's are reused, step-arrays.ts) and tracks the pending
 * training forward, synchronously and off the event loop alike.
 */
import type { Handle } from './backends/backend.js';
import { holding } from './busy.js';
import { GruError } from './errors.js';
import { Layer } from './layer.js';
import { trainingOutput } from './step-arrays.js';
import * as check from './validate.js';

/** A row layer's widths, and the option that names the input's in messages. */
export interface RowWidths {
  in: number;
  out: number;
  inName: string;
}

export abstract class RowLayer<H extends Handle> extends Layer<H> {
  /** Rows of the last training forward that backward() has not consumed yet. */
  #trainedRows: number | null = null;

  /** @internal */
  protected abstract _rowWidths(): RowWidths;
  /** @internal The core's forward over `rows` rows (train: 1 keeps what backward needs). */
  protected abstract _forwardRows(
    layer: H,
    rows: number,
    x: Float32Array,
    y: Float32Array,
    train: number,
  ): void;
  /** @internal _forwardRows off the event loop. */
  protected abstract _forwardRowsAsync(
    layer: H,
    rows: number,
    x: Float32Array,
    y: Float32Array,
    train: number,
  ): Promise<void>;
  /** @internal The core's backward of the pending training forward: adds into the gradients. */
  protected abstract _backwardRows(layer: H, dy: Float32Array, dx: Float32Array): void;
  /** @internal _backwardRows off the event loop. */
  protected abstract _backwardRowsAsync(
    layer: H,
    dy: Float32Array,
    dx: Float32Array,
  ): Promise<void>;

  protected override _disposed(): void {
    this.#trainedRows = null;
  }

  /**
   * x [rows, inWidth] -> y [rows, outWidth]. train: keep what backward() needs (one backward
   * per training forward).
   */
  forward(x: Float32Array, options: { train?: boolean } = {}): Float32Array {
    const layer = this._handle();
    const f = this.#prepareForward(x, options);
    if (f.train) this.#trainedRows = null;
    this._forwardRows(layer, f.rows, f.x, f.y, +f.train);
    if (f.train) this.#trainedRows = f.rows;
    return f.y;
  }

  /**
   * forward() off the event loop (native: a worker thread; wasm: synchronously inside the
   * promise). x is read as it is at the call (native copies it); the layer is busy
   * (ERR_GRU_BUSY) until the promise settles.
   */
  forwardAsync(x: Float32Array, options: { train?: boolean } = {}): Promise<Float32Array> {
    return holding('forwardAsync()', [this._busy], async (run) => {
      const { layer, f } = run(() => ({
        layer: this._handle(),
        f: this.#prepareForward(x, options),
      }));
      if (f.train) this.#trainedRows = null;
      await run(() => this._forwardRowsAsync(layer, f.rows, f.x, f.y, +f.train));
      if (f.train) this.#trainedRows = f.rows;
      return f.y;
    });
  }

  /**
   * dy [rows, outWidth], the gradient of the last training forward's output: adds into the
   * gradients, returns dx [rows, inWidth].
   */
  backward(dy: Float32Array): Float32Array {
    const layer = this._handle();
    const b = this.#prepareBackward(dy);
    this._backwardRows(layer, b.dy, b.dx);
    this.#trainedRows = null;
    return b.dx;
  }

  /** backward() off the event loop, as forwardAsync() is to forward(). */
  backwardAsync(dy: Float32Array): Promise<Float32Array> {
    return holding('backwardAsync()', [this._busy], async (run) => {
      const { layer, b } = run(() => ({ layer: this._handle(), b: this.#prepareBackward(dy) }));
      await run(() => this._backwardRowsAsync(layer, b.dy, b.dx));
      this.#trainedRows = null;
      return b.dx;
    });
  }

  #prepareForward(x: Float32Array, options: { train?: boolean }) {
    const input = check.float32Array('x', x);
    const o = check.options('forward options', options);
    check.knownKeys('forward options', o, ['train']);
    const train = check.boolean('train', o.train, false);
    const w = this._rowWidths();
    if (input.length === 0 || input.length % w.in !== 0) {
      throw new GruError(
        'ERR_GRU_SHAPE',
        `x must hold rows x ${w.inName} (${w.in}) floats, a positive multiple of ${w.in}, got ${input.length}`,
      );
    }
    const rows = input.length / w.in;
    const n = rows * w.out;
    const y = train ? trainingOutput(this, 'y', n) : check.allocFloat32('y', n);
    return { rows, x: input, y, train };
  }

  #prepareBackward(dy: Float32Array): { dy: Float32Array; dx: Float32Array } {
    const rows = this.#trainedRows;
    if (rows === null) {
      throw new GruError(
        'ERR_GRU_STATE',
        'backward() needs a forward(x, { train: true }) first (once per training forward)',
      );
    }
    const w = this._rowWidths();
    const grad = check.float32ArrayOfLength('dy', dy, rows * w.out, `[${rows}, ${w.out}]`);
    return { dy: grad, dx: trainingOutput(this, 'dx', rows * w.in) };
  }
}
