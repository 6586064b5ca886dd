/**
 * The FinalizationRegistry safety net of ts/layer.ts, on every backend, in a child process with
 * --expose-gc (test/layer-lifetime/child.ts): layers dropped without dispose() are destroyed
 * after a collection, whether fewer or more than the 64 that may wait to be registered; and
 * create/forward/dispose cycles leave V8's heap where it was (a layer registered at creation
 * was kept through young-generation collections even after dispose: the heap grew ~11 MB over
 * these 30,000 cycles before layers waited to be registered).
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { LOADED } from './backends.js';
import { childReport } from './node-flags.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHILD = fileURLToPath(new URL('./layer-lifetime/child.ts', import.meta.url));

interface Report {
  heapGrowth: number;
  dropped: { before: number; alive: number; after: number }[];
}

for (const entry of LOADED) {
  describe(`layer lifetime [${entry.name}]`, () => {
    let report: Report | null = null;
    let failure = '';
    before(function () {
      this.timeout(90000);
      if (!entry.backend) return;
      ({ report, failure } = childReport<Report>(ROOT, CHILD, entry.name, 80000));
    });

    const got = (): Report => {
      assert.ok(entry.backend, `backend ${entry.name} did not load (see the main suite)`);
      assert.ok(report, failure);
      return report;
    };

    for (const [i, n] of [10, 200].entries()) {
      it(`${n} GRUs dropped without dispose() are destroyed after a collection`, () => {
        const d = got().dropped[i]!;
        assert.ok(d.alive > d.before, `the layers held nothing in the core (${d.alive} bytes)`);
        assert.equal(d.after, d.before, 'bytes the core still holds after the collection');
      });
    }

    it('30,000 create/forward/dispose cycles leave the V8 heap where it was (< 4 MiB)', () => {
      const growth = got().heapGrowth;
      assert.ok(growth < 4 * 2 ** 20, `heapTotal grew ${(growth / 2 ** 20).toFixed(1)} MiB`);
    });
  });
}
