/**
 * Keras's GRU recurrent_dropout (GRU forward option recurrentDropout; gru_net_set_recurrent_dropout
 * in the core, native/core/recurrent_dropout.h) on every backend and ISA. Each gate multiplies
 * its own masked copy of the state (and, with inputDropout, its own masked copy of the input),
 * one mask per sequence that every step shares. The masks are recomputed here from the core's
 * formula; a float64 oracle of Keras's implementation 1 with those masks gives the training
 * forward, and its finite differences give dx, dh0 and every parameter gradient, which the core's
 * backward must match. The oracle uses each mask at every step, so a core that redrew a mask per
 * step (or shared one mask between the gates, or masked the blend's h) would fail.
 */
import assert from 'node:assert/strict';
import {
  GRU,
  layers,
  sequential,
  setThreads,
  tensor,
  type BidirectionalLayer,
  type GRULayer,
  type GRURecurrentActivation,
  type Sequential,
} from '../ts/index.js';
import { forEachBackend, forEachIsa } from './backends.js';
import { randomParams } from './cases.js';
import { parameterNames, type RefConfig } from './reference.js';
import { FORWARD, GRADIENT } from './tolerance.js';
import { trainPassArrays } from './train-arrays.js';
import { assertClose, rng, uniform } from './util.js';

const M64 = (1n << 64n) - 1n;

/** native/core/random.h hash_uniform(seed, index). */
function hashUniform(seed: number, index: number): number {
  const s = BigInt(seed >>> 0);
  let z = (BigInt(index) * 0x9e3779b97f4a7c15n + ((s << 32n) | s)) & M64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
  const bits = Number(((z ^ (z >> 31n)) >> 32n) & 0xffffffffn);
  return (bits >>> 8) * 2 ** -24;
}

/** A keep-scale of native/core/recurrent_dropout.cpp: 1 / (1 - p) kept, 0 dropped. */
function keepScale(seed: number, salt: number, index: number, p: number): number {
  return hashUniform((seed ^ salt) >>> 0, index) >= Math.fround(p)
    ? Math.fround(1 / Math.fround(1 - p))
    : 0;
}
const RECURRENT_SALT = 0x52656375;
const GATE_INPUT_SALT = 0x496e7075;

interface Case {
  resetAfter: boolean;
  numLayers: number;
  bidirectional: boolean;
  batchFirst: boolean;
  inputDropout: number;
  recurrentDropout: number;
  lengths: number[] | null;
  recurrentActivation: GRURecurrentActivation;
}

const [T, B, I] = [5, 4, 6];
const SEED = 0x5eed17;

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const hardSigmoid = (v: number) => Math.min(Math.max((v + 3) / 6, 0), 1);

/**
 * Keras's GRUCell implementation 1 in float64 for every layer and direction of the net, with the
 * core's masks: a_g = (x q_g) W_g^T + b_ig + (h m_g) U_g^T + b_hg (reset_before:
 * n = tanh(x_n + (r (h m_n)) U_n^T + b_n)), h' = n + z (h - n) with the unmasked h.
 * Returns the loss sum(output * dOut) + sum(hN * dHN).
 */
function oracleLoss(
  c: Case,
  H: number,
  params: Record<string, Float64Array>,
  x: Float64Array,
  h0: Float64Array,
  dOut: Float64Array | null,
  dHN: Float64Array,
  output?: Float64Array,
): number {
  const D = c.bidirectional ? 2 : 1;
  const lengths = c.lengths ?? Array<number>(B).fill(T);
  const row = (t: number, b: number) => (c.batchFirst ? b * T + t : t * B + b);
  const gate = c.recurrentActivation === 'sigmoid' ? sigmoid : hardSigmoid;
  const masks = masksOf(c, H);
  let input = x;
  let K = I;
  let loss = 0;
  const [xg, hm, r, z, rh] = [3 * H, 3 * H, H, H, H].map((n) => new Float64Array(n)) as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ];
  const h = new Float64Array(H);
  for (let l = 0; l < c.numLayers; l++) {
    const out = new Float64Array(T * B * D * H);
    for (let d = 0; d < D; d++) {
      const suffix = `_l${l}${d ? '_reverse' : ''}`;
      const [wih, whh, bih, bhh] = ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'].map(
        (k) => params[k + suffix]!,
      ) as [Float64Array, Float64Array, Float64Array, Float64Array];
      for (let b = 0; b < B; b++) {
        const q = (g: number, f: number) => (l === 0 ? masks.input(d, g, b, f) : 1);
        const m = (g: number, j: number) => masks.recurrent(l, d, g, b, j);
        for (let j = 0; j < H; j++) h[j] = h0[((l * D + d) * B + b) * H + j]!;
        const len = lengths[b]!;
        for (let step = 0; step < len; step++) {
          const t = d === 0 ? step : len - 1 - step;
          const x0 = row(t, b) * K;
          // xg = (x q_g) W_g^T + b_ig; hm_g = h m_g
          for (let g = 0; g < 3; g++)
            for (let i = 0; i < H; i++) {
              let s = bih[g * H + i]!;
              for (let k = 0; k < K; k++) s += wih[(g * H + i) * K + k]! * input[x0 + k]! * q(g, k);
              xg[g * H + i] = s;
              hm[g * H + i] = h[i]! * m(g, i);
            }
          const rec = (g: number, i: number, v: Float64Array, v0: number) => {
            let s = bhh[g * H + i]!;
            for (let j = 0; j < H; j++) s += whh[(g * H + i) * H + j]! * v[v0 + j]!;
            return s;
          };
          for (let i = 0; i < H; i++) {
            r[i] = gate(xg[i]! + rec(0, i, hm, 0));
            z[i] = gate(xg[H + i]! + rec(1, i, hm, H));
            rh[i] = r[i]! * hm[2 * H + i]!;
          }
          for (let i = 0; i < H; i++) {
            const n = Math.tanh(
              c.resetAfter
                ? xg[2 * H + i]! + r[i]! * rec(2, i, hm, 2 * H)
                : xg[2 * H + i]! + rec(2, i, rh, 0),
            );
            out[row(t, b) * D * H + d * H + i] = n + z[i]! * (h[i]! - n);
          }
          for (let i = 0; i < H; i++) h[i] = out[row(t, b) * D * H + d * H + i]!;
        }
        for (let i = 0; i < H; i++) loss += h[i]! * dHN[((l * D + d) * B + b) * H + i]!;
      }
    }
    input = out;
    K = D * H;
  }
  if (dOut) for (let i = 0; i < input.length; i++) loss += input[i]! * dOut[i]!;
  output?.set(input);
  return loss;
}

/** The core's masks of a case, computed once (keyed by the case and H). */
const MASKS = new Map<string, ReturnType<typeof computeMasks>>();
function masksOf(c: Case, H: number) {
  const key = JSON.stringify([c, H]);
  if (!MASKS.has(key)) MASKS.set(key, computeMasks(c, H));
  return MASKS.get(key)!;
}
function computeMasks(c: Case, H: number) {
  const D = c.bidirectional ? 2 : 1;
  const rec = new Float64Array(c.numLayers * D * 3 * B * H);
  for (let i = 0; i < rec.length; i++)
    rec[i] = c.recurrentDropout > 0 ? keepScale(SEED, RECURRENT_SALT, i, c.recurrentDropout) : 1;
  const inp = new Float64Array(D * 3 * B * I);
  for (let i = 0; i < inp.length; i++)
    inp[i] = c.inputDropout > 0 ? keepScale(SEED, GATE_INPUT_SALT, i, c.inputDropout) : 1;
  return {
    // index (((l D + d) 3 + g) B + b) H + j, as native/core/recurrent_dropout.h
    recurrent: (l: number, d: number, g: number, b: number, j: number) =>
      rec[(((l * D + d) * 3 + g) * B + b) * H + j]!,
    // index ((d 3 + g) B + b) I + f
    input: (d: number, g: number, b: number, f: number) => inp[((d * 3 + g) * B + b) * I + f]!,
  };
}

/** Central differences of the oracle's loss over every element of `v` (changed and restored). */
function finiteDiff(v: Float64Array, loss: () => number): Float64Array {
  const g = new Float64Array(v.length);
  const eps = 1e-6;
  for (let i = 0; i < v.length; i++) {
    const keep = v[i]!;
    v[i] = keep + eps;
    const up = loss();
    v[i] = keep - eps;
    const down = loss();
    v[i] = keep;
    g[i] = (up - down) / (2 * eps);
  }
  return g;
}

const CASES: (Case & { H: number })[] = [
  {
    resetAfter: true,
    numLayers: 1,
    bidirectional: false,
    batchFirst: false,
    inputDropout: 0,
    recurrentDropout: 0.4,
    lengths: null,
    recurrentActivation: 'sigmoid',
    H: 5,
  },
  {
    resetAfter: false,
    numLayers: 1,
    bidirectional: false,
    batchFirst: true,
    inputDropout: 0,
    recurrentDropout: 0.4,
    lengths: null,
    recurrentActivation: 'sigmoid',
    H: 5,
  },
  {
    resetAfter: true,
    numLayers: 2,
    bidirectional: true,
    batchFirst: false,
    inputDropout: 0.3,
    recurrentDropout: 0.5,
    lengths: [5, 3, 1, 4],
    recurrentActivation: 'sigmoid',
    H: 11,
  },
  {
    resetAfter: false,
    numLayers: 2,
    bidirectional: true,
    batchFirst: true,
    inputDropout: 0.3,
    recurrentDropout: 0.5,
    lengths: [2, 5, 0, 5],
    recurrentActivation: 'sigmoid',
    H: 11,
  },
  {
    resetAfter: true,
    numLayers: 1,
    bidirectional: false,
    batchFirst: false,
    inputDropout: 0.2,
    recurrentDropout: 0.3,
    lengths: null,
    recurrentActivation: 'hardSigmoid',
    H: 17,
  },
];

interface Expected {
  params: Record<string, Float32Array>;
  x: Float32Array;
  h0: Float32Array;
  dOut: Float32Array;
  dHN: Float32Array;
  output: Float64Array;
  plain: Float64Array;
  grads: Record<string, Float64Array>;
  dx: Float64Array;
  dh0: Float64Array;
}

/** The oracle's outputs and finite-difference gradients of a case (the same for every backend). */
function expected(c: Case & { H: number }, index: number): Expected {
  const cfg: RefConfig = {
    inputSize: I,
    hiddenSize: c.H,
    numLayers: c.numLayers,
    bidirectional: c.bidirectional,
    bias: true,
    resetAfter: c.resetAfter,
  };
  const D = c.bidirectional ? 2 : 1;
  const rand = rng(100 + index);
  const params = randomParams(cfg, rand, 1.5);
  const x = uniform(T * B * I, -1, 1, rand);
  const h0 = uniform(c.numLayers * D * B * c.H, -1, 1, rand);
  const dOut = uniform(T * B * D * c.H, -1, 1, rand);
  const dHN = uniform(h0.length, -1, 1, rand);
  const p64: Record<string, Float64Array> = {};
  for (const name of parameterNames(cfg)) p64[name] = Float64Array.from(params[name]!);
  const [x64, h064, dOut64, dHN64] = [x, h0, dOut, dHN].map((a) => Float64Array.from(a)) as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ];
  const loss = () => oracleLoss(c, c.H, p64, x64, h064, dOut64, dHN64);
  const output = new Float64Array(dOut.length);
  oracleLoss(c, c.H, p64, x64, h064, dOut64, dHN64, output);
  // Without dropout (rates 0: every mask 1), for inference.
  const plain = new Float64Array(dOut.length);
  oracleLoss(
    { ...c, inputDropout: 0, recurrentDropout: 0 },
    c.H,
    p64,
    x64,
    h064,
    null,
    dHN64,
    plain,
  );
  const grads: Record<string, Float64Array> = {};
  for (const name of parameterNames(cfg)) grads[name] = finiteDiff(p64[name]!, loss);
  return {
    params,
    x,
    h0,
    dOut,
    dHN,
    output,
    plain,
    grads,
    dx: finiteDiff(x64, loss),
    dh0: finiteDiff(h064, loss),
  };
}

const EXPECTED = new Map<number, Expected>();
const scale = (a: ArrayLike<number>) => Math.max(1e-3, ...Array.from(a, Math.abs));
const gradTol = (g: ArrayLike<number>) => ({ abs: GRADIENT.abs * scale(g), rel: GRADIENT.rel });

forEachBackend('GRU recurrentDropout (Keras recurrent_dropout)', (backend) => {
  forEachIsa(backend, () => {
    CASES.forEach((c, index) => {
      it(`resetAfter ${c.resetAfter}, layers ${c.numLayers}, bidirectional ${c.bidirectional}, H ${c.H}, dropout ${c.inputDropout}, recurrentDropout ${c.recurrentDropout}, lengths ${c.lengths ? 'yes' : 'no'}, ${c.recurrentActivation}: forward = the float64 oracle, gradients = its finite differences`, () => {
        if (!EXPECTED.has(index)) EXPECTED.set(index, expected(c, index));
        const e = EXPECTED.get(index)!;
        const gru = new GRU({
          inputSize: I,
          hiddenSize: c.H,
          numLayers: c.numLayers,
          bidirectional: c.bidirectional,
          batchFirst: c.batchFirst,
          resetAfter: c.resetAfter,
          recurrentActivation: c.recurrentActivation,
          backend,
          seed: 1,
        });
        try {
          gru.loadStateDict(e.params);
          const options = {
            batch: B,
            h0: e.h0,
            ...(c.lengths ? { lengths: c.lengths } : {}),
          };
          const r = gru.forward(e.x, {
            ...options,
            train: true,
            inputDropout: c.inputDropout,
            recurrentDropout: c.recurrentDropout,
            dropoutSeed: SEED,
          });
          assertClose(r.output!, e.output, FORWARD, 'training output', [r.output!.length]);
          const { dx, dh0 } = gru.backward({ dOutput: e.dOut, dHN: e.dHN, h0Grad: true });
          assertClose(dx!, e.dx, gradTol(e.dx), 'dx', [dx!.length]);
          assertClose(dh0!, e.dh0, gradTol(e.dh0), 'dh0', [dh0!.length]);
          for (const [name, g] of Object.entries(e.grads))
            assertClose(gru.getGradient(name), g, gradTol(g), name, [g.length]);
          // Inference never drops: the fused path, equal to the oracle without masks.
          const plain = gru.forward(e.x, options).output!;
          assertClose(plain, e.plain, FORWARD, 'inference', [plain.length]);
        } finally {
          gru.dispose();
        }
      });
    });
  });

  it('the masks drop some units of each gate, not all, and differ between the gates', () => {
    const H = 16;
    const masks = [0, 1, 2].map((g) =>
      Array.from({ length: B * H }, (_, i) => keepScale(SEED, RECURRENT_SALT, g * B * H + i, 0.5)),
    );
    for (const m of masks) {
      const dropped = m.filter((v) => v === 0).length;
      assert.ok(dropped > 0 && dropped < m.length, `dropped ${dropped} of ${m.length}`);
    }
    assert.notDeepEqual(masks[0], masks[1]);
    assert.notDeepEqual(masks[1], masks[2]);
  });

  it('a new seed draws new masks: the training output changes, and a repeated seed repeats it', () => {
    const gru = new GRU({ inputSize: 3, hiddenSize: 8, backend, seed: 2 });
    try {
      const x = uniform(4 * 2 * 3, -1, 1, rng(5));
      const run = (dropoutSeed: number) =>
        gru.forward(x, { batch: 2, train: true, recurrentDropout: 0.5, dropoutSeed }).output!;
      const [a, b, again] = [run(1), run(2), run(1)];
      assert.notDeepEqual(a, b);
      assert.deepEqual(a, again);
      assert.notDeepEqual(a, gru.forward(x, { batch: 2 }).output!);
    } finally {
      gru.dispose();
    }
  });

  it('forwardAsync / backwardAsync give bitwise what forward / backward give', async () => {
    const make = () =>
      new GRU({ inputSize: 3, hiddenSize: 9, resetAfter: false, backend, seed: 3 });
    const [a, b] = [make(), make()];
    try {
      const x = uniform(5 * 2 * 3, -1, 1, rng(6));
      const dOutput = uniform(5 * 2 * 9, -1, 1, rng(7));
      const options = {
        batch: 2,
        train: true,
        inputDropout: 0.3,
        recurrentDropout: 0.4,
        dropoutSeed: 77,
      };
      const sync = a.forward(x, options).output!;
      const dxSync = a.backward({ dOutput }).dx!;
      const async_ = (await b.forwardAsync(x, options)).output!;
      const dxAsync = (await b.backwardAsync({ dOutput })).dx!;
      assert.deepEqual(async_, sync);
      assert.deepEqual(dxAsync, dxSync);
      for (const name of a.parameterNames())
        assert.deepEqual(b.getGradient(name), a.getGradient(name), name);
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('recurrentDropout needs train and a rate in [0, 1); the core refuses other rates', () => {
    const gru = new GRU({ inputSize: 2, hiddenSize: 3, backend, seed: 1 });
    try {
      const x = new Float32Array(4);
      for (const [o, re] of [
        [{ recurrentDropout: 0.2 }, /recurrentDropout applies only in training/],
        [{ train: true, recurrentDropout: 1 }, /recurrentDropout/],
        [{ train: true, recurrentDropout: -0.1 }, /recurrentDropout/],
      ] as const) {
        assert.throws(
          () => gru.forward(x, o as never),
          (e: unknown) =>
            (e as { code?: string }).code === 'ERR_GRU_ARG' && re.test((e as Error).message),
        );
      }
      for (const rate of [1, -0.5, NaN])
        assert.throws(
          () => backend.netSetRecurrentDropout(gru._handle(), rate, 1),
          (e: unknown) => (e as { code?: string }).code === 'ERR_GRU_ARG',
          `rate ${rate}`,
        );
    } finally {
      gru.dispose();
    }
  });
});

forEachBackend('layers.gru and layers.bidirectional recurrentDropout', (backend) => {
  const x = tensor(uniform(4 * 3 * 8, -1, 1, rng(2)), [4, 3, 8]);
  const y = tensor(uniform(4, -1, 1, rng(3)), [4, 1]);

  for (const bidi of [false, true]) {
    it(`${bidi ? 'bidirectional' : 'gru'}: in training only: predict equals the model without it, trainOnBatch does not; the same seed repeats the step`, async () => {
      const make = (recurrentDropout: number, dropout: number) => {
        const gru = layers.gru({
          units: 5,
          recurrentDropout,
          ...(bidi ? {} : { inputShape: [3, 8], dropout }),
        });
        return sequential({
          backend,
          seed: 4,
          layers: [
            bidi ? layers.bidirectional({ layer: gru, inputShape: [3, 8] }) : gru,
            layers.dense({ units: 1 }),
          ],
        });
      };
      const models = [make(0.5, 0.3), make(0.5, 0.3), make(0, 0)];
      try {
        const [m, twin, plain] = models as [Sequential, Sequential, Sequential];
        const inner = bidi ? (m.layers[0] as BidirectionalLayer).layer : (m.layers[0] as GRULayer);
        assert.equal(inner.recurrentDropout, 0.5);
        assert.deepEqual(m.predict(x).data, plain.predict(x).data);
        for (const model of models) model.compile({ optimizer: 'sgd', loss: 'mse' });
        const [a, again, b] = [
          await m.trainOnBatch(x, y),
          await twin.trainOnBatch(x, y),
          await plain.trainOnBatch(x, y),
        ];
        assert.notEqual(a, b, 'the training loss sees the dropped state');
        assert.equal(a, again, 'the masks follow the model seed');
        assert.deepEqual(m.predict(x).data, twin.predict(x).data);
      } finally {
        for (const model of models) model.dispose();
      }
    });
  }

  it('a Bidirectional GRU takes dropout with recurrentDropout: training steps differ from inference, the seed repeats them', async () => {
    const make = () =>
      sequential({
        backend,
        seed: 6,
        layers: [
          layers.bidirectional({
            layer: layers.gru({ units: 3, dropout: 0.3, recurrentDropout: 0.3 }),
            inputShape: [3, 8],
          }),
          layers.dense({ units: 1 }),
        ],
      });
    const [a, b] = [make(), make()];
    try {
      for (const m of [a, b]) m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
      const clean = a.evaluate(x, y) as number;
      const lossA = (await a.trainOnBatch(x, y)) as number;
      const lossB = (await b.trainOnBatch(x, y)) as number;
      assert.ok(Number.isFinite(lossA));
      assert.notEqual(lossA, clean, 'the training step saw masks');
      assert.equal(lossB, lossA, 'the same seed, the same masks');
    } finally {
      a.dispose();
      b.dispose();
    }
  });
});

forEachBackend('GRU recurrentDropout with the time loop split between threads', (backend) => {
  if (backend.name !== 'native') {
    it('wasm runs one thread: nothing to split', () => assert.equal(backend.threads(), 1));
    return;
  }
  // B32 H128: a step holds enough work for the driver to split the units between workers, so
  // the masked step's two phases (reset_before) and the backward's barrier run with several.
  const run = (threads: number, resetAfter: boolean): Float32Array[] => {
    setThreads(threads, backend);
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
      {
        batch: 32,
        inputDropout: 0.2,
        recurrentDropout: 0.3,
        dropoutSeed: 9,
        lengths: Array.from({ length: 32 }, (_, b) => 12 - (b % 5)),
      },
      23,
    );
  };
  const defaultThreads = backend.threads();
  after(() => setThreads(defaultThreads, backend));
  for (const resetAfter of [true, false]) {
    it(`resetAfter ${resetAfter}: 1, 2 and 3 threads give bitwise the same outputs and gradients`, () => {
      const one = run(1, resetAfter);
      for (const n of [2, 3])
        run(n, resetAfter).forEach((a, i) =>
          assert.ok(
            a.length === one[i]!.length && a.every((v, k) => Object.is(v, one[i]![k])),
            `${n} threads vs 1, result ${i}`,
          ),
        );
    });
  }
});
