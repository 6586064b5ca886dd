/**
 * This machine's peak float32 throughput on one core, measured at bench time with
 * register-resident loops (no memory traffic): the ceiling each contestant's GFLOP/s is a
 * fraction of.
 *  - native: bench/tools/fma_peak.cpp, compiled now with g++ (per-function target
 *    attributes for AVX-512F and AVX2+FMA, picked with __builtin_cpu_supports), 12 FMA chains.
 *  - wasm: bench/tools/fma_peak_wasm.c, compiled now with emcc when it exists, else the
 *    committed bench/tools/fma_peak_wasm.wasm built from it; f32x4 mul+add and scalar mul+add.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { wasmPeak } from './wasm-peak.js';

export interface Peaks {
  /** GFLOP/s per native ISA, best first, e.g. { avx512: 238, avx2: 116 }. */
  native: Record<string, number>;
  /** The best native ISA's GFLOP/s (0 when not measured). */
  nativeBest: number;
  nativeIsa: string;
  wasmSimd: number;
  wasmScalar: number;
  notes: string[];
}

const TOOLS = new URL('./tools/', import.meta.url).pathname;

function nativePeak(tmp: string, notes: string[]): Record<string, number> {
  const exe = join(tmp, 'fma_peak');
  const cc = spawnSync('g++', ['-O2', '-o', exe, join(TOOLS, 'fma_peak.cpp')], {
    encoding: 'utf8',
  });
  if (cc.error || cc.status !== 0) {
    notes.push(
      `native peak not measured: g++ failed (${cc.error?.message ?? cc.stderr.trim().split('\n')[0]})`,
    );
    return {};
  }
  const run = spawnSync(exe, { encoding: 'utf8' });
  const out: Record<string, number> = {};
  for (const line of run.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const { isa, gflops } = JSON.parse(line) as { isa: string; gflops: number };
    out[isa] = gflops;
  }
  if (!Object.keys(out).length) notes.push('native peak not measured: no AVX2/AVX-512 on this CPU');
  return out;
}

function wasmBytes(tmp: string, notes: string[]): Buffer {
  const out = join(tmp, 'fma_peak_wasm.wasm');
  const args = [
    '-O3',
    '-msimd128',
    '-fno-vectorize',
    '-fno-slp-vectorize',
    '--no-entry',
    '-sSTANDALONE_WASM',
    '-o',
    out,
    join(TOOLS, 'fma_peak_wasm.c'),
  ];
  const cc = spawnSync('emcc', args, { encoding: 'utf8' });
  if (!cc.error && cc.status === 0) {
    notes.push('wasm peak: fma_peak_wasm.c compiled now with emcc');
    return readFileSync(out);
  }
  notes.push('wasm peak: emcc not available, used the committed bench/tools/fma_peak_wasm.wasm');
  return readFileSync(join(TOOLS, 'fma_peak_wasm.wasm'));
}

export function measurePeaks(tmp: string): Peaks {
  const notes: string[] = [];
  const native = nativePeak(tmp, notes);
  const w = wasmPeak(new Uint8Array(wasmBytes(tmp, notes)));
  const [nativeIsa, nativeBest] = Object.entries(native).sort((a, b) => b[1] - a[1])[0] ?? [
    'none',
    0,
  ];
  return { native, nativeBest, nativeIsa, wasmSimd: w.simd, wasmScalar: w.scalar, notes };
}
