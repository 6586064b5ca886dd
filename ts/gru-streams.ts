/**
 * GRUStreams: many independent streams over one GRU, any subset of them advanced by one call;
 * see GRU.streams().
 *
 * A server with many live sessions (voice, sensors, users) steps each session's stream as its
 * input arrives. One GRUStream per session costs a call per session per step, each reading the
 * whole recurrent matrix again; a group steps all sessions that have input now as one batch:
 * one GEMM instead of n GEMVs (gru_net_step_streams in the core). Each stream's numbers are
 * bitwise those of stepping it alone.
 */
import { Busy, holding } from './busy.js';
import { GruError } from './errors.js';
import type { GRU } from './gru.js';
import { BackendObject } from './layer.js';
import * as check from './validate.js';

/** The most streams one group holds: past 16 million a count is surely a mistake. */
const MAX_STREAMS = 1 << 24;

export interface GRUStreamsOptions {
  /** Streams to make room for at first (default 16); the group grows as more open. */
  capacity?: number;
}

/** A group of independent streams over one unidirectional GRU; see GRU.streams(). */
export class GRUStreams {
  readonly gru: GRU;
  /** States of every slot, [capacity, numLayers, hiddenSize]; a closed slot's is junk. */
  #states: Float32Array;
  /** 1 where a slot holds an open stream. */
  #open: Uint8Array;
  /** Closed slots, reused first (lowest last, so the lowest is taken first). */
  #free: number[] = [];
  #size = 0;
  readonly #busy = new Busy('this GRUStreams');
  /**
   * While a stepAsync() runs, the core (native: a copy it writes back at the end) owns the
   * states: open(), close() and reset() still answer at once (ids, sizes), and their writes to
   * the states wait here until the step is back, in order.
   */
  #inFlight = false;
  #afterStep: (() => void)[] = [];

  /** Prefer gru.streams(options). */
  constructor(gru: GRU, options: GRUStreamsOptions = {}) {
    if (BackendObject._whatIs(gru) !== 'GRU')
      throw new GruError('ERR_GRU_ARG', `gru must be a GRU, got ${check.describe(gru)}`);
    if (gru.disposed) throw new GruError('ERR_GRU_DISPOSED', 'gru has been disposed');
    const o = check.options('streams options', options);
    check.knownKeys('streams options', o, ['capacity']);
    const capacity =
      o.capacity === undefined ? 16 : check.positiveInt('capacity', o.capacity, MAX_STREAMS);
    if (gru.bidirectional) {
      throw new GruError(
        'ERR_GRU_STATE',
        'streams() needs a unidirectional GRU: a bidirectional one must see the whole sequence',
      );
    }
    this.gru = gru;
    this.#states = check.allocFloat32('the streams’ states', capacity * this.#perStream);
    this.#open = new Uint8Array(capacity);
    for (let s = capacity - 1; s >= 0; s--) this.#free.push(s);
  }

  get #perStream(): number {
    return this.gru.numLayers * this.gru.hiddenSize;
  }

  /** Streams open now. */
  get size(): number {
    return this.#size;
  }

  /** Slots the group holds now (it grows by doubling when a stream opens in a full group). */
  get capacity(): number {
    return this.#open.length;
  }

  /** Throws when the GRU is gone; with `busy`, also while a stepAsync() runs. */
  #live(busy = true): void {
    if (busy) this.#busy.check();
    if (this.gru.disposed)
      throw new GruError('ERR_GRU_DISPOSED', 'the GRU of these streams has been disposed');
  }

  /** Runs a write to the states now, or after the running stepAsync() (see #afterStep). */
  #write(fn: () => void): void {
    if (this.#inFlight) this.#afterStep.push(fn);
    else fn();
  }

  /**
   * Opens a stream with state h0 [numLayers, hiddenSize] (default zeros); returns its id, a
   * small integer. An id is reused by a later open() once its stream is closed. Allowed while a
   * stepAsync() runs (the new stream joins the next step).
   */
  open(h0?: Float32Array): number {
    this.#live(false);
    const state =
      h0 === undefined
        ? null
        : check
            .float32ArrayOfLength(
              'h0',
              h0,
              this.#perStream,
              `[${this.gru.numLayers}, ${this.gru.hiddenSize}]`,
            )
            .slice(); // h0 may change before a deferred write
    if (this.#free.length === 0) this.#grow();
    const id = this.#free.pop()!;
    this.#open[id] = 1;
    this.#size++;
    this.#write(() => {
      const at = id * this.#perStream;
      if (state === null) this.#states.fill(0, at, at + this.#perStream);
      else this.#states.set(state, at);
    });
    return id;
  }

  /** Closes stream `id`; its id may be handed out again by open(). Allowed during stepAsync(). */
  close(id: number): void {
    this.#live(false);
    this.#openId('id', id);
    this.#open[id] = 0;
    this.#free.push(id);
    this.#size--;
  }

  /**
   * Sets stream `id`'s state to zeros, or to h0 [numLayers, hiddenSize]. Allowed during
   * stepAsync(): it then applies after the running step.
   */
  reset(id: number, h0?: Float32Array): void {
    this.#live(false);
    this.#openId('id', id);
    const shape = `[${this.gru.numLayers}, ${this.gru.hiddenSize}]`;
    const state =
      h0 === undefined
        ? null
        : check.float32ArrayOfLength('h0', h0, this.#perStream, shape).slice();
    this.#write(() => {
      const at = id * this.#perStream;
      if (state === null) this.#states.fill(0, at, at + this.#perStream);
      else this.#states.set(state, at);
    });
  }

  /** Stream `id`'s state [numLayers, hiddenSize] (a copy). */
  state(id: number): Float32Array {
    this.#live();
    this.#openId('id', id);
    const at = id * this.#perStream;
    return this.#states.slice(at, at + this.#perStream);
  }

  /**
   * Advances the streams `ids` (distinct open ids) by one timestep: stream ids[i] takes row i of
   * x [n, inputSize]. Returns the outputs [n, hiddenSize] (the last layer's new states), in
   * `output` when given. The other streams are untouched.
   */
  step(ids: Int32Array | readonly number[], x: Float32Array, output?: Float32Array): Float32Array {
    this.#live();
    const c = this.#prepare(ids, x, output);
    this.gru.backend.netStepStreams(
      this.gru._handle(),
      c.slots,
      c.x,
      this.#states,
      c.y,
      this.#states,
    );
    return c.y;
  }

  /** step() off the event loop (native: on a worker thread); the group is busy meanwhile. */
  stepAsync(
    ids: Int32Array | readonly number[],
    x: Float32Array,
    output?: Float32Array,
  ): Promise<Float32Array> {
    return holding('stepAsync()', [this.#busy, this.gru._busy], async (run) => {
      const { net, c } = run(() => {
        this.#live();
        return { net: this.gru._handle(), c: this.#prepare(ids, x, output) };
      });
      const states = this.#states;
      this.#inFlight = true;
      try {
        await run(() =>
          this.gru.backend.netStepStreamsAsync(net, c.slots, c.x, states, c.y, states),
        );
      } finally {
        this.#inFlight = false;
        const pending = this.#afterStep;
        this.#afterStep = [];
        for (const write of pending) write();
      }
      return c.y;
    });
  }

  #prepare(
    ids: Int32Array | readonly number[],
    x: Float32Array,
    output: Float32Array | undefined,
  ): { slots: Int32Array; x: Float32Array; y: Float32Array } {
    const slots = check.int32Indices('ids', ids, 0, this.capacity);
    if (slots.length === 0)
      throw new GruError('ERR_GRU_SHAPE', 'ids must list at least one stream');
    // One pass over the ids (not over their data): open, and none twice.
    const seen = new Uint8Array(this.capacity);
    for (let i = 0; i < slots.length; i++) {
      const id = slots[i]!;
      if (this.#open[id] !== 1)
        throw new GruError('ERR_GRU_RANGE', `ids[${i}]: stream ${id} is not open`);
      if (seen[id] === 1)
        throw new GruError('ERR_GRU_ARG', `ids[${i}]: stream ${id} is listed twice`);
      seen[id] = 1;
    }
    const n = slots.length;
    const I = this.gru.inputSize;
    const H = this.gru.hiddenSize;
    const input = check.float32ArrayOfLength('x', x, n * I, `[${n}, ${I}]`);
    let y: Float32Array;
    if (output === undefined) {
      y = check.allocFloat32('output', n * H);
    } else {
      y = check.float32ArrayOfLength('output', output, n * H, `[${n}, ${H}]`);
      check.disjoint('output', y, 'x', input);
    }
    check.disjoint('x', input, 'the states', this.#states);
    check.disjoint('output', y, 'the states', this.#states);
    return { slots, x: input, y };
  }

  /** Throws unless `id` names an open stream. */
  #openId(name: string, id: unknown): void {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= this.capacity)
      throw new GruError(
        'ERR_GRU_RANGE',
        `${name} must be the id of an open stream (an integer in [0, ${this.capacity})), got ${check.describe(id)}`,
      );
    if (this.#open[id] !== 1)
      throw new GruError('ERR_GRU_RANGE', `${name}: stream ${id} is not open`);
  }

  /** Doubles the slots, keeping every stream's id and state (the states after a running step). */
  #grow(): void {
    const old = this.capacity;
    const capacity = Math.min(MAX_STREAMS, old * 2);
    if (capacity === old)
      throw new GruError('ERR_GRU_ALLOC', `a GRUStreams holds at most ${MAX_STREAMS} streams`);
    const states = check.allocFloat32('the streams’ states', capacity * this.#perStream);
    const open = new Uint8Array(capacity);
    open.set(this.#open);
    this.#open = open;
    for (let s = capacity - 1; s >= old; s--) this.#free.push(s);
    this.#write(() => {
      states.set(this.#states);
      this.#states = states;
    });
  }
}
