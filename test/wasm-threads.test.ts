/**
 * Threads in wasm (ts/backends/wasm-threads.ts, native/core/thread_pool_wasm.h): in Node the
 * wasm-simd and wasm-relaxed backends load their threaded modules (gru_simd-*-mt.wasm), whose
 * helpers are worker_threads over one shared WebAssembly.Memory. Results must be bitwise
 * identical for any number of threads; the helpers must actually compute (their joins are
 * counted by the core); the pool shrinks and grows again; where shared memory is not available
 * the backend loads the single-threaded module, stays at one thread and says why.
 * The same checks run in Chromium in test/browser.test.ts (a cross-origin isolated page).
 */
import assert from 'node:assert/strict';
import { defaultWasmUrl, loadWasmBackend, wasmRelaxedSimdSupported } from '../ts/backends/wasm.js';
import { MT_MEMORY_INITIAL_PAGES, threadsUnavailableReason } from '../ts/backends/wasm-threads.js';
import type { Backend, BackendName } from '../ts/backends/backend.js';
import { backendInfo, GRU, init, loadBackend, setThreads, threadsReady } from '../ts/index.js';
import { trainPassArrays } from './train-arrays.js';
import { assertRejectsCode, assertThrowsCode, rng, uniform } from './util.js';

function assertBitwise(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== e[i]) assert.fail(`${what}[${i}]: ${actual[i]} != ${expected[i]} (not bitwise)`);
  }
}

/** A training forward and backward big enough for several workers a region (workers_for). */
function trainStep(backend: Backend, resetAfter: boolean): Float32Array[] {
  const gru = new GRU({
    inputSize: 64,
    hiddenSize: 128,
    numLayers: 2,
    bidirectional: true,
    resetAfter,
    seed: 21,
    backend,
  });
  return trainPassArrays(
    gru,
    uniform(12 * 32 * 64, -1, 1, rng(22)),
    { batch: 32, dropout: 0.25 },
    23,
  );
}

/** A batch-1 sequence (the time loop split by hidden tiles). */
function batchOne(backend: Backend): Float32Array[] {
  const gru = new GRU({ inputSize: 128, hiddenSize: 512, seed: 31, backend });
  try {
    const r = gru.forward(uniform(20 * 128, -1, 1, rng(32)), { batch: 1 });
    return [r.output!, r.hN];
  } finally {
    gru.dispose();
  }
}

const NAMES: BackendName[] = [
  'wasm-simd',
  ...(wasmRelaxedSimdSupported() ? ['wasm-relaxed' as const] : []),
];

for (const name of NAMES) {
  describe(`wasm threads [${name}]`, function () {
    this.timeout(600000);
    let backend: Backend;
    before(async () => {
      backend = await loadBackend(name);
      // The machine may be busy: no cooldown after a stall, so that the helpers join.
      backend._wasmHelpers(true);
    });
    after(async () => {
      backend._wasmHelpers(false);
      setThreads(1, backend);
      await threadsReady(backend);
    });

    it('loads the threaded module in Node (no threadsNote); 1 thread by default', () => {
      assert.equal(backend.threadsNote, null);
      assert.equal(backend.threads(), 1);
      assert.deepEqual(backend._wasmHelpers()?.running, 0);
    });

    it('2 and 3 threads: bitwise the results of 1, and the helpers computed', async () => {
      setThreads(1, backend);
      await threadsReady(backend);
      const one = [...trainStep(backend, true), ...trainStep(backend, false), ...batchOne(backend)];
      for (const n of [2, 3]) {
        setThreads(n, backend);
        assert.equal(await threadsReady(backend), n);
        assert.equal(backend.threads(), n);
        assert.equal(backend._wasmHelpers()!.running, n - 1);
        const joinsBefore = backend._wasmHelpers()!.joins;
        const many = [
          ...trainStep(backend, true),
          ...trainStep(backend, false),
          ...batchOne(backend),
        ];
        many.forEach((a, i) => assertBitwise(a, one[i]!, `${n} threads vs 1, result ${i}`));
        assert.ok(
          backend._wasmHelpers()!.joins > joinsBefore,
          `the helpers joined no region with ${n} threads`,
        );
      }
    });

    it('calls right after setThreads (helpers still starting) compute the same bits', async () => {
      setThreads(1, backend);
      await threadsReady(backend);
      const one = batchOne(backend);
      setThreads(1, backend);
      // Wait for the helpers to leave, so the next setThreads starts them anew.
      for (let i = 0; i < 2000 && backend._wasmHelpers()!.running > 0; i++)
        await new Promise((r) => setTimeout(r, 5));
      assert.equal(backend._wasmHelpers()!.running, 0);
      setThreads(2, backend);
      batchOne(backend).forEach((a, i) => assertBitwise(a, one[i]!, `result ${i}`));
      assert.equal(await threadsReady(backend), 2);
      batchOne(backend).forEach((a, i) => assertBitwise(a, one[i]!, `result ${i}, helper in`));
    });

    it('shrinks: the helpers above the new size leave their loop', async () => {
      setThreads(3, backend);
      await threadsReady(backend);
      assert.equal(backend._wasmHelpers()!.running, 2);
      setThreads(2, backend);
      for (let i = 0; i < 2000 && backend._wasmHelpers()!.running > 1; i++)
        await new Promise((r) => setTimeout(r, 5));
      assert.equal(backend._wasmHelpers()!.running, 1);
      assert.equal(backend.threads(), 2);
      setThreads(1, backend);
      for (let i = 0; i < 2000 && backend._wasmHelpers()!.running > 0; i++)
        await new Promise((r) => setTimeout(r, 5));
      assert.equal(backend._wasmHelpers()!.running, 0);
      assert.equal(backend.threads(), 1);
    });

    it('the thread policy keeps small calls on one thread: no region for A, E or small sweep points', async () => {
      setThreads(2, backend);
      await threadsReady(backend);
      // The shapes of bench cases A (B1 T100 I64 H128), E (one step, B1 I64 H256, as a stream
      // steps) and the batch-1 sweep points up to H256: under the policy's minimum work a
      // phase (workers_for), so a helper would only add a meeting per step; none is woken.
      const small: [number, number, number, number][] = [
        [1, 100, 64, 128],
        [1, 1, 64, 256],
        [1, 50, 128, 64],
        [1, 50, 128, 256],
      ];
      // Helpers spinning right after a region join the next one for free (workers_for); the
      // policy's decision that matters is the one that would wake them.
      for (let i = 0; i < 2000 && !backend._wasmHelpers()!.asleep; i++)
        await new Promise((r) => setTimeout(r, 5));
      assert.ok(backend._wasmHelpers()!.asleep, 'the helper never went to sleep');
      const regionsBefore = backend._wasmHelpers()!.regions;
      for (const [batch, seqLen, inputSize, hiddenSize] of small) {
        const gru = new GRU({ inputSize, hiddenSize, seed: 41, backend });
        try {
          const x = uniform(seqLen * batch * inputSize, -1, 1, rng(42));
          for (let i = 0; i < 5; i++) gru.forward(x, { batch });
          const stream = gru.stream({ batch });
          for (let i = 0; i < 5; i++) stream.step(x.subarray(0, batch * inputSize));
        } finally {
          gru.dispose();
        }
      }
      assert.equal(backend._wasmHelpers()!.regions, regionsBefore, 'a small call opened a region');
      // Batch 1 at H512 (bench case C's width): the time loop is split between the threads.
      batchOne(backend);
      assert.ok(backend._wasmHelpers()!.regions > regionsBefore, 'batch 1, H512: no region');
    });

    it('setThreads(n) as the call that renews the instance: the fresh one has n threads', async () => {
      setThreads(2, backend);
      await threadsReady(backend);
      // Grow the memory with a call while a helper runs (no renewal while helpers exist)...
      const gru = new GRU({ inputSize: 128, hiddenSize: 256, seed: 51, backend });
      gru.forward(uniform(100 * 64 * 128, -1, 1, rng(52)), { batch: 64 });
      gru.dispose();
      assert.ok(backend.wasmMemoryBytes()! > MT_MEMORY_INITIAL_PAGES * 65536, 'no growth');
      // ...then let the helper go: the next call renews the instance (and nothing else calls
      // into the core before it: _wasmHelpers reads the module's counters directly).
      setThreads(1, backend);
      for (let i = 0; i < 2000 && backend._wasmHelpers()!.running > 0; i++)
        await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 50)); // its worker's last message: it is let go
      setThreads(2, backend);
      assert.equal(backend.wasmMemoryBytes(), MT_MEMORY_INITIAL_PAGES * 65536, 'not renewed');
      assert.equal(backend.threads(), 2);
      assert.equal(await threadsReady(backend), 2);
      // Computes with the helper on the fresh instance. A region of batchOne lasts well under a
      // millisecond: on a loaded machine the helper may not get a core in time for the first
      // one, so a few more (a fresh instance without a helper never joins any).
      for (let i = 0; i < 100 && backend._wasmHelpers()!.joins === 0; i++) {
        batchOne(backend);
        if (backend._wasmHelpers()!.joins === 0) await new Promise((r) => setTimeout(r, 5));
      }
      assert.ok(backend._wasmHelpers()!.joins > 0, 'the helper joined no region in 100 calls');
      setThreads(1, backend);
    });

    it('backendInfo() reports the threads; out-of-range n is refused naming n', async () => {
      await init({ backend: name });
      setThreads(2);
      assert.equal(backendInfo().threads, 2);
      assert.equal(backendInfo().threadsNote, undefined);
      await threadsReady();
      assertThrowsCode(() => setThreads(0), 'ERR_GRU_ARG', ['n (threads)']);
      assert.equal(backendInfo().threads, 2);
      setThreads(1);
    });
  });
}

/**
 * setThreads(2) on a backend without threads: no error, one thread, one warning naming why
 * (and none the second time).
 */
function assertStaysSingle(b: Backend, why: RegExp): void {
  const warned: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => void warned.push(args.map(String).join(' '));
  try {
    setThreads(2, b);
    setThreads(3, b);
  } finally {
    console.warn = original;
  }
  assert.equal(b.threads(), 1);
  assert.equal(warned.length, 1, warned.join('\n'));
  assert.match(warned[0]!, /setThreads\(2\) on .* stays at one thread/);
  assert.match(warned[0]!, why);
}

describe('wasm threads: where they are not available', () => {
  it('the scalar module stays at one thread and says why', async () => {
    const scalar = await loadBackend('wasm');
    assert.match(scalar.threadsNote ?? '', /one thread: the scalar module is single-threaded/);
    assertStaysSingle(scalar, /single-threaded/);
    assert.equal(scalar.threads(), 1);
    assert.equal(await threadsReady(scalar), 1);
    assert.equal(scalar._wasmHelpers(), null);
  });

  it('a page that is not cross-origin isolated: the single-threaded module, threadsNote says why', async () => {
    const g = globalThis as { crossOriginIsolated?: boolean };
    const saved = Object.getOwnPropertyDescriptor(globalThis, 'crossOriginIsolated');
    g.crossOriginIsolated = false;
    try {
      const reason = threadsUnavailableReason(undefined);
      assert.match(reason ?? '', /not cross-origin isolated/);
      assert.match(reason ?? '', /Cross-Origin-Opener-Policy: same-origin/);
      assert.match(reason ?? '', /Cross-Origin-Embedder-Policy: require-corp/);
      const { readFile } = await import('node:fs/promises');
      const b = await loadWasmBackend('simd', {
        files: { defaultUrl: defaultWasmUrl, read: (l) => readFile(l) },
      });
      assert.equal(b.threadsNote, reason);
      assert.equal(b._wasmHelpers(), null);
      assertStaysSingle(b, /cross-origin isolated/);
      assert.equal(b.threads(), 1);
      // It computes what the threaded module computes.
      const threaded = await loadBackend('wasm-simd');
      const ours = batchOne(b);
      batchOne(threaded).forEach((a, i) => assertBitwise(a, ours[i]!, `result ${i}`));
    } finally {
      if (saved) Object.defineProperty(globalThis, 'crossOriginIsolated', saved);
      else delete g.crossOriginIsolated;
    }
  });

  it('a threaded module that cannot load: the single-threaded one, threadsNote says why', async () => {
    const { readFile } = await import('node:fs/promises');
    const b = await loadWasmBackend('simd', {
      files: {
        defaultUrl: defaultWasmUrl,
        read: (l) =>
          String(l).endsWith('-mt.wasm')
            ? Promise.reject(new Error('no shared memory here'))
            : readFile(l),
      },
      startWorker: () => {
        throw new Error('not reached: no threaded module');
      },
    });
    assert.match(b.threadsNote ?? '', /threaded module could not load \(no shared memory here\)/);
    assert.equal(b._wasmHelpers(), null);
    assertStaysSingle(b, /could not load/);
    assert.equal(batchOne(b).length, 2);
  });

  it('a helper that cannot start: threadsReady rejects with the reason', async () => {
    const { readFile } = await import('node:fs/promises');
    const b = await loadWasmBackend('simd', {
      files: { defaultUrl: defaultWasmUrl, read: (l) => readFile(l) },
      startWorker: () => {
        throw new Error('workers are off');
      },
    });
    assert.equal(b.threadsNote, null);
    setThreads(2, b);
    await assertRejectsCode(() => threadsReady(b), 'ERR_GRU_BACKEND_UNAVAILABLE');
    // Calls still compute, on the caller alone.
    assert.equal(batchOne(b).length, 2);
  });
});
