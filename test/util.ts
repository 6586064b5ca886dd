/** Helpers shared by the suites: a seeded generator, error measurement, assertions. */
import assert from 'node:assert/strict';
import type { Tolerance } from './tolerance.js';

/**
 * The per-case time bound of the hostile-file fuzzes (a hang or a blow-up fails them): 1 s, and
 * 3 s in the sanitizer run (scripts/test-asan.mjs sets GRU_TEST_SANITIZED=1), whose
 * instrumented allocator slows every allocation (1.15 s seen there on a loaded machine).
 */
export const FUZZ_CASE_MS = process.env.GRU_TEST_SANITIZED === '1' ? 3000 : 1000;

/** mulberry32: a small, fixed, seeded generator, so every run sees the same data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function uniform(n: number, lo: number, hi: number, rand: () => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rand();
  return a;
}

export interface ErrorStats {
  /** max |a - ref| */
  maxAbs: number;
  /** max |a - ref| / (abs + rel * |ref|): <= 1 passes. */
  worst: number;
  worstIndex: number;
}

export function measure(
  actual: ArrayLike<number>,
  ref: ArrayLike<number>,
  tol: Tolerance,
): ErrorStats {
  assert.equal(actual.length, ref.length, 'length of the compared arrays');
  let maxAbs = 0;
  let worst = 0;
  let worstIndex = -1;
  for (let i = 0; i < ref.length; i++) {
    const e = Math.abs(actual[i] - ref[i]);
    // NaN in the result or in the reference must fail: e is NaN, so force it to Infinity (and
    // the weighted error too: Infinity / NaN would be NaN, which no comparison catches).
    const en = Number.isNaN(e) ? Infinity : e;
    if (en > maxAbs) maxAbs = en;
    const w = Number.isNaN(e) ? Infinity : en / (tol.abs + tol.rel * Math.abs(ref[i]));
    if (w > worst) {
      worst = w;
      worstIndex = i;
    }
  }
  return { maxAbs, worst, worstIndex };
}

/** Index -> "[i, j, k]" for messages. */
export function unravel(index: number, shape: readonly number[]): string {
  const idx: number[] = [];
  let r = index;
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(r % shape[d]);
    r = Math.floor(r / shape[d]);
  }
  return `[${idx.join(', ')}]`;
}

export function assertClose(
  actual: ArrayLike<number>,
  ref: ArrayLike<number>,
  tol: Tolerance,
  what: string,
  shape: readonly number[],
): ErrorStats {
  const s = measure(actual, ref, tol);
  if (s.worst > 1) {
    const i = s.worstIndex;
    assert.fail(
      `${what}: at ${unravel(i, shape)} got ${actual[i]}, reference ${ref[i]} ` +
        `(|diff| ${Math.abs(actual[i] - ref[i]).toExponential(3)} > ${tol.abs} + ${tol.rel}*|ref|); ` +
        `max |diff| over all ${s.maxAbs.toExponential(3)}`,
    );
  }
  return s;
}

/** Worst errors seen per key ("native/avx512"), printed as a table at the end of a suite. */
export class ErrorTable {
  private rows = new Map<string, Record<string, number>>();

  record(key: string, column: string, value: number): void {
    const row = this.rows.get(key) ?? {};
    row[column] = Math.max(row[column] ?? 0, value);
    this.rows.set(key, row);
  }

  print(title: string): void {
    if (this.rows.size === 0) return;
    const lines = [...this.rows].map(
      ([k, row]) =>
        `      ${k.padEnd(22)} ` +
        Object.entries(row)
          .map(([c, v]) => `${c} ${v.toExponential(2)}`)
          .join('  '),
    );
    console.log(`\n      ${title}\n${lines.join('\n')}\n`);
  }
}

export interface CodedError {
  code: string;
  message: string;
}

/**
 * Asserts that fn throws a GruError with the given code whose message mentions every
 * string in `mentions` (the argument's name, typically).
 */
export function assertThrowsCode(
  fn: () => unknown,
  code: string,
  mentions: readonly string[] = [],
  ErrorClass?: new (...args: never[]) => Error,
): void {
  let thrown: unknown = undefined;
  let threw = false;
  try {
    fn();
  } catch (e) {
    threw = true;
    thrown = e;
  }
  assert.ok(threw, `expected an error with code ${code}, nothing was thrown`);
  assert.ok(thrown instanceof Error, `expected an Error, got ${String(thrown)}`);
  if (ErrorClass)
    assert.ok(thrown instanceof ErrorClass, `expected a ${ErrorClass.name}, got ${thrown.name}`);
  const err = thrown as Error & Partial<CodedError>;
  assert.equal(err.code, code, `error code (message: ${err.message})`);
  for (const m of mentions) {
    assert.ok(
      err.message.includes(m),
      `message should name "${m}": ${JSON.stringify(err.message)}`,
    );
  }
}

export async function assertRejectsCode(fn: () => Promise<unknown>, code: string): Promise<void> {
  let thrown: unknown = undefined;
  try {
    await fn();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown instanceof Error, `expected a rejection with code ${code}`);
  assert.equal((thrown as Error & Partial<CodedError>).code, code, (thrown as Error).message);
}
