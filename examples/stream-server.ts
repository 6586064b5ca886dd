/**
 * A streaming GRU server for many concurrent clients (a voice, sensor or per-user session per
 * client), and a load test against it on localhost.
 *
 * Each client opens a session, then sends one frame (inputSize floats) at a time and gets the
 * GRU's output for it (hiddenSize floats); the session's state carries over between frames.
 * The server keeps every session in one GRUStreams group and micro-batches: frames that arrive
 * while a step is running wait, and the next step takes all of them in one call
 * (group.stepAsync: on native it runs on a worker thread, so the event loop keeps accepting
 * frames meanwhile). With --mode single it answers each frame at once with its own stream's
 * stepInto() instead (one call per frame: the baseline).
 *
 *   node --import tsx examples/stream-server.ts [--clients 256] [--seconds 5] [--mode group|single]
 *       [--backend native|wasm-simd|wasm] [--input 64] [--hidden 256]
 *
 * HTTP, binary bodies (little-endian float32):
 *   POST /open          -> {"id": n}
 *   POST /step?id=n     frame [inputSize] -> output [hiddenSize]
 *   POST /close?id=n    -> 204
 */
import { createServer, request, Agent, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GRU, loadBackend, type BackendName, type GRUStream } from '../ts/index.js';
import { isMain } from './example-run.js';

export interface ServerOptions {
  backend?: BackendName;
  inputSize?: number;
  hiddenSize?: number;
  mode?: 'group' | 'single';
}

/** A running server: its port, its GRU (to check answers against) and close(). */
export interface StreamServer {
  port: number;
  gru: GRU;
  /** Steps the server ran and frames they took (group mode: frames / steps is the batch). */
  stats: { steps: number; frames: number };
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

/** Float32 view of a body (copied: a Buffer's bytes may not be 4-byte aligned). */
function floats(body: Buffer): Float32Array {
  const out = new Float32Array(body.length >> 2);
  new Uint8Array(out.buffer).set(body.subarray(0, out.length * 4));
  return out;
}

interface Waiting {
  id: number;
  frame: Float32Array;
  reply: (output: Float32Array) => void;
}

export async function startServer(o: ServerOptions = {}): Promise<StreamServer> {
  const backend = await loadBackend(o.backend ?? 'native');
  const [I, H] = [o.inputSize ?? 64, o.hiddenSize ?? 256];
  const gru = new GRU({ inputSize: I, hiddenSize: H, seed: 1, backend });
  const group = gru.streams();
  const single = new Map<number, GRUStream>();
  let nextSingle = 0;
  const stats = { steps: 0, frames: 0 };

  // Group mode: frames wait here while a step runs; the next step takes them all (a session
  // sends its next frame only after its answer, so a session is in a batch at most once).
  let waiting: Waiting[] = [];
  let running = false;
  const runSteps = async (): Promise<void> => {
    running = true;
    while (waiting.length > 0) {
      const batch = waiting;
      waiting = [];
      const x = new Float32Array(batch.length * I);
      batch.forEach((w, i) => x.set(w.frame, i * I));
      const y = await group.stepAsync(
        batch.map((w) => w.id),
        x,
      );
      stats.steps++;
      stats.frames += batch.length;
      batch.forEach((w, i) => w.reply(y.subarray(i * H, (i + 1) * H)));
    }
    running = false;
  };

  const server: Server = createServer((req, res) => {
    const fail = (status: number, message: string): void => {
      res.writeHead(status, { 'content-type': 'text/plain' }).end(message);
    };
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const body = await readBody(req);
      const id = Number(url.searchParams.get('id'));
      if (req.method !== 'POST') return fail(405, 'POST only');
      if (url.pathname === '/open') {
        let opened: number;
        if (o.mode === 'single') {
          opened = nextSingle++;
          single.set(opened, gru.stream({ batch: 1 }));
        } else {
          opened = group.open();
        }
        return res.writeHead(200, { 'content-type': 'application/json' }).end(`{"id":${opened}}`);
      }
      if (url.pathname === '/close') {
        if (o.mode === 'single') single.delete(id);
        else group.close(id);
        return res.writeHead(204).end();
      }
      if (url.pathname !== '/step') return fail(404, 'unknown path');
      const frame = floats(body);
      if (frame.length !== I) return fail(400, `a frame is ${I} float32 values`);
      const send = (output: Float32Array): void => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(Buffer.from(output.buffer, output.byteOffset, output.byteLength));
      };
      if (o.mode === 'single') {
        const stream = single.get(id);
        if (!stream) return fail(404, `no session ${id}`);
        const out = new Float32Array(H);
        stream.stepInto(frame, out);
        stats.steps++;
        stats.frames++;
        return send(out);
      }
      waiting.push({ id, frame, reply: send });
      if (!running) void runSteps();
    })().catch((e: unknown) => fail(400, e instanceof Error ? e.message : String(e)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    gru,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        gru.dispose();
      }),
  };
}

/** One POST on a keep-alive agent; resolves with the response body. */
export function post(
  agent: Agent,
  port: number,
  path: string,
  body?: Float32Array,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const b = Buffer.concat(parts);
        if ((res.statusCode ?? 500) >= 300) reject(new Error(`${path}: ${res.statusCode} ${b}`));
        else resolve(b);
      });
    });
    req.on('error', reject);
    req.end(body ? Buffer.from(body.buffer, body.byteOffset, body.byteLength) : undefined);
  });
}

export interface LoadResult {
  clients: number;
  seconds: number;
  frames: number;
  framesPerSecond: number;
  p50ms: number;
  p99ms: number;
}

/**
 * `clients` sessions, each sending frame after frame (the next once the answer is back) for
 * `seconds`; the frames are a client's own deterministic sequence.
 */
export async function loadTest(
  port: number,
  clients: number,
  seconds: number,
  inputSize: number,
): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const { id } = JSON.parse((await post(agent, port, '/open')).toString()) as { id: number };
      const frame = new Float32Array(inputSize);
      for (let k = 0; performance.now() < end; k++) {
        for (let i = 0; i < inputSize; i++) frame[i] = Math.sin(c * 7 + k * 0.3 + i);
        const t0 = performance.now();
        await post(agent, port, `/step?id=${id}`, frame);
        latencies.push(performance.now() - t0);
      }
      await post(agent, port, `/close?id=${id}`);
    }),
  );
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return {
    clients,
    seconds,
    frames: latencies.length,
    framesPerSecond: latencies.length / seconds,
    p50ms: at(0.5),
    p99ms: at(0.99),
  };
}

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : (process.argv[i + 1] ?? fallback);
}

if (isMain(import.meta.url)) {
  const clients = Number(option('clients', '256'));
  const seconds = Number(option('seconds', '5'));
  const mode = option('mode', 'group') as 'group' | 'single';
  const inputSize = Number(option('input', '64'));
  const hiddenSize = Number(option('hidden', '256'));
  const backend = option('backend', 'native') as BackendName;
  const server = await startServer({ backend, inputSize, hiddenSize, mode });
  const r = await loadTest(server.port, clients, seconds, inputSize);
  await server.close();
  const batch = server.stats.frames / Math.max(1, server.stats.steps);
  console.log(
    `${mode} mode, ${backend}, GRU I${inputSize} H${hiddenSize}, ${clients} clients for ${seconds} s: ` +
      `${r.framesPerSecond.toFixed(0)} frames/s, latency p50 ${r.p50ms.toFixed(2)} ms, p99 ${r.p99ms.toFixed(2)} ms` +
      (mode === 'group' ? `, ${batch.toFixed(1)} frames per step call` : ''),
  );
}
