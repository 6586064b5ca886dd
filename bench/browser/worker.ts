/**
 * One contestant of the browser bench, in its own module Web Worker (page.ts starts one per
 * contestant and terminates it after): like the Node suite's process per contestant, each gets
 * a fresh realm (onnxruntime-web reads env.wasm.numThreads once; tfjs keeps one backend
 * registry), and a worker is where a page runs heavy work (the demo trains in one), leaving the
 * main thread free. The contestants are the Node suite's own (bench/contestants/), bundled with
 * gru-simd's browser entry; cases are measured by bench/measure.ts, as in Node, except that
 * short calls are batch-timed, and the reference comes from the bench server, which computes it
 * with gru-simd in Node (native where built).
 */
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { CaseResult, GroupResult } from '../cases.js';
import { gruSimd } from '../contestants/gru-simd.js';
import { ort } from '../contestants/ort.js';
import { tfjs } from '../contestants/tfjs.js';
import type { Contestant, Probe } from '../contestants/types.js';
import { batchTimed, now, runCases, type Runtime } from '../measure.js';
import { wasmPeak, wasmRelaxedPeak } from '../wasm-peak.js';
import { BROWSER_GROUPS, type BrowserGroup } from './groups.js';
import type { FromWorker, GroupRequest, ToWorker } from './protocol.js';

const scope = self as unknown as {
  postMessage(message: FromWorker): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
};

/** gru-simd's result on c, computed by the server (POST /reference, bench/browser/server.ts). */
async function reference(
  c: GroupRequest['cases'][number],
  resetAfter: boolean,
): Promise<{ probe: Probe; name: string }> {
  const res = await fetch('/reference', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ case: c, resetAfter }),
  });
  if (!res.ok) throw new Error(`reference of ${c.id}: HTTP ${res.status} ${await res.text()}`);
  const name = res.headers.get('x-reference') ?? 'gru-simd';
  const bytes = await res.arrayBuffer();
  return res.headers.get('x-probe-kind') === 'loss'
    ? { name, probe: { kind: 'loss', value: new Float64Array(bytes)[0] as number } }
    : { name, probe: { kind: 'output', data: new Float32Array(bytes) } };
}

async function load(g: BrowserGroup, threads: number): Promise<Contestant> {
  switch (g.family) {
    case 'gru-simd':
      return gruSimd(g.backend!, g.threads === 'n' ? threads : undefined);
    case 'ort-web':
      return ort('web', threads);
    case 'tfjs-wasm':
      // Bundled, tfjs cannot find its .wasm beside its own script: the server has them here.
      setWasmPaths('/tfjs-wasm/');
      return tfjs('wasm');
  }
}

/** The .wasm files this worker fetched: the module each contestant really ran. */
function wasmFiles(): string[] {
  const paths = performance
    .getEntriesByType('resource')
    .map((e) => new URL(e.name).pathname)
    .filter((p) => p.endsWith('.wasm'));
  return [...new Set(paths)];
}

async function run(request: GroupRequest, threads: number): Promise<GroupResult> {
  const started = now();
  const spec = BROWSER_GROUPS.find((g) => g.id === request.group);
  if (!spec) throw new Error(`unknown contestant ${request.group}`);
  const result: GroupResult = {
    group: spec.id,
    name: spec.name,
    threads,
    detail: '',
    results: [],
    wallSeconds: 0,
  };
  let contestant: Contestant;
  try {
    contestant = await load(spec, threads);
  } catch (e) {
    result.error = String((e as { message?: unknown } | null)?.message ?? e).split('\n')[0];
    result.wallSeconds = now() - started;
    return result;
  }
  result.threads = contestant.threads;
  const runtime: Runtime = { reference, sampled: batchTimed };
  const log = (line: string): void => scope.postMessage({ type: 'log', line });
  const results: CaseResult[] = await runCases(
    contestant,
    spec.id,
    request.cases,
    request.settings,
    runtime,
    log,
  );
  result.results = results;
  result.detail = `${contestant.detail}; module ${wasmFiles().join(', ') || 'none fetched'}`;
  result.wallSeconds = now() - started;
  return result;
}

scope.onmessage = (event) => {
  const message = event.data;
  const work =
    message.type === 'peak'
      ? Promise.all(
          [message.url, message.relaxedUrl].map((u) => fetch(u).then((r) => r.arrayBuffer())),
        ).then(([bytes, relaxed]): FromWorker => ({
          type: 'peak',
          peak: {
            ...wasmPeak(new Uint8Array(bytes!)),
            relaxed: wasmRelaxedPeak(new Uint8Array(relaxed!)),
          },
        }))
      : run(message.request, message.threads).then((result): FromWorker => ({
          type: 'done',
          result,
        }));
  work.then(
    (reply) => scope.postMessage(reply),
    (e: unknown) =>
      scope.postMessage({
        type: 'error',
        message: String((e as { message?: unknown } | null)?.message ?? e),
      }),
  );
};
