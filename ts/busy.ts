/**
 * Busy guards: an object (GRU, Dense, Embedding, Dropout, optimizer, SequenceModel) in use by
 * an async call cannot be disposed or changed underneath it. While the call is in flight,
 * every method that reaches the object's backend state throws GruError ERR_GRU_BUSY naming the
 * object and the pending call. Throw rather than queue: explicit, and a caller who wants a
 * queue awaits. (The native addon refuses the same calls again, for JS that bypasses this.)
 *
 * An async call takes its objects for its whole duration with holding(); its own synchronous
 * segments run inside run(fn), so the calls it makes on what it holds pass the check, while
 * any other caller, between its awaits, is refused. An async call started inside a segment
 * (SequenceModel.trainStepAsync calling GRU.forwardAsync) joins the holder instead of
 * conflicting with it.
 */
import { GruError } from './errors.js';

/** The key of the async call whose synchronous segment is running now, if any. */
let active: symbol | null = null;

/** Runs fn synchronously as the async call that holds the objects (see holding()). */
export type Run = <R>(fn: () => R) => R;

export class Busy {
  /** What the messages call the object: "this GRU". */
  readonly what: string;
  #key: symbol | null = null;
  #call = '';

  constructor(what: string) {
    this.what = what;
  }

  /** Throws ERR_GRU_BUSY while an async call other than the one running now holds the object. */
  check(): void {
    if (this.#key !== null && this.#key !== active) {
      throw new GruError(
        'ERR_GRU_BUSY',
        `${this.what} is in use by ${this.#call}, still in flight: await it before calling this (or disposing)`,
      );
    }
  }

  /** @internal */
  _take(key: symbol, call: string): boolean {
    if (this.#key !== null) return false; // held already by `key` (checked): the holder keeps it
    this.#key = key;
    this.#call = call;
    return true;
  }

  /** @internal */
  _release(key: symbol): void {
    if (this.#key === key) this.#key = null;
  }
}

/**
 * Runs body as the async call `call` holding every guard: throws (rejects with) ERR_GRU_BUSY,
 * taking none, if another call holds one; releases them when body settles, whichever way.
 */
export async function holding<T>(
  call: string,
  guards: readonly Busy[],
  body: (run: Run) => Promise<T>,
): Promise<T> {
  for (const guard of guards) guard.check();
  const key = active ?? Symbol(call); // inside a holder's segment: join it
  const taken = guards.filter((guard) => guard._take(key, call));
  const run: Run = (fn) => {
    const previous = active;
    active = key;
    try {
      return fn();
    } finally {
      active = previous;
    }
  };
  try {
    return await body(run);
  } finally {
    for (const guard of taken) guard._release(key);
  }
}
