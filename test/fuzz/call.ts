/**
 * What the fuzzer draws and runs. An operation (Op) is one public function or method, named as
 * the coverage list names it ('GRU.forward', 'new GRU', 'Backend.netForward', 'layers.gru');
 * make() draws one call of it: its arguments, each marked bad when the generator knows it must
 * be refused, and how to run it.
 *
 * "Bad" is conservative: an argument is bad only when the README, the header
 * (native/include/gru_simd.h) or a validation rule the API documents says it must be refused
 * (a wrong type, a Proxy, a detached view, a length that does not match, a number out of its
 * documented range, an unknown option key, a handle of the wrong kind or destroyed). Anything
 * the library may accept or refuse (a SharedArrayBuffer, a resizable buffer, changing getters,
 * a huge size that may or may not allocate) is not bad: refusing it with a GruError and
 * accepting it are both fine. A call with a bad argument that returns normally is a silent
 * acceptance.
 */
import type { Backend } from '../../ts/backends/backend.js';
import type { Pool } from './pool.js';
import type { Rng } from './rng.js';

export interface Arg<T = unknown> {
  value: T;
  /** The generator knows the call must refuse this argument. */
  bad: boolean;
  /** A short description for reports: "x: Proxy of Float32Array(12)". */
  what: string;
}

export const good = <T>(value: T, what: string): Arg<T> => ({ value, bad: false, what });
export const bad = <T>(value: T, what: string): Arg<T> => ({ value, bad: true, what });
export const arg = <T>(value: T, isBad: boolean, what: string): Arg<T> => ({
  value,
  bad: isBad,
  what,
});

/** The same argument under another name in reports. */
export function named<T>(name: string, a: Arg<T>): Arg<T> {
  return { ...a, what: `${name}: ${a.what}` };
}

export interface Call {
  args: Arg[];
  /** Why the receiver must refuse any call (disposed, ...): the call is bad whatever its args. */
  badState?: string;
  /** The receiver's state does not matter (a getter read, even on a disposed object). */
  stateFree?: boolean;
  /** Runs the call; may return a promise, which is awaited (1 s at most). */
  run(): unknown;
  /** After it returned: registers what it made (and disposes what is too big to keep). */
  done?(result: unknown): void;
  /** After it threw: what the pool must forget (a training forward's state, ...). */
  failed?(): void;
  /** An async call another call may be run during (before it is awaited). */
  async?: boolean;
}

export interface Op {
  /** The name in the coverage list. */
  name: string;
  /** Relative frequency (default 1). */
  weight?: number;
  /** One call, or null when nothing in the pool fits now (another op is drawn). */
  make(ctx: Ctx): Call | null;
}

export interface Ctx {
  rng: Rng;
  /** The backend under test. */
  backend: Backend;
  /** Another backend, for objects that must not mix with the first one's. */
  other: Backend;
  pool: Pool;
  /**
   * How often a generator of this call goes hostile (0 to 0.3, drawn per call): calls mostly
   * valid build the pool and reach deep states; hostile ones test the refusals.
   */
  hostile: number;
}

/** The generator's branch: true for a valid value. */
export function friendly(ctx: Ctx): boolean {
  return !ctx.rng.chance(ctx.hostile);
}

/** Whether a call must be refused, and why. */
export function badReasons(call: Call): string[] {
  const reasons = call.args.filter((a) => a.bad).map((a) => a.what);
  if (call.badState !== undefined) reasons.unshift(`state: ${call.badState}`);
  return reasons;
}

/** A marker the fuzzer's own getters and callbacks throw: the caller's exception, passed through. */
export class FuzzThrow extends Error {
  constructor() {
    super('thrown by a getter or callback of the fuzzer');
    this.name = 'FuzzThrow';
  }
}
