/**
 * The benchmark's workload F (bench/model-f.ts, bench/call-timer.ts, the gru-simd contestant's
 * model): which variant runs, its data and weights, the case selection, the timed backend, and
 * the overhead report. Nothing here asserts a speed: the bench itself is run by `npm run bench`.
 */
import assert from 'node:assert/strict';
// The suite's backends. Also needed for what its top-level await does: without one in its
// graph, mocha + tsx gave this file a second instance of ts/backends/backend.ts (imported by
// bench/call-timer.ts), whose isBackend refused the backends loadBackend() made.
import { LOADED } from './backends.js';
import { GROUPS, selectCases, type Case, type GroupResult } from '../bench/cases.js';
import { timedBackend } from '../bench/call-timer.js';
import { prepareModelF } from '../bench/contestants/gru-simd-model-f.js';
import { batchF, F, flopsF, optionalLayer, variant, weightsF } from '../bench/model-f.js';
import { markdown, type Report } from '../bench/report.js';
import { layers, sequential, tensor } from '../ts/index.js';

/** The first backend of the suite's list that loaded (native, where there is one). */
function firstBackend() {
  const l = LOADED.find((b) => b.backend !== null);
  if (!l) throw new Error('no backend loaded');
  return l.backend!;
}

describe('bench workload F', () => {
  it('is the full model 3: gru-simd has BatchNormalization and GRU dropout and recurrentDropout', () => {
    const v = variant();
    assert.equal(
      layers.gru({ units: 2, dropout: 0.2, recurrentDropout: 0.2 }).recurrentDropout,
      0.2,
    );
    assert.ok(optionalLayer('batchNormalization') !== undefined);
    assert.equal(v.full, true);
    assert.deepEqual(v.missing, []);
    assert.ok(v.label.startsWith('F: '), v.label);
  });

  it('counts the FLOPs of both GRUs and the head, 3x the forward for a training step', () => {
    const gru1 = 2 * 3 * 128 * (64 + 128) * 32 * 100;
    const gru2 = 2 * 3 * 128 * (128 + 128) * 32 * 100;
    assert.equal(flopsF(), 3 * (gru1 + gru2 + 2 * 128 * 10 * 32));
    const f = selectCases('quick', ['F'])[0] as Case;
    assert.equal(f.flops, flopsF());
    assert.equal(f.label, variant().label);
  });

  it('has the same batch and weights in every process: ids in range, one-hot labels', () => {
    const a = batchF();
    assert.deepEqual(a, batchF());
    assert.equal(a.ids.length, F.batch * F.length);
    assert.ok(a.ids.every((id) => id >= 0 && id < F.vocabulary));
    assert.ok(new Set(a.ids).size > 1000, 'ids spread over the vocabulary');
    for (let b = 0; b < F.batch; b++) {
      const row = a.labels.subarray(b * F.classes, (b + 1) * F.classes);
      assert.deepEqual([...row].sort(), [...Array(F.classes - 1).fill(0), 1]);
    }
    const w = weightsF();
    assert.equal(w.embedding.length, F.vocabulary * F.dim);
    assert.ok(w.embedding.every((v) => Math.abs(v) <= Math.fround(0.05)));
    assert.deepEqual(w.gru2.weight_hh, weightsF().gru2.weight_hh);
    assert.equal(w.gru1.weight_ih.length, 3 * F.units * F.dim);
  });

  it('selects cases by id (sweep: every sweep point) and names the known ones otherwise', () => {
    assert.deepEqual(
      selectCases('quick', ['F', 'A']).map((c) => c.id),
      ['A', 'F'],
    );
    const sweep = selectCases('quick', ['sweep']);
    assert.ok(sweep.length > 1 && sweep.every((c) => c.workload === 'sweep'));
    assert.equal(selectCases('full').length, selectCases('full', undefined).length);
    assert.throws(
      () => selectCases('quick', ['G']),
      /unknown G; known: A, B, C, D, E, E-many, F, sweep/,
    );
  });
});

describe('bench call timer', () => {
  it('times every core call of a model, and the wrapped backend computes the same', async () => {
    const inner = firstBackend();
    const timer = timedBackend(inner);
    assert.equal(timer.backend.name, inner.name);
    assert.equal(timer.backend.isa(), inner.isa());
    assert.deepEqual(timer.backend.isaList(), inner.isaList());
    const make = (backend: typeof inner) =>
      sequential({
        seed: 3,
        backend,
        layers: [layers.gru({ units: 4, inputShape: [5, 3] }), layers.dense({ units: 2 })],
      });
    const x = tensor(
      Float32Array.from({ length: 2 * 5 * 3 }, (_, i) => Math.sin(i)),
      [2, 5, 3],
    );
    const timed = make(timer.backend);
    const plain = make(inner);
    try {
      timer.reset();
      const a = timed.predict(x).data;
      assert.deepEqual(a, plain.predict(x).data);
      assert.ok(timer.times.byName.has('netForward'), [...timer.times.byName.keys()].join());
      assert.ok(timer.times.byName.has('denseForward'));
      const sum = [...timer.times.byName.values()].reduce((s, e) => s + e.calls, 0);
      assert.equal(timer.times.calls, sum);
      assert.ok(timer.times.seconds > 0);
      timer.reset();
      assert.equal(timer.times.calls, 0);
      assert.equal(timer.times.byName.size, 0);
    } finally {
      timed.dispose();
      plain.dispose();
    }
  });

  it("splits F's training step into core calls and the model API's own time", async function () {
    this.timeout(120_000);
    const backend = firstBackend();
    const p = prepareModelF(backend);
    try {
      const { probe } = await p.probe();
      assert.equal(probe.kind, 'loss');
      // Random-ish weights over 10 classes: about ln(10).
      assert.ok(probe.kind === 'loss' && Math.abs(probe.value - Math.log(10)) < 0.5, `${probe}`);
      const o = await p.overhead!(1);
      assert.ok(o.coreSeconds > 0 && o.coreSeconds <= o.stepSeconds, JSON.stringify(o));
      assert.ok(o.callsPerStep >= 8, `${o.callsPerStep} calls`);
      assert.match(o.top, /netBackward \d+%/);
      assert.ok(o.fit.coreSeconds > 0 && o.fit.coreSeconds <= o.fit.seconds);
      assert.equal(o.fit.batches, 8);
    } finally {
      p.dispose();
    }
  });

  it("prints the overhead under F's table", () => {
    const f = selectCases('quick', ['F'])[0] as Case;
    const native: GroupResult = {
      group: 'native',
      name: 'gru-simd native',
      threads: 2,
      detail: 'avx512',
      wallSeconds: 1,
      results: [
        {
          caseId: 'F',
          status: 'ok',
          note: '',
          median: 0.1,
          samples: 3,
          overhead: {
            steps: 3,
            stepSeconds: 0.1,
            coreSeconds: 0.098,
            overheadPercent: 2,
            callsPerStep: 11,
            top: 'netBackward 60%',
            fit: { batches: 8, seconds: 0.9, coreSeconds: 0.8, overheadPercent: 11.1 },
          },
        },
      ],
    };
    const report: Report = {
      meta: {
        mode: 'quick',
        date: '',
        cpu: 'cpu',
        cores: 2,
        node: 'v20',
        wallSeconds: 1,
        loadAvg: { start: 0, end: 0 },
        threadsOption: null,
      },
      peaks: {
        native: {},
        nativeBest: 1,
        nativeIsa: 'x',
        wasmSimd: 1,
        wasmScalar: 1,
        wasmRelaxed: 1,
        notes: [],
      },
      cases: [f],
      groups: [native],
    };
    const md = markdown(report);
    assert.ok(md.includes(`## ${f.label}`));
    assert.match(md, /trainOnBatch 100 ms, its 11 core calls 98\.0 ms: overhead 2\.00 %/);
    assert.match(
      md,
      /fit\(\), one epoch of 8 batches: 900 ms, core calls 800 ms: overhead 11\.10 %/,
    );
    assert.ok(!md.includes('## Sweep'), 'no sweep tables without sweep cases');
    assert.ok(GROUPS.some((g) => g.id === 'tfjs-wasm'));
  });
});
