/**
 * The soak's phases, each a loop of one kind of work run in chunks (memory is sampled after
 * each chunk; a chunk never yields to the event loop, as a busy server's loop would not):
 *   forward       GRU.forward on small shapes, a new output array every call (the million)
 *   forwardAsync  GRU.forwardAsync, awaited one by one
 *   cycles        create a GRU, forward once, dispose()
 *   cyclesAsync   create a GRU, await forwardAsync once, dispose() (a request's own layer)
 *   train         GRU + Dense training steps: forward, MSE loss, backward, Adam step, zeroGrad
 *   dropped       GRUs created, used once and dropped without dispose(): the FinalizationRegistry
 *                 reclaims them after a collection (one round of layers per chunk)
 */
import { Adam, Dense, GRU, mse, type Backend } from '../../ts/index.js';

export interface Phase {
  name: string;
  unit: string;
  count: number;
  chunks: number;
  /**
   * Creates what the phase keeps and does one unit of work, before the first sample: the core's
   * lazily grown scratch (per thread, per object) is then part of the start.
   */
  setup(): void;
  /** Runs units [from, to). */
  run(from: number, to: number): void | Promise<void>;
  /** Frees what the phase kept (its layers). */
  close(): void;
  /** Collections (with a task between) before each sample: more where finalizers must run. */
  settleRounds: number;
}

export interface Counts {
  forward: number;
  forwardAsync: number;
  cycles: number;
  cyclesAsync: number;
  train: number;
  /**
   * Layers per round of the dropped phase, and rounds. On wasm every round grows a fresh
   * instance's memory to ~60 MiB and frees it (ts/backends/wasm-instance.ts); the process's
   * other memory (V8's pages, the allocator's arenas) rises in steps of ~8 MiB over the first
   * 3 to 6 such rounds and is then flat (measured to 14 rounds): 16 rounds put the second half
   * past that.
   */
  droppedLayers: number;
  droppedRounds: number;
  chunks: number;
}

export function counts(calls: number, quick: boolean): Counts {
  return {
    forward: calls,
    forwardAsync: Math.max(1, Math.round(calls / 10)),
    cycles: Math.max(1, Math.round(calls / 10)),
    cyclesAsync: Math.max(1, Math.round(calls / 20)),
    train: Math.max(1, Math.round(calls / 20)),
    droppedLayers: quick ? 300 : 1000,
    droppedRounds: quick ? 4 : 16,
    chunks: quick ? 10 : 20,
  };
}

// Small shapes: the soak is about what each call leaves behind, not about compute.
const [I, H, B, T] = [8, 16, 2, 4];

function input(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed));
}

export function phases(backend: Backend, c: Counts): Phase[] {
  const x = input(T * B * I, 1);
  const gru = (seed: number) => new GRU({ inputSize: I, hiddenSize: H, seed, backend });
  const kept: { dispose(): void }[] = [];
  const keep = <L extends { dispose(): void }>(layer: L): L => (kept.push(layer), layer);
  const close = () =>
    kept
      .splice(0)
      .reverse()
      .forEach((l) => l.dispose()); // optimizer first
  const base = { chunks: c.chunks, close, settleRounds: 2 };

  let forwardGru: GRU;
  let asyncGru: GRU;
  let train: { gru: GRU; dense: Dense; opt: Adam; targets: Float32Array };
  const trainStep = () => {
    const { output } = train.gru.forward(x, { batch: B, train: true });
    const y = train.dense.forward(output!, { train: true });
    const { grad } = mse(y, train.targets, { backend });
    train.gru.backward({ dOutput: train.dense.backward(grad) });
    train.opt.step();
    train.opt.zeroGrad();
  };
  const cycle = (seed: number) => {
    const g = gru(seed);
    g.forward(x, { batch: B });
    g.dispose();
  };
  // Larger than the other phases' layers, so that a round is megabytes of the core's.
  const drop = (seed: number) => {
    new GRU({ inputSize: 16, hiddenSize: 32, seed, backend }).forward(input(16, seed), {
      batch: 1,
    });
  };
  return [
    {
      ...base,
      name: 'forward',
      unit: 'calls',
      count: c.forward,
      setup() {
        forwardGru = keep(gru(1));
        forwardGru.forward(x, { batch: B });
      },
      run(from, to) {
        for (let i = from; i < to; i++) forwardGru.forward(x, { batch: B });
      },
    },
    {
      ...base,
      name: 'forwardAsync',
      unit: 'calls',
      count: c.forwardAsync,
      setup() {
        asyncGru = keep(gru(2));
        asyncGru.forward(x, { batch: B });
      },
      async run(from, to) {
        for (let i = from; i < to; i++) await asyncGru.forwardAsync(x, { batch: B });
      },
    },
    {
      ...base,
      name: 'cycles',
      unit: 'cycles',
      count: c.cycles,
      setup: () => cycle(0),
      run(from, to) {
        for (let i = from; i < to; i++) cycle(i);
      },
    },
    {
      ...base,
      name: 'cyclesAsync',
      unit: 'cycles',
      count: c.cyclesAsync,
      setup: () => cycle(0),
      async run(from, to) {
        for (let i = from; i < to; i++) {
          const g = gru(i);
          await g.forwardAsync(x, { batch: B });
          g.dispose();
        }
      },
    },
    {
      ...base,
      name: 'train',
      unit: 'steps',
      count: c.train,
      setup() {
        const g = keep(gru(3));
        const dense = keep(new Dense({ inFeatures: H, outFeatures: 3, seed: 4, backend }));
        const opt = keep(new Adam([g, dense], { lr: 1e-3 }));
        train = { gru: g, dense, opt, targets: input(T * B * 3, 2) };
        trainStep();
      },
      run(from, to) {
        for (let i = from; i < to; i++) trainStep();
      },
    },
    {
      ...base,
      name: 'dropped',
      unit: 'layers',
      count: c.droppedLayers * c.droppedRounds,
      chunks: c.droppedRounds,
      settleRounds: 10,
      setup: () => drop(0),
      run(from, to) {
        for (let i = from; i < to; i++) drop(i);
      },
    },
  ];
}
