#!/usr/bin/env node
// Runs the mocha suite against the node-gyp build of the addon (scripts/build-gyp.mjs, rebuilt
// here first: incremental) with only the native backend. Extra arguments are passed to mocha;
// the files it runs are chosen by scripts/native-build-suite.mjs (`--all` first: every file).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suiteArgs } from './native-build-suite.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const addon = join(root, 'build-gyp', 'Release', 'gru_simd.node');

const build = spawnSync(process.execPath, [join(root, 'scripts', 'build-gyp.mjs')], {
  cwd: root,
  stdio: 'inherit',
});
if (build.status !== 0) {
  console.error('test-gyp: the node-gyp build failed');
  process.exit(1);
}

const mocha = createRequire(join(root, 'package.json')).resolve('mocha/bin/mocha.js');
console.log(`test-gyp: GRU_SIMD_ADDON=${addon}`);
const r = spawnSync(process.execPath, [mocha, ...suiteArgs('gyp', process.argv.slice(2))], {
  cwd: root,
  env: { ...process.env, GRU_SIMD_ADDON: addon, GRU_SIMD_BACKENDS: 'native' },
  stdio: 'inherit',
});
if (r.signal) {
  console.error(`test-gyp: mocha was killed by ${r.signal}`);
  process.exit(1);
}
process.exit(r.status ?? 1);
