/**
 * The browser bench's server (node:http, 127.0.0.1 only): the page cross-origin isolated, so
 * SharedArrayBuffer and wasm threads are allowed to every contestant; the page and its worker
 * bundled by esbuild from bench/ at start; the .wasm files each library fetches; and
 * POST /reference, gru-simd's result on a case computed here in Node (bench/reference.ts), which
 * the page checks every contestant against before timing it.
 */
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import type { Case } from '../cases.js';
import { reference } from '../reference.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const HERE = 'bench/browser';
/** An installed package's folder (onnxruntime-web's exports do not include its package.json). */
const packageDir = (name: string): string => join(ROOT, 'node_modules', name);

/**
 * The headers that make a page cross-origin isolated (COOP + COEP), sent with every response;
 * CORP lets the isolated page load them (everything here is same-origin).
 */
export const ISOLATION_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
};

/** URL prefixes served from directories: gru-simd's modules, the peers' dist/, the peak loop. */
function staticTrees(): [string, string][] {
  return [
    ['/wasm/', join(ROOT, 'wasm')],
    // onnxruntime-web's ES module, its wasm glue (also its threads' script) and .wasm files.
    ['/ort/', join(packageDir('onnxruntime-web'), 'dist')],
    ['/tfjs-wasm/', join(packageDir('@tensorflow/tfjs-backend-wasm'), 'dist')],
    ['/bench/tools/', join(ROOT, 'bench', 'tools')],
  ];
}

/**
 * The bundle's resolutions: gru-simd's Node entry becomes its browser entry (wasm backends, no
 * node: module), onnxruntime-web is its own ES module served from /ort/ (it finds its .wasm and
 * thread script beside itself), onnxruntime-node stays an import the page never makes.
 */
const browserResolve: Plugin = {
  name: 'gru-simd-browser-bench',
  setup(b) {
    b.onResolve({ filter: /\/ts\/index\.js$/ }, (args) => ({
      path: resolve(args.resolveDir, args.path.replace(/index\.js$/, 'index.browser.ts')),
    }));
    b.onResolve({ filter: /^onnxruntime-web$/ }, () => ({
      path: '/ort/ort.wasm.min.mjs',
      external: true,
    }));
    b.onResolve({ filter: /^onnxruntime-node$/ }, () => ({
      path: 'onnxruntime-node',
      external: true,
    }));
  },
};

/** page.js and worker.js, bundled from bench/browser/ once per server. */
async function bundle(): Promise<Map<string, string>> {
  const r = await build({
    entryPoints: { page: join(ROOT, HERE, 'page.ts'), worker: join(ROOT, HERE, 'worker.ts') },
    absWorkingDir: ROOT,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir: join(ROOT, HERE, 'bundle'),
    write: false,
    plugins: [browserResolve],
    // tfjs.ts reads it for the cpu backend only, which the browser bench does not run.
    define: { 'process.env.BENCH_TFJS_CPU_F': 'undefined' },
    logLevel: 'error',
  });
  return new Map(r.outputFiles.map((f) => [`/${HERE}/${f.path.split(sep).pop()}`, f.text]));
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** POST /reference {case, resetAfter}: the probe as bytes (float32 output, or a float64 loss). */
async function answerReference(
  text: string,
): Promise<{ headers: Record<string, string>; body: Buffer }> {
  const { case: c, resetAfter } = JSON.parse(text) as { case: Case; resetAfter: boolean };
  for (const key of ['batch', 'seqLen', 'inputSize', 'hiddenSize'] as const) {
    if (!Number.isInteger(c?.[key]) || c[key] < 1)
      throw new Error(`case.${key} must be a positive integer`);
  }
  const { probe, name } = await reference(c, resetAfter === true);
  const data = probe.kind === 'loss' ? new Float64Array([probe.value]) : probe.data;
  return {
    headers: { 'x-probe-kind': probe.kind, 'x-reference': name },
    body: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
  };
}

async function staticFile(pathname: string): Promise<{ type: string; body: Buffer } | null> {
  if (pathname === `/${HERE}/` || pathname === `/${HERE}/index.html`)
    return { type: TYPES['.html'] as string, body: await readFile(join(ROOT, HERE, 'index.html')) };
  for (const [prefix, dir] of staticTrees()) {
    if (!pathname.startsWith(prefix)) continue;
    const file = resolve(dir, decodeURIComponent(pathname.slice(prefix.length)));
    // Checked on the resolved path: no "..", encoded or not, leaves the tree.
    if (relative(dir, file).startsWith('..') || !(await stat(file).catch(() => null))?.isFile())
      return null;
    return {
      type: TYPES[extname(file)] ?? 'application/octet-stream',
      body: await readFile(file),
    };
  }
  return null;
}

export interface BenchServer {
  /** http://127.0.0.1:<port>/ */
  url: string;
  /** Every request so far, "METHOD /path status". */
  requests: string[];
  close(): Promise<void>;
}

export async function startBenchServer(port = 0): Promise<BenchServer> {
  const bundles = await bundle();
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const reply = (status: number, headers: Record<string, string>, data?: string | Buffer) => {
      res.writeHead(status, { ...ISOLATION_HEADERS, 'cache-control': 'no-store', ...headers });
      res.end(req.method === 'HEAD' ? undefined : data);
      requests.push(`${req.method} ${url.pathname} ${status}`);
    };
    const text = (status: number, message: string) =>
      reply(status, { 'content-type': 'text/plain; charset=utf-8' }, `${message}\n`);
    (async () => {
      if (url.pathname === '/') return reply(302, { location: `/${HERE}/` });
      if (url.pathname === '/reference' && req.method === 'POST') {
        const answer = await answerReference(await body(req));
        return reply(
          200,
          { 'content-type': 'application/octet-stream', ...answer.headers },
          answer.body,
        );
      }
      const bundled = bundles.get(url.pathname);
      if (bundled !== undefined)
        return reply(200, { 'content-type': TYPES['.js'] as string }, bundled);
      const found = await staticFile(url.pathname);
      if (found) return reply(200, { 'content-type': found.type }, found.body);
      text(404, `not found: ${url.pathname}`);
    })().catch((e: unknown) => text(500, e instanceof Error ? e.message : String(e)));
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', done);
  });
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}/`,
    requests,
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
