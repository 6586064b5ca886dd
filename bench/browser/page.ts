/**
 * The browser bench's page script: window.gruBench, which bench.ts drives through playwright.
 * Every contestant and the peak loops run in a module worker of their own (worker.ts); the page
 * only starts them, forwards their progress to the console and hands their results back.
 */
import type { GroupResult } from '../cases.js';
import { BROWSER_GROUPS, threadsN } from './groups.js';
import type {
  BenchPage,
  FromWorker,
  GroupRequest,
  PageEnvironment,
  ToWorker,
  WasmPeak,
} from './protocol.js';

interface UserAgentData {
  getHighEntropyValues(
    hints: string[],
  ): Promise<{ fullVersionList?: { brand: string; version: string }[] }>;
}

/** The browser's full version: the user agent string says only "156.0.0.0" (reduced UA). */
async function browserVersion(): Promise<string> {
  const data = (navigator as unknown as { userAgentData?: UserAgentData }).userAgentData;
  const list = (await data?.getHighEntropyValues(['fullVersionList']))?.fullVersionList ?? [];
  const found = list.find((b) => /^(Chromium|Google Chrome)$/.test(b.brand));
  return found?.version ?? /Chrome\/([\d.]+)/.exec(navigator.userAgent)?.[1] ?? 'unknown';
}

async function environment(): Promise<PageEnvironment> {
  return {
    browserVersion: await browserVersion(),
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    sharedArrayBuffer: typeof SharedArrayBuffer === 'function',
    hardwareConcurrency: navigator.hardwareConcurrency,
    threadsN: threadsN(navigator.hardwareConcurrency),
    userAgent: navigator.userAgent,
  };
}

/** Posts one message to a fresh worker and resolves with its answer (logs go to the console). */
function inWorker(message: ToWorker, limitSeconds: number): Promise<FromWorker> {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  return new Promise<FromWorker>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`stopped after ${limitSeconds} s`)),
      limitSeconds * 1000,
    );
    worker.onmessage = (event: MessageEvent<FromWorker>) => {
      const reply = event.data;
      if (reply.type === 'log') return console.log(reply.line);
      clearTimeout(timer);
      if (reply.type === 'error') reject(new Error(reply.message));
      else resolve(reply);
    };
    worker.onerror = (event) => {
      clearTimeout(timer);
      reject(new Error(`worker error: ${event.message || 'could not start'}`));
    };
    worker.postMessage(message);
  }).finally(() => worker.terminate());
}

async function peak(): Promise<WasmPeak> {
  const reply = await inWorker(
    {
      type: 'peak',
      url: '/bench/tools/fma_peak_wasm.wasm',
      relaxedUrl: '/bench/tools/fma_peak_relaxed.wasm',
    },
    120,
  );
  if (reply.type !== 'peak') throw new Error(`peak: unexpected reply ${reply.type}`);
  return reply.peak;
}

async function runGroup(request: GroupRequest): Promise<GroupResult> {
  const spec = BROWSER_GROUPS.find((g) => g.id === request.group);
  if (!spec) throw new Error(`unknown contestant ${request.group}`);
  const threads = spec.threads === 'n' ? threadsN(navigator.hardwareConcurrency) : spec.threads;
  try {
    const reply = await inWorker({ type: 'run', request, threads }, request.limitSeconds);
    if (reply.type !== 'done') throw new Error(`unexpected reply ${reply.type}`);
    return reply.result;
  } catch (e) {
    return {
      group: spec.id,
      name: spec.name,
      threads,
      detail: '',
      error: e instanceof Error ? e.message : String(e),
      results: [],
      wallSeconds: 0,
    };
  }
}

const api: BenchPage = { environment, peak, runGroup };
(window as unknown as { gruBench: BenchPage }).gruBench = api;
