/**
 * This machine's peak float32 throughput on one core, measured at bench time with
 * register-resident loops (no memory traffic): the ceiling each contestant's GFLOP/s is a
 * fraction of.
 *  - native: bench/tools/fma_peak.cpp, compiled now with g++ (per-function target
 *    attributes for AVX-512F and AVX2+FMA, picked with __builtin_cpu_supports), 12 FMA chains.
 *  - wasm: bench/tools/fma_peak_wasm.c, compiled now with emcc when it exists, else the
 *    committed bench/tools/fma_peak_wasm.wasm built from it; f32x4 mul+add and scalar mul+add.
 *  - wasm relaxed SIMD: bench/tools/fma_peak_relaxed.c (f32x4.relaxed_madd), compiled now with
 *    clang-19 + wasm-ld-19 when they exist, else the committed .wasm; run in a child Node with
 *    --experimental-wasm-relaxed-simd, so the peak is there whatever flags this process has.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
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
  /** f32x4.relaxed_madd (fused where the CPU has FMA); 0 when the engine cannot run it. */
  wasmRelaxed: number;
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

function relaxedBytes(tmp: string, notes: string[]): Buffer {
  const obj = join(tmp, 'fma_peak_relaxed.o');
  const out = join(tmp, 'fma_peak_relaxed.wasm');
  const cc = spawnSync(
    'clang-19',
    [
      ...['--target=wasm32', '-O3', '-msimd128', '-mrelaxed-simd', '-fno-vectorize'],
      ...['-fno-slp-vectorize', '-c', join(TOOLS, 'fma_peak_relaxed.c'), '-o', obj],
    ],
    { encoding: 'utf8' },
  );
  const ld =
    !cc.error && cc.status === 0
      ? spawnSync('wasm-ld-19', ['--no-entry', '--export=relaxed_loop', '-o', out, obj], {
          encoding: 'utf8',
        })
      : null;
  if (ld && !ld.error && ld.status === 0) {
    notes.push('relaxed peak: fma_peak_relaxed.c compiled now with clang-19');
    return readFileSync(out);
  }
  notes.push('relaxed peak: clang-19 not available, used bench/tools/fma_peak_relaxed.wasm');
  return readFileSync(join(TOOLS, 'fma_peak_relaxed.wasm'));
}

/** The relaxed-SIMD peak, measured as wasmPeak measures SIMD128's, in a child with the flag. */
function relaxedPeak(tmp: string, notes: string[]): number {
  const file = join(tmp, 'fma_peak_relaxed.bin');
  writeFileSync(file, relaxedBytes(tmp, notes));
  const code = `
const bytes = (await import('node:fs')).readFileSync(${JSON.stringify(file)});
const f = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports.relaxed_loop;
f(1e6, 1);
let top = 0;
for (let r = 0; r < 5; r++) {
  const t0 = performance.now();
  f(2e7, 1 + r);
  top = Math.max(top, (12 * 8 * 2e7) / ((performance.now() - t0) / 1e3) / 1e9);
}
console.log(top);`;
  const run = spawnSync(
    process.execPath,
    ['--experimental-wasm-relaxed-simd', '--input-type=module', '-e', code],
    { encoding: 'utf8' },
  );
  const gflops = Number(run.stdout.trim());
  if (run.error || run.status !== 0 || !(gflops > 0)) {
    notes.push(`relaxed peak not measured: ${run.stderr.trim().split('\n').pop() ?? ''}`);
    return 0;
  }
  return gflops;
}

export function measurePeaks(tmp: string): Peaks {
  const notes: string[] = [];
  const native = nativePeak(tmp, notes);
  const w = wasmPeak(new Uint8Array(wasmBytes(tmp, notes)));
  const wasmRelaxed = relaxedPeak(tmp, notes);
  const [nativeIsa, nativeBest] = Object.entries(native).sort((a, b) => b[1] - a[1])[0] ?? [
    'none',
    0,
  ];
  return {
    native,
    nativeBest,
    nativeIsa,
    wasmSimd: w.simd,
    wasmScalar: w.scalar,
    wasmRelaxed,
    notes,
  };
}
