/**
 * The handle table carried from one core to the next (gru_handles_save / gru_handles_restore,
 * on every backend) and the wasm backends' renewal of their module instance
 * (ts/backends/wasm-instance.ts): layers dropped without dispose() give their wasm memory back
 * once collected (a WebAssembly.Memory never shrinks; a fresh instance has a fresh one), never
 * while an object is live, never after a failed call (its error stays readable), with stale
 * handles still refused and not handed out again, and the ISA carried over. In a child process
 * per backend (test/instance-renewal/child.ts): a fresh handle table, and --expose-gc.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { LOADED } from './backends.js';
import { childReport } from './node-flags.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHILD = fileURLToPath(new URL('./instance-renewal/child.ts', import.meta.url));

interface Report {
  table: {
    badRestore: string[];
    slotsAfterBad: number;
    made: number[];
    whileLive: { live: number; save: string; restore: string };
    liveAfter: number;
    wrongLength: string;
    next: number[];
    staleRefused: string;
  };
  renewal: null | {
    start: number;
    defaultIsa: string;
    isa: string;
    allocatedStart: number;
    allocatedAfter: number;
    peak: number;
    whileKept: { live: number; memory: number; sameOutput: boolean };
    afterKeptDisposed: number;
    peak2: number;
    afterDropped: number;
    failedCode: string;
    afterFailure: { memory: number; lastErrorKept: boolean };
    afterSuccess: number;
    stale: { layer: string; handles: string[]; reused: number; count: number };
    fresh: { sameOutput: boolean; isa: string };
  };
}

const MiB = 2 ** 20;
const mib = (b: number) => `${(b / MiB).toFixed(1)} MiB`;

for (const entry of LOADED) {
  describe(`instance renewal [${entry.name}]`, () => {
    let report: Report | null = null;
    let failure = '';
    before(function () {
      this.timeout(120000);
      if (!entry.backend) return;
      ({ report, failure } = childReport<Report>(ROOT, CHILD, entry.name, 110000));
    });

    const got = (): Report => {
      assert.ok(entry.backend, `backend ${entry.name} did not load (see the main suite)`);
      assert.ok(report, failure);
      return report;
    };

    it('handlesRestore refuses a list that is not one handle per slot (ERR_GRU_ARG), changing nothing', () => {
      const t = got().table;
      assert.deepEqual(t.badRestore, ['ERR_GRU_ARG', 'ERR_GRU_ARG', 'ERR_GRU_ARG']);
      assert.equal(t.slotsAfterBad, 0);
    });

    it('a restored table hands out the handles it was given, in order, then new slots', () => {
      const t = got().table;
      assert.deepEqual(t.made, [(5 * MiB) | 2, ((2047 * MiB) | 1) >>> 0, 3]);
    });

    it('handlesSave refuses while an object is live, handlesRestore once a handle was made (ERR_GRU_STATE)', () => {
      assert.deepEqual(got().table.whileLive, {
        live: 3,
        save: 'ERR_GRU_STATE',
        restore: 'ERR_GRU_STATE',
      });
    });

    it('handlesSave: the next handle of each slot in the order of reuse; ERR_GRU_SHAPE for a wrong length', () => {
      const t = got().table;
      assert.equal(t.liveAfter, 0);
      assert.equal(t.wrongLength, 'ERR_GRU_SHAPE');
      // Destroyed b (slot 1), a (slot 2), c (slot 3): each a generation on; 2047 + 1 is 2048.
      assert.deepEqual(t.next, [((2048 * MiB) | 1) >>> 0, (6 * MiB) | 2, MiB | 3]);
      assert.equal(t.staleRefused, 'ERR_GRU_DISPOSED');
    });

    if (entry.name === 'native') return;

    const renewal = () => {
      const r = got().renewal;
      assert.ok(r, 'a wasm backend reports wasmMemoryBytes()');
      return r;
    };

    it('dropped layers: wasm memory back within 10 % of its start after a collection', () => {
      const r = renewal();
      assert.ok(r.peak2 > 1.1 * r.start, `the layers grew the memory (${mib(r.peak2)})`);
      assert.ok(
        r.afterDropped <= 1.1 * r.start,
        `wasm memory ${mib(r.start)} -> ${mib(r.afterDropped)} after the layers were collected`,
      );
      assert.equal(r.allocatedAfter, r.allocatedStart, "the core's allocated bytes");
    });

    it('no renewal while an object is live: it keeps working; its dispose() renews', () => {
      const r = renewal();
      assert.equal(r.whileKept.live, 1);
      assert.equal(r.whileKept.memory, r.peak, 'memory kept while a layer lives');
      assert.ok(r.whileKept.sameOutput, 'the kept layer computes as before');
      assert.ok(r.afterKeptDisposed <= 1.1 * r.start, mib(r.afterKeptDisposed));
    });

    it('memory grown by a failed call: no renewal until a call succeeds (the error stays readable)', () => {
      const r = renewal();
      assert.equal(r.failedCode, 'ERR_GRU_SHAPE');
      assert.ok(r.afterFailure.memory > 1.1 * r.start, mib(r.afterFailure.memory));
      assert.ok(r.afterFailure.lastErrorKept, 'lastError() after the failure');
      assert.ok(r.afterSuccess <= 1.1 * r.start, mib(r.afterSuccess));
    });

    it('after renewals: stale handles refused (ERR_GRU_DISPOSED) and never handed out again', () => {
      const { stale } = renewal();
      assert.equal(stale.layer, 'ERR_GRU_DISPOSED');
      assert.deepEqual(stale.handles, ['ERR_GRU_DISPOSED']);
      assert.ok(stale.count > 2000, `${stale.count} stale handles`);
      assert.equal(stale.reused, 0, 'stale handles handed out to new objects');
    });

    it('after renewals: a new layer computes bitwise as one made before; the ISA carried over', () => {
      const r = renewal();
      assert.ok(r.fresh.sameOutput);
      assert.equal(r.fresh.isa, r.isa);
      if (entry.name === 'wasm-simd') assert.notEqual(r.isa, r.defaultIsa, 'a non-default ISA');
    });
  });
}
