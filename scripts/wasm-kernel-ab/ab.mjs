// Runs the kernels of harness modules built from different revisions in one process, alternated
// round by round (best of 10 each), so that the load of a shared machine hits them alike; then
// checks that their outputs are bitwise equal. Usage: node ab.mjs A.wasm B.wasm [...]
import { readFileSync } from 'node:fs';

const files = process.argv.slice(2);
const modules = files.map((file) => {
  const module = new WebAssembly.Module(readFileSync(file));
  const imports = {};
  for (const i of WebAssembly.Module.imports(module)) {
    imports[i.module] ??= {};
    imports[i.module][i.name] = () => 0;
  }
  const ex = new WebAssembly.Instance(module, imports).exports;
  ex._initialize?.();
  ex.setup(6400, 256, 1536, 64, 512);
  return ex;
});

// The bench's workloads (bench/cases.ts): A B1 H128, B B64 I128 H256, C B1 I256 H512.
const kernels = [
  ['projection B: 6400 x 128 x 768', (ex) => ex.proj(6400, 128, 768), 6400 * 128 * 768 * 2],
  ['projection C: 1000 x 256 x 1536', (ex) => ex.proj(1000, 256, 1536), 1000 * 256 * 1536 * 2],
  ['step B: 64 rows, H 256, x50', (ex) => ex.step(64, 256, 50), 50 * 64 * 256 * 768 * 2],
  ['step C: 1 row, H 512, x300', (ex) => ex.step(1, 512, 300), 300 * 512 * 1536 * 2],
  ['step A: 1 row, H 128, x1000', (ex) => ex.step(1, 128, 1000), 1000 * 128 * 384 * 2],
];
for (const [name, run, flops] of kernels) {
  const best = modules.map(() => Infinity);
  for (let round = 0; round < 10; round++)
    modules.forEach((ex, i) => {
      const t0 = performance.now();
      run(ex);
      best[i] = Math.min(best[i], performance.now() - t0);
    });
  const cells = files.map((f, i) => `${f.split('/').pop()} ${(flops / best[i] / 1e6).toFixed(1)}`);
  console.log(`${name.padEnd(32)} GFLOP/s: ${cells.join('  ')}`);
}

// Same bits: projections and three steps over shapes at the blocks' edges.
const same = (ptr, n) => {
  const ref = new Uint32Array(modules[0].memory.buffer, ptr(modules[0]), n);
  return modules.every((ex) => {
    const got = new Uint32Array(ex.memory.buffer, ptr(ex), n);
    return got.every((v, i) => v === ref[i]);
  });
};
let cases = 0;
let differ = 0;
for (const M of [1, 2, 3, 4, 5, 7, 9, 64])
  for (const K of [1, 3, 4, 5, 13, 64])
    for (const N of [12, 24, 36, 120]) {
      for (const ex of modules) ex.proj(M, K, N);
      cases++;
      if (!same((ex) => ex.output(), M * N)) differ++;
    }
for (const rows of [1, 2, 3, 4, 5, 7, 9, 64])
  for (const H of [4, 8, 12, 36, 128]) {
    for (const ex of modules) ex.step(rows, H, 3); // same calls, so the same states
    cases++;
    if (!same((ex) => ex.state(), rows * H)) differ++;
  }
console.log(`outputs: ${cases} cases, ${differ} differ between the modules`);
