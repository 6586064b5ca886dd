/**
 * The benchmark's reduced-precision contestants (gru-simd native with bf16 / int8 weights): the
 * groups exist for every inference case, the contestant runs the GRU at that precision (its
 * probe is near the fp32 one, not equal, and within the bench's check tolerance), training
 * cases are skipped with the reason, and the report prints the ratios the targets are
 * about. Nothing here asserts a speed.
 */
import assert from 'node:assert/strict';
import { LOADED } from './backends.js';
import { GROUPS, selectCases, type Case, type GroupResult } from '../bench/cases.js';
import { gruSimd, prepareGruSimd } from '../bench/contestants/gru-simd.js';
import { compare, TOLERANCE } from '../bench/measure.js';
import { reducedPrecisionLines } from '../bench/report.js';

function firstLoaded() {
  const l = LOADED.find((b) => b.backend !== null);
  if (!l) throw new Error('no backend loaded');
  return l as {
    name: 'native' | 'wasm-simd' | 'wasm';
    backend: NonNullable<(typeof l)['backend']>;
  };
}

describe('bench: reduced-precision contestants', () => {
  it('has native bf16 and int8 groups, at the default thread count and on 1 thread', () => {
    for (const p of ['bf16', 'int8']) {
      const g = GROUPS.find((x) => x.id === `native-${p}`);
      const one = GROUPS.find((x) => x.id === `native-${p}-1t`);
      assert.equal(g?.precision, p);
      assert.equal(g?.backend, 'native');
      assert.equal(one?.precision, p);
      assert.equal(one?.fixedThreads, 1);
      assert.ok(g?.everyRound && one?.everyRound);
    }
  });

  for (const precision of ['bf16', 'int8'] as const) {
    it(`${precision}: runs A at that precision, near fp32, and skips training`, async () => {
      const { name, backend } = firstLoaded();
      const contestant = await gruSimd(name, undefined, precision);
      assert.match(contestant.detail, new RegExp(`ISA ${backend.isa()}, ${precision} weights`));
      assert.equal(contestant.outputTolerance, TOLERANCE.reducedPrecision);
      const [a, d] = [selectCases('quick', ['A'])[0], selectCases('quick', ['D'])[0]] as Case[];
      assert.equal(contestant.unsupported(a!), null);
      assert.match(contestant.unsupported(d!) ?? '', /training needs fp32/);
      const lowp = await contestant.prepare(a!);
      const fp32 = prepareGruSimd(backend, a!);
      try {
        const [got, want] = [(await lowp.probe()).probe, (await fp32.probe()).probe];
        const cmp = compare(got, want, contestant.outputTolerance);
        assert.ok(cmp.ok, cmp.text);
        assert.ok(
          !compare(got, want).ok,
          `${precision} differs from fp32 by more than 1e-4: ${cmp.text}`,
        );
      } finally {
        lowp.dispose();
        fp32.dispose();
      }
    });
  }

  it('reports each reduced-precision row against onnxruntime-node 1T and gru-simd fp32', () => {
    const c = selectCases('quick', ['C'])[0] as Case;
    const group = (id: string, name: string, threads: number, median: number): GroupResult => ({
      group: id,
      name,
      threads,
      detail: id.startsWith('native-') ? 'ISA avx512, bf16 weights widened to fp32' : 'x',
      wallSeconds: 1,
      results: [{ caseId: 'C', status: 'ok', note: '', median, check: 'max |diff| 2.0e-3' }],
    });
    const lines = reducedPrecisionLines(c, [
      group('native', 'gru-simd native', 2, 0.02),
      group('ort-node-1', 'onnxruntime-node', 1, 0.04),
      group('native-bf16', 'gru-simd native bf16', 2, 0.01),
    ]);
    assert.ok(
      lines.some((l) =>
        /gru-simd native bf16 \(ISA avx512.*\): 10\.0 ms, ×4\.00 onnxruntime-node 1T \(fp32\), ×2\.00 gru-simd native fp32 2T; error max \|diff\| 2\.0e-3/.test(
          l,
        ),
      ),
      lines.join('\n'),
    );
  });
});
