#!/usr/bin/env node
// `npm run test:kernels`: the per-kernel tests (test/kernels). Configures build-kernels/ with
// plain CMake and -DGRU_KERNEL_TESTS=ON (the cmake-js build of the addon in build/ is never
// touched), builds only the gru_kernel_tests target, and runs it: every KernelTable function on
// every ISA table compiled in and runnable on this CPU, against float64 references.
//
// The output ends with `N passed, N failed` (the program's own last line). With env
// GRU_TEST_COUNTS set, { "passed": N, "failed": N, "skipped": 0 } is written there (by the
// program; by this script when the build fails or the program dies before writing it, the
// failure then counted as one). Exit code non-zero on any failure.
// Extra arguments go to the program: `npm run test:kernels -- gemm_strided` runs only the tests
// whose "kernel: variant" contains that text.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = join(root, 'build-kernels');
const exe = join(buildDir, process.platform === 'win32' ? 'gru_kernel_tests.exe' : 'gru_kernel_tests');
const countsFile = process.env.GRU_TEST_COUNTS;

function finish(passed, failed, message) {
  if (message) console.error(`test-kernels: ${message}`);
  if (countsFile) writeFileSync(countsFile, JSON.stringify({ passed, failed, skipped: 0 }) + '\n');
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}

// Runs a command; `quiet` keeps its output unless it fails.
function run(cmd, args, quiet = false) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: quiet ? 'pipe' : 'inherit', encoding: 'utf8' });
  if (r.error) return r.error.message;
  const failed = r.signal || r.status !== 0;
  if (quiet && failed) process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}`);
  if (r.signal) return `${cmd} killed by ${r.signal}`;
  return r.status === 0 ? null : `${cmd} ${args[0]} exited with ${r.status}`;
}

const started = Date.now();
// Configured every time (well under a second; picks up CMakeLists.txt changes and keeps the
// option on whatever configured the directory before); Ninja for a new directory when present.
// Two jobs at most: the machine may be shared.
const fresh = !existsSync(join(buildDir, 'CMakeCache.txt'));
const ninja = fresh && spawnSync('ninja', ['--version'], { stdio: 'ignore' }).status === 0;
const configureError = run('cmake', [
  '-S', root, '-B', buildDir, ...(ninja ? ['-G', 'Ninja'] : []),
  '-DCMAKE_BUILD_TYPE=Release', '-DGRU_KERNEL_TESTS=ON',
], true);
if (configureError) finish(0, 1, `configuring build-kernels/ failed: ${configureError}`);
const buildError = run('cmake', ['--build', buildDir, '--target', 'gru_kernel_tests', '--parallel', '2']);
if (buildError || !existsSync(exe)) finish(0, 1, `building gru_kernel_tests failed: ${buildError ?? 'no executable'}`);
console.log(`test-kernels: build-kernels/gru_kernel_tests built in ${((Date.now() - started) / 1000).toFixed(1)} s`);

// The program writes the counts; a private file tells this script whether it got that far.
const dir = mkdtempSync(join(tmpdir(), 'gru-kernel-counts-'));
const ownCounts = join(dir, 'counts.json');
const r = spawnSync(exe, process.argv.slice(2), {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, GRU_TEST_COUNTS: ownCounts },
});
let counts = null;
try {
  counts = JSON.parse(readFileSync(ownCounts, 'utf8'));
} catch {
  counts = null;
}
rmSync(dir, { recursive: true, force: true });
if (!counts) {
  const how = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit code ${r.status}`;
  finish(0, 1, `gru_kernel_tests ended before its summary (${how})`);
}
if (countsFile) writeFileSync(countsFile, JSON.stringify(counts) + '\n');
// A non-zero exit with no failed test counted (cannot happen today) still fails the step.
process.exit(r.status === 0 && counts.failed === 0 ? 0 : 1);
