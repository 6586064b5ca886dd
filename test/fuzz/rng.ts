/**
 * The fuzzer's seeded generator: mulberry32 (as test/util.ts), plus the draws the generators
 * use. Every call i of a run gets its own generator, seeded from (run seed, backend, i), so a
 * call's arguments do not depend on how many numbers earlier calls drew.
 */

/** A 32-bit hash of a few integers (murmur3's finalizer over each). */
export function hash32(...parts: number[]): number {
  let h = 0x9747b28c;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** A string's 32-bit hash (FNV-1a), to fold a backend name into a seed. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class Rng {
  #a: number;

  constructor(seed: number) {
    this.#a = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#a = (this.#a + 0x6d2b79f5) >>> 0;
    let t = this.#a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** A uint32. */
  u32(): number {
    return Math.floor(this.next() * 4294967296);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** One of the entries, with probability proportional to its weight. */
  weighted<T>(entries: readonly (readonly [number, T])[]): T {
    const total = entries.reduce((s, [w]) => s + w, 0);
    let r = this.next() * total;
    for (const [w, v] of entries) {
      r -= w;
      if (r < 0) return v;
    }
    return entries[entries.length - 1]![1];
  }

  /** Values in [-1, 1), now and then a special one (NaN, +-Inf, -0, a denormal, 1e30). */
  floats(n: number): number[] {
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      out[i] = this.chance(0.02)
        ? this.pick([NaN, Infinity, -Infinity, -0, 1e-40, 1e30, -1e30])
        : this.next() * 2 - 1;
    }
    return out;
  }
}
