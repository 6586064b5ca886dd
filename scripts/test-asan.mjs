#!/usr/bin/env node
// Runs the mocha suite against the sanitizer build of the addon (scripts/build-asan.mjs,
// rebuilt here first: a no-op when up to date) with only the native backend.
//
// Node itself is not instrumented, so gcc's ASan runtime must be loaded before anything else:
// LD_PRELOAD=$(gcc -print-file-name=libasan.so). Leak detection is off (Node's own heap is
// never freed at exit); UBSan halts on the first report. Any sanitizer report fails the run,
// even one printed by a process that still exits 0: stderr is scanned for reports.
// Extra arguments are passed to mocha; the files it runs are
// chosen by scripts/native-build-suite.mjs (`--all` first: every file).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suiteArgs } from './native-build-suite.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const addon = join(root, 'build-asan', 'Release', 'gru_simd.node');

function fail(message) {
  console.error(`test-asan: ${message}`);
  process.exit(1);
}

const build = spawnSync(process.execPath, [join(root, 'scripts', 'build-asan.mjs')], {
  cwd: root,
  stdio: 'inherit',
});
if (build.status !== 0) fail('the sanitizer build failed');

const cc = process.env.CC || 'gcc';
const lib = spawnSync(cc, ['-print-file-name=libasan.so'], { encoding: 'utf8' });
const libasan = (lib.stdout || '').trim();
if (lib.status !== 0 || !libasan.startsWith('/') || !existsSync(libasan)) {
  fail(`gcc's libasan.so not found (${cc} -print-file-name=libasan.so gave "${libasan}")`);
}

const mocha = createRequire(join(root, 'package.json')).resolve('mocha/bin/mocha.js');
const env = {
  ...process.env,
  GRU_SIMD_ADDON: addon,
  GRU_SIMD_BACKENDS: 'native',
  LD_PRELOAD: [libasan, process.env.LD_PRELOAD].filter(Boolean).join(':'),
  ASAN_OPTIONS: 'detect_leaks=0',
  UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
  // Per-case time bounds allow for the instrumented allocator (test/util.ts FUZZ_CASE_MS).
  GRU_TEST_SANITIZED: '1',
};
console.log(`test-asan: GRU_SIMD_ADDON=${addon} LD_PRELOAD=${libasan}`);

// Sanitizer reports start with one of these (ASan, UBSan, LSan).
const report =
  /ERROR: AddressSanitizer|runtime error:|SUMMARY: (Address|UndefinedBehavior)Sanitizer|ERROR: LeakSanitizer/;
let reported = false;
let tail = '';
const child = spawn(process.execPath, [mocha, ...suiteArgs('asan', process.argv.slice(2))], {
  cwd: root,
  env,
  stdio: ['inherit', 'inherit', 'pipe'],
});
child.stderr.on('data', (chunk) => {
  process.stderr.write(chunk);
  // Keep a little of the previous chunk so a marker split across chunks is still seen.
  const text = tail + chunk.toString('utf8');
  if (report.test(text)) reported = true;
  tail = text.slice(-64);
});
child.on('close', (code, signal) => {
  if (reported) fail('a sanitizer reported an error (see above)');
  if (signal) fail(`mocha was killed by ${signal}`);
  process.exit(code ?? 1);
});
