#!/usr/bin/env node
// Builds the native addon with node-gyp (binding.gyp), the second build of the same sources,
// offline, into build-gyp/Release/gru_simd.node.
//
// node-gyp always builds into ./build of its working directory, which is where cmake-js puts
// its build too. So node-gyp runs in a staging directory, build-gyp/stage, holding a copy of
// binding.gyp and a link to native/; the cmake-js build in build/ is never touched.
//
// Node's headers: --nodedir (env npm_config_nodedir, else the installation this node runs
// from when it ships include/node, as Debian's /usr does). node-gyp itself: npm's bundled
// copy (npm sets npm_config_node_gyp for scripts), else one resolvable from the package.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'build-gyp');
const stage = join(outDir, 'stage');
const target = join(outDir, 'Release', 'gru_simd.node');

function fail(message) {
  console.error(`build-gyp: ${message}`);
  process.exit(1);
}

function findNodeGyp() {
  const candidates = [process.env.npm_config_node_gyp];
  try {
    candidates.push(createRequire(join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not a dependency of this package: fall back to npm's bundled copy
  }
  const prefix = resolve(dirname(process.execPath), '..');
  candidates.push(join(prefix, 'lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'));
  const npmRoot = spawnSync('npm', ['root', '-g'], { encoding: 'utf8' });
  if (npmRoot.status === 0) {
    candidates.push(join(npmRoot.stdout.trim(), 'npm/node_modules/node-gyp/bin/node-gyp.js'));
  }
  return candidates.find((c) => c && existsSync(c));
}

function findNodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = resolve(dirname(process.execPath), '..');
  if (existsSync(join(prefix, 'include/node/node_api.h'))) return prefix;
  return undefined; // node-gyp would download headers: fails offline, says so itself
}

const nodeGyp = findNodeGyp();
if (!nodeGyp) fail("node-gyp not found (neither npm_config_node_gyp nor npm's bundled copy)");
const nodeDir = findNodeDir();

mkdirSync(stage, { recursive: true });
copyFileSync(join(root, 'binding.gyp'), join(stage, 'binding.gyp'));
const link = join(stage, 'native');
const linkTo = relative(stage, join(root, 'native'));
let linkOk = false;
try {
  linkOk = readlinkSync(link) === linkTo;
} catch {
  // no link yet
}
if (!linkOk) {
  rmSync(link, { recursive: true, force: true });
  symlinkSync(linkTo, link, 'dir');
}

const common = [...(nodeDir ? [`--nodedir=${nodeDir}`] : []), '--loglevel=warn'];
const started = Date.now();
for (const step of [['configure'], ['build', '--jobs=2']]) {
  const r = spawnSync(process.execPath, [nodeGyp, ...step, ...common], {
    cwd: stage,
    stdio: 'inherit',
  });
  if (r.error) fail(`node-gyp ${step[0]}: ${r.error.message}`);
  if (r.status !== 0) fail(`node-gyp ${step[0]} failed with status ${r.status}`);
}
mkdirSync(dirname(target), { recursive: true });
copyFileSync(join(stage, 'build', 'Release', 'gru_simd.node'), target);
const seconds = ((Date.now() - started) / 1000).toFixed(1);
console.log(`build-gyp: ${relative(root, target)} (${seconds} s, nodedir=${nodeDir ?? 'default'})`);
