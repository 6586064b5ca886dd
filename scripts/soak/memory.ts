/**
 * What the soak measures: the process's memory (process.memoryUsage: RSS, the V8 heap, external
 * memory), the wasm module's linear memory (backend.wasmMemoryBytes(): the memory of the
 * instance in use, which the backend renews once no object is live) and the core's own count of
 * what it holds (gru_allocated_bytes, backend.allocatedBytes()), each read after a full
 * collection so that only what cannot be reclaimed counts.
 */
import type { Backend } from '../../ts/backends/backend.js';
import { REGISTER_AFTER_MS } from '../../ts/layer.js';

export interface Sample {
  /** Work done when sampled (calls, cycles, steps, layers). */
  at: number;
  /** RSS as the program sees it, before the collection. */
  rssBeforeGc: number;
  rss: number;
  heapUsed: number;
  /** V8's external memory: ArrayBuffers and what the addon reports (AdjustExternalMemory). */
  external: number;
  /** The wasm module's linear memory, bytes (null on native). */
  wasm: number | null;
  /** The core's gru_allocated_bytes. */
  allocated: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

export function hasGc(): boolean {
  return typeof gc === 'function';
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const turn = (): Promise<void> => sleep(0);
const SWEEP_MS = 50;

/**
 * Collects until what the core holds stops changing: a FinalizationRegistry's callbacks run in
 * a task after the collection that found their objects dead, and destroying a layer there frees
 * its memory in the core; so collect, yield, and repeat (at most `rounds` times). With
 * `finalizers`, first waits until the layers just dropped are registered (ts/layer.ts registers
 * an object only once it has lived REGISTER_AFTER_MS). Then collects once more and waits
 * SWEEP_MS: a wasm backend that renewed its instance meanwhile (ts/backends/wasm-instance.ts)
 * left the old memory to the collector, and V8 unmaps a dead ArrayBuffer's memory on a
 * background thread after the collection that found it (sampled at once, RSS would still hold
 * it now and then).
 */
export async function settle(backend: Backend, rounds: number, finalizers: boolean): Promise<void> {
  if (finalizers) await sleep(REGISTER_AFTER_MS + 20);
  let before = -1;
  for (let i = 0; i < rounds; i++) {
    gc!();
    await turn();
    const now = backend.allocatedBytes();
    if (now === before) break;
    before = now;
  }
  gc!();
  await sleep(SWEEP_MS);
}

export function read(backend: Backend, at: number, rssBeforeGc: number): Sample {
  const m = process.memoryUsage();
  return {
    at,
    rssBeforeGc,
    rss: m.rss,
    heapUsed: m.heapUsed,
    external: m.external,
    wasm: backend.wasmMemoryBytes(),
    allocated: backend.allocatedBytes(),
  };
}
