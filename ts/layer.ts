/**
 * What every object of the core held from TypeScript shares (BackendObject): the handle's life
 * (dispose, and a FinalizationRegistry as the safety net for objects never disposed), and the
 * busy guard of async calls. Layer adds parameters: their names, shapes and sizes come from the
 * core (gru_param_* by index, in PyTorch's state_dict order), so a layer class holds only what
 * is its own (its options, forward and backward).
 */
import type { Backend, Handle } from './backends/backend.js';
import { Busy } from './busy.js';
import { GruError } from './errors.js';
import { loadStateDictInto, stateDictOf } from './state-dict.js';
import * as check from './validate.js';

/**
 * Destroys what was never disposed once its owner is collected. Never throws. A handle still
 * in use by an async call its owner's collection did not wait for (one made on the backend
 * directly) is refused ERR_GRU_BUSY: try again a little later.
 */
function destroyWhenIdle(backend: Backend, handle: Handle, tries = 0): void {
  try {
    backend.destroy(handle);
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_GRU_BUSY' && tries < 1000) {
      const timer = setTimeout(() => destroyWhenIdle(backend, handle, tries + 1), 20);
      (timer as { unref?: () => void }).unref?.();
    }
  }
}

const finalizer = new FinalizationRegistry<{ backend: Backend; handle: Handle }>(
  ({ backend, handle }) => destroyWhenIdle(backend, handle),
);

/**
 * Owners adopted lately and not registered yet. V8's young-generation collector treats the
 * target of a FinalizationRegistry entry as alive, even after unregister(), so every registered
 * object is promoted to the old generation and waits there for a full collection: a loop
 * creating, using and disposing GRUs grew RSS by ~21 MB over 100,000 cycles before it levelled
 * off (scripts/soak.ts measures it). So an owner is registered only once it has lived
 * REGISTER_AFTER_MS, or when more than MAX_PENDING wait: one disposed before then (the common
 * create-use-dispose, in one task or across the awaits of a request) never touches the registry
 * and dies young. Meanwhile this list holds it: an owner dropped without dispose() becomes
 * collectable up to REGISTER_AFTER_MS later, and at most MAX_PENDING of them wait. A plain
 * array, not a Map: a Map whose entries come and go kept the heap growing the same way.
 */
interface Pending {
  owner: object;
  held: { backend: Backend; handle: Handle };
  since: number;
}
const pending: Pending[] = []; // oldest first
const MAX_PENDING = 64; // also bounds release()'s search
/** @internal How long an adopted owner waits to be registered (scripts/soak.ts waits it out). */
export const REGISTER_AFTER_MS = 100;
let timerSet = false;

/** Registers the owners that have waited long enough (all of them with `all`). */
function registerDue(all: boolean): void {
  const now = Date.now();
  let kept = 0;
  for (const p of pending) {
    if (all || now - p.since >= REGISTER_AFTER_MS) finalizer.register(p.owner, p.held, p.owner);
    else pending[kept++] = p;
  }
  pending.length = kept;
}

function setTimer(ms: number): void {
  timerSet = true;
  const timer = setTimeout(
    () => {
      timerSet = false;
      registerDue(false);
      if (pending.length > 0) setTimer(REGISTER_AFTER_MS - (Date.now() - pending[0]!.since));
    },
    Math.max(ms, 1),
  );
  (timer as { unref?: () => void }).unref?.(); // never what keeps a process alive
}

/** Watches `owner`: when it is collected undisposed, `handle` is destroyed. */
export function adopt(owner: object, backend: Backend, handle: Handle): void {
  if (pending.length >= MAX_PENDING) registerDue(true);
  pending.push({ owner, held: { backend, handle }, since: Date.now() });
  if (!timerSet) setTimer(REGISTER_AFTER_MS);
}

/** Stops watching `owner` (it destroyed its handle itself, or took another). */
export function release(owner: object): void {
  for (let i = pending.length - 1; i >= 0; i--) {
    if (pending[i]!.owner === owner) {
      pending.splice(i, 1);
      return;
    }
  }
  finalizer.unregister(owner);
}

export abstract class BackendObject<H extends Handle = Handle> {
  readonly backend: Backend;
  /** @internal Set while an async call (its own, an optimizer's, a model's) holds the object. */
  readonly _busy: Busy;
  readonly #what: string;
  #handle: H | null;

  /** Takes ownership of a handle just created; `what` names the object in messages ("GRU"). */
  protected constructor(backend: Backend, what: string, handle: H) {
    this.backend = backend;
    this.#what = what;
    this._busy = new Busy(`this ${what}`);
    this.#handle = handle;
    adopt(this, backend, handle);
  }

  get disposed(): boolean {
    return this.#handle === null;
  }

  /**
   * @internal What value is ("GRU", "Dense", ...) when it is one of these objects, else
   * undefined: a Proxy of one (whose methods would throw a TypeError on its private fields) and
   * a revoked Proxy included. Never throws, runs no user code.
   */
  static _whatIs(value: unknown): string | undefined {
    return typeof value === 'object' && value !== null && #what in value
      ? (value as BackendObject).#what
      : undefined;
  }

  /**
   * Frees what the core holds for this object. Every later call throws ERR_GRU_DISPOSED.
   * Idempotent. ERR_GRU_BUSY while an async call holds it.
   */
  dispose(): void {
    if (this.#handle === null) return;
    this._busy.check();
    const handle = this.#handle;
    this.#handle = null;
    release(this);
    this._disposed();
    this.backend.destroy(handle);
  }

  /** Called by dispose() before the handle goes: drop what refers to the core's state. */
  protected _disposed(): void {}

  /** @internal The live handle: ERR_GRU_DISPOSED once freed, ERR_GRU_BUSY while an async call holds it. */
  _handle(): H {
    const handle = this._live();
    this._busy.check();
    return handle;
  }

  /** The live handle, or ERR_GRU_DISPOSED (for what reads no state of the core). */
  protected _live(): H {
    if (this.#handle === null)
      throw new GruError('ERR_GRU_DISPOSED', `this ${this.#what} has been disposed`);
    return this.#handle;
  }
}

interface ParamInfo {
  name: string;
  shape: number[];
  size: number;
}

export abstract class Layer<H extends Handle = Handle> extends BackendObject<H> {
  readonly #params: readonly ParamInfo[];
  readonly #what: string;

  /** @internal Whether value is a layer (not a Proxy of one); never throws, runs no user code. */
  static _isLayer(value: unknown): value is Layer {
    return typeof value === 'object' && value !== null && #params in value;
  }

  /**
   * Takes ownership of a handle just created and initialises its parameters from `seed` (the
   * core's default initialisation for the layer); disposes it if that fails.
   */
  protected constructor(backend: Backend, what: string, handle: H, seed: number) {
    check.notAbstract(
      new.target,
      Layer,
      'Layer',
      'a GRU, Dense, Embedding, LayerNorm or a subclass',
    );
    super(backend, what, handle);
    this.#what = what;
    try {
      const params: ParamInfo[] = [];
      const count = backend.paramCount(handle);
      const dims = new Int32Array(4);
      for (let i = 0; i < count; i++) {
        backend.paramShape(handle, i, dims);
        const shape = Array.from(dims).filter((d) => d > 0);
        params.push({
          name: backend.paramName(handle, i),
          shape,
          size: backend.paramSize(handle, i),
        });
      }
      this.#params = params;
      backend.initParams(handle, seed);
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /** Names in PyTorch's state_dict order. */
  parameterNames(): string[] {
    this._live();
    return this.#params.map((p) => p.name);
  }

  /** PyTorch's shape of a parameter. */
  parameterShape(name: string): number[] {
    return [...this.#param(name).info.shape];
  }

  getParameter(name: string): Float32Array {
    const { index, info } = this.#param(name);
    const out = new Float32Array(info.size);
    this.backend.paramGet(this._handle(), index, out);
    return out;
  }

  setParameter(name: string, data: Float32Array): void {
    const { index, info } = this.#param(name);
    check.float32ArrayOfLength(name, data, info.size, `shape [${info.shape.join(', ')}]`);
    this.backend.paramSet(this._handle(), index, data);
  }

  /**
   * @internal Fills a parameter with a Keras initializer, in the core (gru_param_init: kind a
   * GRU_INIT_*, Keras's fans of the weight, the kind's numbers a and b, a seed).
   */
  _initParameter(
    name: string,
    init: { kind: number; a: number; b: number },
    fanIn: number,
    fanOut: number,
    seed: number,
  ): void {
    const { index } = this.#param(name);
    this.backend.paramInit(this._handle(), index, init.kind, fanIn, fanOut, init.a, init.b, seed);
  }

  /** The gradient of a parameter accumulated by backward() since zeroGrad(), in its shape. */
  getGradient(name: string): Float32Array {
    const { index, info } = this.#param(name);
    const out = new Float32Array(info.size);
    this.backend.paramGrad(this._handle(), index, out);
    return out;
  }

  /** Sets every parameter gradient to zero. */
  zeroGrad(): void {
    this.backend.zeroGrad(this._handle());
  }

  /** Copies of every parameter, keyed by PyTorch's names. */
  stateDict(): Record<string, Float32Array> {
    return stateDictOf(this);
  }

  /**
   * Sets parameters from a state dict. strict (default): the dict must hold exactly this
   * layer's parameters. Every tensor is checked before any is written.
   */
  loadStateDict(dict: Record<string, Float32Array>, options: { strict?: boolean } = {}): void {
    this._handle();
    loadStateDictInto(this, dict, options, this.#what);
  }

  #param(name: string): { index: number; info: ParamInfo } {
    this._live();
    if (typeof name !== 'string') {
      throw new GruError(
        'ERR_GRU_TYPE',
        `parameter name must be a string, got ${check.describe(name)}`,
      );
    }
    const index = this.#params.findIndex((p) => p.name === name);
    if (index < 0) {
      throw new GruError(
        'ERR_GRU_RANGE',
        `unknown parameter name ${check.describe(name)}; this ${this.#what} has: ${this.parameterNames().join(', ')}`,
      );
    }
    return { index, info: this.#params[index]! };
  }
}
