/**
 * Keras's GRU dropout (GRU forward option inputDropout; gru_net_set_input_dropout in the core)
 * on every backend and ISA: one mask per sequence over the input features, the same at every
 * step, in training only. The mask is recomputed here from the core's formula (random.h's
 * splitmix hash of (seed ^ 0x4B657261, b * features + f)), and the training forward, dx and every
 * parameter gradient must equal the float64 oracle (test/reference-train.ts, itself checked by
 * finite differences) run on the masked input, with dx through the same mask; a bidirectional
 * GRU draws one mask per direction (Keras's Bidirectional runs two layers, each with its own).
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
    // A bidirectional layer (each direction its own mask) and two stacked layers (the mask on
    // the first layer's input only).
    for (const [resetAfter, batchFirst, p, bidirectional] of [
      [true, false, 0.3, true],
      [false, true, 0.5, false],
    ] as const) {
      it(`${bidirectional ? 'bidirectional' : '2 layers'}, resetAfter ${resetAfter}, batchFirst ${batchFirst}, rate ${p}: forward, dx and gradients = the oracle on the masked input`, () => {
        const cfg: RefConfig = {
          inputSize: I,
          hiddenSize: H,
          numLayers: bidirectional ? 1 : 2,
          bidirectional,
          bias: true,
          resetAfter,
        };
        const D = bidirectional ? 2 : 1;
        const L = cfg.numLayers;
        const rand = rng(31 + +resetAfter);
        const params = randomParams(cfg, rand, 1.5);
        const x = uniform(T * B * I, -1, 1, rand);
        const dOutput = uniform(T * B * D * H, -1, 1, rand);
        const dHN = uniform(L * D * B * H, -1, 1, rand);
        const seed = 0xdec0de;
        const row = (t: number, b: number) => (batchFirst ? b * T + t : t * B + b);
        // Direction d's mask: the core's seed for d (native/core/net.h input_dropout_seed_of).
        const seeds = [seed, (seed ^ 0x72657665) >>> 0];
        const masks = seeds.slice(0, D).map((s) => {
          const m = new Float32Array(x.length);
          for (let t = 0; t < T; t++)
            for (let b = 0; b < B; b++)
              for (let f = 0; f < I; f++) m[row(t, b) * I + f] = keep(s, b, f, I, p);
          return m;
        });
        for (const m of masks) {
          const dropped = m.subarray(0, B * I).filter((k) => k === 0).length;
          assert.ok(dropped > 0 && dropped < B * I, `the mask drops some, not all: ${dropped}`);
        }
        if (D === 2) assert.notDeepEqual(masks[0], masks[1], 'the two directions draw apart');
        // The oracle once per direction: its input through that direction's mask, and only its
        // own output gradients (one layer: each direction's outputs, state and parameter
        // gradients then depend on its input alone).
        const refs = masks.map((m, d) => {
          const masked = Float32Array.from(x, (v, i) => Math.fround(v * m[i]!));
          const own = (a: Float32Array, width: number) =>
            D === 1 ? a : Float32Array.from(a, (v, i) => (Math.floor(i / width) % D === d ? v : 0));
          return referenceGruGradients(
            cfg,
            params,
            masked,
            { seqLen: T, batch: B, batchFirst },
            own(dOutput, H),
            D === 1
              ? dHN
              : Float32Array.from(dHN, (v, i) => (Math.floor(i / (B * H)) === d ? v : 0)),
          );
        });
        const output = Float64Array.from(refs[0]!.output, (v, i) =>
          Math.floor(i / H) % D === 0 ? v : refs[1]!.output[i]!,
        );
        const dxRef = new Float64Array(x.length);
        refs.forEach((r, d) => r.dx.forEach((v, i) => (dxRef[i]! += v * masks[d]![i]!)));
        const gru = new GRU({ ...cfg, batchFirst, backend, seed: 1 });
        try {
          gru.loadStateDict(params);
          const r = gru.forward(x, { batch: B, train: true, inputDropout: p, dropoutSeed: seed });
          assertClose(r.output!, output, FORWARD, 'output', [r.output!.length]);
          const { dx } = gru.backward({ dOutput, dHN });
          const scale = (a: ArrayLike<number>) => Math.max(1e-3, ...Array.from(a, Math.abs));
          assertClose(dx!, dxRef, { abs: GRADIENT.abs * scale(dxRef), rel: GRADIENT.rel }, 'dx', [
            dx!.length,
          ]);
          for (const name of parameterNames(cfg)) {
            const g = refs[name.endsWith('_reverse') ? 1 : 0]!.grads[name]!;
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
