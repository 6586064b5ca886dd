/**
 * Runs and classifies calls, in the child process. Each call i draws its op and arguments from
 * its own generator (seeded from the run's seed, the backend and i), runs (an async call is
 * awaited at most HANG_MS; one of them in four has another call made while it is in flight),
 * and is classified:
 *
 *   returned     it returned, and no argument was known bad
 *   gruError     it threw a GruError with an ERR_GRU_* code
 *   passthrough  it threw the fuzzer's own exception (a getter or callback that throws)
 *   otherError   it threw anything else (a TypeError, a RangeError, a GruError without a code)
 *   trap         it threw a WebAssembly.RuntimeError
 *   silent       it returned although an argument was known bad (silent acceptance)
 *   hang         it took longer than HANG_MS (an async call: did not settle by then)
 *   corrupt      after it, the canary GRU no longer gives its known output
 *   leak         after it, the backend holds more than LEAK_BOUND bytes beyond the start
 *
 * (The parent adds crash, and hang for a child that stops answering.) After a trap, corrupt or
 * a hung async call the child stops: the parent starts a fresh one at the next call.
 */
import type { Backend } from '../../ts/backends/backend.js';
import { GruError } from '../../ts/errors.js';
import { GRU } from '../../ts/gru.js';
import { badReasons, FuzzThrow, type Call, type Ctx, type Op } from './call.js';
import { hash32, hashString, Rng } from './rng.js';

/**
 * A call that has not settled by then is a hang. Every fuzzed call is small (milliseconds), so a
 * real hang never ends; the margin is for a machine loaded by other work (builds running beside
 * the fuzzer made loads of 20 on 2 cores, and calls of over a second).
 */
export const HANG_MS = 10_000;
/** Bytes the backend may hold beyond the start after any call (the pool's objects are small). */
export const LEAK_BOUND = 256 * 2 ** 20;

export type Outcome =
  | 'returned'
  | 'gruError'
  | 'passthrough'
  | 'otherError'
  | 'trap'
  | 'silent'
  | 'hang'
  | 'corrupt'
  | 'leak'
  | 'crash';

/** The classes that are bugs, worst first. */
export const BUG_CLASSES: readonly Outcome[] = [
  'crash',
  'trap',
  'corrupt',
  'hang',
  'otherError',
  'silent',
  'leak',
];

export interface Result {
  cls: Outcome;
  code?: string;
  ms: number;
  /** For bugs: what went wrong (the error, the bad arguments). */
  detail?: string;
  /** The child must stop after this call. */
  stop?: boolean;
}

class HangTimeout extends Error {}

type Settled = { ok: true; value: unknown; ms: number } | { ok: false; error: unknown; ms: number };

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}

async function settle(run: () => unknown): Promise<Settled> {
  const t0 = performance.now();
  try {
    let value = run();
    if (isThenable(value)) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new HangTimeout()), HANG_MS);
      });
      try {
        value = await Promise.race([value, timeout]);
      } finally {
        clearTimeout(timer);
      }
    }
    return { ok: true, value, ms: performance.now() - t0 };
  } catch (error) {
    return { ok: false, error, ms: performance.now() - t0 };
  }
}

export function isGruError(e: unknown): e is GruError {
  return e instanceof GruError && /^ERR_GRU_[A-Z_]+$/.test(String((e as GruError).code));
}

function errorText(e: unknown): string {
  if (e instanceof Error) {
    const frames = (e.stack ?? '')
      .split('\n')
      .slice(1, 4)
      .map((l) => l.trim());
    return `${e.name}: ${e.message.slice(0, 300)} ${frames.join(' | ')}`;
  }
  return `a thrown ${typeof e}: ${String(e).slice(0, 100)}`;
}

export function classify(call: Call, s: Settled): Result {
  let r: Result;
  if (!s.ok) {
    const e = s.error;
    if (e instanceof HangTimeout)
      r = { cls: 'hang', ms: s.ms, detail: `no settle in ${HANG_MS} ms`, stop: true };
    else if (e instanceof WebAssembly.RuntimeError)
      r = { cls: 'trap', ms: s.ms, detail: errorText(e), stop: true };
    else if (isGruError(e)) r = { cls: 'gruError', code: e.code, ms: s.ms };
    else if (e instanceof FuzzThrow) r = { cls: 'passthrough', ms: s.ms };
    else r = { cls: 'otherError', ms: s.ms, detail: errorText(e) };
  } else {
    const reasons = badReasons(call);
    r = reasons.length
      ? { cls: 'silent', ms: s.ms, detail: `accepted: ${reasons.join('; ')}` }
      : { cls: 'returned', ms: s.ms };
  }
  if (s.ms > HANG_MS && r.cls !== 'hang')
    r = { cls: 'hang', ms: s.ms, detail: `took ${Math.round(s.ms)} ms (${r.cls})` };
  return r;
}

/** Worse of two results (for a call and the call made during it). */
function worse(a: Result, b: Result): Result {
  const rank = (r: Result) => {
    const i = BUG_CLASSES.indexOf(r.cls);
    return i < 0 ? 100 : i;
  };
  return rank(b) < rank(a) ? b : a;
}

/** A GRU with a known output: heap corruption (wasm) or a wrong kernel state shows in it. */
export class Canary {
  readonly #gru: GRU;
  readonly #x = Float32Array.from([0.5, -1, 2, 0.25, 3, -0.75]);
  readonly #expected: Uint32Array;

  constructor(backend: Backend) {
    this.#gru = new GRU({ inputSize: 3, hiddenSize: 5, numLayers: 2, seed: 1234, backend });
    this.#expected = new Uint32Array(this.#out().buffer.slice(0));
  }

  #out(): Float32Array {
    const r = this.#gru.forward(this.#x, { seqLen: 2 });
    const out = new Float32Array(20);
    out.set(r.output as Float32Array);
    out.set(r.hN, 10);
    return out;
  }

  /** Bytes the backend holds for all but the canary (whose scratch follows the thread count). */
  held(backend: Backend): number {
    return backend.allocatedBytes() - backend.bytes(this.#gru._handle());
  }

  /** Why the canary is wrong now, or null. */
  check(): string | null {
    try {
      const got = new Uint32Array(this.#out().buffer);
      const at = got.findIndex((v, i) => v !== this.#expected[i]);
      return at < 0 ? null : `canary output [${at}] changed`;
    } catch (e) {
      return `canary forward threw: ${errorText(e)}`;
    }
  }
}

export interface RunnerOptions {
  seed: number;
  ops: readonly Op[];
  canaryEvery: number;
}

export class Runner {
  readonly #ctx: Ctx;
  readonly #o: RunnerOptions;
  readonly #canary: Canary;
  readonly #baseline: number;
  readonly #total: number;
  readonly #unhandled: unknown[] = [];

  constructor(ctx: Ctx, o: RunnerOptions, canary: Canary) {
    this.#ctx = ctx;
    this.#o = o;
    this.#canary = canary;
    this.#baseline = canary.held(ctx.backend);
    this.#total = o.ops.reduce((s, op) => s + (op.weight ?? 1), 0);
    const keep = (e: unknown) => this.#unhandled.push(e);
    process.on('unhandledRejection', keep);
    process.on('uncaughtException', keep);
  }

  /** Bytes held now beyond the start (the canary's aside). */
  leftover(): number {
    return this.#canary.held(this.#ctx.backend) - this.#baseline;
  }

  /** Draws an op that has a call now (null op list entries skipped). */
  #draw(except?: string): { op: Op; call: Call } {
    const r = this.#ctx.rng;
    for (let tries = 0; ; tries++) {
      let x = r.next() * this.#total;
      let op = this.#o.ops[0]!;
      for (const o of this.#o.ops) {
        x -= o.weight ?? 1;
        if (x < 0) {
          op = o;
          break;
        }
      }
      if (op.name === except && tries < 50) continue;
      const call = op.make(this.#ctx);
      if (call !== null) return { op, call };
      if (tries > 200) throw new Error('the fuzzer found no op with a call');
    }
  }

  /** Call i: draws it (reporting its op through `start` before it runs), runs it, checks. */
  async run(
    i: number,
    backendName: string,
    start: (op: string, args: string[]) => void,
  ): Promise<Result & { op: string; args: string[] }> {
    const ctx = this.#ctx;
    ctx.rng = new Rng(hash32(this.#o.seed, hashString(backendName), i));
    ctx.hostile = ctx.rng.pick([0, 0.05, 0.3]);
    const { op, call } = this.#draw();
    let name = op.name;
    let args = call.args.map((a) => (a.bad ? '!' : '') + a.what);
    let result: Result;
    if (call.async && ctx.rng.chance(0.25)) {
      // Another call while this one is in flight (before it is awaited).
      const during = this.#draw(op.name);
      name = `${op.name} + ${during.op.name} during it`;
      args = [...args, '|', ...during.call.args.map((a) => (a.bad ? '!' : '') + a.what)];
      start(name, args);
      const pa = settle(() => call.run());
      const pb = settle(() => during.call.run());
      const [ra, rb] = await Promise.all([pa, pb]);
      result = worse(this.#finish(call, ra), this.#finish(during.call, rb));
    } else {
      start(name, args);
      result = this.#finish(call, await settle(() => call.run()));
    }
    if (this.#unhandled.length > 0) {
      const e = this.#unhandled.splice(0);
      result = worse(result, {
        cls: 'otherError',
        ms: result.ms,
        detail: `unhandled: ${errorText(e[0])}`,
      });
    }
    if (!result.stop && i % this.#o.canaryEvery === 0) {
      const wrong = this.#canary.check();
      if (wrong !== null) result = { cls: 'corrupt', ms: result.ms, detail: wrong, stop: true };
    }
    const held = this.#canary.held(ctx.backend) - this.#baseline;
    if (!result.stop && held > LEAK_BOUND)
      result = worse(result, {
        cls: 'leak',
        ms: result.ms,
        detail: `the backend holds ${held} bytes more than at the start`,
      });
    return { ...result, op: name, args };
  }

  /** Classifies a settled call and runs its done / failed hook. */
  #finish(call: Call, s: Settled): Result {
    const r = classify(call, s);
    try {
      if (s.ok) call.done?.(s.value);
      else call.failed?.();
    } catch (e) {
      return worse(r, { cls: 'otherError', ms: r.ms, detail: `after the call: ${errorText(e)}` });
    }
    return r;
  }
}
