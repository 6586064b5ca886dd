#!/usr/bin/env node
// The package's "install" script: build the native addon with cmake-js into
// build/Release/gru_simd.node. The addon is an optimisation, never a requirement: if it cannot
// be built here (no compiler, no cmake, an unknown platform, sources not shipped), print one
// message saying why and that gru-simd falls back to WebAssembly, and exit 0 so that
// `npm install` never fails because of it.
//
// GRU_SIMD_SKIP_NATIVE=1 skips the build (wasm only).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const addon = join(root, 'build', 'Release', 'gru_simd.node');
const log = join(root, 'build', 'install-native.log');

function unavailable(why) {
  console.warn(
    `gru-simd: native addon unavailable (${why}); gru-simd will use its WebAssembly backend.`,
  );
  process.exit(0);
}

if (process.env.GRU_SIMD_SKIP_NATIVE && process.env.GRU_SIMD_SKIP_NATIVE !== '0') {
  unavailable('GRU_SIMD_SKIP_NATIVE is set');
}
if (!existsSync(join(root, 'CMakeLists.txt')) || !existsSync(join(root, 'native', 'core'))) {
  unavailable('the native sources are not in this package');
}

let cmakeJs;
try {
  cmakeJs = createRequire(join(root, 'package.json')).resolve('cmake-js/bin/cmake-js');
} catch {
  unavailable('the cmake-js package is not installed');
}
const cmake = spawnSync('cmake', ['--version'], { encoding: 'utf8' });
if (cmake.error || cmake.status !== 0) unavailable('cmake was not found on PATH');

const started = Date.now();
const build = spawnSync(process.execPath, [cmakeJs, 'compile', '--out', 'build'], {
  cwd: root,
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024,
});
const output = `${build.stdout ?? ''}${build.stderr ?? ''}`;
try {
  mkdirSync(dirname(log), { recursive: true });
  writeFileSync(log, output);
} catch {
  // The log is a convenience; a read-only tree must not fail the install.
}

if (build.error || build.status !== 0 || !existsSync(addon)) {
  // The first line that says what went wrong: a compiler's "file:line: error: ...", else
  // cmake's or cmake-js's "... not found" / "No CMAKE_CXX_COMPILER could be found".
  const lines = output.split('\n').map((line) => line.trim());
  const pick = (re) => lines.find((line) => re.test(line));
  const reason = (
    pick(/\berror:/i) ??
    pick(/not found|not available|could not|no cmake_cxx_compiler|unsupported/i) ??
    pick(/\bERR!|\bERROR\b|CMake Error/) ??
    (build.error ? build.error.message : `cmake-js exited with status ${build.status}`)
  ).replace(/^(ERROR OMG|ERR!)\s*/, '');
  unavailable(`build failed: ${reason.slice(0, 300)}; full log in ${relative(root, log)}`);
}

// A module that links but does not load (a missing runtime library) is no better than none.
const load = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(addon)})`], {
  encoding: 'utf8',
});
if (load.status !== 0) {
  const first = (load.stderr || '').split('\n').find((l) => /error/i.test(l)) ?? 'unknown error';
  unavailable(`the built addon does not load: ${first.trim().slice(0, 300)}`);
}
const seconds = ((Date.now() - started) / 1000).toFixed(1);
console.log(`gru-simd: native addon built in ${seconds} s: ${relative(root, addon)}`);
