/**
 * Keras's GRU dropout (GRU forward option inputDropout; gru_net_set_input_dropout in the core)
 * on every backend and ISA: one mask per sequence over the input features, the same at every
 * step, in training only. The mask is recomputed here from the core's formula (random.h's
 * splitmix hash of (seed ^ 0x4B657261, b * features + f)), and the training forward, dx and every
 * parameter gradient must equal the float64 oracle (test/reference-train.ts, itself checked by
 * finite differences) run on the masked input, with dx through the same mask.
 */
import assert from 'node:assert/strict';
import { GRU, layers, sequential, tensor, type GRULayer } from '../ts/index.js';
import { forEachBackend, forEachIsa } from './backends.js';
import { randomParams } from './cases.js';
import { parameterNames, type RefConfig } from './reference.js';
import { referenceGruGradients } from './reference-train.js';
import { FORWARD, GRADIENT } from './tolerance.js';
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

/** The mask of sequence b, feature f: 1 / (1 - p) kept, 0 dropped (native/core/net_forward.cpp). */
function keep(seed: number, b: number, f: number, features: number, p: number): number {
  const u = hashUniform((seed ^ 0x4b657261) >>> 0, b * features + f);
  return u >= p ? Math.fround(1 / Math.fround(1 - p)) : 0;
}

const [T, B, I, H] = [6, 4, 9, 7];

forEachBackend('GRU inputDropout (Keras dropout)', (backend) => {
  forEachIsa(backend, () => {
    for (const [resetAfter, batchFirst, p] of [
      [true, false, 0.3],
      [false, true, 0.5],
    ] as const) {
      it(`resetAfter ${resetAfter}, batchFirst ${batchFirst}, rate ${p}: forward, dx and gradients = the oracle on the masked input`, () => {
        const cfg: RefConfig = {
          inputSize: I,
          hiddenSize: H,
          numLayers: 2,
          bidirectional: true,
          bias: true,
          resetAfter,
        };
        const rand = rng(31 + +resetAfter);
        const params = randomParams(cfg, rand, 1.5);
        const x = uniform(T * B * I, -1, 1, rand);
        const dOutput = uniform(T * B * 2 * H, -1, 1, rand);
        const dHN = uniform(2 * 2 * B * H, -1, 1, rand);
        const seed = 0xdec0de;
        const row = (t: number, b: number) => (batchFirst ? b * T + t : t * B + b);
        const masked = new Float32Array(x.length);
        let dropped = 0;
        for (let t = 0; t < T; t++)
          for (let b = 0; b < B; b++)
            for (let f = 0; f < I; f++) {
              const k = keep(seed, b, f, I, p);
              if (t === 0 && k === 0) dropped++;
              masked[row(t, b) * I + f] = Math.fround(x[row(t, b) * I + f]! * k);
            }
        assert.ok(dropped > 0 && dropped < B * I, `the mask drops some, not all: ${dropped}`);
        const ref = referenceGruGradients(
          cfg,
          params,
          masked,
          { seqLen: T, batch: B, batchFirst },
          dOutput,
          dHN,
        );
        const gru = new GRU({ ...cfg, batchFirst, backend, seed: 1 });
        try {
          gru.loadStateDict(params);
          const r = gru.forward(x, { batch: B, train: true, inputDropout: p, dropoutSeed: seed });
          assertClose(r.output!, ref.output, FORWARD, 'output', [r.output!.length]);
          const { dx } = gru.backward({ dOutput, dHN });
          // dx through the mask: the oracle's dx (w.r.t. the masked input) times the mask.
          const dxRef = new Float64Array(ref.dx.length);
          for (let t = 0; t < T; t++)
            for (let b = 0; b < B; b++)
              for (let f = 0; f < I; f++) {
                const i = row(t, b) * I + f;
                dxRef[i] = ref.dx[i]! * keep(seed, b, f, I, p);
              }
          const scale = (a: ArrayLike<number>) => Math.max(1e-3, ...Array.from(a, Math.abs));
          assertClose(dx!, dxRef, { abs: GRADIENT.abs * scale(dxRef), rel: GRADIENT.rel }, 'dx', [
            dx!.length,
          ]);
          for (const name of parameterNames(cfg)) {
            const g = ref.grads[name]!;
            assertClose(
              gru.getGradient(name),
              g,
              { abs: GRADIENT.abs * scale(g), rel: GRADIENT.rel },
              name,
              [g.length],
            );
          }
          // Inference never drops.
          const plain = referenceGruGradients(
            cfg,
            params,
            x,
            { seqLen: T, batch: B, batchFirst },
            null,
            null,
          );
          assertClose(gru.forward(x, { batch: B }).output!, plain.output, FORWARD, 'inference', [
            plain.output.length,
          ]);
        } finally {
          gru.dispose();
        }
      });
    }
  });

  it('inputDropout needs train and a rate in [0, 1); the core refuses other rates', () => {
    const gru = new GRU({ inputSize: 2, hiddenSize: 3, backend, seed: 1 });
    try {
      const x = new Float32Array(4);
      for (const [o, re] of [
        [{ inputDropout: 0.2 }, /inputDropout applies only in training/],
        [{ train: true, inputDropout: 1 }, /inputDropout/],
        [{ train: true, inputDropout: -0.1 }, /inputDropout/],
      ] as const) {
        assert.throws(
          () => gru.forward(x, o),
          (e: unknown) =>
            (e as { code?: string }).code === 'ERR_GRU_ARG' && re.test((e as Error).message),
        );
      }
      for (const rate of [1, -0.5, NaN])
        assert.throws(
          () => backend.netSetInputDropout(gru._handle(), rate, 1),
          (e: unknown) => (e as { code?: string }).code === 'ERR_GRU_ARG',
          `rate ${rate}`,
        );
    } finally {
      gru.dispose();
    }
  });
});

forEachBackend('layers.gru dropout', (backend) => {
  it('applies in training only: predict equals the model without dropout, trainOnBatch does not', async () => {
    const make = (dropout: number) =>
      sequential({
        backend,
        seed: 4,
        layers: [layers.gru({ units: 5, inputShape: [3, 8], dropout }), layers.dense({ units: 1 })],
      });
    const [m, plain] = [make(0.5), make(0)];
    try {
      assert.equal((m.layers[0] as GRULayer).dropout, 0.5);
      const x = tensor(uniform(4 * 3 * 8, -1, 1, rng(2)), [4, 3, 8]);
      const y = tensor(uniform(4, -1, 1, rng(3)), [4, 1]);
      assert.deepEqual(m.predict(x).data, plain.predict(x).data);
      for (const model of [m, plain]) model.compile({ optimizer: 'sgd', loss: 'mse' });
      const [a, b] = [await m.trainOnBatch(x, y), await plain.trainOnBatch(x, y)];
      assert.notEqual(a, b, 'the training loss sees the dropped inputs');
    } finally {
      m.dispose();
      plain.dispose();
    }
  });
});
