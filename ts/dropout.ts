/**
 * Dropout: in training, zeroes each element with probability p and scales the rest by
 * 1 / (1 - p); otherwise the identity. The mask is a function of (seed, index) in the core, so
 * backward regenerates it from the seed of the last training call instead of storing it.
 */
import type { Backend } from './backends/backend.js';
import { Busy } from './busy.js';
import { GruError } from './errors.js';
import { currentBackend } from './loader.js';
import * as check from './validate.js';

export interface DropoutOptions {
  /** Probability of zeroing an element, in [0, 1). */
  p: number;
  /** Seed of the sequence of per-call mask seeds; random if omitted. */
  seed?: number;
  /** Backend that computes the masks; default: the one chosen by init(). */
  backend?: Backend;
}

const DROPOUT_KEYS = ['p', 'seed', 'backend'] as const;

/**
 * @internal A seed for stream `index` of `seed` (murmur3's finalizer over a golden-ratio
 * offset): distinct streams give unrelated seeds, so sub-layers and calls get their own masks.
 */
export function deriveSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class Dropout {
  readonly p: number;
  readonly backend: Backend;
  readonly #seed: number;
  #calls = 0;
  /** Seed and length of the last training forward, for backward(). */
  #last: { seed: number; length: number } | null = null;
  /** @internal Set while a SequenceModel's async step holds this layer (its mask sequence). */
  readonly _busy = new Busy('this Dropout layer');

  constructor(options: DropoutOptions) {
    const o = check.options('Dropout options', options);
    check.knownKeys('Dropout options', o, DROPOUT_KEYS);
    this.p = check.dropProbability('p', o.p);
    this.#seed = check.seedOption(o.seed);
    this.backend = check.backendOption(o.backend, currentBackend);
  }

  /** @internal Training calls so far: the position in the mask sequence (model files keep it). */
  get _calls(): number {
    return this.#calls;
  }

  set _calls(count: number) {
    this.#calls = count;
  }

  /** x of any shape, flat. train: a fresh mask per call; otherwise a copy of x. */
  forward(x: Float32Array, options: { train?: boolean } = {}): Float32Array {
    this._busy.check();
    const input = check.float32Array('x', x);
    const o = check.options('forward options', options);
    check.knownKeys('forward options', o, ['train']);
    if (!check.boolean('train', o.train, false)) return input.slice();
    const seed = deriveSeed(this.#seed, this.#calls++);
    const y = new Float32Array(input.length);
    this.backend.dropoutForward(input, this.p, seed, y);
    this.#last = { seed, length: input.length };
    return y;
  }

  /** dy (shape of the last training forward's x) -> dx, through that call's mask. */
  backward(dy: Float32Array): Float32Array {
    this._busy.check();
    const last = this.#last;
    if (last === null)
      throw new GruError('ERR_GRU_STATE', 'backward() needs a forward(x, { train: true }) first');
    const grad = check.float32ArrayOfLength(
      'dy',
      dy,
      last.length,
      "the length of the last training forward's x",
    );
    const dx = new Float32Array(grad.length);
    this.backend.dropoutBackward(grad, this.p, last.seed, dx);
    return dx;
  }
}
