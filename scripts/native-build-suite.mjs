// Which mocha files the second and third builds of the addon run (scripts/test-gyp.mjs,
// scripts/test-asan.mjs). Both builds compile the same sources as the cmake-js addon, which
// the whole suite already runs on every backend; these runs exist to catch what differs
// between builds (node-gyp's flags and ISA dispatch; the sanitizers' view of every native read
// and write). Files whose work happens in TypeScript or in child processes add nothing there
// but minutes (under ASan the command-line test alone took 530 s of 1337), so they are left
// out. `--all` (first argument) runs everything.

/** Files neither extra build runs: TypeScript or child-process work, already run by mocha. */
const NOT_NATIVE = [
  // Spawns a Node process per command; the commands' compute is what the other files test.
  'test/cli.test.ts',
  // Kills child processes during saves: file-system atomicity, written in TypeScript.
  'test/models/model-file-atomic.test.ts',
  // The benchmark harness's own bookkeeping (workload F's cases and report).
  'test/bench-model-f.test.ts',
  // The wasm modules only (they load them whatever GRU_SIMD_BACKENDS says), which these builds
  // do not change; helper workers under ASan beside another suite also missed their timeouts.
  'test/wasm-threads.test.ts',
  'test/wasm-relaxed.test.ts',
];

/** Left out of the node-gyp run only: long trainings on real data, which ASan still runs. */
const GYP_ALSO_SKIPS = ['test/examples.test.ts'];

/**
 * Mocha arguments for one extra build: `--ignore` for each file left out (mocha adds them to
 * .mocharc.json's own ignores), then the caller's arguments. With `--all` first, nothing is
 * left out.
 */
export function suiteArgs(build, argv) {
  if (argv[0] === '--all') return argv.slice(1);
  const skip = build === 'gyp' ? [...NOT_NATIVE, ...GYP_ALSO_SKIPS] : NOT_NATIVE;
  console.log(`test-${build}: leaving out ${skip.join(', ')} (scripts/native-build-suite.mjs)`);
  return [...skip.flatMap((f) => ['--ignore', f]), ...argv];
}
