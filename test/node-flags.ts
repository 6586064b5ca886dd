import { spawnSync } from 'node:child_process';
/**
 * The Node flags a child process of the tests gets so that it can run every backend this
 * process runs: --experimental-wasm-relaxed-simd (wasm-relaxed in Node 20) when this process
 * has it (.mocharc.json passes it to mocha). Copied from this process rather than always
 * passed, so a Node that no longer knows the flag (relaxed SIMD on by default) is not handed it.
 */
export const CHILD_NODE_FLAGS: readonly string[] = process.execArgv.filter(
  (a) => a === '--experimental-wasm-relaxed-simd',
);

/**
 * Runs `child` (a TypeScript file) for one backend in a fresh Node with --expose-gc (a fresh
 * handle table, a collector the child can call) and reads its report: the last line it
 * prints, as JSON. A child that crashes, hangs past `timeoutMs` or prints no JSON gives a
 * failure message with its exit and the end of its stderr instead.
 */
export function childReport<R>(
  root: string,
  child: string,
  backend: string,
  timeoutMs: number,
): { report: R | null; failure: string } {
  const r = spawnSync(
    process.execPath,
    [...CHILD_NODE_FLAGS, '--expose-gc', '--import', 'tsx', child, backend],
    { cwd: root, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' },
  );
  try {
    return { report: JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as R, failure: '' };
  } catch {
    return {
      report: null,
      failure: `child exited ${r.status} ${r.signal ?? ''}: ${r.stderr.slice(-2000)}`,
    };
  }
}
