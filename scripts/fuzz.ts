/**
 * The fuzzer (issue 14): seeded calls with valid and hostile arguments over every public
 * function and method and the Backend object's, on every backend, in child processes; prints
 * the outcomes per backend and class, and every distinct bug with the command that replays it.
 *
 *   npm run fuzz -- --calls 100000 --seed 1 --backends native,wasm-relaxed,wasm-simd,wasm
 *
 * Options: --calls N (per backend, default 10000), --seed S (default 1), --backends list,
 * --start I (first call index), --batch N (calls per child, default 2000), --canary-every N
 * (default 1), --stall-ms N (a child silent this long is killed: a hang; default 30000),
 * --verbose (every call's arguments and outcome). Exit code 1 if any new bug (test/fuzz/known.ts lists the known ones).
 * The design is described in test/fuzz/ (call.ts, runner.ts, parent.ts).
 */
import type { BackendName } from '../ts/backends/backend.js';
import { runFuzz } from '../test/fuzz/parent.js';
import {
  bugList,
  codeTable,
  knownList,
  leftoverList,
  newBugs,
  outcomeTable,
} from '../test/fuzz/report.js';

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && at + 1 < process.argv.length ? process.argv[at + 1]! : fallback;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

const seed = Number(option('seed', '1'));
const calls = Number(option('calls', '10000'));
const backends = option('backends', 'native,wasm-relaxed,wasm-simd,wasm').split(
  ',',
) as BackendName[];
const verbose = flag('verbose');
const t0 = performance.now();
const reports = await runFuzz({
  seed,
  calls,
  start: Number(option('start', '0')),
  backends,
  batch: Number(option('batch', '2000')),
  canaryEvery: Number(option('canary-every', '1')),
  verbose,
  stallMs: Number(option('stall-ms', '30000')),
  progress: (line) => console.error(line),
});
console.log(
  `\ngru-simd fuzz: seed ${seed}, ${calls} calls per backend, ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
);
console.log(outcomeTable(reports) + '\n');
console.log(codeTable(reports) + '\n');
if (verbose) {
  for (const r of reports.flatMap((rep) => [...rep.details, ...rep.bugs]).sort((a, b) => a.i - b.i))
    console.log(
      `#${r.i} ${r.op}: ${r.cls} ${r.code ?? ''} ${r.detail ?? ''}\n    ${(r.args ?? []).join(', ')}`,
    );
}
console.log(bugList(seed, reports));
const known = knownList(reports);
if (known) console.log('\n' + known);
const leftovers = leftoverList(reports);
if (leftovers) console.log('\n' + leftovers);
process.exit(newBugs(reports).length > 0 ? 1 : 0);
