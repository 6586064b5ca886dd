#!/usr/bin/env node
// Builds the native addon with AddressSanitizer + UndefinedBehaviorSanitizer
// (-fsanitize=address,undefined -fno-omit-frame-pointer -O1 -g1, see GRU_SANITIZE in
// CMakeLists.txt) into build-asan/Release/gru_simd.node. scripts/test-asan.mjs runs the suite
// against it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cmakeJs = createRequire(join(root, 'package.json')).resolve('cmake-js/bin/cmake-js');
const started = Date.now();
const r = spawnSync(
  process.execPath,
  [cmakeJs, 'compile', '--out', 'build-asan', '--CDGRU_SANITIZE=ON', '--log-level', 'warn'],
  { cwd: root, stdio: 'inherit' },
);
const addon = join(root, 'build-asan', 'Release', 'gru_simd.node');
if (r.error || r.status !== 0 || !existsSync(addon)) {
  console.error(`build-asan: cmake-js failed (${r.error?.message ?? `status ${r.status}`})`);
  process.exit(1);
}
const seconds = ((Date.now() - started) / 1000).toFixed(1);
console.log(`build-asan: build-asan/Release/gru_simd.node (${seconds} s)`);
