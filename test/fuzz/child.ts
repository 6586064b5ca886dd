/**
 * A child process of the fuzzer: runs calls [start, start + count) on one backend and writes
 * one line per call to the log file (synchronously, so a crash loses nothing):
 *
 *   B                          ready (backend loaded, canary made)
 *   S <i> <json>               call i starts: { op, args } (what a crash report shows)
 *   R <i> <class> <code> <ms>  call i's outcome
 *   D <i> <json>               details of a bug: { op, args, detail }
 *   X <i>                      the child stops after call i (trap, corruption, hung promise)
 *   F <json>                   the fuzzer itself failed (a generator threw): the run stops
 *   E <json>                   end: { leak, leakAfterGc } bytes the backend still holds once
 *                              everything made was disposed (and after a GC)
 *
 * Run by the parent (parent.ts) as: node --expose-gc --import tsx test/fuzz/child.ts '<json>'.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { init, loadBackend } from '../../ts/index.js';
import type { BackendName } from '../../ts/backends/backend.js';
import type { Ctx } from './call.js';
import { ALL_OPS } from './ops.js';
import { Pool } from './pool.js';
import { Rng } from './rng.js';
import { BUG_CLASSES, Canary, Runner } from './runner.js';

export interface ChildOptions {
  seed: number;
  backend: BackendName;
  start: number;
  count: number;
  log: string;
  canaryEvery: number;
  /** Write the details of every call (not only bugs): for reproducing one. */
  verbose: boolean;
}

const o = JSON.parse(process.argv[2] ?? '{}') as ChildOptions;
const fd = openSync(o.log, 'a');
const write = (line: string): void => {
  writeSync(fd, line + '\n');
};

await init({ backend: o.backend, quiet: true });
const backend = await loadBackend(o.backend);
const other = await loadBackend(o.backend === 'wasm' ? 'wasm-simd' : 'wasm');
const [threads, isa] = [backend.threads(), backend.isa()];
const canary = new Canary(backend);
const pool = new Pool(backend);
const ctx: Ctx = { rng: new Rng(o.seed), backend, other, pool, hostile: 0 };
const runner = new Runner(ctx, { seed: o.seed, ops: ALL_OPS, canaryEvery: o.canaryEvery }, canary);
write('B');

try {
  for (let i = o.start; i < o.start + o.count; i++) {
    const r = await runner.run(i, o.backend, (op, args) =>
      write(`S ${i} ${JSON.stringify({ op, args })}`),
    );
    write(`R ${i} ${r.cls} ${r.code ?? '-'} ${r.ms.toFixed(3)}`);
    if (o.verbose || BUG_CLASSES.includes(r.cls))
      write(
        `D ${i} ${JSON.stringify({ op: r.op, args: r.args, detail: r.detail ?? r.code ?? r.cls })}`,
      );
    if (r.stop) {
      write(`X ${i}`);
      break;
    }
  }
} catch (e) {
  // A bug of the fuzzer itself (a generator that throws): stop the whole run, loudly.
  write(`F ${JSON.stringify(e instanceof Error ? (e.stack ?? e.message) : String(e))}`);
  process.exit(2);
}

let end: Record<string, number | string>;
try {
  pool.disposeAll();
  // The thread pool's own memory follows its size (setThreads): back to the start's.
  backend.setThreads(threads);
  backend.setIsa(isa);
  const leak = runner.leftover();
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let k = 0; k < 2; k++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  end = { leak, leakAfterGc: runner.leftover() };
} catch (e) {
  end = { error: String(e).slice(0, 200) }; // after a trap the module may be unusable
}
write(`E ${JSON.stringify(end)}`);
closeSync(fd);
process.exit(0);
