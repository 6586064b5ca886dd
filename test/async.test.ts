/**
 * Node servers: the async API and the thread count, on every backend (env
 * GRU_SIMD_BACKENDS, default all three). Native runs the async calls on worker threads, so the
 * event loop keeps ticking; wasm runs them synchronously inside the promise, with the same
 * results. Results must not depend on the thread count or on calls running concurrently:
 * compared bitwise. A layer in use by an async call refuses other calls (ERR_GRU_BUSY).
 *
 * Over 400 lines: the async API of every layer, its busy guards and lifetimes share the process-
 * level fixtures.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  backendInfo,
  GRU,
  GruError,
  init,
  SequenceModel,
  setThreads,
  SGD,
  type SequenceModelOptions,
} from '../ts/index.js';
import type { Backend } from '../ts/backends/backend.js';
import { forEachBackend } from './backends.js';
import { trainPassArrays } from './train-arrays.js';
import { assertRejectsCode, assertThrowsCode, rng, uniform } from './util.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const INDEX = new URL('../ts/index.ts', import.meta.url).href;
const ABI_MODULE = new URL('../ts/backends/abi.generated.ts', import.meta.url).href;
const ADDON =
  process.env.GRU_SIMD_ADDON ||
  fileURLToPath(new URL('../build/Release/gru_simd.node', import.meta.url));

// Run with --expose-gc in a fresh process: forwardAsync calls whose network, input and output
// have no JS reference left but the call's own, with the collector forced while they run.
// Without the addon's reservation of the handle the network is destroyed under the worker
// thread, and without its copies (native/addon/owned_arrays.h) the input is freed under it and
// the output lost: a crash (or a wrong result).
const GC_PROBE = `const m = await import(${JSON.stringify(INDEX)});
const { ABI } = await import(${JSON.stringify(ABI_MODULE)});
const { createRequire } = await import('node:module');
const b = await m.loadBackend('native');
// The addon's own functions (the backend's async wrapper would keep its arguments alive in its frame).
const addon = createRequire(import.meta.url)(${JSON.stringify(ADDON)}).bind(ABI, m.GruError);
const [I, H, B, T] = [64, 128, 16, 300];
const make = () => Float32Array.from({ length: T * B * I }, (_, i) => Math.sin(i * 0.37));
const ref = new m.GRU({ inputSize: I, hiddenSize: H, seed: 5, backend: b }).forward(make(), { batch: B }).hN;
const hN = new Float32Array(B * H);
const start = () => addon.netForwardAsync(new m.GRU({ inputSize: I, hiddenSize: H, seed: 5, backend: b })._handle(),
  T, B, 0, make(), null, null, new Float32Array(T * B * H), hN);
let gcs = 0;
let same = true;
for (let round = 0; round < 3; round++) {
  hN.fill(0);
  const p = start();
  let done = false;
  p.then(() => { done = true; });
  while (!done) { globalThis.gc(); gcs++; await new Promise((r) => setImmediate(r)); }
  await p;
  same &&= ref.every((v, i) => Object.is(v, hN[i]));
}
for (let i = 0; i < 5; i++) globalThis.gc();
console.log(JSON.stringify({ gcs, same }));`;

/** Bitwise equality of two float arrays (NaN-safe, -0 vs 0 told apart). */
function assertBitwise(
  actual: Float32Array | null,
  expected: Float32Array | null,
  what: string,
): void {
  assert.ok(actual !== null && expected !== null, `${what}: missing`);
  assert.equal(actual.length, expected.length, `${what}: length`);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const b = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) assert.fail(`${what}: element ${i} differs: ${actual[i]} vs ${expected[i]}`);
  }
}

function assertDictBitwise(
  actual: Record<string, Float32Array>,
  expected: Record<string, Float32Array>,
  what: string,
): void {
  assert.deepEqual(Object.keys(actual), Object.keys(expected), `${what}: names`);
  for (const name of Object.keys(expected))
    assertBitwise(actual[name] as Float32Array, expected[name] as Float32Array, `${what}.${name}`);
}

/** Counts event-loop turns (setImmediate) and timer ticks (setInterval 1 ms) until stop(). */
function tickCounter(): { stop(): { immediates: number; intervals: number } } {
  let immediates = 0;
  let intervals = 0;
  let running = true;
  const spin = (): void => {
    if (!running) return;
    immediates++;
    setImmediate(spin);
  };
  setImmediate(spin);
  const timer = setInterval(() => intervals++, 1);
  return {
    stop() {
      running = false;
      clearInterval(timer);
      return { immediates, intervals };
    },
  };
}

function codeOf(e: unknown): string | undefined {
  return (e as { code?: string } | null)?.code;
}

/** The layers and optimizer state of a model, for bitwise comparison. */
function modelState(m: SequenceModel): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(m.gru.stateDict())) out[`gru.${k}`] = v;
  for (const [k, v] of Object.entries(m.dense.stateDict())) out[`dense.${k}`] = v;
  if (m.embedding) out['embedding.weight'] = m.embedding.stateDict().weight as Float32Array;
  out['optimizer.state'] = m.optimizer.stateDict().state;
  return out;
}

interface TrainCase {
  name: string;
  options: Omit<SequenceModelOptions, 'backend' | 'seed'>;
  batch(step: number): {
    x: Int32Array | Float32Array;
    targets: Int32Array | Float32Array;
    batch: number;
    lengths?: Int32Array;
  };
}

const T = 9;
const B = 5;
// prettier-ignore
const TRAIN_CASES: TrainCase[] = [
  {
    name: 'embedding, 2 layers, dropouts, sequence head, softmax, clip, padded lengths',
    options: {
      embedding: { numEmbeddings: 17, embeddingDim: 12 },
      gru: { hiddenSize: 24, numLayers: 2, dropout: 0.2 },
      inputDropout: 0.1,
      output: { size: 17, mode: 'sequence' },
      loss: 'softmax-cross-entropy',
      optimizer: { type: 'adamw', lr: 0.01 },
      clipGradNorm: 0.5,
    },
    batch(step) {
      const r = rng(100 + step);
      return {
        x: Int32Array.from({ length: T * B }, () => Math.floor(r() * 17)),
        targets: Int32Array.from({ length: T * B }, () => Math.floor(r() * 17)),
        batch: B,
        lengths: Int32Array.from([9, 3, 7, 0, 9]),
      };
    },
  },
  {
    name: 'float input, bidirectional, last head, mse, SGD momentum',
    options: {
      inputSize: 6,
      gru: { hiddenSize: 16, bidirectional: true, resetAfter: false },
      output: { size: 3, mode: 'last' },
      loss: 'mse',
      optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9 },
    },
    batch(step) {
      const r = rng(200 + step);
      return { x: uniform(T * B * 6, -1, 1, r), targets: uniform(B * 3, -1, 1, r), batch: B, lengths: Int32Array.from([9, 1, 5, 9, 2]) };
    },
  },
  {
    name: 'float input, sequence head, bce on valid rows only, Adam',
    options: {
      inputSize: 4,
      gru: { hiddenSize: 8 },
      output: { size: 2, mode: 'sequence' },
      loss: 'bce',
    },
    batch(step) {
      const r = rng(300 + step);
      const targets = Float32Array.from({ length: T * B * 2 }, () => (r() < 0.5 ? 0 : 1));
      return { x: uniform(T * B * 4, -1, 1, r), targets, batch: B, lengths: Int32Array.from([2, 9, 4, 6, 8]) };
    },
  },
];

forEachBackend('async API', (backend: Backend) => {
  const native = backend.name === 'native';
  let defaultThreads = 1;
  before(() => {
    defaultThreads = backend.threads();
  });
  afterEach(() => {
    if (backend.threads() !== defaultThreads) setThreads(defaultThreads, backend);
  });

  describe('event loop', () => {
    // Native: about 0.3 s of work on two cores; wasm is single-threaded (and the scalar build
    // ~20x slower), so a smaller shape there: it only has to resolve with forward()'s result.
    const shape = native ? { B: 64, T: 400, I: 128, H: 256 } : { B: 8, T: 50, I: 128, H: 256 };
    it(`keeps ticking during forwardAsync (B${shape.B} T${shape.T} I${shape.I} H${shape.H})`, async function () {
      const { B: b, T: t, I, H } = shape;
      const gru = new GRU({ inputSize: I, hiddenSize: H, seed: 11, backend });
      try {
        const x = uniform(t * b * I, -1, 1, rng(5));
        const counter = tickCounter();
        const t0 = performance.now();
        const r = await gru.forwardAsync(x, { batch: b });
        const ms = performance.now() - t0;
        const ticks = counter.stop();
        const expected = gru.forward(x, { batch: b });
        assertBitwise(r.output, expected.output, 'output');
        assertBitwise(r.hN, expected.hN, 'hN');
        console.log(
          `        [${backend.name}] forwardAsync ${ms.toFixed(0)} ms: ${ticks.immediates} event-loop turns, ${ticks.intervals} 1-ms timer ticks while awaiting`,
        );
        if (native) {
          // A forward run on the JS thread allows no turn at all while it computes.
          assert.ok(
            ticks.immediates >= 20,
            `only ${ticks.immediates} event-loop turns in ${ms.toFixed(0)} ms`,
          );
          assert.ok(
            ticks.intervals >= 5,
            `only ${ticks.intervals} timer ticks in ${ms.toFixed(0)} ms`,
          );
        }
      } finally {
        gru.dispose();
      }
    });

    if (native)
      it('a synchronous forward of the same size blocks it (the contrast the test above relies on)', async function () {
        const gru = new GRU({ inputSize: 128, hiddenSize: 256, seed: 11, backend });
        try {
          const x = uniform(400 * 64 * 128, -1, 1, rng(5));
          const counter = tickCounter();
          gru.forward(x, { batch: 64 });
          await new Promise((resolve) => setImmediate(resolve));
          const ticks = counter.stop();
          assert.ok(ticks.immediates <= 2, `${ticks.immediates} turns`);
        } finally {
          gru.dispose();
        }
      });
  });

  describe('lifetime', () => {
    if (native)
      it('the network and the typed arrays of a call in flight outlive their last JS reference', function () {
        this.timeout(120000);
        // From a file: code given with -e keeps its temporaries alive longer.
        const dir = mkdtempSync(join(tmpdir(), 'gru-simd-gc-'));
        const file = join(dir, 'probe.mjs');
        writeFileSync(file, GC_PROBE);
        let r;
        try {
          r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', file], {
            cwd: ROOT,
            encoding: 'utf8',
            timeout: 110000,
          });
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
        assert.equal(r.status, 0, `child exited ${r.status} ${r.signal ?? ''}: ${r.stderr}`);
        const report = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as {
          gcs: number;
          same: boolean;
        };
        assert.ok(report.gcs >= 1, 'the collector ran while the call was in flight');
        assert.ok(report.same, 'the result equals a sync forward of the same network and input');
      });
  });

  describe('concurrent calls', () => {
    it('4 GRUs awaited together equal 4 serial sync calls, bitwise (forward, train forward, backward)', async () => {
      const [b, t, I, H] = [16, 60, 48, 96];
      const grus = [1, 2, 3, 4].map(
        (seed) =>
          new GRU({ inputSize: I, hiddenSize: H, numLayers: seed % 2 ? 1 : 2, seed, backend }),
      );
      try {
        const xs = grus.map((_, i) => uniform(t * b * I, -1, 1, rng(40 + i)));
        const lengths = Int32Array.from({ length: b }, (_, i) => t - ((i * 7) % t));
        const serial = grus.map((g, i) => g.forward(xs[i] as Float32Array, { batch: b, lengths }));
        const together = await Promise.all(
          grus.map((g, i) => g.forwardAsync(xs[i] as Float32Array, { batch: b, lengths })),
        );
        together.forEach((r, i) => {
          assertBitwise(r.output, serial[i]!.output, `gru ${i} output`);
          assertBitwise(r.hN, serial[i]!.hN, `gru ${i} hN`);
        });

        // Training: sync forward+backward, then the same async and concurrently, from zero grads.
        const dys = serial.map((r, i) => uniform(r.output!.length, -1, 1, rng(60 + i)));
        const syncGrads = grus.map((g, i) => {
          g.zeroGrad();
          const f = g.forward(xs[i] as Float32Array, { batch: b, train: true, dropoutSeed: 7 });
          const d = g.backward({ dOutput: dys[i], h0Grad: true });
          return { f, d, grads: g.parameterNames().map((n) => g.getGradient(n)) };
        });
        grus.forEach((g) => g.zeroGrad());
        const fwd = await Promise.all(
          grus.map((g, i) =>
            g.forwardAsync(xs[i] as Float32Array, { batch: b, train: true, dropoutSeed: 7 }),
          ),
        );
        const bwd = await Promise.all(
          grus.map((g, i) => g.backwardAsync({ dOutput: dys[i], h0Grad: true })),
        );
        grus.forEach((g, i) => {
          const s = syncGrads[i]!;
          assertBitwise(fwd[i]!.output, s.f.output, `gru ${i} train output`);
          assertBitwise(bwd[i]!.dx, s.d.dx, `gru ${i} dx`);
          assertBitwise(bwd[i]!.dh0, s.d.dh0, `gru ${i} dh0`);
          g.parameterNames().forEach((n, k) =>
            assertBitwise(g.getGradient(n), s.grads[k] as Float32Array, `gru ${i} grad ${n}`),
          );
        });
      } finally {
        grus.forEach((g) => g.dispose());
      }
    });
  });

  describe('busy while in flight', () => {
    it('dispose, setParameter, loadStateDict, forward, backward, zeroGrad, an optimizer step throw ERR_GRU_BUSY; all work after', async () => {
      const gru = new GRU({ inputSize: 32, hiddenSize: 64, seed: 3, backend });
      const other = new GRU({ inputSize: 32, hiddenSize: 64, seed: 4, backend });
      const model = new SequenceModel({
        inputSize: 32,
        gru: { hiddenSize: 8 },
        output: { size: 2, mode: 'last' },
        loss: 'mse',
        seed: 1,
        backend,
      });
      try {
        const x = uniform(40 * 8 * 32, -1, 1, rng(9));
        const w = gru.getParameter('weight_hh_l0');
        const opt = new SGD([gru], { lr: 0.1 });
        const pending = gru.forwardAsync(x, { batch: 8, train: true });
        const busy = ['this GRU', 'forwardAsync()'];
        assertThrowsCode(() => gru.dispose(), 'ERR_GRU_BUSY', busy, GruError);
        assertThrowsCode(() => gru.setParameter('weight_hh_l0', w), 'ERR_GRU_BUSY', busy);
        assertThrowsCode(
          () => gru.loadStateDict({ weight_hh_l0: w }, { strict: false }),
          'ERR_GRU_BUSY',
          busy,
        );
        assertThrowsCode(() => gru.forward(x, { batch: 8 }), 'ERR_GRU_BUSY', busy);
        assertThrowsCode(() => gru.backward(), 'ERR_GRU_BUSY', busy);
        assertThrowsCode(() => gru.zeroGrad(), 'ERR_GRU_BUSY', busy);
        assertThrowsCode(() => gru.getParameter('weight_hh_l0'), 'ERR_GRU_BUSY', busy);
        assertThrowsCode(() => gru.stream(), 'ERR_GRU_BUSY', busy);
        assertThrowsCode(() => opt.step(), 'ERR_GRU_BUSY', busy);
        assertThrowsCode(() => opt.zeroGrad(), 'ERR_GRU_BUSY', busy);
        // Started before any await: on wasm the call is over once its promise's continuation
        // has run, a few microtasks later.
        const again = gru.forwardAsync(x, { batch: 8 });
        const stepping = opt.stepAsync();
        const otherLayer = other.forwardAsync(x, { batch: 8 });
        if (native) {
          // The pool is not resized under a call in flight on a worker thread.
          assertThrowsCode(() => setThreads(1, backend), 'ERR_GRU_BUSY', ['in flight']);
        }
        // Metadata, and other layers, are not held.
        assert.equal(gru.parameterNames().length, 4);
        assert.deepEqual(gru.parameterShape('weight_ih_l0'), [192, 32]);
        await assertRejectsCode(() => again, 'ERR_GRU_BUSY');
        await assertRejectsCode(() => stepping, 'ERR_GRU_BUSY');
        assert.equal((await otherLayer).hN.length, 8 * 64);
        const r = await pending;
        assert.equal(r.output!.length, 40 * 8 * 64);
        // Free again: every call works.
        gru.backward();
        opt.step();
        gru.setParameter('weight_hh_l0', w);
        gru.zeroGrad();
        gru.forward(x, { batch: 8 });
        if (native) setThreads(defaultThreads, backend);
        opt.dispose();
        gru.dispose();
        assert.ok(gru.disposed);

        // A model's step holds its layers and its optimizer for the whole step.
        const batch = {
          x: uniform(6 * 2 * 32, -1, 1, rng(1)),
          targets: uniform(4, -1, 1, rng(2)),
          batch: 2,
        };
        const step = model.trainStepAsync(batch);
        const held = ['trainStepAsync()'];
        assertThrowsCode(() => model.dispose(), 'ERR_GRU_BUSY', ['this SequenceModel', ...held]);
        assertThrowsCode(() => model.trainStep(batch), 'ERR_GRU_BUSY', held);
        assertThrowsCode(() => model.predict(batch), 'ERR_GRU_BUSY', held);
        assertThrowsCode(
          () => model.gru.setParameter('bias_hh_l0', new Float32Array(24)),
          'ERR_GRU_BUSY',
          ['this GRU', ...held],
        );
        assertThrowsCode(() => model.dense.dispose(), 'ERR_GRU_BUSY', [
          'this Dense layer',
          ...held,
        ]);
        assertThrowsCode(() => model.optimizer.step(), 'ERR_GRU_BUSY', held);
        await assertRejectsCode(() => model.trainStepAsync(batch), 'ERR_GRU_BUSY');
        const { loss } = await step;
        assert.ok(Number.isFinite(loss));
        model.trainStep(batch);
        model.dispose();
        assert.ok(model.disposed);
      } finally {
        other.dispose();
        if (!model.disposed) model.dispose();
      }
    });

    if (native)
      it('the native addon refuses too, for JS that bypasses the facade', async function () {
        const gru = new GRU({ inputSize: 8, hiddenSize: 16, seed: 3, backend });
        const net = gru._handle();
        const x = uniform(200 * 4 * 8, -1, 1, rng(9));
        const y = new Float32Array(200 * 4 * 16);
        const args = [200, 4, 0, x, null, null, y, null] as const;
        const pending = backend.netForwardAsync(net, ...args);
        assertThrowsCode(() => backend.destroy(net), 'ERR_GRU_BUSY', [
          'destroy',
          'netForwardAsync',
        ]);
        assertThrowsCode(() => backend.netForward(net, ...args), 'ERR_GRU_BUSY', [
          'netForward',
          'in flight',
        ]);
        assertThrowsCode(
          () => backend.paramSet(net, 1, new Float32Array(48 * 16)),
          'ERR_GRU_BUSY',
          ['paramSet'],
        );
        await assertRejectsCode(() => backend.netForwardAsync(net, ...args), 'ERR_GRU_BUSY');
        await pending;
        backend.netForward(net, ...args);
        gru.dispose();
      });
  });

  describe('trainStepAsync', () => {
    for (const c of TRAIN_CASES) {
      it(`equals trainStep bitwise over 4 steps: ${c.name}`, async () => {
        const sync = new SequenceModel({ ...c.options, seed: 77, backend });
        const asyn = new SequenceModel({ ...c.options, seed: 77, backend });
        try {
          for (let step = 0; step < 4; step++) {
            const a = sync.trainStep(c.batch(step));
            const b = await asyn.trainStepAsync(c.batch(step));
            assert.equal(b.loss, a.loss, `loss at step ${step}`);
            assert.equal(b.gradNorm, a.gradNorm, `gradNorm at step ${step}`);
          }
          assert.equal(asyn.optimizer.stepCount, 4);
          assertDictBitwise(modelState(asyn), modelState(sync), 'after 4 steps');
        } finally {
          sync.dispose();
          asyn.dispose();
        }
      });
    }

    it('rejects a bad batch with the same error as trainStep, and frees the model', async () => {
      const model = new SequenceModel({
        ...(TRAIN_CASES[0] as TrainCase).options,
        seed: 1,
        backend,
      });
      try {
        const bad = { ...(TRAIN_CASES[0] as TrainCase).batch(0), targets: new Int32Array(3) };
        assertThrowsCode(() => model.trainStep(bad), 'ERR_GRU_SHAPE', ['targets']);
        await assertRejectsCode(() => model.trainStepAsync(bad), 'ERR_GRU_SHAPE');
        await model.trainStepAsync((TRAIN_CASES[0] as TrainCase).batch(0));
      } finally {
        model.dispose();
      }
    });
  });

  describe('setThreads', () => {
    it('rejects n that is not an integer in [1, 1024] (ERR_GRU_ARG naming n)', () => {
      for (const n of [0, -1, 1.5, 1025, NaN, Infinity, '2', null]) {
        assertThrowsCode(() => setThreads(n as number, backend), 'ERR_GRU_ARG', ['n (threads)']);
      }
      assert.equal(backend.threads(), defaultThreads);
    });

    if (native) {
      it('defaults to the CPUs available; backendInfo().threads follows setThreads', async () => {
        const { availableParallelism } = await import('node:os');
        assert.ok(
          defaultThreads >= 1 && defaultThreads <= availableParallelism(),
          `default ${defaultThreads}`,
        );
        await init({ backend: 'native' });
        for (const n of [1, 3, defaultThreads]) {
          setThreads(n);
          assert.equal(backend.threads(), n);
          assert.equal(backendInfo().threads, n);
        }
      });

      const fwdBwd = (threads: number): Float32Array[] => {
        setThreads(threads, backend);
        const gru = new GRU({
          inputSize: 64,
          hiddenSize: 128,
          numLayers: 2,
          bidirectional: true,
          seed: 21,
          backend,
        });
        return trainPassArrays(
          gru,
          uniform(50 * 32 * 64, -1, 1, rng(22)),
          { batch: 32, dropout: 0.25 },
          23,
        );
      };
      const wide = (threads: number): Float32Array[] => {
        setThreads(threads, backend);
        const gru = new GRU({ inputSize: 256, hiddenSize: 512, seed: 31, backend });
        try {
          const r = gru.forward(uniform(200 * 256, -1, 1, rng(32)), { batch: 1 });
          return [r.output!, r.hN];
        } finally {
          gru.dispose();
        }
      };

      // reset_before: two phases a step (the thread pool claims each phase's tiles in chunks),
      // with lengths (padding steps hold the state).
      const resetBefore = (threads: number): Float32Array[] => {
        setThreads(threads, backend);
        const gru = new GRU({
          inputSize: 48,
          hiddenSize: 160,
          resetAfter: false,
          seed: 41,
          backend,
        });
        const B = 16;
        const lengths = Int32Array.from({ length: B }, (_, b) => 40 - (b % 5) * 3);
        return trainPassArrays(
          gru,
          uniform(40 * B * 48, -1, 1, rng(42)),
          { batch: B, lengths },
          43,
          false,
        );
      };

      for (const [name, run] of [
        ['B32 T50 I64 H128 (2 layers, bidirectional, dropout) training forward + backward', fwdBwd],
        ['B1 T200 I256 H512 forward', wide],
        ['B16 T40 I48 H160 resetAfter false, lengths, training forward + backward', resetBefore],
      ] as const) {
        it(`1, 2 and 3 threads give bitwise the same outputs and gradients: ${name}`, () => {
          const timed = (n: number): Float32Array[] => {
            const t0 = performance.now();
            const out = run(n);
            console.log(`        ${n} thread(s): ${(performance.now() - t0).toFixed(1)} ms`);
            return out;
          };
          const one = timed(1);
          for (const n of [2, 3]) {
            timed(n).forEach((a, i) =>
              assertBitwise(a, one[i] as Float32Array, `${n} threads vs 1, result ${i}`),
            );
          }
        });
      }
    } else if (backend.threadsNote !== null) {
      // The scalar module (and, in browsers, a page that is not cross-origin isolated).
      it('a single-threaded wasm module: setThreads(2) stays at one thread, warning why', () => {
        setThreads(1, backend);
        assert.equal(backend.threads(), 1);
        const warned: string[] = [];
        const original = console.warn;
        console.warn = (...args: unknown[]) => void warned.push(args.map(String).join(' '));
        try {
          setThreads(2, backend);
        } finally {
          console.warn = original;
        }
        assert.equal(backend.threads(), 1);
        // One warning per backend: test/wasm-threads.test.ts may have had it first.
        assert.ok(warned.length <= 1, warned.join('\n'));
        for (const w of warned) assert.match(w, /stays at one thread: .*single-threaded/);
        // The backend itself refuses too (the core: "threads must be 1 in WebAssembly").
        assertThrowsCode(() => backend.setThreads(2), 'ERR_GRU_ARG', ['single-threaded']);
        assert.equal(backend.threads(), 1);
      });
    } else {
      // A threaded module (test/wasm-threads.test.ts tests its threads).
      it('a threaded wasm module: 1 thread by default, setThreads(2) gives 2', async () => {
        assert.equal(defaultThreads, 1);
        setThreads(2, backend);
        assert.equal(await backend.threadsReady(), 2);
        assert.equal(backend.threads(), 2);
        setThreads(1, backend);
      });
    }
  });

  describe('errors in an async call', () => {
    it("a core error rejects with its code, message and the caller's stack; the layer is free after", async function callsTheBackend() {
      const gru = new GRU({ inputSize: 4, hiddenSize: 8, seed: 1, backend });
      try {
        gru.forward(new Float32Array(3 * 2 * 4), { batch: 2, train: true });
        // Only the core catches a wrong dy length when the facade is bypassed.
        let err: unknown;
        try {
          await backend.netBackwardAsync(gru._handle(), new Float32Array(5), null, null, null);
        } catch (e) {
          err = e;
        }
        assert.ok(err instanceof GruError, `a GruError, got ${String(err)}`);
        assert.equal(codeOf(err), 'ERR_GRU_SHAPE');
        assert.match(err.message, /dy/);
        assert.match(err.stack ?? '', /callsTheBackend/, 'the stack of the caller');
        // A forward the core rejects (x of the wrong length), and a loss with a bad target.
        await assertRejectsCode(
          () =>
            backend.netForwardAsync(
              gru._handle(),
              3,
              2,
              0,
              new Float32Array(7),
              null,
              null,
              null,
              null,
            ),
          'ERR_GRU_SHAPE',
        );
        await assertRejectsCode(
          () =>
            backend.lossSoftmaxCrossEntropyAsync(
              new Float32Array(6),
              2,
              3,
              Int32Array.from([0, 5]),
              null,
            ),
          'ERR_GRU_RANGE',
        );
        // Nothing is left busy: the layer works, and (native) the pool may be resized again.
        gru.forward(new Float32Array(3 * 2 * 4), { batch: 2 });
        setThreads(1, backend);
      } finally {
        gru.dispose();
      }
    });
  });
});
