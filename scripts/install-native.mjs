#!/usr/bin/env node
// The package's "install" script. Where the package ships a prebuilt addon for this platform
// (prebuilds/<platform>-<arch>/gru_simd.node, made by scripts/prebuild.mjs at pack time) and it
// loads here, there is nothing to do. Otherwise build the addon with cmake-js into
// build/Release/gru_simd.node. The addon is an optimisation, never a requirement: if it cannot
// be built here (no compiler, no cmake, sources not shipped), print one message saying why,
// that gru-simd falls back to WebAssembly and how to get native, and exit 0 so that
// `npm install` never fails because of it. (npm shows a dependency's install output only with
// --foreground-scripts; ts/backends/native.ts says the same at run time.)
//
// GRU_SIMD_SKIP_NATIVE=1 skips the build (wasm only, unless a prebuild ships);
// GRU_SIMD_BUILD_FROM_SOURCE=1 builds even where a prebuilt addon loads (the build then wins:
// native.ts prefers build/Release).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const addon = join(root, 'build', 'Release', 'gru_simd.node');
const log = join(root, 'build', 'install-native.log');
const target = `${process.platform}-${process.arch}`;
const prebuilt = join(root, 'prebuilds', target, 'gru_simd.node');
const isSet = (name) => !!process.env[name] && process.env[name] !== '0';

function unavailable(why, hint = true) {
  console.warn(
    `gru-simd: native addon unavailable (${why}); gru-simd will use its WebAssembly backend.` +
      (hint
        ? ' For the native backend, install a C++17 compiler and cmake, then run `npm rebuild gru-simd`' +
          ' (where npm blocks install scripts, first `npm install-scripts approve gru-simd`).'
        : ''),
  );
  process.exit(0);
}

/** Loads an addon in a child Node: null when it works, else the first line of the error. */
function loadError(file) {
  const probe = `const a = require(${JSON.stringify(file)}); if (typeof a.bind !== 'function') throw new Error('not gru_simd.node');`;
  const r = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8' });
  if (r.status === 0) return null;
  const first =
    (r.stderr || '').split('\n').find((l) => /error/i.test(l)) ?? `exit status ${r.status}`;
  return first.trim().slice(0, 300);
}

if (isSet('GRU_SIMD_SKIP_NATIVE')) unavailable('GRU_SIMD_SKIP_NATIVE is set', false);

let prebuiltNote = '';
// In the git checkout (`npm install` by a developer) a prebuild is a leftover of `npm pack`:
// build from source, as the README says.
const checkout = existsSync(join(root, '.git'));
if (existsSync(prebuilt) && !checkout && !isSet('GRU_SIMD_BUILD_FROM_SOURCE')) {
  const why = loadError(prebuilt);
  if (why === null) {
    console.log(
      `gru-simd: using the prebuilt native addon ${relative(root, prebuilt)}; nothing to build ` +
        '(GRU_SIMD_BUILD_FROM_SOURCE=1 builds it from source).',
    );
    process.exit(0);
  }
  prebuiltNote = `the prebuilt addon for ${target} does not load here (${why}); `;
  console.warn(`gru-simd: ${prebuiltNote}building from source.`);
}
if (!existsSync(join(root, 'CMakeLists.txt')) || !existsSync(join(root, 'native', 'core'))) {
  unavailable(`${prebuiltNote}the native sources are not in this package`, false);
}

let cmakeJs;
try {
  cmakeJs = createRequire(join(root, 'package.json')).resolve('cmake-js/bin/cmake-js');
} catch {
  unavailable(`${prebuiltNote}the cmake-js package is not installed`);
}
const cmake = spawnSync('cmake', ['--version'], { encoding: 'utf8' });
if (cmake.error || cmake.status !== 0) unavailable(`${prebuiltNote}cmake was not found on PATH`);

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
  unavailable(
    `${prebuiltNote}build failed: ${reason.slice(0, 300)}; full log in ${relative(root, log)}`,
  );
}

// A module that links but does not load (a missing runtime library) is no better than none.
const loadWhy = loadError(addon);
if (loadWhy !== null) unavailable(`${prebuiltNote}the built addon does not load: ${loadWhy}`);
const seconds = ((Date.now() - started) / 1000).toFixed(1);
console.log(`gru-simd: native addon built in ${seconds} s: ${relative(root, addon)}`);
