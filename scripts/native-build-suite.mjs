// Which mocha files the second and third builds of the addon run (scripts/test-gyp.mjs,
// scripts/test-asan.mjs). Both builds compile the same sources as the cmake-js addon, which
// the whole suite already runs on every backend; these runs exist to catch what differs
// between builds (node-gyp's flags and ISA dispatch; the sanitizers' view of every native read
// and write). Files whose work happens in TypeScript, in the wasm modules or in child processes
// add nothing there but minutes (under ASan the command-line test alone took 530 s of 1337), so
// they are left out. `--all` (first argument) runs everything.
import { readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Files neither extra build runs: TypeScript, wasm or child-process work, already run by mocha. */
const NOT_NATIVE = [
  // Spawns a Node process per command; the commands' compute is what the other files test.
  'test/cli.test.ts',
  // Kills child processes during saves: file-system atomicity, written in TypeScript.
  'test/models/model-file-atomic.test.ts',
  // The benchmark harness's own bookkeeping (workload F's cases and report; rounds, measuring).
  'test/bench-model-f.test.ts',
  'test/bench.test.ts',
  // The wasm modules only (they load them whatever GRU_SIMD_BACKENDS says), which these builds
  // do not change; helper workers under ASan beside another suite also missed their timeouts.
  'test/wasm-threads.test.ts',
  'test/wasm-relaxed.test.ts',
  // The ONNX reader's fuzz and decoding budget: TypeScript over a 'wasm' backend it loads itself.
  'test/onnx-fuzz.test.ts',
  // The float64 reference against hand-computed values, and tensor(): TypeScript alone.
  'test/reference.test.ts',
  'test/models/tensor.test.ts',
];

/**
 * The node-gyp run: binding.gyp compiles the sources the cmake-js build compiles, with its own
 * flags, per-ISA units and defines; what can differ is below the C ABI. So it runs the files
 * that reach every part of it: the addon loading and GRU_SIMD_ISA (process), every ABI function
 * with valid and hostile arguments (fuzz, reliability), each ISA table (the forEachIsa files:
 * GRU, training, streams, activations and Dense, dropout, bf16 / int8 weights), each other core
 * object (batch and layer norm, losses, metrics, optimizers, pooling, rows, masks, merge,
 * initializers, handles) and the binding's worker threads and finalizers (async, async-mutation,
 * layer-lifetime). The rest (file formats, the model API, examples, Keras and tfjs comparisons)
 * is TypeScript over those same ABI calls: the whole suite runs it on the cmake-js build, the
 * sanitizer build runs it natively.
 */
const GYP_FILES = [
  'test/process.test.ts',
  'test/fuzz.test.ts',
  'test/reliability.test.ts',
  'test/gru.test.ts',
  'test/train.test.ts',
  'test/gru-streams.test.ts',
  'test/activations-layer.test.ts',
  'test/input-dropout.test.ts',
  'test/recurrent-dropout.test.ts',
  'test/lowp-weights.test.ts',
  'test/batch-norm.test.ts',
  'test/layer-norm.test.ts',
  'test/losses-keras.test.ts',
  'test/metrics.test.ts',
  'test/metrics-auc.test.ts',
  'test/optim-fixtures.test.ts',
  'test/models/pooling-activation.test.ts',
  'test/models/rows.test.ts',
  'test/models/mask-gradients.test.ts',
  'test/models/bidirectional.test.ts',
  'test/models/initializers.test.ts',
  'test/instance-renewal.test.ts',
  'test/async.test.ts',
  'test/async-mutation.test.ts',
  'test/layer-lifetime.test.ts',
];

/** Every mocha file of the suite (.mocharc.json's spec: test/**\/*.test.ts), relative to root. */
function suiteFiles(dir = join(root, 'test')) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return suiteFiles(p);
    return e.name.endsWith('.test.ts') ? [relative(root, p)] : [];
  });
}

/** The files a build leaves out: for gyp, every file not in GYP_FILES. */
export function leftOut(build) {
  if (build !== 'gyp') return NOT_NATIVE;
  const missing = GYP_FILES.filter((f) => !suiteFiles().includes(f));
  if (missing.length) throw new Error(`native-build-suite: GYP_FILES names no file ${missing}`);
  return suiteFiles()
    .filter((f) => !GYP_FILES.includes(f))
    .sort();
}

/**
 * Mocha arguments for one extra build: `--ignore` for each file left out (mocha adds them to
 * .mocharc.json's own ignores), then the caller's arguments. With `--all` first, nothing is
 * left out.
 */
export function suiteArgs(build, argv) {
  if (argv[0] === '--all') return argv.slice(1);
  const skip = leftOut(build);
  if (build === 'gyp') console.log(`test-gyp: runs ${GYP_FILES.join(', ')}`);
  else console.log(`test-${build}: leaving out ${skip.join(', ')}`);
  console.log('  (scripts/native-build-suite.mjs; `-- --all` runs every file)');
  return [...skip.flatMap((f) => ['--ignore', f]), ...argv];
}
