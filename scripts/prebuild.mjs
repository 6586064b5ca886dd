#!/usr/bin/env node
// Builds the prebuilt addon the npm tarball ships: prebuilds/<platform>-<arch>/gru_simd.node.
// Run by "prepack" (so by `npm pack` and `npm publish`). With it, `npm install gru-simd` gets
// the native backend with no compiler and with install scripts blocked (`--ignore-scripts`,
// npm's allowScripts). N-API 8 is ABI-stable: one binary serves every Node >= 18 here.
//
// 1. A clean cmake-js build into build-prebuild/ for the baseline ISA (-march=x86-64 or
//    armv8-a); the AVX2 / AVX-512 kernels are picked at run time.
//    GRU_SIMD_PREBUILD_INCREMENTAL=1 keeps build-prebuild/ between runs (the package test).
// 2. linux-x64 (needs binutils): no AVX/AVX-512 instruction (VEX/EVEX) outside the functions
//    of isa_avx2.cpp, isa_avx512.cpp and isa_avx512_dot.cpp, so the binary runs on any x86-64
//    CPU; and the glibc it needs is at most MAX_GLIBC.
// 3. Strips it into prebuilds/, and checks that the stripped file loads in a fresh Node.
// Exits 1 when any step fails: a tarball must not go out without a working prebuild.
//
// `node scripts/prebuild.mjs --check FILE [OBJDIR]` runs only the checks of step 2 on FILE
// (unstripped), with the object files under OBJDIR if given.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = `${process.platform}-${process.arch}`;
const outDir = join(root, 'build-prebuild');
const built = join(outDir, 'Release', 'gru_simd.node');
const dest = join(root, 'prebuilds', target, 'gru_simd.node');
// Node 18-22's own linux-x64 floor (RHEL 8). scripts/prebuild-glibc-compat.h keeps exp/log/pow
// and pthread_* below it; a new libc call that raises the floor fails here rather than on a
// user's machine.
const MAX_GLIBC = [2, 28];
// The only translation units compiled with AVX flags (CMakeLists.txt).
const AVX_UNITS = new Set(['isa_avx2.cpp', 'isa_avx512.cpp', 'isa_avx512_dot.cpp']);

const started = Date.now();
const fail = (message) => {
  console.error(`prebuild: ${message}`);
  process.exit(1);
};

function run(command, args, options = {}) {
  const r = spawnSync(command, args, {
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
    ...options,
  });
  if (r.error) fail(`${command} could not run: ${r.error.message}`);
  if (r.status !== 0) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
    fail(`${command} ${args.join(' ')} exited with status ${r.status}:\n${out}`);
  }
  return r.stdout;
}

if (process.argv[2] === '--check') {
  const [file, objDir] = process.argv.slice(3);
  if (!file || !existsSync(file))
    fail(
      'usage: node scripts/prebuild.mjs --check FILE [OBJDIR] (an unstripped linux-x64 .node or .so)',
    );
  requireBinutils();
  console.log(`prebuild --check ${file}:\n  ${checkIsa(file, objDir)}\n  ${checkGlibc(file)}`);
  process.exit(0);
}

// ---- 1. build ------------------------------------------------------------------------------
const linuxGlibc =
  process.platform === 'linux' && !!process.report?.getReport().header.glibcVersionRuntime;
// prebuilds/linux-<arch> is for glibc: a binary built against musl would not load there.
if (process.platform === 'linux' && !linuxGlibc)
  fail('build the linux prebuild on a glibc system (this one has none)');
const flags = [];
if (process.arch === 'x64' && process.platform !== 'win32')
  flags.push('-march=x86-64', '-mtune=generic');
if (process.arch === 'arm64' && process.platform === 'linux') flags.push('-march=armv8-a');
// Relative to the build directory, where the compiler runs: no quoting issue with spaces.
if (linuxGlibc && process.arch === 'x64') {
  flags.push('-include', relative(outDir, join(root, 'scripts', 'prebuild-glibc-compat.h')));
}

if (process.env.GRU_SIMD_PREBUILD_INCREMENTAL !== '1')
  rmSync(outDir, { recursive: true, force: true });
let cmakeJs;
try {
  cmakeJs = createRequire(join(root, 'package.json')).resolve('cmake-js/bin/cmake-js');
} catch {
  fail('cmake-js is not installed (npm install)');
}
// The prebuild takes no flags from the environment.
const env = { ...process.env };
for (const k of ['CFLAGS', 'CXXFLAGS', 'CPPFLAGS', 'LDFLAGS', 'GRU_SIMD_ISA', 'GRU_SIMD_ADDON'])
  delete env[k];
// cmake-js sets CMAKE_CXX_FLAGS itself (overriding a --CD one, and CXXFLAGS): the flags go in
// the Release configuration's, after CMake's own default for it. Configure, then build: cmake-js
// compile would skip the configure of an existing build-prebuild/ and keep its old flags.
const common = ['--out', outDir, '--log-level', 'warn'];
if (flags.length) common.push(`--CDCMAKE_CXX_FLAGS_RELEASE=-O3 -DNDEBUG ${flags.join(' ')}`);
for (const step of ['configure', 'build'])
  run(process.execPath, [cmakeJs, step, ...common], { cwd: root, env });
if (!existsSync(built))
  fail(`cmake-js reported success but ${relative(root, built)} does not exist`);

// ---- 2. check the ISA and glibc of the linked binary (linux-x64) ----------------------------
const notes = [];
if (process.platform === 'linux' && process.arch === 'x64') {
  requireBinutils();
  notes.push(checkIsa(built, join(outDir, 'CMakeFiles')), checkGlibc(built));
}

function requireBinutils() {
  for (const tool of ['readelf', 'objdump', 'nm', 'strip']) {
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0) {
      fail(
        `${tool} not found: the linux-x64 prebuild is checked and stripped with binutils (apt-get install binutils)`,
      );
    }
  }
}

/** Function symbols of .symtab: [start, end), name, binding, and the FILE symbol they follow. */
function functions(file) {
  const text = run('readelf', ['-sW', file]);
  const start = text.indexOf("Symbol table '.symtab'");
  if (start < 0)
    fail(`${file} has no .symtab: it is stripped, so the ISA check cannot attribute code`);
  const funcs = [];
  let unit = '';
  for (const line of text.slice(start).split('\n')) {
    const m =
      /^\s*\d+:\s+([0-9a-f]+)\s+(0x[0-9a-f]+|\d+)\s+(\w+)\s+(\w+)\s+\w+\s+(\S+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const [, value, size, type, bind, ndx, name] = m;
    if (type === 'FILE') unit = name;
    else if (type === 'FUNC' && ndx !== 'UND' && Number(size) > 0) {
      const lo = parseInt(value, 16);
      funcs.push({ lo, hi: lo + Number(size), name, unit: bind === 'LOCAL' ? unit : '', bind });
    }
  }
  return funcs.sort((a, b) => a.lo - b.lo);
}

/** Function name -> the units (object file names less ".o") that define it, under objDir. */
function definers(objDir) {
  const units = new Map();
  if (!objDir) return units;
  const objects = readdirSync(objDir, { recursive: true }).filter((p) => p.endsWith('.o'));
  if (objects.length === 0) fail(`no object files under ${objDir}`);
  for (const obj of objects) {
    const unit = basename(obj).replace(/\.o$/, '');
    for (const line of run('nm', ['--defined-only', '-P', join(objDir, obj)]).split('\n')) {
      const [name, type] = line.split(' ');
      if (!/^[TtWw]$/.test(type ?? '')) continue;
      if (!units.has(name)) units.set(name, new Set());
      units.get(name).add(unit);
    }
  }
  return units;
}

/**
 * Every VEX/EVEX instruction (AVX, AVX2, FMA, AVX-512: a v-mnemonic on x/y/z/k registers,
 * vzeroupper, k-mask moves) must lie in a function of an AVX unit: a LOCAL symbol listed under
 * the unit's FILE symbol, or a name that only AVX units' objects define. One anywhere else,
 * e.g. an inline helper that a baseline unit also instantiates and whose AVX copy the linker
 * kept, would be a SIGILL on a CPU without AVX. The AVX units must contain some: else this
 * check would be seeing nothing.
 */
function checkIsa(file, objDir) {
  const funcs = functions(file);
  const units = definers(objDir);
  const inAvxUnit = (f) => {
    if (f.bind === 'LOCAL' && AVX_UNITS.has(f.unit)) return f.unit;
    const defs = units.get(f.name);
    return defs && defs.size > 0 && [...defs].every((u) => AVX_UNITS.has(u))
      ? [...defs].join('+')
      : null;
  };
  const find = (addr) => {
    let lo = 0;
    let hi = funcs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (funcs[mid].hi <= addr) lo = mid + 1;
      else if (funcs[mid].lo > addr) hi = mid - 1;
      else return funcs[mid];
    }
    return null;
  };
  const bad = new Map();
  const good = new Map();
  let avx = 0;
  for (const line of run('objdump', ['-d', '--no-show-raw-insn', '-w', file]).split('\n')) {
    const m = /^\s*([0-9a-f]+):\s+([a-z][a-z0-9.]*)\s*(.*)$/.exec(line);
    if (!m) continue;
    const [, addr, mnemonic, operands] = m;
    const isAvx =
      (mnemonic.startsWith('v') &&
        (/%[xyz]mm\d|%k[0-7]\b/.test(operands) || /^vzero(upper|all)$/.test(mnemonic))) ||
      /^k(mov|and|or|xor|not|shift|test|add|unpck)/.test(mnemonic);
    if (!isAvx) continue;
    avx += 1;
    const f = find(parseInt(addr, 16));
    const unit = f ? inAvxUnit(f) : null;
    const ok = unit !== null;
    const where = unit ?? f?.unit ?? '';
    const key = f
      ? `${f.name} (${f.bind}${where ? `, ${where}` : ''})`
      : `address 0x${addr} (no function symbol)`;
    const map = ok ? good : bad;
    map.set(key, (map.get(key) ?? 0) + 1);
  }
  if (bad.size > 0) {
    const list = [...bad].slice(0, 15).map(([k, n]) => `  ${n} in ${k}`);
    fail(
      `AVX instructions outside isa_avx2.cpp / isa_avx512.cpp / isa_avx512_dot.cpp: the prebuild would crash on x86-64 CPUs without AVX.\n` +
        `${list.join('\n')}\nKeep ISA code in the ISA units, with internal linkage (see TOOLCHAIN.md).`,
    );
  }
  const seen = new Set(
    [...good.keys()].flatMap((k) => (/, (\S+)\)$/.exec(k)?.[1] ?? '').split('+')),
  );
  // isa_avx512_dot.cpp may be absent (a build without it); the other two never are.
  for (const u of ['isa_avx2.cpp', 'isa_avx512.cpp']) {
    if (!seen.has(u))
      fail(`no AVX instruction found in ${u}: the ISA check is not seeing the kernels`);
  }
  return `${avx} AVX/AVX-512 instructions, all in ${good.size} functions of ${[...AVX_UNITS].join(' / ')}`;
}

function checkGlibc(file) {
  const versions = {};
  for (const m of run('objdump', ['-T', file]).matchAll(
    /\b(GLIBC|GLIBCXX|CXXABI)_(\d+(?:\.\d+)*)\b/g,
  )) {
    const v = m[2].split('.').map(Number);
    const cur = versions[m[1]];
    if (!cur || compare(v, cur) > 0) versions[m[1]] = v;
  }
  const glibc = versions.GLIBC ?? [0];
  if (compare(glibc, MAX_GLIBC) > 0) {
    const syms = run('objdump', ['-T', file])
      .split('\n')
      .filter((l) => l.includes(`GLIBC_${glibc.join('.')}`))
      .map((l) => l.trim().split(/\s+/).pop());
    fail(
      `the prebuild needs glibc ${glibc.join('.')} (${syms.join(', ')}), above the floor ${MAX_GLIBC.join('.')}: ` +
        `bind these to an older version in scripts/prebuild-glibc-compat.h`,
    );
  }
  const show = (k) => (versions[k] ? `${k}_${versions[k].join('.')}` : null);
  const needs = [show('GLIBC'), show('GLIBCXX'), show('CXXABI')].filter(Boolean);
  return `needs ${needs.length ? needs.join(', ') : 'no versioned glibc/libstdc++ symbol'} (floor: glibc ${MAX_GLIBC.join('.')})`;
}

function compare(a, b) {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

// ---- 3. strip, copy, load -------------------------------------------------------------------
mkdirSync(dirname(dest), { recursive: true });
rmSync(dest, { force: true });
if (process.platform === 'linux') {
  run('strip', ['--strip-unneeded', '-o', dest, built]);
} else {
  copyFileSync(built, dest);
  if (process.platform === 'darwin') run('strip', ['-x', dest]);
}
// Binds one function of the ABI by hand (the full description lives in the TypeScript).
const probe = `const a = require(${JSON.stringify(dest)});
if (typeof a.bind !== 'function') throw new Error('not gru_simd.node: no bind()');
console.log(a.bind([{ c: 'gru_isa_list', method: 'isaList', args: [], ret: 'str', out: null, async: false }], Error).isaList());`;
const isas = run(process.execPath, ['-e', probe], { env }).trim();

const kib = (p) => `${(statSync(p).size / 1024).toFixed(0)} KiB`;
console.log(
  `prebuild: ${relative(root, dest)} (${kib(dest)} stripped, ${kib(built)} before; N-API 8; ISAs ${isas})` +
    `${notes.length ? `\n  ${notes.join('\n  ')}` : ''}\n  in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
