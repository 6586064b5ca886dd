#!/usr/bin/env node
// `npm test`: the one command that gates a change. Builds the addon, then runs two lanes side
// by side, stopping after the first failure: the mocha suite on every backend, the suite on the
// sanitizer build and the per-kernel C++ tests (test/kernels) in one; in the other the sanitizer
// and node-gyp builds, a subset of the suite on the node-gyp build, build:ts, lint, type-check,
// the NEON cross-compile check, the wasm reproducibility check (when emcc, clang-19 and
// wasm-ld-19 are installed; in CI, env CI=true, a missing one is a failure), the browser test
// (headless Chromium) and the npm package test (pack, install, use). `plan` below is that order.
//
// Each step gets env GRU_TEST_COUNTS=<file>; a mocha run (test/reporter.cjs) writes its
// { passed, failed, skipped } there and those counts are added up. A step that writes no
// counts (a build, lint, ...) counts as one check: passed, failed or skipped. Steps after a
// failure are listed as not run and not counted. The output ends with a
// per-step summary and, as the very last line, `N passed, N failed` (`, N skipped` if any).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
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

/**
 * CPU seconds (user + sys) of the child processes this process has waited for so far, all of
 * their descendants included (Linux: cutime and cstime of /proc/self/stat, in USER_HZ = 1/100
 * s); null elsewhere. Read as each step's process ends, the difference is that step's CPU.
 */
function reapedCpuSeconds() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // from field 3 (state)
    return (Number(fields[16 - 3]) + Number(fields[17 - 3])) / 100;
  } catch {
    return null;
  }
}
let lastReaped = null;

/** Each step: a name and how to run it, or why it is skipped / failed before it runs. */
const build = { name: 'build:native', script: 'build:native' };
// Each KernelTable function on every ISA this CPU runs, against float64 (test/kernels): an
// edge bug fails here as the kernel, before the layer suites.
const kernels = { name: 'test:kernels', script: 'test:kernels' };
const buildTs = {
  name: 'build:ts',
  script: 'build:ts',
  skip: existsSync(join(root, 'scripts', 'build-ts.mjs'))
    ? null
    : 'scripts/build-ts.mjs does not exist',
};
const lint = { name: 'lint', script: 'lint' };
const typecheck = { name: 'typecheck', script: 'typecheck' };
// All backends, whatever GRU_SIMD_BACKENDS the caller has set.
const mocha = {
  name: 'mocha (all backends)',
  script: 'test:unit',
  unsetEnv: ['GRU_SIMD_BACKENDS'],
};
// gru-simd in headless Chromium (test/browser.test.ts): a missing Chromium fails in CI.
const browser = { name: 'browser (chromium)', script: 'test:browser' };
const neon = { name: 'check:neon', script: 'check:neon' };
const buildGyp = { name: 'build:gyp', script: 'build:gyp' };
const testGyp = { name: 'test:gyp', script: 'test:gyp' };
const buildAsan = { name: 'build:asan', script: 'build:asan' };
const testAsan = { name: 'test:asan', script: 'test:asan' };
const wasm = (() => {
  const missing = missingWasmTools();
  if (missing === null) return { name: 'check:wasm', script: 'check:wasm' };
  if (inCI)
    return {
      name: 'check:wasm',
      fail: `${missing} (required in CI: apt-get install -y emscripten clang-19 lld-19)`,
    };
  return { name: 'check:wasm', script: 'check:wasm', skip: `${missing} (not CI)` };
})();
// npm pack (prepack: dist + the prebuilt addon), installed offline into fresh projects
// (test/package/package.e2e.ts): ESM, CJS, types, --ignore-scripts, no compiler, Vite.
const pack = { name: 'test:package', script: 'test:package' };

// The order: the addon build, then two lanes side by side for the rest of the run, each lane's
// steps in turn. The machine has 2 cores and most test steps keep one busy (JavaScript), so the
// builds and the mostly single-threaded checks run in the second lane beside the suites in the
// first. The second lane runs at a lower priority (nice 10) so the first, whose tests measure
// thread behaviour, keeps its core. A step with `after` waits for those steps of the other lane
// (a suite for its build); one lane each for the whole run, rather than groups that each wait
// for their slowest lane, keeps both cores busy. Keep the lanes about equally long (CONTRIBUTING.md
// lists each step's CPU seconds): move a step when one grows. The first lane's output streams; a
// second-lane step's output is printed whole once it ends, between two first-lane steps.
testAsan.after = [buildAsan];
// The browser test loads dist/; the package test's prepack rebuilds dist/ (so after the browser).
// The browser test runs early in the second lane so that the package test can end the first.
browser.after = [buildTs];
pack.after = [browser];
const plan = [
  build,
  {
    lanes: [
      [mocha, testAsan, kernels, pack],
      [buildAsan, buildTs, browser, buildGyp, testGyp, lint, typecheck, neon, wasm],
    ],
  },
];
const steps = plan.flatMap((entry) => (entry.lanes ? entry.lanes.flat() : [entry]));

const results = new Map();
let stopped = false;
// Whether each step passed, for the steps that wait on it: resolved when it ends, or false when
// its lane stops before it.
const outcome = new Map(
  steps.map((step) => {
    let settle;
    const passed = new Promise((resolve) => (settle = resolve));
    return [step, { passed, settle }];
  }),
);

/** Runs one step (in lane `lane`; 0 streams its output) and records its result. */
async function runStep(step, lane, log) {
  const i = steps.indexOf(step);
  if (step.skip) {
    results.set(step, { name: step.name, status: 'skipped', note: step.skip });
    return true;
  }
  log(`\n=== npm test [${i + 1}/${steps.length}] ${step.name} ===\n\n`);
  if (step.fail) {
    log(`${step.name}: ${step.fail}\n`);
    results.set(step, { name: step.name, status: 'FAILED', note: step.fail, counts: null });
    return false;
  }
  const countsFile = join(countsDir, `step-${i}.json`);
  const started = Date.now();
  const env = { ...process.env, GRU_TEST_COUNTS: countsFile };
  for (const k of step.unsetEnv ?? []) delete env[k];
  const child = spawn(npm, ['run', '--silent', step.script], {
    cwd: root,
    stdio: lane === 0 ? 'inherit' : ['ignore', 'pipe', 'pipe'],
    env,
  });
  if (lane !== 0) {
    try {
      setPriority(child.pid, 10);
    } catch {
      // Not permitted here: the lane runs at normal priority.
    }
    child.stdout.on('data', (d) => log(d));
    child.stderr.on('data', (d) => log(d));
  }
  let cpu = null;
  const r = await new Promise((done) => {
    child.on('error', (error) => done({ error }));
    child.on('exit', () => {
      // The step's process was just waited for: what the reaped CPU grew by since the last
      // step ended is its own (two steps ending in the same tick would share one figure).
      const now = reapedCpuSeconds();
      if (now !== null && lastReaped !== null) cpu = now - lastReaped;
      lastReaped = now;
    });
    child.on('close', (status, signal) => done({ status, signal }));
  });
  const seconds = (Date.now() - started) / 1000;
  let counts = null;
  if (existsSync(countsFile)) {
    try {
      counts = JSON.parse(readFileSync(countsFile, 'utf8'));
    } catch {
      counts = null;
    }
  }
  const ok = !r.error && r.status === 0 && !r.signal && (!counts || counts.failed === 0);
  let note = '';
  if (r.error) note = String(r.error.message);
  else if (r.signal) note = `killed by ${r.signal}`;
  else if (r.status !== 0) note = `exit code ${r.status}`;
  if (lane !== 0) note = note ? `${note}; side by side` : 'side by side';
  results.set(step, { name: step.name, status: ok ? 'ok' : 'FAILED', note, counts, seconds, cpu });
  return ok;
}

// Second-lane output waiting for the first lane to be between steps.
let firstLaneBusy = false;
const held = [];
function printHeld() {
  if (firstLaneBusy) return;
  for (const chunks of held.splice(0)) process.stdout.write(chunks.map(String).join(''));
}

/** Runs a lane's steps in turn (lane 0 streams its output); false once one fails. */
async function runLane(lane, l) {
  for (const [k, step] of lane.entries()) {
    // A step waits for its `after` steps; one of them failing (or never run) stops the lane.
    const deps = await Promise.all((step.after ?? []).map((d) => outcome.get(d).passed));
    let ok = false;
    if (!stopped && !deps.includes(false)) {
      if (l === 0) {
        firstLaneBusy = true;
        ok = await runStep(step, 0, (text) => process.stdout.write(text));
        firstLaneBusy = false;
      } else {
        const chunks = [];
        ok = await runStep(step, l, (text) => chunks.push(text));
        held.push(chunks);
      }
      printHeld();
    }
    outcome.get(step).settle(ok);
    if (!ok) {
      stopped = true;
      for (const rest of lane.slice(k + 1)) outcome.get(rest).settle(false);
      return false;
    }
  }
  return true;
}

lastReaped = reapedCpuSeconds(); // the tool checks above are no step's
for (const entry of plan) {
  if (stopped) break;
  if (!entry.lanes) {
    stopped = !(await runStep(entry, 0, (text) => process.stdout.write(text)));
    continue;
  }
  const names = entry.lanes.map((lane) => lane.map((st) => st.name).join(', '));
  console.log(`\n=== npm test: side by side: ${names.join(' | ')} ===`);
  await Promise.all(entry.lanes.map((lane, l) => runLane(lane, l)));
}
rmSync(countsDir, { recursive: true, force: true });
const ordered = steps.map((step) => results.get(step) ?? { name: step.name, status: 'not run' });

// Totals: mocha counts where a step wrote them, else the step itself as one check. A step that
// failed while its counts show no failure (a crash after the run, a sanitizer report) adds one.
const total = { passed: 0, failed: 0, skipped: 0 };
for (const res of ordered) {
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
for (const res of ordered) {
  const c = res.counts
    ? ` (${res.counts.passed} passed, ${res.counts.failed} failed${res.counts.skipped ? `, ${res.counts.skipped} skipped` : ''})`
    : '';
  const cpu = res.cpu !== undefined && res.cpu !== null ? ` (${res.cpu.toFixed(1)}s CPU)` : '';
  const t = res.seconds !== undefined ? ` ${res.seconds.toFixed(1)}s${cpu}` : '';
  const note = res.note ? ` - ${res.note}` : '';
  console.log(`  ${res.status.padEnd(8)} ${res.name}${c}${t}${note}`);
}
const anyFailed = ordered.some((r) => r.status === 'FAILED');
let last = `${total.passed} passed, ${total.failed} failed`;
if (total.skipped > 0) last += `, ${total.skipped} skipped`;
console.log(last);
process.exit(anyFailed || total.failed > 0 ? 1 : 0);
