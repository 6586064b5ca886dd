/**
 * The seeded numbers of the tfjs fixture generators (scripts/gen-tfjs-fixtures.mjs,
 * scripts/gen-tfjs-files-fixtures.mjs): the same numbers on every run, so a regenerated
 * fixture changes only when tfjs's results do.
 */

/** mulberry32: a small seeded generator of uniform numbers in [0, 1). */
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One stream of numbers seeded `seed`: rand() in [0, 1), and uniform(n, lo, hi), n float32
 * numbers in [lo, hi), drawn from the same stream.
 */
export function seededNumbers(seed) {
  const rand = generator(seed);
  const uniform = (n, lo, hi) => Float32Array.from({ length: n }, () => lo + (hi - lo) * rand());
  return { rand, uniform };
}
