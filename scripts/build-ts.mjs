// Builds the JavaScript the package ships:
//   dist/esm/   ES modules + .d.ts from tsc (one file per source module)
//   dist/cjs/index.cjs   one CommonJS bundle for require(), made by esbuild from ts/index.ts.
//   dist/bench/  the benchmark suite's run.mjs and worker.mjs (esbuild), for `gru-simd bench`;
//                dist/esm/cli/main.js is the `gru-simd` command (package.json "bin").
//   dist/wasm/   a copy of wasm/*.wasm: the browser build finds the modules beside itself, by
//                new URL('../../wasm/…', import.meta.url) from dist/esm/backends/ (Node reads
//                the package's own wasm/ instead).
// In the CommonJS bundle import.meta.url does not exist; it is defined as the bundle's own
// file URL, so the package root (and wasm/, build/) is found the same way as from dist/esm.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

// A second build from the same inputs is skipped: `npm test` builds dist/ for the browser test,
// then the package test's `npm pack` runs prepack, which builds it again. The sha256 of every
// input (the sources under ts/ and bench/, the wasm modules, this script, the tsconfigs,
// package.json and the lock file) and of what dist/ held after the build is kept in
// .cache/build-ts.json; when both still match, dist/ is byte for byte what a build would write.
const STAMP = '.cache/build-ts.json';
const INPUTS = [
  'ts',
  'bench',
  'wasm',
  'scripts/build-ts.mjs',
  'tsconfig.json',
  'tsconfig.build.json',
  'package.json',
  'package-lock.json',
];
/** sha256 over the files under `paths` (sorted relative names and contents), less `skip`. */
function hashFiles(paths, skip = /^bench\/results\//) {
  const files = [];
  const walk = (p) => {
    if (skip.test(p) || !existsSync(p)) return;
    if (statSync(p).isDirectory()) for (const f of readdirSync(p)) walk(join(p, f));
    else files.push(p);
  };
  paths.forEach(walk);
  const hash = createHash('sha256');
  for (const f of files.sort()) hash.update(`${f}\0${statSync(f).size}\0`).update(readFileSync(f));
  return hash.digest('hex');
}
const inputs = hashFiles(INPUTS);
const stamp = existsSync(STAMP) ? JSON.parse(readFileSync(STAMP, 'utf8')) : {};
if (stamp.inputs === inputs && existsSync('dist') && stamp.dist === hashFiles(['dist'])) {
  console.log(`build-ts: dist/ is current (inputs unchanged since its build, ${STAMP})`);
  process.exit(0);
}
rmSync(STAMP, { force: true });

rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
  stdio: 'inherit',
});

mkdirSync('dist/cjs', { recursive: true });
await build({
  entryPoints: ['ts/index.ts'],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node18',
  outfile: 'dist/cjs/index.cjs',
  // import.meta.resolve (ts/formats/keras-h5.ts: a fresh h5wasm after a trap) has no CommonJS
  // counterpart: undefined there, the code keeps its one instance.
  define: { 'import.meta.url': '__gru_simd_module_url', 'import.meta.resolve': 'undefined' },
  // The modules that use import.meta.url live in dist/esm/backends/ and find the wasm files at
  // ../../wasm/ (= dist/wasm/); the bundle stands in for a module at the same depth.
  banner: {
    js: "const __gru_simd_module_url = require('node:url').pathToFileURL(require('node:path').join(__dirname, 'backends', 'index.cjs')).href;",
  },
  logLevel: 'warning',
  // h5wasm (HDF5 for Keras files, ts/formats/keras-h5.ts) is ESM with a 4 MB embedded module:
  // left out of the bundle, its import() stays a dynamic import, which require() users load on
  // their first Keras file only.
  external: ['h5wasm'],
});
// Types for require(): the ESM declarations describe the same API.
writeFileSync('dist/cjs/index.d.cts', "export * from '../esm/index.js';\n");

// `gru-simd bench` (ts/cli/bench.ts): the benchmark suite's runner and worker as two bundles,
// importing the library from dist/esm (so one copy of it) and the peers (onnxruntime, tfjs) from
// wherever the user installed them; bench/tools/ holds the peak-measuring programs.
const libraryFromDist = {
  name: 'gru-simd-library-from-dist',
  setup(b) {
    b.onResolve({ filter: /(^|\/)ts\/.*\.js$/ }, (args) => ({
      path: `../esm/${/(?:^|\/)ts\/(.*)\.js$/.exec(args.path)[1]}.js`,
      external: true,
    }));
  },
};
await build({
  entryPoints: { run: 'bench/run.ts', worker: 'bench/worker.ts' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node18',
  outdir: 'dist/bench',
  outExtension: { '.js': '.mjs' },
  external: ['onnxruntime-node', 'onnxruntime-web', '@tensorflow/*'],
  plugins: [libraryFromDist],
  // benchmark.js (bundled) calls require(); an ES module has none of its own.
  banner: {
    js: "import { createRequire as __gruSimdRequire } from 'node:module'; const require = __gruSimdRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
mkdirSync('dist/bench/tools', { recursive: true });
// Only the peak programs (C/C++ sources and their .wasm): the .ts tools run from the repository.
for (const f of readdirSync('bench/tools').filter((f) => /\.(c|cpp|wasm)$/.test(f)))
  copyFileSync(`bench/tools/${f}`, `dist/bench/tools/${f}`);
chmodSync('dist/esm/cli/main.js', 0o755);

mkdirSync('dist/wasm', { recursive: true });
const modules = readdirSync('wasm').filter((f) => f.endsWith('.wasm'));
if (modules.length === 0)
  throw new Error('build-ts: no wasm/*.wasm to copy (run npm run build:wasm)');
for (const f of modules) copyFileSync(`wasm/${f}`, `dist/wasm/${f}`);
console.log(
  `build-ts: dist/esm (tsc), dist/cjs/index.cjs (esbuild), dist/wasm (${modules.join(', ')})`,
);
mkdirSync('.cache', { recursive: true });
writeFileSync(STAMP, JSON.stringify({ inputs, dist: hashFiles(['dist']) }) + '\n');
