// Builds the JavaScript the package ships:
//   dist/esm/   ES modules + .d.ts from tsc (one file per source module)
//   dist/cjs/index.cjs   one CommonJS bundle for require(), made by esbuild from ts/index.ts.
// In the CommonJS bundle import.meta.url does not exist; it is defined as the bundle's own
// file URL, so the package root (and wasm/, build/) is found the same way as from dist/esm.
import { execFileSync } from 'node:child_process';
import { rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });

mkdirSync('dist/cjs', { recursive: true });
await build({
  entryPoints: ['ts/index.ts'],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node18',
  outfile: 'dist/cjs/index.cjs',
  define: { 'import.meta.url': '__gru_simd_module_url' },
  banner: { js: "const __gru_simd_module_url = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
// Types for require(): the ESM declarations describe the same API.
writeFileSync('dist/cjs/index.d.cts', "export * from '../esm/index.js';\n");
console.log('build-ts: dist/esm (tsc) and dist/cjs/index.cjs (esbuild)');
