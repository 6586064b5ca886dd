/**
 * The browser bench's contestants and cases: the wasm builds of gru-simd and the peers that run
 * in a page (onnxruntime-web at 1 and N threads, tfjs's wasm backend), on the Node suite's
 * cases (bench/cases.ts) but F.
 */
import { selectCases, type Case, type Mode, type PeakKind } from '../cases.js';

export type BrowserGroupId =
  | 'wasm-relaxed'
  | 'wasm-relaxed-n'
  | 'wasm-simd'
  | 'wasm'
  | 'ort-web-1'
  | 'ort-web-n'
  | 'tfjs-wasm';

export interface BrowserGroup {
  /** Stable id, also what --only takes. */
  id: BrowserGroupId;
  family: 'gru-simd' | 'ort-web' | 'tfjs-wasm';
  /** gru-simd's backend (its module: gru_simd-relaxed.wasm, -simd.wasm or -scalar.wasm). */
  backend?: 'wasm-relaxed' | 'wasm-simd' | 'wasm';
  /** Threads asked for: a count, or 'n' for the page's navigator.hardwareConcurrency (at least 2). */
  threads: number | 'n';
  name: string;
  /** Which measured peak its % of peak is of (times its threads). */
  peak: PeakKind;
}

export const BROWSER_GROUPS: readonly BrowserGroup[] = [
  {
    id: 'wasm-relaxed',
    family: 'gru-simd',
    backend: 'wasm-relaxed',
    threads: 1,
    name: 'gru-simd wasm-relaxed',
    peak: 'wasm-relaxed',
  },
  // The threaded module (the page is cross-origin isolated) with as many threads as ort-web-n.
  {
    id: 'wasm-relaxed-n',
    family: 'gru-simd',
    backend: 'wasm-relaxed',
    threads: 'n',
    name: 'gru-simd wasm-relaxed threads',
    peak: 'wasm-relaxed',
  },
  {
    id: 'wasm-simd',
    family: 'gru-simd',
    backend: 'wasm-simd',
    threads: 1,
    name: 'gru-simd wasm-simd',
    peak: 'wasm-simd',
  },
  {
    id: 'wasm',
    family: 'gru-simd',
    backend: 'wasm',
    threads: 1,
    name: 'gru-simd wasm (scalar)',
    peak: 'wasm-scalar',
  },
  {
    id: 'ort-web-1',
    family: 'ort-web',
    threads: 1,
    name: 'onnxruntime-web',
    peak: 'wasm-simd',
  },
  {
    id: 'ort-web-n',
    family: 'ort-web',
    threads: 'n',
    name: 'onnxruntime-web',
    peak: 'wasm-simd',
  },
  // tfjs picks its module itself: threaded SIMD in a cross-origin isolated page.
  {
    id: 'tfjs-wasm',
    family: 'tfjs-wasm',
    threads: 1,
    name: 'tfjs wasm backend',
    peak: 'wasm-simd',
  },
];

/** N of the N-thread contestants: the page's logical cores, at least 2. */
export function threadsN(hardwareConcurrency: number): number {
  return Math.max(2, hardwareConcurrency || 0);
}

/**
 * The contestants --only names (all without it); an unknown id is an error naming the known.
 */
export function selectGroups(ids?: readonly string[]): BrowserGroup[] {
  if (!ids) return [...BROWSER_GROUPS];
  const known = BROWSER_GROUPS.map((g) => g.id as string);
  const unknown = ids.filter((id) => !known.includes(id));
  if (unknown.length)
    throw new Error(`--only: unknown ${unknown.join(', ')}; known: ${known.join(', ')}`);
  return BROWSER_GROUPS.filter((g) => ids.includes(g.id));
}

/**
 * The Node suite's cases of a mode (or those --cases lists) but F: issue 12 asks the browser
 * for A-E, E-many and the sweep, and F's tfjs port needs a kernel registered for Node's build.
 */
export function browserCases(mode: Mode, ids?: readonly string[]): Case[] {
  if (ids?.includes('F'))
    throw new Error('--cases: F is not part of the browser bench (A, B, C, D, E, E-many, sweep)');
  return selectCases(mode, ids).filter((c) => c.workload !== 'F');
}
