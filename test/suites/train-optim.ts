/**
 * Optimizers against float64 implementations of torch.optim's formulas (reference-train.ts):
 * N steps over a GRU, a Dense and an Embedding layer at once, each step with fresh gradients
 * from a forward/backward on seeded data. The reference is fed exactly the fp32 gradients the
 * optimizer sees (read with getGradient before the step), so only the update itself is
 * compared. Also: clipping, schedules, and a save / dispose / rebuild / load resume.
 *
 * Over 400 lines: each optimizer configuration, the resume and the schedule tests run over the
 * same fixtures.
 */
import assert from 'node:assert/strict';
import {
  Adagrad,
  Adam,
  AdamW,
  RMSprop,
  SGD,
  GRU,
  Dense,
  Embedding,
  StepLR,
  ExponentialLR,
  CosineAnnealingLR,
} from '../../ts/index.js';
import type { Backend } from '../../ts/backends/backend.js';
import {
  RefAdagrad,
  RefAdam,
  RefRmsprop,
  RefSgd,
  clipGradNorm64,
  cosineLr64,
  exponentialLr64,
  stepLr64,
  type RefAdamOptions,
  type RefSgdOptions,
} from '../reference-train.js';
import { OPTIMIZER, CLIP_NORM } from '../tolerance.js';
import { assertClose, ErrorTable, rng, uniform } from '../util.js';

export const optimErrors = new ErrorTable();

type Optim = Adam | AdamW | SGD | RMSprop | Adagrad;

/** A GRU, a Dense and an Embedding layer, and seeded per-step gradients for all of them. */
export class Trio {
  readonly gru: GRU;
  readonly dense: Dense;
  readonly emb: Embedding;
  constructor(backend: Backend, seed: number) {
    this.gru = new GRU({
      inputSize: 3,
      hiddenSize: 5,
      numLayers: 2,
      bidirectional: true,
      seed,
      backend,
    });
    this.dense = new Dense({ inFeatures: 7, outFeatures: 4, bias: true, seed: seed + 1, backend });
    this.emb = new Embedding({ numEmbeddings: 9, embeddingDim: 3, seed: seed + 2, backend });
  }

  get layers(): (GRU | Dense | Embedding)[] {
    return [this.gru, this.dense, this.emb];
  }

  /** (layer, name) of every parameter tensor. */
  entries(): [GRU | Dense | Embedding, string][] {
    return this.layers.flatMap((l) =>
      l.parameterNames().map((n): [GRU | Dense | Embedding, string] => [l, n]),
    );
  }

  params(): Float32Array[] {
    return this.entries().map(([l, n]) => l.getParameter(n));
  }

  grads(): Float32Array[] {
    return this.entries().map(([l, n]) => l.getGradient(n));
  }

  /** Zeroes, then accumulates the gradients of step `k` (a function of k and the weights). */
  backward(k: number): void {
    const rand = rng(1000 + k);
    for (const l of this.layers) l.zeroGrad();
    const [T, B] = [4, 2];
    this.gru.forward(uniform(T * B * 3, -1, 1, rand), { batch: B, train: true });
    this.gru.backward({
      dOutput: uniform(T * B * 10, -1, 1, rand),
      dHN: uniform(4 * B * 5, -1, 1, rand),
    });
    this.dense.forward(uniform(3 * 7, -1, 1, rand), { train: true });
    this.dense.backward(uniform(3 * 4, -2, 2, rand));
    // Rows 0..5 only: rows 6..8 keep a zero gradient (weight decay still moves them).
    this.emb.forward(
      Int32Array.from({ length: 5 }, () => Math.floor(rand() * 6)),
      { train: true },
    );
    this.emb.backward(uniform(5 * 3, -1, 1, rand));
  }

  dispose(): void {
    for (const l of this.layers) l.dispose();
  }
}

interface AdamCase {
  title: string;
  make: (layers: Trio['layers']) => Optim;
  ref: Omit<RefAdamOptions, 'decoupled'>;
  decoupled: boolean;
}
interface SgdCase {
  title: string;
  make: (layers: Trio['layers']) => Optim;
  ref: RefSgdOptions;
}

const adamOpts = (o: Partial<RefAdamOptions>): Omit<RefAdamOptions, 'decoupled'> => ({
  lr: 1e-3,
  betas: [0.9, 0.999],
  eps: 1e-8,
  weightDecay: 0,
  amsgrad: false,
  maximize: false,
  ...o,
});
const sgdOpts = (o: Partial<RefSgdOptions> & { lr: number }): RefSgdOptions => ({
  momentum: 0,
  dampening: 0,
  weightDecay: 0,
  nesterov: false,
  maximize: false,
  ...o,
});

// prettier-ignore
const ADAM_CASES: AdamCase[] = [
  { title: 'Adam defaults (lr 1e-3)', make: (p) => new Adam(p), ref: adamOpts({}), decoupled: false },
  { title: 'Adam lr 0.05 betas [0.8, 0.95] eps 1e-6 weightDecay 0.1', make: (p) => new Adam(p, { lr: 0.05, betas: [0.8, 0.95], eps: 1e-6, weightDecay: 0.1 }), ref: adamOpts({ lr: 0.05, betas: [0.8, 0.95], eps: 1e-6, weightDecay: 0.1 }), decoupled: false },
  { title: 'Adam amsgrad, lr 0.02', make: (p) => new Adam(p, { lr: 0.02, amsgrad: true }), ref: adamOpts({ lr: 0.02, amsgrad: true }), decoupled: false },
  { title: 'Adam maximize, weightDecay 0.05, betas [0, 0.5]', make: (p) => new Adam(p, { lr: 0.01, maximize: true, weightDecay: 0.05, betas: [0, 0.5] }), ref: adamOpts({ lr: 0.01, maximize: true, weightDecay: 0.05, betas: [0, 0.5] }), decoupled: false },
  { title: 'AdamW defaults (weightDecay 1e-2)', make: (p) => new AdamW(p, { lr: 0.01 }), ref: adamOpts({ lr: 0.01, weightDecay: 1e-2 }), decoupled: true },
  { title: 'AdamW weightDecay 0.3 amsgrad maximize', make: (p) => new AdamW(p, { lr: 0.03, weightDecay: 0.3, amsgrad: true, maximize: true }), ref: adamOpts({ lr: 0.03, weightDecay: 0.3, amsgrad: true, maximize: true }), decoupled: true },
];

// prettier-ignore
const SGD_CASES: SgdCase[] = [
  { title: 'SGD plain lr 0.1', make: (p) => new SGD(p, { lr: 0.1 }), ref: sgdOpts({ lr: 0.1 }) },
  { title: 'SGD momentum 0.9', make: (p) => new SGD(p, { lr: 0.05, momentum: 0.9 }), ref: sgdOpts({ lr: 0.05, momentum: 0.9 }) },
  { title: 'SGD momentum 0.5 dampening 0.3 weightDecay 0.01', make: (p) => new SGD(p, { lr: 0.05, momentum: 0.5, dampening: 0.3, weightDecay: 0.01 }), ref: sgdOpts({ lr: 0.05, momentum: 0.5, dampening: 0.3, weightDecay: 0.01 }) },
  { title: 'SGD nesterov momentum 0.8 weightDecay 0.1', make: (p) => new SGD(p, { lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 0.1 }), ref: sgdOpts({ lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 0.1 }) },
  { title: 'SGD maximize momentum 0.7', make: (p) => new SGD(p, { lr: 0.02, momentum: 0.7, maximize: true }), ref: sgdOpts({ lr: 0.02, momentum: 0.7, maximize: true }) },
  // PyTorch ignores dampening when momentum is 0 (no buffer at all).
  { title: 'SGD momentum 0 with dampening 0.3 (dampening has no effect)', make: (p) => new SGD(p, { lr: 0.1, dampening: 0.3 }), ref: sgdOpts({ lr: 0.1, dampening: 0.3 }) },
];

interface RefOptimizer {
  readonly params: Float64Array[];
  step(grads: ArrayLike<number>[], lr: number): void;
}
/** RMSprop and Adagrad: the optimizer, its float64 reference and its lr. */
interface MomentCase {
  title: string;
  lr: number;
  make: (layers: Trio['layers']) => Optim;
  ref: (params: Float64Array[]) => RefOptimizer;
}
const rms = {
  lr: 0.01,
  alpha: 0.99,
  eps: 1e-8,
  weightDecay: 0,
  momentum: 0,
  centered: false,
  maximize: false,
};
const ada = {
  lr: 0.01,
  lrDecay: 0,
  weightDecay: 0,
  initialAccumulatorValue: 0,
  eps: 1e-10,
  maximize: false,
};

// prettier-ignore
const MOMENT_CASES: MomentCase[] = [
  { title: 'RMSprop defaults (lr 1e-2)', lr: 0.01, make: (p) => new RMSprop(p), ref: (p) => new RefRmsprop(p, rms) },
  { title: 'RMSprop alpha 0.9 eps 1e-4 momentum 0.9', lr: 0.005, make: (p) => new RMSprop(p, { lr: 0.005, alpha: 0.9, eps: 1e-4, momentum: 0.9 }), ref: (p) => new RefRmsprop(p, { ...rms, lr: 0.005, alpha: 0.9, eps: 1e-4, momentum: 0.9 }) },
  { title: 'RMSprop centered momentum 0.5 weightDecay 0.05 maximize', lr: 0.002, make: (p) => new RMSprop(p, { lr: 0.002, centered: true, momentum: 0.5, weightDecay: 0.05, maximize: true }), ref: (p) => new RefRmsprop(p, { ...rms, lr: 0.002, centered: true, momentum: 0.5, weightDecay: 0.05, maximize: true }) },
  { title: 'Adagrad defaults (lr 1e-2)', lr: 0.01, make: (p) => new Adagrad(p), ref: (p) => new RefAdagrad(p, ada) },
  { title: 'Adagrad lrDecay 0.1 initialAccumulatorValue 0.2 eps 1e-6 weightDecay 0.01 maximize', lr: 0.05, make: (p) => new Adagrad(p, { lr: 0.05, lrDecay: 0.1, initialAccumulatorValue: 0.2, eps: 1e-6, weightDecay: 0.01, maximize: true }), ref: (p) => new RefAdagrad(p, { lr: 0.05, lrDecay: 0.1, initialAccumulatorValue: 0.2, eps: 1e-6, weightDecay: 0.01, maximize: true }) },
];

const STEPS = 10;

function compareParams(key: string, title: string, trio: Trio, ref: Float64Array[]): void {
  const names = trio.entries().map(([l, n]) => `${l.constructor.name}.${n}`);
  trio.params().forEach((p, i) => {
    const s = assertClose(
      p,
      ref[i],
      OPTIMIZER,
      `${key} ${title}: ${names[i]} after ${STEPS} steps`,
      [p.length],
    );
    optimErrors.record(key, 'max|diff|', s.maxAbs);
    optimErrors.record(key, 'worst/tol', s.worst);
  });
}

/**
 * Runs opt and the reference side by side for STEPS steps. lrAt(k): the lr of step k
 * (a schedule, or a change through the lr setter), set on opt before its step.
 */
function runSideBySide(
  trio: Trio,
  opt: Optim,
  refStep: (grads: Float64Array[], lr: number) => void,
  lrAt: (k: number) => number,
  before?: (k: number) => void,
): void {
  for (let k = 0; k < STEPS; k++) {
    trio.backward(k);
    before?.(k);
    const grads = trio.grads().map((g) => Float64Array.from(g));
    const lr = lrAt(k);
    opt.step();
    refStep(grads, lr);
  }
}

/** Every optimizer setting above with its float64 reference, and the Trio seed of its family. */
interface OptimCase {
  title: string;
  make: (layers: Trio['layers']) => Optim;
  ref: (params: Float64Array[]) => RefOptimizer;
  lr: number;
  seed: number;
}
const ALL_CASES: OptimCase[] = [
  ...ADAM_CASES.map((c) => ({
    title: c.title,
    make: c.make,
    ref: (p: Float64Array[]) => new RefAdam(p, { ...c.ref, decoupled: c.decoupled }),
    lr: c.ref.lr,
    seed: 11,
  })),
  ...SGD_CASES.map((c) => ({
    title: c.title,
    make: c.make,
    ref: (p: Float64Array[]) => new RefSgd(p, c.ref),
    lr: c.ref.lr,
    seed: 12,
  })),
  ...MOMENT_CASES.map((c) => ({ ...c, seed: 16 })),
];

/** STEPS steps of case `c` on a Trio beside the float64 reference; compares every parameter. */
function sideBySide(backend: Backend, key: string, c: OptimCase): void {
  const trio = new Trio(backend, c.seed);
  const opt = c.make(trio.layers);
  try {
    const ref = c.ref(trio.params().map((p) => Float64Array.from(p)));
    runSideBySide(
      trio,
      opt,
      (g, lr) => ref.step(g, lr),
      () => c.lr,
    );
    compareParams(key, c.title, trio, ref.params);
    assert.equal(opt.stepCount, STEPS, 'stepCount');
  } finally {
    opt.dispose();
    trio.dispose();
  }
}

export function optimizerSuite(backend: Backend, isa: string): void {
  const key = `${backend.name}/${isa}`;
  for (const c of ALL_CASES) {
    it(`${c.title}: ${STEPS} steps vs torch.optim formulas in float64`, () => {
      sideBySide(backend, key, c);
    });
  }

  it('the lr setter changes the lr of the next step (Adam, lr 0.01 then 0.002 from step 4)', () => {
    const trio = new Trio(backend, 13);
    const opt = new Adam(trio.layers, { lr: 0.01 });
    try {
      const ref = new RefAdam(
        trio.params().map((p) => Float64Array.from(p)),
        { ...adamOpts({ lr: 0.01 }), decoupled: false },
      );
      const lrAt = (k: number): number => (k < 4 ? 0.01 : 0.002);
      runSideBySide(
        trio,
        opt,
        (g, lr) => ref.step(g, lr),
        lrAt,
        (k) => {
          opt.lr = lrAt(k);
        },
      );
      assert.equal(opt.lr, 0.002);
      compareParams(key, 'lr setter', trio, ref.params);
    } finally {
      opt.dispose();
      trio.dispose();
    }
  });

  it('clipGradNorm returns the total 2-norm and scales by maxNorm / (total + 1e-6) only above maxNorm', () => {
    const trio = new Trio(backend, 14);
    const opt = new SGD(trio.layers, { lr: 0.1 });
    try {
      trio.backward(0);
      const g64 = trio.grads().map((g) => Float64Array.from(g));
      const total64 = clipGradNorm64(
        g64.map((g) => g.slice()),
        Infinity,
      );
      // Above: measured norm, then clipped.
      const maxNorm = total64 / 3;
      const total = opt.clipGradNorm(maxNorm);
      assertClose([total], [total64], CLIP_NORM, `${key} clipGradNorm total`, [1]);
      optimErrors.record(key, 'clip norm rel', Math.abs(total - total64) / total64);
      const expected = g64.map((g) => g.slice());
      clipGradNorm64(expected, maxNorm);
      trio
        .grads()
        .forEach((g, i) =>
          assertClose(g, expected[i], CLIP_NORM, `${key} clipped gradient ${i}`, [g.length]),
        );
      let after = 0;
      for (const g of trio.grads()) for (const v of g) after += v * v;
      assert.ok(
        Math.abs(Math.sqrt(after) - maxNorm) <= 1e-5 * maxNorm,
        `norm after clipping ${Math.sqrt(after)}, want ${maxNorm}`,
      );
      // Below: returns the norm, changes nothing (bitwise).
      const before = trio.grads();
      const t2 = opt.clipGradNorm(maxNorm * 10);
      assertClose([t2], [maxNorm], CLIP_NORM, `${key} norm of the clipped gradients`, [1]);
      assert.deepEqual(trio.grads(), before, 'a norm below maxNorm leaves the gradients unchanged');
      // Infinity only measures.
      assertClose(
        [opt.clipGradNorm(Infinity)],
        [maxNorm],
        CLIP_NORM,
        `${key} clipGradNorm(Infinity)`,
        [1],
      );
      assert.deepEqual(trio.grads(), before, 'clipGradNorm(Infinity) changes nothing');
    } finally {
      opt.dispose();
      trio.dispose();
    }
  });

  it('clipGradValue clamps every gradient to [-c, c] exactly and leaves the rest bitwise', () => {
    const trio = new Trio(backend, 15);
    const opt = new Adam(trio.layers);
    try {
      trio.backward(1);
      const before = trio.grads();
      const c = 0.05;
      opt.clipGradValue(c);
      const after = trio.grads();
      let clamped = 0;
      before.forEach((g, i) => {
        for (let k = 0; k < g.length; k++) {
          const want = Math.min(Math.fround(c), Math.max(-Math.fround(c), g[k]));
          if (after[i][k] !== want)
            assert.fail(`tensor ${i} [${k}]: ${g[k]} clamped to ${after[i][k]}, want ${want}`);
          if (want !== g[k]) clamped++;
        }
      });
      assert.ok(clamped > 0, 'some gradients were beyond c (else this test proves nothing)');
    } finally {
      opt.dispose();
      trio.dispose();
    }
  });

  it('schedules drive the lr of each step: SGD + StepLR matches the reference fed the scheduled lrs', () => {
    const trio = new Trio(backend, 16);
    const opt = new SGD(trio.layers, { lr: 0.2, momentum: 0.5 });
    const sched = new StepLR(opt, { stepSize: 3, gamma: 0.5 });
    try {
      const ref = new RefSgd(
        trio.params().map((p) => Float64Array.from(p)),
        sgdOpts({ lr: 0.2, momentum: 0.5 }),
      );
      runSideBySide(
        trio,
        opt,
        (g, lr) => ref.step(g, lr),
        (k) => stepLr64(0.2, k, 3, 0.5),
        (k) => {
          if (k > 0) sched.step();
          assert.equal(opt.lr, sched.getLastLr(), 'the optimizer lr is the schedule lr');
        },
      );
      compareParams(key, 'SGD + StepLR', trio, ref.params);
    } finally {
      opt.dispose();
      trio.dispose();
    }
  });
}

/** Schedules only compute numbers in TypeScript: once per backend is enough. */
export function scheduleSuite(backend: Backend): void {
  const near = (a: number, b: number, what: string): void =>
    assert.ok(Math.abs(a - b) <= 1e-12 * Math.abs(b) + 1e-18, `${what}: ${a}, PyTorch ${b}`);
  const make = (lr = 0.1): { opt: SGD; trio: Trio } => {
    const trio = new Trio(backend, 17);
    return { opt: new SGD(trio.layers, { lr }), trio };
  };
  it('StepLR(stepSize 3, gamma 0.5): lr0 * gamma^floor(epoch / 3) for 20 epochs', () => {
    const { opt, trio } = make();
    const s = new StepLR(opt, { stepSize: 3, gamma: 0.5 });
    try {
      near(s.getLastLr(), 0.1, 'epoch 0');
      for (let e = 1; e <= 20; e++) {
        s.step();
        near(s.getLastLr(), stepLr64(0.1, e, 3, 0.5), `epoch ${e}`);
        near(opt.lr, stepLr64(0.1, e, 3, 0.5), `optimizer lr at epoch ${e}`);
      }
    } finally {
      opt.dispose();
      trio.dispose();
    }
  });
  it('ExponentialLR(gamma 0.9): lr0 * gamma^epoch for 20 epochs', () => {
    const { opt, trio } = make(0.05);
    const s = new ExponentialLR(opt, { gamma: 0.9 });
    try {
      for (let e = 1; e <= 20; e++) {
        s.step();
        near(s.getLastLr(), exponentialLr64(0.05, e, 0.9), `epoch ${e}`);
        near(opt.lr, s.getLastLr(), `optimizer lr at epoch ${e}`);
      }
    } finally {
      opt.dispose();
      trio.dispose();
    }
  });
  it('CosineAnnealingLR(tMax 10, etaMin 0.001): closed form for 25 epochs (down to etaMin at 10, up again after)', () => {
    const { opt, trio } = make(0.1);
    const s = new CosineAnnealingLR(opt, { tMax: 10, etaMin: 0.001 });
    try {
      for (let e = 1; e <= 25; e++) {
        s.step();
        near(s.getLastLr(), cosineLr64(0.1, e, 10, 0.001), `epoch ${e}`);
        near(opt.lr, s.getLastLr(), `optimizer lr at epoch ${e}`);
      }
      s.step(); // epoch 26
      near(cosineLr64(0.1, 10, 10, 0.001), 0.001, 'sanity: etaMin at tMax');
      near(cosineLr64(0.1, 20, 10, 0.001), 0.1, 'sanity: back to lr0 at 2 tMax');
    } finally {
      opt.dispose();
      trio.dispose();
    }
  });
  it('CosineAnnealingLR with etaMin 0 reaches lr 0 at tMax and the optimizer steps with it', () => {
    const { opt, trio } = make(0.1);
    const s = new CosineAnnealingLR(opt, { tMax: 4 });
    try {
      for (let e = 1; e <= 4; e++) s.step();
      near(opt.lr, 0, 'lr at tMax');
      trio.backward(0);
      const before = trio.params();
      opt.step();
      assert.deepEqual(trio.params(), before, 'a step with lr 0 changes nothing');
    } finally {
      opt.dispose();
      trio.dispose();
    }
  });
}

/** Save midway, dispose, rebuild, load: the end state is bitwise the uninterrupted run's. */
export function resumeSuite(backend: Backend): void {
  const cases: { title: string; make: (p: Trio['layers']) => Optim }[] = [
    {
      title: 'Adam amsgrad weightDecay',
      make: (p) => new Adam(p, { lr: 0.01, amsgrad: true, weightDecay: 0.01 }),
    },
    { title: 'AdamW', make: (p) => new AdamW(p, { lr: 0.01, betas: [0.8, 0.99] }) },
    { title: 'SGD nesterov', make: (p) => new SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true }) },
    {
      title: 'RMSprop centered momentum',
      make: (p) => new RMSprop(p, { lr: 0.005, centered: true, momentum: 0.9 }),
    },
    {
      title: 'Adagrad lrDecay initialAccumulatorValue',
      make: (p) => new Adagrad(p, { lr: 0.05, lrDecay: 0.1, initialAccumulatorValue: 0.1 }),
    },
  ];
  for (const c of cases) {
    it(`${c.title}: 6 steps, save stateDict (optimizer + layers), dispose, rebuild, load, 6 more == 12 uninterrupted, bitwise`, () => {
      const steps = (trio: Trio, opt: Optim, from: number, to: number): void => {
        for (let k = from; k < to; k++) {
          trio.backward(k);
          opt.clipGradNorm(1.0);
          opt.step();
        }
      };
      const a = new Trio(backend, 21);
      const optA = c.make(a.layers);
      const straight = (() => {
        try {
          steps(a, optA, 0, 12);
          return a.params();
        } finally {
          optA.dispose();
          a.dispose();
        }
      })();

      const b = new Trio(backend, 21);
      let optB = c.make(b.layers);
      steps(b, optB, 0, 6);
      const saved = {
        opt: optB.stateDict(),
        gru: b.gru.stateDict(),
        dense: b.dense.stateDict(),
        emb: b.emb.stateDict(),
      };
      optB.dispose();
      b.dispose();

      // Different seeds: everything that matters must come from the saved state.
      const r = new Trio(backend, 99);
      optB = c.make(r.layers);
      try {
        r.gru.loadStateDict(saved.gru);
        r.dense.loadStateDict(saved.dense);
        r.emb.loadStateDict(saved.emb);
        optB.loadStateDict(saved.opt);
        assert.equal(optB.stepCount, 6, 'stepCount restored');
        steps(r, optB, 6, 12);
        const resumed = r.params();
        resumed.forEach((p, i) =>
          assert.deepEqual(
            p,
            straight[i],
            `parameter tensor ${i} differs from the uninterrupted run`,
          ),
        );
      } finally {
        optB.dispose();
        r.dispose();
      }
    });
  }
}
