/**
 * Runs the scenarios of scenarios.ts on the native backend, one JSON line per scenario on
 * stdout (an Outcome), forcing the collector while each call is in flight. Started by
 * test/async-mutation.test.ts as `node --expose-gc --import tsx child.ts [index ...]`.
 */
import { loadBackend } from '../../ts/index.js';
import { SCENARIOS } from './scenarios.js';

export interface Outcome {
  index: number;
  resolved: boolean;
  code?: string;
  message?: string;
  right?: boolean;
  usable: boolean;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const backend = await loadBackend('native');
const picked = process.argv.slice(2).map(Number);
for (const [index, s] of SCENARIOS.entries()) {
  if (picked.length > 0 && !picked.includes(index)) continue;
  process.stderr.write(`scenario ${index}: ${s.name}\n`); // the last line names a crash's scenario
  const started = s.start(backend);
  let settled = false;
  const outcome = started.promise.then(
    () => ({ resolved: true }),
    (e: { code?: string; message?: string }) => ({
      resolved: false,
      code: e?.code,
      message: e?.message,
    }),
  );
  void outcome.then(() => (settled = true));
  // The transferred memory is garbage now: collect it while the worker may still be at work.
  while (!settled) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const o = await outcome;
  const report: Outcome = {
    index,
    ...o,
    right: o.resolved ? started.right() : undefined,
    usable: started.usable(),
  };
  console.log(JSON.stringify(report));
}
