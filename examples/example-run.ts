/**
 * What the dataset examples share: their command line (--quick, --out DIR), where they write
 * their charts, how they print, a seeded random number generator for the data splits, and the
 * test for "run as a script" (each example is also imported by test/examples.test.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface ExampleOptions {
  /** A small slice of the data and few epochs: seconds, for the tests and a first look. */
  quick?: boolean;
  /** Folder of the chart (default examples/results). */
  outDir?: string;
  /** Where progress and results go, one line per call (default console.log; tests pass a no-op). */
  log?: (line: string) => void;
}

export const DEFAULT_OUT = fileURLToPath(new URL('./results/', import.meta.url));

/** The options of `node --import tsx examples/<name>.ts [--quick] [--out DIR]`. */
export function commandLine(argv: readonly string[] = process.argv.slice(2)): ExampleOptions {
  const out = argv.indexOf('--out');
  const unknown = argv.filter(
    (a, i) => a !== '--quick' && a !== '--out' && argv[i - 1] !== '--out',
  );
  if (unknown.length > 0 || (out >= 0 && argv[out + 1] === undefined)) {
    throw new Error(`usage: [--quick] [--out DIR]; got ${argv.join(' ')}`);
  }
  return {
    quick: argv.includes('--quick'),
    outDir: out >= 0 ? resolve(argv[out + 1]!) : undefined,
  };
}

/** Whether the module at `url` is the script node was started with. */
export function isMain(url: string): boolean {
  const script = process.argv[1];
  return script !== undefined && pathToFileURL(resolve(script)).href === url;
}

/** Writes `svg` as `name` into the options' folder; returns its path. */
export function writeChart(o: ExampleOptions, name: string, svg: string): string {
  const dir = o.outDir ?? DEFAULT_OUT;
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, svg);
  return path;
}

/** mulberry32: a seeded generator of floats in [0, 1), the same sequence on every machine. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The indices 0..n-1 in a seeded random order (Fisher-Yates). */
export function shuffled(n: number, seed: number): number[] {
  const next = random(seed);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}
