/**
 * Run by test/instance-renewal.test.ts as `node --expose-gc --import tsx child.ts <backend>`, in
 * a process of its own so that the backend's handle table is fresh: prints one JSON line (a
 * Report) of what the handle table functions did and, on the wasm backends, of the memory
 * around renewals of the module instance (ts/backends/wasm-instance.ts).
 */
import { GRU, loadBackend, type Backend, type BackendName } from '../../ts/index.js';

const maybeGc = (globalThis as { gc?: () => void }).gc;
if (!maybeGc) throw new Error('run with --expose-gc');
const gc: () => void = maybeGc;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The code of what fn throws, or 'returned'. */
function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'returned';
  } catch (e) {
    return (e as { code?: string }).code ?? `not a GruError: ${String(e)}`;
  }
}

/** The handle table on a fresh backend: restore, save, and their refusals. */
function tableChecks(backend: Backend) {
  const badRestore = [
    outcome(() => backend.handlesRestore(Int32Array.of(1, 1))), // slot 1 twice
    outcome(() => backend.handlesRestore(Int32Array.of(3, 1))), // slot 3 of 2
    outcome(() => backend.handlesRestore(Int32Array.of(0))), // slot 0: never a slot
  ];
  const slotsAfterBad = backend.handleSlots();
  // Slot 2 at generation 5, then slot 1 at generation 2047 (the sign bit of the int32 bits).
  const saved = Int32Array.of((5 << 20) | 2, (2047 << 20) | 1);
  backend.handlesRestore(saved);
  const a = backend.denseCreate(3, 2, 1, 0);
  const b = backend.denseCreate(3, 2, 1, 0);
  const c = backend.denseCreate(3, 2, 1, 0); // a new slot, 3
  const whileLive = {
    live: backend.liveObjects(),
    save: outcome(() => backend.handlesSave(new Int32Array(3))),
    restore: outcome(() => backend.handlesRestore(saved)),
  };
  backend.destroy(b);
  backend.destroy(a);
  backend.destroy(c);
  const wrongLength = outcome(() => backend.handlesSave(new Int32Array(2)));
  const next = new Int32Array(backend.handleSlots());
  backend.handlesSave(next);
  return {
    stale: [a, b, c],
    badRestore,
    slotsAfterBad,
    made: [a, b, c],
    whileLive,
    liveAfter: backend.liveObjects(),
    wrongLength,
    next: Array.from(next, (h) => h >>> 0),
    staleRefused: outcome(() => backend.bytes(a)),
  };
}

/** Collects until every layer dropped has been destroyed by the FinalizationRegistry. */
async function collect(backend: Backend, live: number): Promise<void> {
  await sleep(120); // a layer is registered 100 ms after it was made (ts/layer.ts)
  for (let t = 0; t < 100 && backend.liveObjects() > live; t++) {
    gc();
    await sleep(10); // finalizers run in a task after the collection
  }
}

const x = Float32Array.from({ length: 3 * 2 * 8 }, (_, i) => Math.sin(i));
const output = (g: GRU) => Array.from(g.forward(x, { batch: 2 }).output!);

/**
 * Renewals: memory after rounds of dropped layers, stale handles, state carried over.
 * `staleHandles`: handles made and destroyed before (tableChecks').
 */
async function renewalChecks(backend: Backend, staleHandles: number[]) {
  const gru = (seed: number, hidden = 16) =>
    new GRU({ inputSize: 8, hiddenSize: hidden, seed, backend });
  const defaultIsa = backend.isa();
  const isa = backend.isaList().at(-1)!; // on wasm-simd not the default: is it carried over?
  backend.setIsa(isa);
  const start = backend.wasmMemoryBytes()!;
  const allocatedStart = backend.allocatedBytes();
  const before = gru(7);
  const reference = output(before);
  staleHandles.push(before._handle());
  before.dispose();
  const disposed = gru(8);
  staleHandles.push(disposed._handle());
  disposed.dispose(); // its JS wrapper stays referenced: a stale layer

  const dropRound = (n: number) => {
    for (let i = 0; i < n; i++) {
      const g = gru(100 + i, 32);
      staleHandles.push(g._handle());
      g.forward(x, { batch: 2 });
    }
  };
  // Round 1 with a layer kept alive: no renewal while it lives.
  const kept = gru(9);
  staleHandles.push(kept._handle());
  const keptOutput = output(kept);
  dropRound(1000);
  const peak = backend.wasmMemoryBytes()!;
  await collect(backend, 1);
  const whileKept = {
    live: backend.liveObjects(),
    memory: backend.wasmMemoryBytes()!,
    sameOutput: JSON.stringify(output(kept)) === JSON.stringify(keptOutput),
  };
  kept.dispose(); // the last live object: renewal
  const afterKeptDisposed = backend.wasmMemoryBytes()!;
  // Round 2, every layer dropped: the finalizer's destroy of the last one renews.
  dropRound(1000);
  const peak2 = backend.wasmMemoryBytes()!;
  await collect(backend, 0);
  const afterDropped = backend.wasmMemoryBytes()!;
  const allocatedAfter = backend.allocatedBytes();

  // Memory grown by a call that failed, with no object live: the error stays readable (no
  // renewal after a failure), and the next successful call renews.
  let failedMessage = '';
  const big = new Float32Array(8 << 20); // 32 MiB copied into the heap
  const failedCode = outcome(() => {
    try {
      backend.evalSigmoid(big, new Float32Array(1));
    } catch (e) {
      failedMessage = (e as Error).message;
      throw e;
    }
  });
  const afterFailure = {
    memory: backend.wasmMemoryBytes()!,
    lastErrorKept: backend.lastError() === failedMessage && failedMessage !== '',
  };
  backend.evalSigmoid(new Float32Array(4), new Float32Array(4));
  const afterSuccess = backend.wasmMemoryBytes()!;

  // After the renewals, with as many new objects live as the old instances made: stale
  // handles refused, none handed out again, new layers compute as before.
  const after = gru(7);
  const newLayers = Array.from({ length: staleHandles.length }, (_, i) => gru(i));
  const newHandles = new Set([after, ...newLayers].map((g) => g._handle() as number));
  const stale = {
    layer: outcome(() => disposed.forward(x, { batch: 2 })),
    handles: [...new Set(staleHandles.map((h) => outcome(() => backend.bytes(h as never))))],
    reused: staleHandles.filter((h) => newHandles.has(h)).length,
    count: staleHandles.length,
  };
  const fresh = {
    sameOutput: JSON.stringify(output(after)) === JSON.stringify(reference),
    isa: backend.isa(),
  };
  after.dispose();
  newLayers.forEach((g) => g.dispose());
  return {
    start,
    defaultIsa,
    isa,
    allocatedStart,
    allocatedAfter,
    peak,
    whileKept,
    afterKeptDisposed,
    peak2,
    afterDropped,
    failedCode,
    afterFailure,
    afterSuccess,
    stale,
    fresh,
  };
}

const backend = await loadBackend(process.argv[2] as BackendName);
const table = tableChecks(backend);
const renewal =
  backend.wasmMemoryBytes() === null ? null : await renewalChecks(backend, [...table.stale]);
console.log(JSON.stringify({ table, renewal }));
