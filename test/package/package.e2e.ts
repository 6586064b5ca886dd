/**
 * The npm package as users get it: `npm pack` (its prepack builds dist/ and the prebuilt addon),
 * then the tarball installed offline into fresh projects, each its own way:
 *   - with --ignore-scripts (what npm's blocking of dependency install scripts amounts to): the
 *     native backend loads from the prebuild; ESM import, CommonJS require, the TypeScript
 *     types (strict, NodeNext; and the browser types), and a Vite production build of a page
 *     run in Chromium;
 *   - with install scripts allowed: the install script takes the prebuild and builds nothing;
 *   - without a prebuild for the platform and without cmake / a C++ compiler: install succeeds,
 *     says why and how to get native, and init() falls back to wasm-simd saying the same.
 * The tarball's file list is checked against what users need and what they do not.
 *
 * Run by `npm run test:package` (a step of `npm test`). Offline: the projects get package-lock
 * files built from the repository's lock, so `npm ci --offline` takes every dependency from
 * npm's cache. In CI (CI=true) a missing tool (Chromium, binutils, a C++ compiler) is a
 * failure, elsewhere a visible skip. GRU_TEST_KEEP=1 keeps the temporary directory.
 *
 * Over 400 lines: one npm pack serves every install scenario (packing is the cost), so they share
 * this file.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromiumMissing, launchChromium } from '../browser/chromium.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const IN_CI = process.env.CI === 'true';
const TARGET = `${process.platform}-${process.arch}`;
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const VITE = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
// The asserted tolerance of every backend against the float64 reference (README, Accuracy).
const ABS = 5e-6;
const REL = 5e-6;
// Node 18-22's own linux-x64 glibc floor; scripts/prebuild.mjs keeps the prebuild at or below it.
const MAX_GLIBC = [2, 28];

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** The environment of a user's shell: no npm lifecycle variables, no gru-simd overrides. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  const drop =
    /^(npm_(lifecycle_|package_|command$|config_(ignore_scripts|global|prefix|dry_run|json|omit|include|production|only|workspaces?|location|foreground_scripts)$)|GRU_SIMD_|GRU_TEST_|INIT_CWD$)/;
  for (const [k, v] of Object.entries(process.env)) if (!drop.test(k)) env[k] = v;
  return { ...env, ...extra };
}

function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = userEnv(),
  timeout = 120000,
): Run {
  const started = Date.now();
  const r = spawnSync(cmd, args, {
    cwd,
    env,
    encoding: 'utf8',
    timeout,
    maxBuffer: 256 * 1024 * 1024,
  });
  const stderr = r.error ? `${r.stderr ?? ''}\n${r.error.message}` : (r.stderr ?? '');
  return {
    status: r.status,
    stdout: r.stdout ?? '',
    stderr,
    seconds: (Date.now() - started) / 1000,
  };
}

function tail(text: string, lines = 25): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

function ok(r: Run, what: string): Run {
  assert.equal(
    r.status,
    0,
    `${what} exited with status ${r.status}\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`,
  );
  return r;
}

function has(tool: string, args = ['--version']): boolean {
  return spawnSync(tool, args, { stdio: 'ignore' }).status === 0;
}

/** A test of the linux-x64 prebuild's checks (x86-64 fixtures): elsewhere it does not apply. */
function itOnLinuxX64(title: string, fn: Mocha.Func): void {
  if (TARGET === 'linux-x64') it(title, fn);
}

/** A missing tool: a failure in CI, a visible skip elsewhere. */
function requireTool(ctx: Mocha.Context, missing: string | null): void {
  if (missing === null) return;
  if (IN_CI) assert.fail(`${missing} (required in CI)`);
  ctx.skip();
}

// ---- what a user writes ------------------------------------------------------------------------

const FORWARD = `const info = await init(process.env.GRU_TEST_BACKEND ? { backend: process.env.GRU_TEST_BACKEND } : {});
const gru = new GRU({ inputSize: 4, hiddenSize: 8, numLayers: 2, seed: 7 });
const x = Float32Array.from({ length: 5 * 2 * 4 }, (_, i) => Math.sin(i));
const { output, hN } = gru.forward(x, { batch: 2 });
gru.dispose();
console.log(JSON.stringify({ info, output: Array.from(output), hN: Array.from(hN) }));`;

const USER_ESM = `import { init, GRU } from 'gru-simd';\n${FORWARD}\n`;
// The dual-package case: a Backend loaded through import, used by the GRU of the require copy.
const USER_MIXED = `import { createRequire } from 'node:module';
import * as esm from 'gru-simd';
const cjs = createRequire(import.meta.url)('gru-simd');
const backend = await esm.loadBackend('native');
const x = Float32Array.from({ length: 8 }, (_, i) => Math.sin(i));
const a = new esm.GRU({ inputSize: 4, hiddenSize: 3, seed: 1, backend });
const b = new cjs.GRU({ inputSize: 4, hiddenSize: 3, seed: 1, backend });
const ya = Array.from(a.forward(x, { batch: 1 }).output);
const yb = Array.from(b.forward(x, { batch: 1 }).output);
console.log(JSON.stringify({ distinct: esm.GRU !== cjs.GRU, same: JSON.stringify(ya) === JSON.stringify(yb) }));
`;

const USER_CJS = `'use strict';
const { init, GRU } = require('gru-simd');
(async () => {
${FORWARD}
})().catch((e) => { console.error(e); process.exit(1); });
`;

const USER_TS_ESM = `import { init, loadBackend, GRU, GruError, type BackendInfo, type ForwardResult } from 'gru-simd';

const info: BackendInfo = await init({ backend: 'auto', quiet: true });
const backends: string[] = info.isaList;
const gru = new GRU({ inputSize: 4, hiddenSize: 8, numLayers: 2, bidirectional: true, seed: 1 });
const result: ForwardResult = gru.forward(new Float32Array(5 * 2 * 4), { batch: 2, lengths: [5, 3] });
const output: Float32Array | null = result.output;
const rows: number = result.outputShape[0] + (output?.length ?? 0) + backends.length;
const stream = gru.stream({ batch: 1 });
stream.step(new Float32Array(4));
const wasm = await loadBackend('wasm-simd', { wasmSimdUrl: new URL('file:///x.wasm') });
new GRU({ inputSize: 1, hiddenSize: 1, backend: wasm }).dispose();
try {
  gru.forward(new Float32Array(3));
} catch (e) {
  if (e instanceof GruError) console.log(e.code satisfies string, rows);
}
// @ts-expect-error inputSize is a number
new GRU({ inputSize: '4', hiddenSize: 8 });
// @ts-expect-error there is no such backend
await init({ backend: 'gpu' });
// @ts-expect-error output may be null (returnSequences: false)
result.output.length;
gru.dispose();
`;

const USER_TS_CJS = `import gru = require('gru-simd');

async function main(): Promise<number> {
  const info = await gru.init();
  const layer = new gru.GRU({ inputSize: 2, hiddenSize: 3 });
  const { hN } = layer.forward(new Float32Array(2), { batch: 1 });
  // @ts-expect-error hiddenSize is required
  new gru.GRU({ inputSize: 2 });
  return hN.length + info.threads;
}
void main();
`;

const USER_TS_BROWSER = `import { init, GRU } from 'gru-simd';

export async function run(canvas: HTMLCanvasElement): Promise<number> {
  await init({ wasmSimdUrl: new URL('/assets/gru_simd-simd.wasm', location.href) });
  const gru = new GRU({ inputSize: 2, hiddenSize: 3 });
  return gru.forward(new Float32Array(2)).hN.length + canvas.width;
}
`;

function tsconfig(options: Record<string, unknown>, files: string[]): string {
  const compilerOptions = {
    strict: true,
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    noEmit: true,
    skipLibCheck: false, // check the package's own .d.ts files too
    ...options,
  };
  return JSON.stringify({ compilerOptions, files }, null, 2);
}

const PAGE_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>gru-simd</title></head>
<body><script type="module" src="./main.js"></script></body></html>
`;
const PAGE_JS = `import { init, GRU } from 'gru-simd';

async function main() {
  const info = await init();
  const gru = new GRU({ inputSize: 4, hiddenSize: 8, numLayers: 2, seed: 7 });
  const x = Float32Array.from({ length: 5 * 2 * 4 }, (_, i) => Math.sin(i));
  const { output, hN } = gru.forward(x, { batch: 2 });
  gru.dispose();
  return { info, output: Array.from(output), hN: Array.from(hN) };
}
main().then(
  (result) => { window.__gru = result; },
  (e) => { window.__gru = { error: String((e && e.stack) || e) }; },
);
`;

interface ForwardReport {
  info: { backend: string; isa: string; isaList: string[]; fallbackReason?: string };
  output: number[];
  hN: number[];
  error?: string;
}

function parseReport(r: Run, what: string): ForwardReport {
  ok(r, what);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as ForwardReport;
  } catch {
    assert.fail(
      `${what}: no JSON report on the last line of stdout:\n${tail(r.stdout)}\n${tail(r.stderr)}`,
    );
  }
}

function assertClose(actual: number[], expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    assert.ok(
      err <= ABS + REL * Math.abs(expected[i]),
      `${what}[${i}]: ${actual[i]} vs ${expected[i]} (error ${err})`,
    );
  }
}

function assertForward(report: ForwardReport, what: string): void {
  assert.equal(report.output.length, 5 * 2 * 8, `${what}: output [5, 2, 8]`);
  assert.equal(report.hN.length, 2 * 2 * 8, `${what}: hN [2, 2, 8]`);
  assert.ok(
    report.hN.every(Number.isFinite) && report.hN.some((v) => v !== 0),
    `${what}: hN finite, not all zero`,
  );
}

// ---- packing and installing ----------------------------------------------------------------------

/** npm's lock entries for `deps` and everything they need, as the repository's lock resolves them. */
function lockClosure(deps: string[]): Record<string, Record<string, unknown>> {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, Record<string, unknown> & { dependencies?: Record<string, string> }>;
  };
  const out: Record<string, Record<string, unknown>> = {};
  const visit = (from: string, name: string): void => {
    // Node's resolution inside the lock's tree: the nearest node_modules/<name> walking up.
    for (let dir = from; ;) {
      const key = `${dir ? `${dir}/` : ''}node_modules/${name}`;
      const entry = lock.packages[key];
      if (entry) {
        if (out[key]) return;
        const { dev: _dev, devOptional: _devOptional, peer: _peer, ...rest } = entry;
        out[key] = rest;
        for (const d of Object.keys(entry.dependencies ?? {})) visit(key, d);
        return;
      }
      if (!dir)
        throw new Error(
          `package-lock.json has no ${name} (needed by ${from || 'gru-simd'}): run npm install`,
        );
      const cut = dir.lastIndexOf('/node_modules/');
      dir = cut < 0 ? '' : dir.slice(0, cut);
    }
  };
  for (const d of deps) visit('', d);
  return out;
}

/**
 * A fresh project that depends on the tarball, with a package-lock.json so that
 * `npm ci --offline` installs it and its dependencies from npm's cache alone. allowScripts:
 * the project approves gru-simd's install script (npm >= 11 blocks dependencies' scripts
 * that the project's "allowScripts" does not list, or warns about them).
 */
function makeProject(dir: string, tarball: string, allowScripts = false): void {
  mkdirSync(dir, { recursive: true });
  copyFileSync(tarball, join(dir, 'gru-simd.tgz'));
  const manifest = JSON.parse(
    ok(run('tar', ['-xzOf', tarball, 'package/package.json'], dir), 'tar (package.json)').stdout,
  ) as {
    version: string;
    license?: string;
    dependencies?: Record<string, string>;
    engines?: Record<string, string>;
    bin?: Record<string, string>;
  };
  const name = `gru-simd-user-${relative(join(dir, '..'), dir)}`;
  const spec = 'file:gru-simd.tgz';
  // What `npm install-scripts approve gru-simd` writes for a file: dependency (from the
  // registry, the key is the package name).
  const allow = { [`file:${join(dir, 'gru-simd.tgz')}`]: true };
  const pkg = {
    name,
    version: '1.0.0',
    private: true,
    dependencies: { 'gru-simd': spec },
    ...(allowScripts ? { allowScripts: allow } : {}),
  };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  const lock = {
    name,
    version: '1.0.0',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name, version: '1.0.0', dependencies: { 'gru-simd': spec } },
      'node_modules/gru-simd': {
        version: manifest.version,
        resolved: spec,
        integrity,
        hasInstallScript: true,
        license: manifest.license,
        dependencies: manifest.dependencies,
        engines: manifest.engines,
        bin: manifest.bin, // npm ci links node_modules/.bin from the lock's entry
      },
      ...lockClosure(Object.keys(manifest.dependencies ?? {})),
    },
  };
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(lock, null, 2));
}

function npmCi(dir: string, flags: string[], env = userEnv()): Run {
  const args = ['ci', '--offline', '--no-audit', '--no-fund', '--foreground-scripts', ...flags];
  const r = ok(run('npm', args, dir, env), `npm ${args.join(' ')} in ${dir}`);
  assert.doesNotMatch(
    r.stderr,
    /not yet covered by allowScripts/,
    "the project approves gru-simd's install script",
  );
  return r;
}

/** A directory of commands that fail as if not installed, to put first on PATH. */
function shims(dir: string, names: string[]): string {
  mkdirSync(dir, { recursive: true });
  for (const name of names) {
    const file = join(dir, name);
    writeFileSync(
      file,
      `#!/bin/sh\necho "${name}: not installed (gru-simd package test)" >&2\nexit 127\n`,
    );
    chmodSync(file, 0o755);
  }
  return dir;
}

function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((p) => statSync(join(dir, p)).isFile())
    .map((p) => p.split('\\').join('/'));
}

function glibcFloor(file: string): number[] {
  let max = [0];
  for (const m of ok(run('objdump', ['-T', file], ROOT), 'objdump -T').stdout.matchAll(
    /\bGLIBC_(\d+(?:\.\d+)*)\b/g,
  )) {
    const v = m[1].split('.').map(Number);
    if (v[0] > max[0] || (v[0] === max[0] && (v[1] ?? 0) > (max[1] ?? 0))) max = v;
  }
  return max;
}

// ---- the tests -------------------------------------------------------------------------------------

describe('npm package (npm pack, installed offline into fresh projects)', function () {
  this.slow(60000);
  const work = mkdtempSync(join(tmpdir(), 'gru-simd-package-'));
  const packDir = join(work, 'pack');
  const unpacked = join(work, 'unpacked', 'package');
  let tarball = '';
  let files: string[] = [];

  before(function () {
    this.timeout(300000);
    mkdirSync(packDir, { recursive: true });
    // prepack: build:ts and the prebuilt addon. The package test keeps build-prebuild/ between
    // runs (a clean build takes about a minute here); `npm pack` by hand builds it clean.
    const env = userEnv({ GRU_SIMD_PREBUILD_INCREMENTAL: '1' });
    const r = ok(
      run('npm', ['pack', '--json', '--pack-destination', packDir], ROOT, env, 300000),
      'npm pack',
    );
    const json = [...r.stdout.matchAll(/^\[\s*\{/gm)].pop();
    assert.ok(json?.index !== undefined, `npm pack printed no JSON:\n${tail(r.stdout)}`);
    const [info] = JSON.parse(r.stdout.slice(json.index)) as [
      {
        filename: string;
        size: number;
        unpackedSize: number;
        entryCount: number;
        files: { path: string }[];
      },
    ];
    tarball = join(packDir, info.filename);
    files = info.files.map((f) => f.path).sort();
    console.log(
      `      npm pack: ${info.filename} ${(info.size / 1024).toFixed(0)} KiB packed, ` +
        `${(info.unpackedSize / 1024).toFixed(0)} KiB unpacked, ${info.entryCount} files (${r.seconds.toFixed(1)} s, prepack included)`,
    );
    mkdirSync(join(work, 'unpacked'), { recursive: true });
    ok(run('tar', ['-xzf', tarball, '-C', join(work, 'unpacked')], work), 'tar -x');
  });

  after(function () {
    if (process.env.GRU_TEST_KEEP === '1') console.log(`      kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  });

  describe('the tarball', () => {
    it('holds what users need: dist (esm, cjs, types), wasm, the prebuild, native sources, install script, README', () => {
      const manifest = JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8')) as Record<
        string,
        unknown
      >;
      // Every file package.json points at (main, module, types, exports), patterns aside.
      const named = new Set<string>();
      const collect = (v: unknown): void => {
        if (typeof v === 'string' && v.startsWith('./') && !v.includes('*')) named.add(v.slice(2));
        else if (v && typeof v === 'object') Object.values(v).forEach(collect);
      };
      collect([manifest.main, manifest.module, manifest.types, manifest.exports]);
      const need = [
        ...named,
        'package.json',
        'README.md',
        'CMakeLists.txt',
        'binding.gyp',
        'scripts/install-native.mjs',
        'dist/esm/index.js',
        'dist/esm/index.d.ts',
        'dist/cjs/index.cjs',
        'dist/cjs/index.d.cts',
        'dist/wasm/gru_simd-relaxed.wasm',
        'dist/wasm/gru_simd-simd.wasm',
        'dist/wasm/gru_simd-scalar.wasm',
        'dist/wasm/gru_simd-relaxed-mt.wasm',
        'dist/wasm/gru_simd-simd-mt.wasm',
        // The gru-simd command (package.json bin) and the benchmark suite its bench command runs.
        'dist/esm/cli/main.js',
        'dist/bench/run.mjs',
        'dist/bench/worker.mjs',
        `prebuilds/${TARGET}/gru_simd.node`,
        // The native sources, all of them: a platform without a prebuild builds from these.
        ...filesUnder(join(ROOT, 'native')).map((p) => `native/${p}`),
        ...readdirSync(ROOT).filter((f) => /^licen[cs]e/i.test(f)),
      ];
      const missing = [...new Set(need)].filter((f) => !files.includes(f));
      assert.deepEqual(missing, [], `missing from the tarball: ${missing.join(', ')}`);
      // The shipped wasm modules (dist/wasm/, the only copy) are the repository's current ones.
      for (const f of files.filter((p) => p.startsWith('dist/wasm/'))) {
        const source = join(ROOT, 'wasm', f.slice('dist/wasm/'.length));
        assert.ok(
          readFileSync(join(unpacked, f)).equals(readFileSync(source)),
          `${f} differs from wasm/: a stale copy`,
        );
      }
    });

    it('holds nothing users do not need: no tests, benches, examples, TS sources, maps, build dirs, CI, caches', () => {
      const forbidden = [
        /^(test|bench|examples|ts|node_modules|build|build-[^/]*|\.ci|\.github|test-output|\.cache|coverage)\//,
        /\.(map|tgz|log|o)$/,
        /^(tsconfig[^/]*\.json|eslint\.config\.js|\.mocharc\.json|\.clang-format|\.npmrc|\.gitignore|package-lock\.json)$/,
        /^scripts\/(?!install-native\.mjs$)/,
        /^wasm\/[^/]+\.(sh|c|cpp|js)$/,
      ];
      const bad = files.filter((f) => forbidden.some((re) => re.test(f)));
      assert.deepEqual(bad, [], `in the tarball but not for users: ${bad.join(', ')}`);
      // And the other way round: everything is of a kind users need.
      const allowed = [
        /^(package\.json|README\.md|LICEN[CS]E(\.\w+)?|CMakeLists\.txt|binding\.gyp|scripts\/install-native\.mjs)$/i,
        /^dist\/esm\/.+\.(js|d\.ts)$/,
        /^dist\/cjs\/index\.(cjs|d\.cts)$/,
        /^dist\/wasm\/gru_simd-(relaxed|simd|scalar|relaxed-mt|simd-mt)\.wasm$/,
        /^dist\/bench\/(run|worker)\.mjs$/,
        /^dist\/bench\/tools\/[\w-]+\.(cpp|c|wasm)$/,
        /^prebuilds\/[a-z0-9]+-[a-z0-9]+\/gru_simd\.node$/,
        /^native\/.+\.(cpp|h|md)$/,
      ];
      const unknown = files.filter((f) => !allowed.some((re) => re.test(f)));
      assert.deepEqual(unknown, [], `files of no known use in the tarball: ${unknown.join(', ')}`);
    });

    it(`the prebuilt addon for ${TARGET}: stripped, N-API, glibc floor <= ${MAX_GLIBC.join('.')}, loads in Node`, function () {
      const file = join(unpacked, 'prebuilds', TARGET, 'gru_simd.node');
      const isaList = `[{ c: 'gru_isa_list', method: 'isaList', args: [], ret: 'str', out: null, async: false }]`;
      const probe = `const a = require(${JSON.stringify(file)}); console.log(typeof a.bind, a.bind(${isaList}, Error).isaList());`;
      const r = ok(run(process.execPath, ['-e', probe], work), 'require(prebuild)');
      assert.match(r.stdout, /^function .*scalar/m, 'exports bind() and lists the scalar ISA');
      console.log(
        `      prebuild: ${(statSync(file).size / 1024).toFixed(0)} KiB, ISAs ${r.stdout.trim().split(' ')[1]}`,
      );
      if (TARGET !== 'linux-x64') return;
      requireTool(
        this,
        has('objdump') && has('readelf') ? null : 'binutils (objdump, readelf) not found',
      );
      const sections = ok(run('readelf', ['-SW', file], work), 'readelf -S').stdout;
      assert.ok(!sections.includes('.symtab'), 'stripped: no .symtab');
      const floor = glibcFloor(file);
      assert.ok(
        floor[0] < MAX_GLIBC[0] || (floor[0] === MAX_GLIBC[0] && (floor[1] ?? 0) <= MAX_GLIBC[1]),
        `needs glibc ${floor.join('.')}`,
      );
    });

    itOnLinuxX64(
      'prebuild.mjs --check rejects AVX code outside isa_avx2.cpp / isa_avx512.cpp (fixtures)',
      function () {
        this.slow(10000);
        requireTool(
          this,
          has('g++') && has('objdump') && has('nm') ? null : 'g++ or binutils not found',
        );
        const dir = join(work, 'isa-fixture');
        mkdirSync(dir);
        const avx = (name: string, linkage: string) =>
          `#include <immintrin.h>\n${linkage} float ${name}(const float* x) { __m256 v = _mm256_loadu_ps(x); return v[0] + v[7]; }\n` +
          `float ${name}_entry(const float* x) { return ${name}(x); }\n`;
        const inlineHelper =
          'inline float helper(float* x) { for (int i = 0; i < 64; i++) x[i] = x[i] * 3 + 1; return x[5]; }\n';
        const sources: Record<string, [string, string[]]> = {
          'isa_avx2.cpp': [
            avx('k2', 'static') + inlineHelper + 'float use2(float* x) { return helper(x); }\n',
            ['-mavx2'],
          ],
          'isa_avx512.cpp': [avx('k512', 'static'), ['-mavx512f']],
          'baseline.cpp': [inlineHelper + 'float use0(float* x) { return helper(x); }\n', []],
          'leaky.cpp': [avx('leak', 'static'), ['-mavx2']],
        };
        for (const [name, [text, flags]] of Object.entries(sources)) {
          writeFileSync(join(dir, name), text);
          ok(
            run(
              'g++',
              ['-O2', '-fPIC', '-fno-inline', ...flags, '-c', name, '-o', `${name}.o`],
              dir,
            ),
            `g++ ${name}`,
          );
        }
        const link = (out: string, units: string[]): string[] => {
          const objDir = join(dir, `${out}-objects`);
          mkdirSync(objDir);
          for (const u of units) copyFileSync(join(dir, `${u}.o`), join(objDir, `${u}.o`));
          ok(
            run('g++', ['-shared', ...units.map((u) => join(objDir, `${u}.o`)), '-o', out], dir),
            `link ${out}`,
          );
          return [join(ROOT, 'scripts', 'prebuild.mjs'), '--check', join(dir, out), objDir];
        };
        const check = (args: string[]) => run(process.execPath, args, dir);
        const good = check(link('good.so', ['isa_avx2.cpp', 'isa_avx512.cpp']));
        assert.equal(
          good.status,
          0,
          `AVX only in the ISA units passes:\n${good.stdout}${good.stderr}`,
        );
        const leak = check(link('leak.so', ['isa_avx2.cpp', 'isa_avx512.cpp', 'leaky.cpp']));
        assert.notEqual(leak.status, 0, 'AVX in another unit fails');
        assert.match(
          leak.stderr,
          /leak.*leaky\.cpp/,
          `names the function and unit:\n${leak.stderr}`,
        );
        // The inline helper, instantiated by an AVX unit and a baseline unit: the linker keeps
        // one copy (the AVX one, linked first), which baseline code then calls.
        const comdat = check(link('comdat.so', ['isa_avx2.cpp', 'baseline.cpp', 'isa_avx512.cpp']));
        assert.notEqual(comdat.status, 0, 'an AVX copy of a shared inline function fails');
        assert.match(comdat.stderr, /helper/, `names the function:\n${comdat.stderr}`);
      },
    );
  });

  describe('installed with --ignore-scripts (dependency install scripts blocked)', () => {
    const project = join(work, 'ignore-scripts');
    let esm: ForwardReport;

    before(function () {
      this.timeout(120000);
      makeProject(project, tarball);
      const r = npmCi(project, ['--ignore-scripts']);
      console.log(`      npm ci --offline --ignore-scripts: ${r.seconds.toFixed(1)} s`);
      writeFileSync(join(project, 'user.mjs'), USER_ESM);
      writeFileSync(join(project, 'user.cjs'), USER_CJS);
    });

    it('nothing was built: no build/ in node_modules/gru-simd', () => {
      assert.ok(
        existsSync(join(project, 'node_modules', 'gru-simd', 'prebuilds', TARGET, 'gru_simd.node')),
      );
      assert.ok(
        !existsSync(join(project, 'node_modules', 'gru-simd', 'build')),
        'no build directory',
      );
    });

    it("ESM: import { init, GRU } from 'gru-simd' runs a forward on the native backend (the prebuild)", () => {
      esm = parseReport(run(process.execPath, ['user.mjs'], project), 'node user.mjs');
      assertForward(esm, 'ESM');
      assert.equal(
        esm.info.backend,
        'native',
        `backend ${esm.info.backend}: ${esm.info.fallbackReason ?? ''}`,
      );
      assert.ok(esm.info.isaList.includes('scalar'), `isaList ${esm.info.isaList.join(',')}`);
    });

    it("CommonJS: require('gru-simd') runs the same forward, same result", function () {
      if (!esm) assert.fail('the ESM test above failed: nothing to compare with');
      const cjs = parseReport(run(process.execPath, ['user.cjs'], project), 'node user.cjs');
      assert.equal(cjs.info.backend, 'native');
      assert.deepEqual(cjs.hN, esm.hN);
      assert.deepEqual(cjs.output, esm.output);
    });

    it("ESM and CommonJS in one process (two copies of the library): a Backend of one runs the other's GRU", () => {
      writeFileSync(join(project, 'mixed.mjs'), USER_MIXED);
      const line = run(process.execPath, ['mixed.mjs'], project).stdout.trim().split('\n').pop();
      const r = JSON.parse(line ?? '{}') as { distinct: boolean; same: boolean };
      assert.equal(r.distinct, true, 'import and require gave two copies of the library');
      assert.equal(r.same, true, 'the GRUs of both copies computed the same output');
    });

    it('the gru-simd command (npx gru-simd): --help, --version, inspect, convert and predict a tfjs model', function () {
      this.timeout(120000);
      const npx = (...args: string[]) => run('npx', ['--no-install', 'gru-simd', ...args], project);
      const help = npx('--help');
      assert.equal(help.status, 0, help.stderr);
      assert.match(help.stdout, /gru-simd inspect FILE/);
      const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
        version: string;
      };
      assert.equal(npx('--version').stdout.trim(), manifest.version);
      const real = join(ROOT, 'test/fixtures/real-models/tfjs/tfjs-e2e-embedding-gru');
      const model = join(project, 'tfjs-model');
      mkdirSync(model, { recursive: true });
      for (const f of ['model.json', 'weights.bin', 'expected.json'])
        copyFileSync(join(real, f), join(model, f));
      const inspect = npx('inspect', 'tfjs-model', '--json');
      assert.equal(inspect.status, 0, inspect.stderr);
      const d = JSON.parse(inspect.stdout) as { format: string; layers: { className: string }[] };
      assert.equal(d.format, 'tfjs');
      assert.deepEqual(
        d.layers.map((l) => l.className),
        ['Embedding', 'GRU'],
      );
      assert.equal(npx('convert', 'tfjs-model', 'own.safetensors', '-q').status, 0);
      const expected = JSON.parse(readFileSync(join(model, 'expected.json'), 'utf8')) as {
        input: unknown;
        expected_output: { data: number[] };
      };
      writeFileSync(join(project, 'input.json'), JSON.stringify(expected.input));
      const p = npx('predict', 'own.safetensors', '--input', 'input.json', '-q');
      assert.equal(p.status, 0, p.stderr);
      assertClose(
        (JSON.parse(p.stdout) as { data: number[] }).data,
        expected.expected_output.data,
        'predict',
      );
      const bad = npx('inspect', 'missing.json');
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /ERR_GRU_IO/);
      assert.equal(npx('bench', '--only', 'bogus').status, 2);
    });

    it(`the prebuild agrees with wasm-relaxed, wasm-simd and wasm within abs ${ABS} + rel ${REL}`, function () {
      if (!esm) assert.fail('the ESM test above failed: nothing to compare with');
      for (const backend of ['wasm-relaxed', 'wasm-simd', 'wasm']) {
        const env = userEnv({ GRU_TEST_BACKEND: backend });
        // Node 20 runs the relaxed-SIMD module only with this flag.
        const flags = backend === 'wasm-relaxed' ? ['--experimental-wasm-relaxed-simd'] : [];
        const r = parseReport(
          run(process.execPath, [...flags, 'user.mjs'], project, env),
          `node user.mjs (${backend})`,
        );
        assert.equal(r.info.backend, backend);
        assertClose(esm.output, r.output, `native vs ${backend} output`);
        assertClose(esm.hN, r.hN, `native vs ${backend} hN`);
      }
    });

    it('TypeScript: user files type-check against the installed package (strict, NodeNext; CJS; browser)', function () {
      this.slow(20000);
      const dir = join(project, 'ts');
      mkdirSync(dir);
      writeFileSync(join(dir, 'user.mts'), USER_TS_ESM);
      writeFileSync(join(dir, 'user.cts'), USER_TS_CJS);
      writeFileSync(join(dir, 'browser.mts'), USER_TS_BROWSER);
      const nodeTypes = join(ROOT, 'node_modules', '@types');
      // A Node project: @types/node, no DOM.
      writeFileSync(
        join(dir, 'tsconfig.json'),
        tsconfig({ lib: ['ES2022'], types: ['node'], typeRoots: [nodeTypes] }, [
          'user.mts',
          'user.cts',
        ]),
      );
      // A browser project: the "browser" export condition, DOM, no @types/node.
      writeFileSync(
        join(dir, 'tsconfig.browser.json'),
        tsconfig(
          {
            lib: ['ES2022', 'DOM'],
            types: [],
            module: 'ESNext',
            moduleResolution: 'Bundler',
            customConditions: ['browser'],
          },
          ['browser.mts'],
        ),
      );
      const errors = ['tsconfig.json', 'tsconfig.browser.json'].flatMap((config) => {
        const r = run(process.execPath, [TSC, '-p', config], dir);
        return r.status === 0
          ? []
          : [`tsc -p ${config} (exit ${r.status}):\n${r.stdout}${r.stderr}`];
      });
      assert.deepEqual(errors, [], errors.join('\n'));
      // And tsc does see the types: an error in a user file is reported.
      writeFileSync(
        join(dir, 'user.mts'),
        `${USER_TS_ESM}new GRU({ inputSize: 4, hiddenSize: 'x' });\n`,
      );
      const bad = run(process.execPath, [TSC, '-p', 'tsconfig.json'], dir);
      assert.notEqual(bad.status, 0, 'a type error in the user file fails tsc');
      assert.match(bad.stdout, /user\.mts.*error TS2322/, bad.stdout);
    });

    describe('a Vite production build of a page that imports gru-simd, in Chromium', () => {
      let server: Server | undefined;
      const requested: string[] = [];
      let distDir = '';

      before(function () {
        this.timeout(120000);
        const manifest = JSON.parse(
          readFileSync(join(project, 'node_modules', 'gru-simd', 'package.json'), 'utf8'),
        ) as {
          exports?: { '.'?: Record<string, unknown> };
        };
        requireTool(
          this,
          manifest.exports?.['.']?.browser
            ? null
            : 'package.json has no "browser" export condition',
        );
        requireTool(this, existsSync(VITE) ? null : 'vite is not installed (npm install)');
        requireTool(this, chromiumMissing());
        const web = join(project, 'web');
        mkdirSync(web);
        writeFileSync(join(web, 'index.html'), PAGE_HTML);
        writeFileSync(join(web, 'main.js'), PAGE_JS);
        distDir = join(web, 'dist');
        const r = ok(
          run(
            process.execPath,
            [VITE, 'build', web, '--outDir', distDir, '--emptyOutDir', '--logLevel', 'warn'],
            project,
          ),
          'vite build',
        );
        console.log(`      vite build: ${r.seconds.toFixed(1)} s`);
      });

      after(() => server?.close());

      it('the bundle references no node: module and holds no native addon', () => {
        const out = filesUnder(distDir);
        assert.ok(!out.some((f) => f.endsWith('.node')), `no .node file: ${out.join(', ')}`);
        for (const f of out.filter((p) => p.endsWith('.js'))) {
          const text = readFileSync(join(distDir, f), 'utf8');
          assert.ok(!/["']node:[a-z]/.test(text), `${f} references a node: module`);
        }
        for (const module of ['relaxed', 'simd', 'scalar', 'relaxed-mt', 'simd-mt'])
          assert.ok(
            out.some((f) => new RegExp(`gru_simd-${module}[^/]*\\.wasm$`).test(f)),
            `the ${module} module is in the build: ${out.join(', ')}`,
          );
      });

      it('runs in Chromium on wasm-relaxed (auto), bit-identical to Node on wasm-relaxed', async function () {
        this.timeout(90000);
        this.slow(20000);
        const types: Record<string, string> = {
          '.html': 'text/html',
          '.js': 'text/javascript',
          '.wasm': 'application/wasm',
          '.css': 'text/css',
        };
        server = createServer((req, res) => {
          const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
          requested.push(path);
          const file = join(distDir, path === '/' ? 'index.html' : path);
          if (!file.startsWith(distDir) || !existsSync(file) || !statSync(file).isFile()) {
            res.writeHead(404).end();
            return;
          }
          res.writeHead(200, {
            'content-type': types[extname(file)] ?? 'application/octet-stream',
          });
          res.end(readFileSync(file));
        });
        await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
        const { port } = server.address() as AddressInfo;
        const browser = await launchChromium();
        let result: ForwardReport;
        try {
          const page = await browser.context.newPage();
          await page.goto(`http://127.0.0.1:${port}/`);
          await page.waitForFunction(
            () => (window as unknown as { __gru?: unknown }).__gru !== undefined,
            null,
            { timeout: 60000 },
          );
          result = (await page.evaluate(
            () => (window as unknown as { __gru: unknown }).__gru,
          )) as ForwardReport;
        } finally {
          await browser.close();
        }
        assert.equal(result.error, undefined, result.error);
        // Chromium has relaxed SIMD: auto picks it; Node 20 needs the flag for the same module.
        assert.equal(result.info.backend, 'wasm-relaxed');
        assertForward(result, 'browser');
        const node = parseReport(
          run(
            process.execPath,
            ['--experimental-wasm-relaxed-simd', 'user.mjs'],
            project,
            userEnv({ GRU_TEST_BACKEND: 'wasm-relaxed' }),
          ),
          'node user.mjs (wasm-relaxed)',
        );
        assert.deepEqual(result.hN, node.hN, 'hN equals Node wasm-relaxed bit for bit');
        assert.deepEqual(result.output, node.output, 'output equals Node wasm-relaxed bit for bit');

        // What the browser downloaded: no package.json walk, only the relaxed module.
        assert.ok(
          !requested.some((p) => p.endsWith('package.json')),
          `requests: ${requested.join(', ')}`,
        );
        const wasm = requested.filter((p) => p.endsWith('.wasm'));
        assert.equal(wasm.length, 1, `one .wasm fetched: ${wasm.join(', ')}`);
        // Served without COOP/COEP: not cross-origin isolated, the single-threaded module.
        assert.match(wasm[0], /gru_simd-relaxed(?!-mt)/);
        const rows = requested
          .filter((p) => /\.(js|wasm)$/.test(p))
          .map((p) => {
            const bytes = readFileSync(join(distDir, p));
            return { p, raw: bytes.length, gz: gzipSync(bytes, { level: 9 }).length };
          });
        const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
        for (const row of rows)
          console.log(`      downloaded ${row.p}: ${kib(row.raw)}, gzip -9 ${kib(row.gz)}`);
        const sum = (k: 'raw' | 'gz') => rows.reduce((s, row) => s + row[k], 0);
        console.log(`      downloaded JS + wasm: ${kib(sum('raw'))}, gzip -9 ${kib(sum('gz'))}`);
      });
    });
  });

  describe('installed with install scripts allowed', () => {
    it(`${TARGET}: the install script takes the prebuild and builds nothing`, function () {
      this.timeout(120000);
      const project = join(work, 'scripts-allowed');
      makeProject(project, tarball, true);
      const r = npmCi(project, []);
      assert.match(
        r.stdout + r.stderr,
        /gru-simd: using the prebuilt native addon prebuilds\/[\w-]+\/gru_simd\.node/,
      );
      assert.ok(
        !existsSync(join(project, 'node_modules', 'gru-simd', 'build', 'Release')),
        'nothing compiled',
      );
      writeFileSync(join(project, 'user.mjs'), USER_ESM);
      const report = parseReport(run(process.execPath, ['user.mjs'], project), 'node user.mjs');
      assert.equal(report.info.backend, 'native');
    });
  });

  describe('no prebuild for the platform, no cmake or C++ compiler (install scripts allowed)', () => {
    const project = join(work, 'no-prebuild');
    const howTo = /install a C\+\+17 compiler and cmake, then run `npm rebuild gru-simd`/;
    let install: Run;

    before(function () {
      this.timeout(120000);
      // The tarball of a platform without a prebuild: this one, less prebuilds/.
      const dir = join(work, 'no-prebuild-tarball');
      mkdirSync(dir);
      ok(run('tar', ['-xzf', tarball, '-C', dir], work), 'tar -x');
      rmSync(join(dir, 'package', 'prebuilds'), { recursive: true });
      const stripped = join(work, 'gru-simd-no-prebuild.tgz');
      ok(run('tar', ['-czf', stripped, '-C', dir, 'package'], work), 'tar -c');
      makeProject(project, stripped, true);
      const path = `${shims(join(work, 'no-cmake'), ['cmake', 'c++', 'g++', 'gcc', 'cc', 'clang', 'clang++'])}:${process.env.PATH}`;
      install = npmCi(project, [], userEnv({ PATH: path, CXX: '/bin/false', CC: '/bin/false' }));
    });

    it('install succeeds and says why (no cmake), that it falls back to wasm, and how to get native', () => {
      const out = install.stdout + install.stderr;
      assert.match(
        out,
        /gru-simd: native addon unavailable \(cmake was not found on PATH\); gru-simd will use its WebAssembly backend/,
      );
      assert.match(out, howTo);
    });

    it('npm rebuild with cmake but no C++ compiler: the build fails, exit 0, and says so', function () {
      this.timeout(120000);
      const path = `${shims(join(work, 'no-cxx'), ['c++', 'g++', 'gcc', 'cc', 'clang', 'clang++'])}:${process.env.PATH}`;
      const env = userEnv({ PATH: path, CXX: '/bin/false', CC: '/bin/false' });
      const r = ok(
        run('npm', ['rebuild', 'gru-simd', '--foreground-scripts'], project, env),
        'npm rebuild',
      );
      const out = r.stdout + r.stderr;
      assert.match(
        out,
        /gru-simd: native addon unavailable \(build failed: [^\n]+full log in build\/install-native\.log\)/,
      );
      assert.match(out, howTo);
      assert.ok(
        !existsSync(join(project, 'node_modules', 'gru-simd', 'build', 'Release', 'gru_simd.node')),
      );
    });

    it('init() falls back to wasm-simd, and its notice says how to get native', () => {
      writeFileSync(join(project, 'user.mjs'), USER_ESM);
      const r = run(process.execPath, ['user.mjs'], project);
      const report = parseReport(r, 'node user.mjs');
      assertForward(report, 'fallback');
      assert.equal(report.info.backend, 'wasm-simd');
      assert.match(report.info.fallbackReason ?? '', new RegExp(`no native addon for ${TARGET}`));
      assert.match(
        r.stderr,
        /gru-simd: using the wasm-simd backend \(native unavailable: no native addon/,
      );
      assert.match(r.stderr, howTo);
    });
  });
});
