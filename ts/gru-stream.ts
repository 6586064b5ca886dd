/**
 * GRUStream: a GRU stepped through a sequence a timestep (or a chunk) at a time, carrying the
 * state between calls; see GRU.stream().
 */
import { GruError } from './errors.js';
import type { GRU } from './gru.js';
import { BackendObject } from './layer.js';
import * as check from './validate.js';

/** A stateful step-by-step view of a GRU; see GRU.stream(). */
export class GRUStream {
  readonly gru: GRU;
  readonly batch: number;
  #state: Float32Array;

  /** Prefer gru.stream(options); batch: sequences stepped side by side; h0 as in reset(). */
  constructor(gru: GRU, batch: number, h0?: Float32Array) {
    if (BackendObject._whatIs(gru) !== 'GRU')
      throw new GruError('ERR_GRU_ARG', `gru must be a GRU, got ${check.describe(gru)}`);
    if (gru.disposed) throw new GruError('ERR_GRU_DISPOSED', 'gru has been disposed');
    // As gru.stream(): the state would be read with the wrong shape at the first step.
    if (gru.bidirectional) {
      throw new GruError(
        'ERR_GRU_STATE',
        'a GRUStream needs a unidirectional GRU: a bidirectional one must see the whole sequence',
      );
    }
    this.gru = gru;
    this.batch = check.positiveInt('batch', batch, 1 << 30);
    this.#state = check.allocFloat32(
      `the stream's state (numLayers ${gru.numLayers} x batch ${batch} x hiddenSize ${gru.hiddenSize})`,
      gru.numLayers * batch * gru.hiddenSize,
    );
    if (h0 !== undefined) this.reset(h0); // a new array is zeros already: not touched here
  }

  #live(): void {
    if (this.gru.disposed)
      throw new GruError('ERR_GRU_DISPOSED', 'the GRU of this stream has been disposed');
  }

  /** The state [numLayers, batch, hiddenSize] after the last step (a copy). */
  state(): Float32Array {
    this.#live();
    return this.#state.slice();
  }

  /** Back to zeros, or to h0 [numLayers, batch, hiddenSize]. */
  reset(h0?: Float32Array): void {
    this.#live();
    if (h0 === undefined) {
      this.#state.fill(0);
    } else {
      const shape = `[${this.gru.numLayers}, ${this.batch}, ${this.gru.hiddenSize}]`;
      this.#state.set(check.float32ArrayOfLength('h0', h0, this.#state.length, shape));
    }
  }

  /**
   * Feeds the next timestep(s): x is [steps, batch, inputSize] (or [batch, steps, inputSize]
   * for a batchFirst GRU); steps is inferred. Returns the outputs of those steps and the new state.
   */
  step(x: Float32Array): {
    output: Float32Array;
    outputShape: [number, number, number];
    h: Float32Array;
  } {
    const steps = this.#steps(x);
    const H = this.gru.hiddenSize;
    const output = check.allocFloat32('output', steps * this.batch * H);
    this.gru._forwardInto(x, steps, this.batch, this.#state, output);
    const outputShape: [number, number, number] = this.gru.batchFirst
      ? [this.batch, steps, H]
      : [steps, this.batch, H];
    return { output, outputShape, h: this.#state.slice() };
  }

  /**
   * Like step(), for hot loops: writes the outputs of the step(s) into `output` ([steps, batch,
   * hiddenSize], or [batch, steps, hiddenSize] for a batchFirst GRU) and allocates nothing
   * (each new typed array of a kilobyte costs about a microsecond in Node, more than the rest
   * of the call). The state is read with state() when wanted. Returns `output`.
   */
  stepInto(x: Float32Array, output: Float32Array): Float32Array {
    const steps = this.#steps(x);
    const H = this.gru.hiddenSize;
    const layout = this.gru.batchFirst
      ? `[${this.batch}, ${steps}, ${H}]`
      : `[${steps}, ${this.batch}, ${H}]`;
    check.float32ArrayOfLength('output', output, steps * this.batch * H, layout);
    this.gru._forwardInto(x, steps, this.batch, this.#state, output);
    return output;
  }

  /** Validates the input of a step and returns its number of timesteps. */
  #steps(x: Float32Array): number {
    this.#live();
    const input = check.float32Array('x', x);
    const perStep = this.batch * this.gru.inputSize;
    if (input.length === 0 || input.length % perStep !== 0) {
      throw new GruError(
        'ERR_GRU_SHAPE',
        `x must hold steps x batch (${this.batch}) x inputSize (${this.gru.inputSize}) floats, a positive multiple of ${perStep}, got ${input.length}`,
      );
    }
    return input.length / perStep;
  }
}
