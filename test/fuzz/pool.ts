/**
 * The objects calls act on: a few of each kind (GRU, Dense, ..., raw handles of the Backend),
 * made by earlier calls of the same child process. Each kind keeps at most CAP; the oldest is
 * disposed when a new one comes (an optimizer may still hold it: that is a state worth
 * fuzzing too). Everything ever made is tracked, so that at the end of a batch all of it is
 * disposed and the backend's allocatedBytes() must come back to what it was before.
 */
import type { Backend } from '../../ts/backends/backend.js';
import type { Rng } from './rng.js';

export type Kind =
  | 'GRU'
  | 'Dense'
  | 'Embedding'
  | 'LayerNorm'
  | 'BatchNorm'
  | 'Dropout'
  | 'GRUStream'
  | 'GRUStreams'
  | 'Optimizer'
  | 'LRSchedule'
  | 'SequenceModel'
  | 'Sequential'
  | 'ModelLayer'
  | 'Metric'
  /** A raw handle of the Backend, by the header's kind: 'h:net', 'h:dense', ... */
  | `h:${string}`;

export interface Entry<T = unknown> {
  kind: Kind;
  obj: T;
  /** What the generators need to make valid arguments for it (shapes, last training call). */
  meta: Record<string, unknown>;
}

/** Layer kinds: what an optimizer takes. */
export const LAYER_KINDS: readonly Kind[] = ['GRU', 'Dense', 'Embedding', 'LayerNorm', 'BatchNorm'];

const CAP = 4;

/** Disposal order at the end: holders before what they hold. */
const END_ORDER: readonly Kind[] = [
  'Sequential',
  'SequenceModel',
  'ModelLayer',
  'LRSchedule',
  'Optimizer',
  'GRUStream',
  'GRUStreams',
  'Dropout',
  'GRU',
  'Dense',
  'Embedding',
  'LayerNorm',
  'BatchNorm',
];

function disposeQuietly(entry: Entry, backend: Backend): void {
  try {
    if (entry.kind.startsWith('h:')) {
      const h = entry.obj as { backend: Backend; handle: number };
      if (!entry.meta.destroyed) h.backend.destroy(h.handle as never);
      entry.meta.destroyed = true;
    } else {
      (entry.obj as { dispose?: () => void }).dispose?.();
    }
  } catch {
    // Busy (a hung call) or already destroyed through the Backend: nothing more to do here.
    void backend;
  }
}

/** Disposed (a layer, an optimizer, a model) or destroyed (a raw handle). */
export function gone(e: Entry): boolean {
  return e.meta.destroyed === true || (e.obj as { disposed?: unknown }).disposed === true;
}

export class Pool {
  readonly #live = new Map<Kind, Entry[]>();
  readonly #all: Entry[] = [];
  readonly #backend: Backend;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  /** Keeps obj (tracked until the end); the oldest of its kind beyond CAP is disposed. */
  add<T>(kind: Kind, obj: T, meta: Record<string, unknown> = {}): Entry<T> {
    const entry: Entry<T> = { kind, obj, meta };
    this.#all.push(entry);
    const list = this.#live.get(kind) ?? [];
    list.push(entry);
    if (list.length > CAP) disposeQuietly(list.shift() as Entry, this.#backend);
    this.#live.set(kind, list);
    return entry;
  }

  /** Tracks obj for the end only (made to be disposed at once, or not to be reused). */
  track<T>(kind: Kind, obj: T, meta: Record<string, unknown> = {}): Entry<T> {
    const entry: Entry<T> = { kind, obj, meta };
    this.#all.push(entry);
    return entry;
  }

  /** An entry of the kind (nine times in ten a live one, when there is one). */
  pick<T>(rng: Rng, kind: Kind, filter?: (e: Entry<T>) => boolean): Entry<T> | undefined {
    return this.pickOf(rng, [kind], filter);
  }

  /** The kinds that have entries. */
  kinds(): Kind[] {
    return [...this.#live].filter(([, l]) => l.length > 0).map(([k]) => k);
  }

  /** An entry of these kinds (nine times in ten a live one, when there is one). */
  pickOf<T>(
    rng: Rng,
    kinds: readonly Kind[],
    filter?: (e: Entry<T>) => boolean,
  ): Entry<T> | undefined {
    for (const k of kinds) this.#prune(k);
    let list = kinds.flatMap((k) => this.#live.get(k) ?? []) as Entry<T>[];
    if (filter) list = list.filter(filter);
    const live = list.filter((e) => !gone(e));
    if (live.length && rng.chance(0.9)) list = live;
    return list.length ? rng.pick(list) : undefined;
  }

  /** Keeps one disposed entry of a kind (to call it disposed), no more. */
  #prune(kind: Kind): void {
    const list = this.#live.get(kind);
    if (!list) return;
    const dead = list.filter((e) => gone(e));
    if (dead.length > 1)
      this.#live.set(
        kind,
        list.filter((e) => !gone(e) || e === dead.at(-1)),
      );
  }

  /** Every live entry of a kind. */
  all<T>(kind: Kind): Entry<T>[] {
    return (this.#live.get(kind) ?? []) as Entry<T>[];
  }

  /** Disposes everything ever made, holders first. */
  disposeAll(): void {
    for (const kind of END_ORDER)
      for (const e of this.#all) if (e.kind === kind) disposeQuietly(e, this.#backend);
    for (const e of this.#all) if (e.kind.startsWith('h:')) disposeQuietly(e, this.#backend);
    this.#live.clear();
  }

  /** Disposes one entry now (a big object, not kept). */
  dispose(entry: Entry): void {
    disposeQuietly(entry, this.#backend);
  }
}
