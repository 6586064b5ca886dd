#!/usr/bin/env node
// The inner loops of a gru-simd wasm module as V8 compiles them for this CPU: for each innermost
// loop of TurboFan's code that does vector arithmetic, its instructions, its float multiplies,
// adds and fused multiply-adds, its loads and broadcasts, and its spills (xmm stores to and
// reloads from the stack frame). A GEMM microkernel loop should show no spills: one spilled
// accumulator puts a store and a reload (store forwarding, ~5 cycles) on its chain every k.
//
//   node scripts/wasm-hot-loops.mjs [wasm-simd|wasm-relaxed]    (default wasm-simd)
//   node scripts/wasm-hot-loops.mjs --from FILE                   (a saved --print-wasm-code dump)
//
// It loads the backend in a child Node with --no-liftoff --no-wasm-lazy-compilation
// --print-wasm-code (every function
// compiled by TurboFan at instantiation) and reads the x86-64 disassembly it prints; other
// architectures print other mnemonics and give no rows. The shipped modules carry no function
// names: loops are named by function index and offset. Loops with fewer than 4 vector
// multiplies are left out (gate math and copies).
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
let dump;
let label;
if (args[0] === '--from') {
  dump = readFileSync(args[1], 'utf8');
  label = args[1];
} else {
  const backend = args[0] ?? 'wasm-simd';
  if (backend !== 'wasm-simd' && backend !== 'wasm-relaxed')
    throw new Error(`backend must be wasm-simd or wasm-relaxed, got ${backend}`);
  const load = `const { loadBackend } = await import('./ts/index.ts'); await loadBackend('${backend}');`;
  const dir = mkdtempSync(join(tmpdir(), 'gru-hot-loops-'));
  const outFile = join(dir, 'dump.txt');
  const out = openSync(outFile, 'w');
  const r = spawnSync(
    process.execPath,
    [
      '--no-liftoff',
      '--no-wasm-lazy-compilation',
      '--print-wasm-code',
      '--experimental-wasm-relaxed-simd',
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      load,
    ],
    // Into a file: through a pipe the child's exit cut the dump short.
    { cwd: root, encoding: 'utf8', stdio: ['ignore', out, 'pipe'] },
  );
  closeSync(out);
  dump = readFileSync(outFile, 'utf8');
  rmSync(dir, { recursive: true });
  if (r.status !== 0) throw new Error(`the child node failed: ${r.stderr}`);
  label = backend;
}

// Functions: a header ("index: N", "compiler: TurboFan") then lines "0xADDR  OFFSET  BYTES  asm".
const functions = [];
let current = null;
for (const line of dump.split('\n')) {
  if (line.startsWith('index: ')) {
    current = { index: Number(line.slice(7)), turbofan: false, code: [] };
    functions.push(current);
  } else if (line.startsWith('compiler: TurboFan') && current) {
    current.turbofan = true;
  } else if (current) {
    const m = /^0x[0-9a-f]+\s+([0-9a-f]+)\s+[0-9a-f]+\s+(.*)$/.exec(line);
    if (m) current.code.push({ offset: parseInt(m[1], 16), asm: m[2].trim() });
  }
}

const count = (body, re) => body.filter((i) => re.test(i.asm)).length;
const rows = [];
for (const f of functions) {
  if (!f.turbofan) continue;
  // A loop is a jump back to an offset at or before itself; innermost: contains no other loop.
  const loops = [];
  for (const { offset, asm } of f.code) {
    const target = /^j\w+\s.*<\+0x([0-9a-f]+)>/.exec(asm);
    if (target && parseInt(target[1], 16) <= offset) loops.push([parseInt(target[1], 16), offset]);
  }
  const innermost = loops.filter(
    (l) => !loops.some((o) => o !== l && l[0] <= o[0] && o[1] <= l[1]),
  );
  for (const [from, to] of innermost) {
    const body = f.code.filter((i) => i.offset >= from && i.offset <= to);
    const mul = count(body, /^v?mulps /);
    const fma = count(body, /^vfn?madd\d+ps /);
    if (mul + fma < 4) continue;
    rows.push({
      fn: f.index,
      at: `${from.toString(16)}-${to.toString(16)}`,
      instructions: body.length,
      mulps: mul,
      addps: count(body, /^v?addps /),
      fma,
      broadcasts: count(body, /broadcastss/),
      loads: count(body, /^v?mov[ud]\w* xmm\d+,\[(?!rbp|rsp)/),
      spills: count(body, /^v?mov\w+ \[(rbp|rsp)[^\]]*\],xmm/),
      reloads:
        count(body, /^v?mov\w+ xmm\d+,\[(rbp|rsp)/) + count(body, /ps xmm\d+,xmm\d+,\[(rbp|rsp)/),
    });
  }
}
console.log(`${label}: ${rows.length} vector loops with >= 4 multiplies`);
console.log('fn\tat\tinstr\tmulps\taddps\tfma\tbcast\tloads\tspills\treloads');
for (const r of rows)
  console.log(
    [
      r.fn,
      r.at,
      r.instructions,
      r.mulps,
      r.addps,
      r.fma,
      r.broadcasts,
      r.loads,
      r.spills,
      r.reloads,
    ].join('\t'),
  );
const spilling = (list) => list.filter((r) => r.spills + r.reloads > 0).length;
console.log(`${spilling(rows)} of ${rows.length} loops spill xmm registers`);
// The GEMM microkernel's k loops: broadcasts of A and as many adds as multiplies (or FMAs).
const kernels = rows.filter((r) => r.broadcasts > 0 && (r.fma > 0 || r.mulps === r.addps));
const perOp = kernels.map((r) => r.instructions / (r.fma + r.mulps)).sort((a, b) => a - b);
const median = perOp.length ? perOp[Math.floor(perOp.length / 2)] : 0;
console.log(
  `microkernel loops: ${kernels.length}, ${spilling(kernels)} spill, ` +
    `${kernels.reduce((n, r) => n + r.spills + r.reloads, 0)} spill+reload instructions in all; ` +
    `median ${median.toFixed(2)} instructions per FMA (or multiply-add pair)`,
);
