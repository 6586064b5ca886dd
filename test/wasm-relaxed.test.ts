/**
 * The wasm-relaxed backend (wasm/gru_simd-relaxed.wasm): that the suite runs it at all, that it
 * is the module with the relaxed kernels, and that its multiply-adds are fused. Its accuracy
 * is checked by every forEachBackend suite against the float64 references, within the same
 * tolerances as the native ISAs with FMA (test/tolerance.ts: the bounds count the unfused
 * worst case, k + 1 roundings for a dot product of k terms; a fused multiply-add rounds once
 * where a multiply and an add round twice, so fusing only tightens the error).
 */
import assert from 'node:assert/strict';
import type { Backend } from '../ts/backends/backend.js';
import { wasmRelaxedSimdSupported } from '../ts/backends/wasm.js';
import { Dense, loadBackend } from '../ts/index.js';
import { BACKEND_NAMES, LOADED } from './backends.js';

const relaxed = LOADED.find((l) => l.name === 'wasm-relaxed');

describe('wasm-relaxed', () => {
  it('the engine runs relaxed SIMD (mocha passes --experimental-wasm-relaxed-simd: .mocharc.json)', () => {
    assert.ok(
      wasmRelaxedSimdSupported(),
      'this Node has no relaxed SIMD: run mocha with -n experimental-wasm-relaxed-simd (as .mocharc.json does), or the suite does not cover wasm-relaxed',
    );
  });

  if (process.env.GRU_SIMD_BACKENDS !== undefined && !BACKEND_NAMES.includes('wasm-relaxed'))
    return; // wasm-relaxed left out on purpose (GRU_SIMD_BACKENDS)

  it('loads, and carries the relaxed kernels first (then wasm128 and scalar)', () => {
    assert.ok(relaxed?.backend, `wasm-relaxed did not load: ${String(relaxed?.error)}`);
    const b = relaxed.backend;
    assert.equal(b.name, 'wasm-relaxed');
    assert.deepEqual(b.isaList(), ['wasm-relaxed', 'wasm128', 'scalar']);
    assert.equal(b.isa(), 'wasm-relaxed');
    for (const isa of b.isaList()) assert.ok(b.isaSupported(isa), isa);
    assert.equal(b.threads(), 1);
  });

  /**
   * y = x0 w0 + x1 w1 with x0 w0 = -(1 + 2^-11) exactly and x1 = w1 = 1 + 2^-12:
   * x1 w1 = 1 + 2^-11 + 2^-24 exactly, which fp32 rounds (a tie, to even) to 1 + 2^-11. A
   * multiply then an add gives 0; a fused multiply-add keeps the 2^-24.
   */
  function twoTermDot(backend: Backend, isa: string): number {
    const before = backend.isa();
    backend.setIsa(isa);
    const dense = new Dense({ inFeatures: 2, outFeatures: 1, bias: false, backend, seed: 1 });
    try {
      const a = 1 + 2 ** -12;
      dense.setParameter('weight', new Float32Array([1, a]));
      return dense.forward(new Float32Array([-(1 + 2 ** -11), a]))[0]!;
    } finally {
      dense.dispose();
      backend.setIsa(before);
    }
  }

  it('multiply-adds are fused on the wasm-relaxed ISA, and not on wasm128 (same module)', async () => {
    const b = relaxed?.backend;
    assert.ok(b, 'wasm-relaxed did not load');
    assert.equal(twoTermDot(b, 'wasm128'), 0, 'wasm128: a multiply and an add (two roundings)');
    // The engine fuses where the CPU has an FMA instruction: the native backend tells whether
    // this one does (avx2 and avx512 need FMA3; every arm64 has it).
    // (Loaded here even when GRU_SIMD_BACKENDS leaves it out.)
    const native = await loadBackend('native');
    const cpuHasFma = ['avx512', 'avx2', 'neon'].some((isa) => native.isaSupported(isa));
    assert.ok(cpuHasFma, 'a CPU without FMA: relaxed_madd is a multiply and an add here');
    assert.equal(twoTermDot(b, 'wasm-relaxed'), 2 ** -24, 'wasm-relaxed: one rounding (FMA)');
    assert.equal(twoTermDot(native, native.isa()), 2 ** -24, 'native FMA agrees');
  });
});
