/**
 * Native: an async call whose arrays change while it is in flight never crashes. Each scenario
 * of test/async-mutation/scenarios.ts (a buffer transferred away and collected, a resizable
 * buffer shrunk, an input overwritten, aliased state arrays) runs in one child process with
 * --expose-gc, so a crash fails the scenario it happened in instead of killing the runner. An
 * input changed under the call is read as it was when the call started: the call resolves with
 * the sync call's numbers. An output that lost its memory or length rejects ERR_GRU_STATE
 * naming it, and nothing is written. Either way the object takes the next call.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LOADED } from './backends.js';
import type { Outcome } from './async-mutation/child.js';
import { SCENARIOS } from './async-mutation/scenarios.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHILD = fileURLToPath(new URL('./async-mutation/child.ts', import.meta.url));

describe('native: arrays of an async call changed while it is in flight', () => {
  const native = LOADED.find((l) => l.name === 'native');
  if (!native) return; // not selected for this run
  const outcomes = new Map<number, Outcome>();
  const died = new Map<number, string>(); // scenario -> how its child process ended

  // One child for all the scenarios; after a crash, a new one for those not run yet.
  before(function () {
    this.timeout(120000);
    if (!native.backend) return; // each test fails with the reason below
    const deadline = Date.now() + 110000; // about 5 s here; a hang is a failure, not a stuck runner
    let left = SCENARIOS.map((_, i) => i);
    while (left.length > 0 && Date.now() < deadline) {
      const r = spawnSync(
        process.execPath,
        ['--expose-gc', '--import', 'tsx', CHILD, ...left.map(String)],
        { cwd: ROOT, encoding: 'utf8', timeout: deadline - Date.now(), killSignal: 'SIGKILL' },
      );
      for (const line of r.stdout.split('\n').filter((l) => l.startsWith('{'))) {
        const o = JSON.parse(line) as Outcome;
        outcomes.set(o.index, o);
      }
      left = left.filter((i) => !outcomes.has(i));
      if (r.status === 0 || left.length === 0) break;
      const last = /^scenario (\d+):/.exec(r.stderr.trim().split('\n').pop() ?? '');
      const crashed = last ? Number(last[1]) : left[0]!;
      const how = r.signal ? `was killed by ${r.signal}` : `exited ${r.status}`;
      died.set(
        crashed,
        `the child process ${how} in it (or of an earlier one's damage); stderr: ${r.stderr.slice(-1500)}`,
      );
      left = left.filter((i) => i !== crashed);
    }
  });

  for (const [index, s] of SCENARIOS.entries()) {
    const expected = s.rejects
      ? `rejects ERR_GRU_STATE naming ${s.rejects}`
      : 'resolves with the sync numbers';
    it(`${s.name}: ${expected}`, () => {
      assert.ok(native.backend, 'the native backend did not load (see the main suite)');
      const o = outcomes.get(index);
      assert.ok(o, died.get(index) ?? 'not run: out of time');
      if (s.rejects) {
        assert.equal(o.resolved, false, 'the call resolved: an output was written that is gone');
        assert.equal(o.code, 'ERR_GRU_STATE', `${o.code}: ${o.message}`);
        assert.match(
          o.message ?? '',
          new RegExp(`: ${s.rejects} was detached or resized while the call was in flight`),
        );
      } else {
        assert.equal(o.resolved, true, `rejected ${o.code}: ${o.message}`);
        assert.equal(o.right, true, 'the results differ from the sync call on the original arrays');
      }
      assert.equal(o.usable, true, 'the object does not take a sync call afterwards');
    });
  }
});
