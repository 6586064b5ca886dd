#!/usr/bin/env node
// `npm test`: the one command that gates a change. Runs, in order, stopping at the first
// failure: build the addon, the per-kernel C++ tests (test/kernels), build the TS (if
// scripts/build-ts.mjs exists), lint, type-check,
// the mocha suite on every backend, the browser test (headless Chromium), the NEON
// cross-compile check, the suite on the node-gyp build, the suite on the sanitizer build, and
// the wasm reproducibility check (when emcc, clang-19 and wasm-ld-19 are installed; in CI, env
// CI=true, a missing one is a failure), and the npm package test (pack, install, use).
//
// Each step gets env GRU_TEST_COUNTS=<file>; a mocha run (test/reporter.cjs) writes its
// { passed, failed, skipped } there and those counts are added up. A step that writes no
// counts (a build, lint, ...) counts as one check: passed, failed or skipped. Steps after a
// failure are listed as not run and not counted. The output ends with a
// per-step summary and, as the very last line, `N passed, N failed` (`, N skipped` if any).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const inCI = process.env.CI === 'true';
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const countsDir = mkdtempSync(join(tmpdir(), 'gru-test-counts-'));

function has(cmd) {
  const r = spawnSync(cmd, ['--version'], { stdio: 'ignore' });
  return r.status === 0;
}

// The wasm rebuild needs Emscripten, and clang-19 + wasm-ld-19 for the relaxed-SIMD module.
function missingWasmTools() {
  const missing = ['emcc', 'clang++-19', 'wasm-ld-19'].filter((cmd) => !has(cmd));
  return missing.length ? `${missing.join(', ')} not found` : null;
}

/** Each step: a name and how to run it, or why it is skipped / failed before it runs. */
const steps = [
  { name: 'build:native', script: 'build:native' },
  // Each KernelTable function on every ISA this CPU runs, against float64 (test/kernels): an
  // edge bug fails here as the kernel, before the layer suites.
  { name: 'test:kernels', script: 'test:kernels' },
  {
    name: 'build:ts',
    script: 'build:ts',
    skip: existsSync(join(root, 'scripts', 'build-ts.mjs'))
      ? null
      : 'scripts/build-ts.mjs does not exist',
  },
  { name: 'lint', script: 'lint' },
  { name: 'typecheck', script: 'typecheck' },
  // All backends, whatever GRU_SIMD_BACKENDS the caller has set.
  { name: 'mocha (all backends)', script: 'test:unit', unsetEnv: ['GRU_SIMD_BACKENDS'] },
  // gru-simd in headless Chromium (test/browser.test.ts): a missing Chromium fails in CI.
  { name: 'browser (chromium)', script: 'test:browser' },
  { name: 'check:neon', script: 'check:neon' },
  { name: 'build:gyp', script: 'build:gyp' },
  { name: 'test:gyp', script: 'test:gyp' },
  { name: 'build:asan', script: 'build:asan' },
  { name: 'test:asan', script: 'test:asan' },
  (() => {
    const missing = missingWasmTools();
    if (missing === null) return { name: 'check:wasm', script: 'check:wasm' };
    if (inCI)
      return {
        name: 'check:wasm',
        fail: `${missing} (required in CI: apt-get install -y emscripten clang-19 lld-19)`,
      };
    return { name: 'check:wasm', script: 'check:wasm', skip: `${missing} (not CI)` };
  })(),
  // npm pack (prepack: dist + the prebuilt addon), installed offline into fresh projects
  // (test/package/package.e2e.ts): ESM, CJS, types, --ignore-scripts, no compiler, Vite.
  { name: 'test:package', script: 'test:package' },
];

const results = [];
let stopped = false;
for (const [i, step] of steps.entries()) {
  if (stopped) {
    results.push({ name: step.name, status: 'not run' });
    continue;
  }
  if (step.skip) {
    results.push({ name: step.name, status: 'skipped', note: step.skip });
    continue;
  }
  console.log(`\n=== npm test [${i + 1}/${steps.length}] ${step.name} ===\n`);
  if (step.fail) {
    console.error(`${step.name}: ${step.fail}`);
    results.push({ name: step.name, status: 'FAILED', note: step.fail, counts: null });
    stopped = true;
    continue;
  }
  const countsFile = join(countsDir, `step-${i}.json`);
  const started = Date.now();
  const env = { ...process.env, GRU_TEST_COUNTS: countsFile };
  for (const k of step.unsetEnv ?? []) delete env[k];
  const r = spawnSync(npm, ['run', '--silent', step.script], { cwd: root, stdio: 'inherit', env });
  const seconds = (Date.now() - started) / 1000;
  let counts = null;
  if (existsSync(countsFile)) {
    try {
      counts = JSON.parse(readFileSync(countsFile, 'utf8'));
    } catch {
      counts = null;
    }
  }
  const ok = r.status === 0 && !r.signal && (!counts || counts.failed === 0);
  let note = '';
  if (r.error) note = String(r.error.message);
  else if (r.signal) note = `killed by ${r.signal}`;
  else if (r.status !== 0) note = `exit code ${r.status}`;
  results.push({ name: step.name, status: ok ? 'ok' : 'FAILED', note, counts, seconds });
  if (!ok) stopped = true;
}
rmSync(countsDir, { recursive: true, force: true });

// Totals: mocha counts where a step wrote them, else the step itself as one check. A step that
// failed while its counts show no failure (a crash after the run, a sanitizer report) adds one.
const total = { passed: 0, failed: 0, skipped: 0 };
for (const res of results) {
  if (res.status === 'not run') continue;
  if (res.status === 'skipped') {
    total.skipped += 1;
    continue;
  }
  if (res.counts) {
    total.passed += res.counts.passed ?? 0;
    total.failed += res.counts.failed ?? 0;
    total.skipped += res.counts.skipped ?? 0;
    if (res.status === 'FAILED' && !(res.counts.failed > 0)) total.failed += 1;
  } else if (res.status === 'ok') {
    total.passed += 1;
  } else {
    total.failed += 1;
  }
}

console.log('\n=== npm test summary ===');
for (const res of results) {
  const c = res.counts
    ? ` (${res.counts.passed} passed, ${res.counts.failed} failed${res.counts.skipped ? `, ${res.counts.skipped} skipped` : ''})`
    : '';
  const t = res.seconds !== undefined ? ` ${res.seconds.toFixed(1)}s` : '';
  const note = res.note ? ` - ${res.note}` : '';
  console.log(`  ${res.status.padEnd(8)} ${res.name}${c}${t}${note}`);
}
const anyFailed = results.some((r) => r.status === 'FAILED');
let last = `${total.passed} passed, ${total.failed} failed`;
if (total.skipped > 0) last += `, ${total.skipped} skipped`;
console.log(last);
process.exit(anyFailed || total.failed > 0 ? 1 : 0);
