/**
 * What every layer of the model API shares (ModelLayer): its name, its optional input shape,
 * building from the previous layer's output shape (when its core objects are made), and the
 * parameter count. A subclass holds its options and its core layer(s) from ts/ (GRU, Dense,
 * Embedding, LayerNorm, Dropout), whose forward and backward compute everything; it only
 * reshapes (batch first, as Keras) and moves rows.
 */
import type { Backend } from '../backends/backend.js';
import { GruError } from '../errors.js';
import type { Layer } from '../layer.js';
import * as check from '../validate.js';
import type { Mask } from './mask.js';
import { formatShape, sizeOf, type Shape, type Tensor } from './tensor.js';

/** What a layer is built with: the model's backend and a seed of its own. */
export interface BuildContext {
  backend: Backend;
  seed: number;
}

/** Options every layer takes (tfjs's names). */
export interface LayerArgs {
  /** Unique in its model; default: the prefix, numbered from the second on (dense, dense_1, ...). */
  name?: string;
  /** Shape of one sample, without the batch (first layer only): [steps, features]; null: any. */
  inputShape?: Shape;
}

const LAYER_KEYS = ['name', 'inputShape'] as const;

/**
 * Keras options with no counterpart yet: each is refused unless it has its default value
 * (listed first in `allowed`), with the reason.
 */
export type PendingOptions = Record<string, { allowed: readonly unknown[]; why: string }>;

export abstract class ModelLayer {
  /** Keras's class name, shown by summary(): 'GRU', 'Dense', ... */
  abstract readonly className: string;
  /** The prefix of automatic names: 'gru' gives gru, gru_1, gru_2, ... */
  protected abstract readonly prefix: string;
  readonly inputShape: Shape | undefined;
  readonly #givenName: string | undefined;
  #name: string | undefined;
  #shapes: { input: Shape; output: Shape } | null = null;
  /** The options it was made with (but its name), as plain data: what a model file records. */
  readonly #config: Record<string, unknown> | Error;
  /** @internal The model this layer was added to (a layer belongs to one model). */
  _owner: object | null = null;

  /**
   * Validates the options common to every layer and the layer's own keys; `what` names the
   * layer in messages ("layers.gru options").
   */
  protected constructor(
    what: string,
    o: Record<string, unknown>,
    keys: readonly string[],
    pending: PendingOptions = {},
  ) {
    check.notAbstract(
      new.target,
      ModelLayer,
      'ModelLayer',
      'a layer from layers (layers.gru(...), ...)',
    );
    for (const [k, { allowed, why }] of Object.entries(pending)) {
      if (o[k] !== undefined && !allowed.includes(o[k])) {
        throw new GruError(
          'ERR_GRU_ARG',
          `${what}: ${k} ${check.describe(o[k])} is not available yet (${why}); leave it out${allowed.length > 0 ? ` or pass ${check.describe(allowed[0])}` : ''}`,
        );
      }
    }
    check.knownKeys(what, o, [...LAYER_KEYS, ...keys, ...Object.keys(pending)]);
    if (o.name !== undefined && (typeof o.name !== 'string' || !/^[^/]+$/.test(o.name))) {
      throw new GruError(
        'ERR_GRU_ARG',
        `${what}: name must be a non-empty string without '/', got ${check.describe(o.name)}`,
      );
    }
    this.#givenName = o.name as string | undefined;
    this.inputShape = o.inputShape === undefined ? undefined : shapeOption(what, o.inputShape);
    // Copied now (the caller may change its object later); an option that is not plain data
    // fails the subclass's own check first, or, if some layer takes one, saving it.
    const { name: _name, ...config } = o;
    try {
      this.#config = plainConfig(what, config) as Record<string, unknown>;
    } catch (e) {
      this.#config = e instanceof Error ? e : new GruError('ERR_GRU_ARG', `${what}: ${String(e)}`);
    }
  }

  /**
   * @internal Its factory's options (the name it has now included): calling the factory of its
   * className with them makes the same layer. Model files record it (ts/models/model-file.ts).
   */
  _config(): Record<string, unknown> {
    if (this.#config instanceof Error) throw this.#config;
    return { ...(plainConfig('config', this.#config) as object), name: this.name };
  }

  /** The name given, else the one its model assigned (the prefix until it is added to one). */
  get name(): string {
    return this.#givenName ?? this.#name ?? this.prefix;
  }

  /** @internal The name given, or undefined for the model to choose one. */
  _nameFrom(taken: ReadonlySet<string>): string {
    if (this.#givenName !== undefined) return this.#givenName;
    let name = this.prefix;
    for (let i = 1; taken.has(name); i++) name = `${this.prefix}_${i}`;
    this.#name = name;
    return name;
  }

  get built(): boolean {
    return this.#shapes !== null;
  }

  /** Shape of one output sample, without the batch. ERR_GRU_STATE until built. */
  get outputShape(): Shape {
    if (this.#shapes === null)
      throw new GruError('ERR_GRU_STATE', `${this.name} has not been built yet`);
    return [...this.#shapes.output];
  }

  /** @internal Makes the core objects for this per-sample input shape; returns the output's. */
  _build(input: Shape, ctx: BuildContext): Shape {
    const output = this.build(input, ctx);
    this.#shapes = { input: [...input], output };
    return output;
  }

  protected abstract build(input: Shape, ctx: BuildContext): Shape;

  /** x [batch, ...input] -> [batch, ...output]. train: keep what backward() needs. */
  abstract forward(x: Tensor, train: boolean): Tensor;

  /**
   * d loss / d output of the last training forward -> d loss / d input, adding into the
   * parameter gradients; null when inputGrad is false (the first layer) or the input is ids.
   */
  abstract backward(dy: Float32Array, inputGrad: boolean): Float32Array | null;

  /**
   * @internal forward() for fitAsync() and friends: a layer whose core layer has async calls
   * (GRU, Dense) runs them on the addon's worker threads (native); the others run forward()
   * here, on the calling thread.
   */
  async _forwardAsync(x: Tensor, train: boolean): Promise<Tensor> {
    return this.forward(x, train);
  }

  /** @internal backward() for fitAsync(), as _forwardAsync() is to forward(). */
  async _backwardAsync(dy: Float32Array, inputGrad: boolean): Promise<Float32Array | null> {
    return this.backward(dy, inputGrad);
  }

  /**
   * Whether a mask may reach it (Keras's supports_masking): a layer that computes each step on
   * its own (Dense, Dropout, LayerNormalization, Activation) passes the mask on; one that would
   * need it and does not take it yet refuses it (false).
   */
  protected get supportsMasking(): boolean {
    return true;
  }

  /**
   * @internal forward() with the mask of x ([batch, steps] or null), returning the output and
   * its mask (Keras's compute_mask). Default: the mask goes on unchanged while the output keeps
   * the steps ([batch, steps, features]). Layers that make or use masks override it.
   */
  _forwardMasked(x: Tensor, train: boolean, mask: Mask): { y: Tensor; mask: Mask } {
    if (mask !== null && !this.supportsMasking) {
      throw new GruError(
        'ERR_GRU_ARG',
        `${this.name} (${this.className}) does not take a mask yet: remove the masking (layers.masking, maskZero) before it`,
      );
    }
    const y = this.forward(x, train);
    return { y, mask: mask !== null && y.shape.length === 3 ? mask : null };
  }

  /**
   * @internal _forwardMasked() for fitAsync() and friends. A layer with its own mask rule (an
   * override of _forwardMasked) runs it on the calling thread unless it overrides this too (the
   * GRU does); the others run _forwardAsync() under the default rule.
   */
  async _forwardMaskedAsync(
    x: Tensor,
    train: boolean,
    mask: Mask,
  ): Promise<{ y: Tensor; mask: Mask }> {
    if (this._forwardMasked !== ModelLayer.prototype._forwardMasked)
      return this._forwardMasked(x, train, mask);
    if (mask !== null && !this.supportsMasking) return this._forwardMasked(x, train, mask); // refuses
    const y = await this._forwardAsync(x, train);
    return { y, mask: mask !== null && y.shape.length === 3 ? mask : null };
  }

  /** The core layers holding its parameters, for the optimizer. */
  trainables(): Layer[] {
    return [];
  }

  /** Parameters as Keras counts them. */
  countParams(): number {
    let n = 0;
    for (const t of this.trainables())
      for (const p of t.parameterNames()) n += sizeOf(t.parameterShape(p));
    return n;
  }

  /** Of countParams(), those no optimizer trains (Keras's non-trainable weights). */
  nonTrainableParams(): number {
    return 0;
  }

  /** @internal After every optimizer step: keeps what Keras does not have at its fixed value. */
  _afterStep(): void {}

  /** @internal Parameters of trainables() that Keras does not have: [core layer, name]. */
  _notInKeras(): [Layer, string][] {
    return [];
  }

  /**
   * @internal Where its random streams are (counts of dropout masks drawn), for a model file to
   * restore: a resumed fit() then draws the masks the uninterrupted one would. Empty: none.
   */
  _streams(): number[] {
    return [];
  }

  /** @internal Puts back what _streams() gave (same length, checked by the caller). */
  _setStreams(_counts: number[]): void {}

  /** @internal Sequential.resetStates(): a stateful layer's states go back to zeros. */
  _resetStates(): void {}

  /** Takes integer ids (Embedding): then it must be the first layer. */
  get takesIds(): boolean {
    return false;
  }

  /** Frees its core objects; it is unbuilt again. */
  dispose(): void {
    for (const t of this.trainables()) t.dispose();
    this._release();
    this.#shapes = null;
  }

  /** Drops the references to the core objects. */
  protected abstract _release(): void;

  /**
   * forward()'s x, checked (forward and backward are public: a direct call has none of
   * Sequential's checks): a tensor whose data is a `kind` array (by its slot: not a Proxy of
   * one) and whose shape is positive integers holding data.length, `rank` of them if given, the
   * last one `features` if given. ERR_GRU_TYPE / ERR_GRU_SHAPE naming this layer.
   */
  protected input(
    x: unknown,
    kind: 'Float32Array' | 'Int32Array',
    rank?: number,
    features?: number,
  ): Tensor {
    const t = (check.isRevokedProxy(x) ? null : x) as Partial<Tensor> | null;
    const data: unknown = typeof t === 'object' && t !== null ? t.data : undefined;
    if (check.typedArrayKind(data) !== kind) {
      throw new GruError(
        'ERR_GRU_TYPE',
        `${this.name}: x must be a tensor { data: ${kind}, shape }, got ${check.describe(x)} with data ${check.describe(data)}`,
      );
    }
    const shape: unknown = (t as Tensor).shape;
    const length = (data as ArrayLike<number>).length;
    const dims =
      !check.isRevokedProxy(shape) && Array.isArray(shape) ? (shape as unknown[]) : undefined;
    if (
      dims === undefined ||
      !dims.every((d) => typeof d === 'number' && Number.isInteger(d) && d > 0) ||
      sizeOf(dims as number[]) !== length ||
      (rank !== undefined && dims.length !== rank) ||
      (features !== undefined && dims[dims.length - 1] !== features)
    ) {
      const want = `${rank === undefined ? '' : `${rank} `}positive integers holding its ${length} values${features === undefined ? '' : `, the last ${features}`}`;
      throw new GruError(
        'ERR_GRU_SHAPE',
        `${this.name}: x.shape must be ${want}, got ${check.describe(shape)}`,
      );
    }
    return { data: data as Float32Array | Int32Array, shape: [...(dims as number[])] };
  }

  /** backward()'s dy: a Float32Array (ERR_GRU_TYPE naming it). */
  protected gradient(dy: unknown): Float32Array {
    return check.float32Array(`${this.name}: dy`, dy);
  }

  /** ERR_GRU_SHAPE naming this layer unless ok. */
  protected expect(ok: boolean, expected: string, got: Shape): void {
    if (!ok) {
      throw new GruError(
        'ERR_GRU_SHAPE',
        `${this.name} expects input of shape ${expected}, got ${formatShape([null, ...got])}`,
      );
    }
  }

  /** The features of a layer that works on the last axis of 2-D or 3-D input (Dense, norms). */
  protected lastAxisFeatures(input: Shape): number {
    const features = input[input.length - 1];
    this.expect(
      input.length <= 2 && typeof features === 'number',
      '(None, features) or (None, steps, features), with a known number of features',
      input,
    );
    return features as number;
  }
}

/**
 * A copy of an option value as plain data (numbers, strings, booleans, null, arrays, plain
 * objects; a layer inside, as Bidirectional's, as { className, config }); undefined entries are
 * left out. Anything else (a function, a class instance) is refused: it could not be written to
 * a model file, and no factory takes one.
 */
function plainConfig(what: string, value: unknown, depth = 0): unknown {
  if (depth > 16) throw new GruError('ERR_GRU_ARG', `${what}: options nest too deep`);
  if (value === null || ['number', 'string', 'boolean'].includes(typeof value)) return value;
  if (value instanceof ModelLayer) return { className: value.className, config: value._config() };
  if (Array.isArray(value)) return value.map((v) => plainConfig(what, v, depth + 1));
  if (check.typedArrayKind(value) !== undefined) return Array.from(value as ArrayLike<number>);
  if (typeof value === 'object' && !check.isRevokedProxy(value)) {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value))
        if (v !== undefined) out[k] = plainConfig(what, v, depth + 1);
      return out;
    }
  }
  throw new GruError(
    'ERR_GRU_ARG',
    `${what}: options must be plain data (numbers, strings, arrays, objects), got ${check.describe(value)}`,
  );
}

/** A per-sample shape option: positive integers, null for a free dimension. */
export function shapeOption(what: string, value: unknown): Shape {
  if (!check.isArray(value) || value.length === 0) {
    throw new GruError(
      'ERR_GRU_ARG',
      `${what}: inputShape must be a non-empty array of positive integers (null for any), without the batch, got ${check.describe(value)}`,
    );
  }
  return value.map((d, i) => (d === null ? null : check.positiveInt(`inputShape[${i}]`, d)));
}

/** @internal Refuses a layer that cannot follow `previous` with input `shape` in a Sequential model. */
export function checkPlace(
  layer: ModelLayer,
  previous: ModelLayer | undefined,
  shape: Shape,
): void {
  if (layer.takesIds && previous) {
    throw new GruError(
      'ERR_GRU_ARG',
      `${layer.name} takes integer ids, so it must be the first layer; it follows ${previous.name}`,
    );
  }
  const given = layer.inputShape;
  if (
    given &&
    (given.length !== shape.length || given.some((d, j) => d !== null && d !== shape[j]))
  ) {
    throw new GruError(
      'ERR_GRU_SHAPE',
      `${layer.name} expects input of shape ${formatShape([null, ...given])}, got ${formatShape([null, ...shape])}`,
    );
  }
}
