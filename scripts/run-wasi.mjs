#!/usr/bin/env node
// Runs a standalone WASI program (C/C++ built with emcc -sSTANDALONE_WASM, e.g. the wasm builds
// of test/kernels) under node:wasi and exits with its exit code. Its stdout is collected and
// then printed; with env GRU_TEST_COUNTS set, the program's last line `N passed, N failed` is
// written there as { "passed": N, "failed": N, "skipped": 0 } (Emscripten's standalone libc
// cannot open files, so the program cannot write it itself). Env GRU_KERNEL_TESTS_TARGET is
// passed on.
// Usage: node --no-warnings scripts/run-wasi.mjs program.wasm [args...]
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { WASI } from 'node:wasi';

const [file, ...args] = process.argv.slice(2);
const env = {};
if (process.env.GRU_KERNEL_TESTS_TARGET)
  env.GRU_KERNEL_TESTS_TARGET = process.env.GRU_KERNEL_TESTS_TARGET;
const dir = mkdtempSync(join(tmpdir(), 'gru-wasi-'));
const outFile = join(dir, 'stdout');
const out = openSync(outFile, 'w');

let code = 1;
try {
  const wasi = new WASI({
    version: 'preview1',
    args: [basename(file), ...args],
    env,
    stdout: out,
    returnOnExit: true,
  });
  const module = new WebAssembly.Module(readFileSync(file));
  // -sALLOW_MEMORY_GROWTH imports a notification of growth: nothing to do (no views kept here).
  const imports = { ...wasi.getImportObject(), env: { emscripten_notify_memory_growth() {} } };
  const missing = WebAssembly.Module.imports(module).filter((i) => !imports[i.module]?.[i.name]);
  if (missing.length)
    throw new Error(
      `imports ${missing.map((i) => `${i.module}.${i.name}`).join(', ')}, not provided`,
    );
  code = wasi.start(new WebAssembly.Instance(module, imports));
} catch (e) {
  console.error(`run-wasi: ${file}: ${e.message}`);
} finally {
  closeSync(out);
}
const text = readFileSync(outFile, 'utf8');
rmSync(dir, { recursive: true, force: true });
process.stdout.write(text);
const last = /^(\d+) passed, (\d+) failed$/m.exec(text.trimEnd().split('\n').pop() ?? '');
if (process.env.GRU_TEST_COUNTS && last) {
  const counts = { passed: Number(last[1]), failed: Number(last[2]), skipped: 0 };
  writeFileSync(process.env.GRU_TEST_COUNTS, JSON.stringify(counts) + '\n');
}
process.exitCode = code;
