#!/usr/bin/env node
// `npm run test:kernels`: the per-kernel tests (test/kernels): every KernelTable function on
// every ISA table compiled in, against float64 references, for each build of the kernels:
//   native       build-kernels/ (plain CMake, -DGRU_KERNEL_TESTS=ON): avx512, avx2, scalar on
//                x86-64 (a table this CPU cannot run is listed as NOT RUN by the program)
//   wasm-simd    build-kernels-wasm/simd/ (emcmake, -msimd128): wasm128 and scalar, run under
//   wasm-scalar  build-kernels-wasm/scalar/: scalar alone      node:wasi (scripts/run-wasi.mjs)
//   wasm-relaxed build-kernels-wasm/relaxed/ (clang-19 -mrelaxed-simd, by wasm/build-relaxed.sh,
//                the toolchain of gru_simd-relaxed.wasm; no CMake): wasm-relaxed, wasm128 and
//                scalar, run under node:wasi with --experimental-wasm-relaxed-simd
// The wasm builds need Emscripten (apt-get install -y emscripten), the relaxed one also clang-19
// and lld-19: without them they are listed as NOT RUN (a failure in CI, env CI=true, as in
// scripts/test.mjs). The relaxed build is compiled from scratch each run (about a minute). The cmake-js build of the
// addon in build/ is never touched. Builds are incremental after the first (about a minute per
// wasm build from scratch on 2 cores).
//
// The output ends with `N passed, N failed` over all builds. With env GRU_TEST_COUNTS set,
// { "passed": N, "failed": N, "skipped": 0 } is written there. A build that fails, or a program
// that dies before its summary, counts as one failure. Exit code non-zero on any failure.
// Extra arguments go to the programs: `npm run test:kernels -- gemm_strided` runs only the
// tests whose "kernel: variant" contains that text.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const inCI = process.env.CI === 'true';
const filterArgs = process.argv.slice(2);
const countsDir = mkdtempSync(join(tmpdir(), 'gru-kernel-counts-'));
const started = Date.now();

function available(cmd) {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

// Runs a command; `quiet` keeps its output unless it fails. Returns null or what went wrong.
function run(cmd, args, quiet = false) {
  const r = spawnSync(cmd, args, {
    cwd: root,
    stdio: quiet ? 'pipe' : 'inherit',
    encoding: 'utf8',
  });
  if (r.error) return r.error.message;
  if (quiet && (r.signal || r.status !== 0))
    process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}`);
  if (r.signal) return `${cmd} killed by ${r.signal}`;
  return r.status === 0 ? null : `${cmd} ${args[0]} exited with ${r.status}`;
}

const ninja = available('ninja');
const emcc = available('emcc');
const clang19 = available('clang++-19') && available('wasm-ld-19');
const builds = [
  {
    name: 'native',
    dir: 'build-kernels',
    configure: 'cmake',
    options: [],
    program: (dir) => [
      join(dir, process.platform === 'win32' ? 'gru_kernel_tests.exe' : 'gru_kernel_tests'),
    ],
  },
  ...['simd', 'scalar'].map((variant) => ({
    name: `wasm-${variant}`,
    dir: join('build-kernels-wasm', variant),
    configure: 'emcmake',
    options: [`-DGRU_KERNEL_TESTS_SIMD128=${variant === 'simd' ? 'ON' : 'OFF'}`],
    program: (dir) => [
      process.execPath,
      '--no-warnings',
      join(root, 'scripts', 'run-wasi.mjs'),
      join(dir, 'gru_kernel_tests.wasm'),
    ],
    missing: emcc ? null : 'emcc not found (apt-get install -y emscripten)',
  })),
  {
    name: 'wasm-relaxed',
    dir: join('build-kernels-wasm', 'relaxed'),
    options: [], // no CMake: `build` below
    // The whole program (tests, core, every ISA file) as wasm/build.sh builds the module.
    build: (dir) => {
      const sources = [
        ...globCpp('test/kernels'),
        ...globCpp('native/core'),
        ...globCpp('native/kernels').filter((f) => /\/isa_[^/]*\.cpp$/.test(f)),
      ];
      mkdirSync(join(root, dir), { recursive: true });
      // CMakeLists.txt's warning flags for the kernel tests, and its two for a wasm build.
      const flags = ['-Itest/kernels', '-Wall', '-Wextra', '-Wno-unused-parameter'];
      flags.push('-Wno-unused-const-variable', '-Wno-unused-but-set-variable');
      const out = join(dir, 'gru_kernel_tests.wasm');
      return run('bash', [
        'wasm/build-relaxed.sh',
        '-o',
        out,
        '--command',
        '--',
        ...flags,
        '--',
        ...sources,
      ]);
    },
    program: (dir) => [
      process.execPath,
      '--no-warnings',
      '--experimental-wasm-relaxed-simd',
      join(root, 'scripts', 'run-wasi.mjs'),
      join(dir, 'gru_kernel_tests.wasm'),
    ],
    missing: !emcc
      ? 'emcc not found (apt-get install -y emscripten)'
      : clang19
        ? null
        : 'clang++-19 or wasm-ld-19 not found (apt-get install -y clang-19 lld-19)',
  },
];

/** The .cpp files of a directory of the repository, sorted, as paths relative to the root. */
function globCpp(dir) {
  return readdirSync(join(root, dir))
    .filter((f) => f.endsWith('.cpp'))
    .sort()
    .map((f) => `${dir}/${f}`);
}

const results = [];
for (const b of builds) {
  console.log(`\n=== test:kernels ${b.name} (${b.dir}/) ===`);
  if (b.missing) {
    console.log(`NOT RUN ${b.name}: ${b.missing}${inCI ? ' - required in CI' : ''}`);
    results.push({
      name: b.name,
      status: inCI ? 'FAILED' : 'NOT RUN',
      note: b.missing,
      counts: inCI ? { passed: 0, failed: 1 } : null,
    });
    continue;
  }
  const dir = join(root, b.dir);
  const t0 = Date.now();
  // Configured when new (or configured without the options); after that the build itself
  // re-runs CMake when CMakeLists.txt changes. Ninja when present. Two build jobs at most: the
  // machine may be shared.
  const cache = join(dir, 'CMakeCache.txt');
  const options = ['-DCMAKE_BUILD_TYPE=Release', '-DGRU_KERNEL_TESTS=ON', ...b.options];
  const cached = existsSync(cache) ? readFileSync(cache, 'utf8') : null;
  // -DNAME=VALUE is in the cache as a line NAME:TYPE=VALUE.
  const inCache = (o) => {
    const [name, value] = o.slice(2).split('=');
    return new RegExp(`^${name}:[A-Z]+=${value}$`, 'm').test(cached);
  };
  const stale = !cached || !options.every(inCache);
  const configureArgs = [
    ...(b.configure === 'emcmake' ? ['cmake'] : []),
    '-S',
    root,
    '-B',
    dir,
    ...(!cached && ninja ? ['-G', 'Ninja'] : []),
    ...options,
  ];
  const error = b.build
    ? b.build(b.dir)
    : ((stale ? run(b.configure, configureArgs, true) : null) ??
      run('cmake', ['--build', dir, '--target', 'gru_kernel_tests', '--parallel', '2']));
  const [exe, ...exeArgs] = b.program(dir);
  const built = exeArgs.length ? exeArgs[exeArgs.length - 1] : exe;
  if (error || !existsSync(built)) {
    const note = `build failed: ${error ?? `no ${built}`}`;
    console.log(`FAIL ${b.name}: ${note}`);
    results.push({ name: b.name, status: 'FAILED', note, counts: { passed: 0, failed: 1 } });
    continue;
  }
  const buildSeconds = (Date.now() - t0) / 1000;
  const countsFile = join(countsDir, `${b.name}.json`);
  const t1 = Date.now();
  const r = spawnSync(exe, [...exeArgs, ...filterArgs], {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      GRU_TEST_COUNTS: countsFile,
      GRU_KERNEL_TESTS_TARGET: b.name === 'native' ? '' : b.name,
    },
  });
  let counts = null;
  try {
    counts = JSON.parse(readFileSync(countsFile, 'utf8'));
  } catch {
    counts = null;
  }
  const how = r.error
    ? r.error.message
    : r.signal
      ? `killed by ${r.signal}`
      : `exit code ${r.status}`;
  if (!counts) {
    results.push({
      name: b.name,
      status: 'FAILED',
      note: `ended before its summary (${how})`,
      counts: { passed: 0, failed: 1 },
    });
    continue;
  }
  // A non-zero exit with no failure counted (a crash after the summary) still counts as one.
  if (r.status !== 0 && counts.failed === 0) counts.failed = 1;
  const seconds = `built in ${buildSeconds.toFixed(1)} s, ran in ${((Date.now() - t1) / 1000).toFixed(1)} s`;
  results.push({ name: b.name, status: counts.failed ? 'FAILED' : 'ok', note: seconds, counts });
}
rmSync(countsDir, { recursive: true, force: true });

const total = { passed: 0, failed: 0, skipped: 0 };
console.log(`\n=== test:kernels summary (${((Date.now() - started) / 1000).toFixed(1)} s) ===`);
for (const res of results) {
  if (res.counts) {
    total.passed += res.counts.passed;
    total.failed += res.counts.failed;
  }
  const c = res.counts ? ` (${res.counts.passed} passed, ${res.counts.failed} failed)` : '';
  console.log(`  ${res.status.padEnd(8)} ${res.name}${c}${res.note ? ` - ${res.note}` : ''}`);
}
if (process.env.GRU_TEST_COUNTS)
  writeFileSync(process.env.GRU_TEST_COUNTS, JSON.stringify(total) + '\n');
console.log(`${total.passed} passed, ${total.failed} failed`);
process.exit(total.failed > 0 ? 1 : 0);
