/**
 * recurrentDropout (and dropout with it) against Keras 3 itself (JAX backend), on every backend
 * and ISA: test/fixtures/keras-recurrent-dropout.json, written by
 * scripts/gen-keras-recurrent-dropout-fixtures.py (its header says how to regenerate it), holds
 * Keras GRU layers with recurrent_dropout, run in training with gru-simd's masks handed to
 * Keras's cell in place of its own: the training output, h_n, and JAX's gradients of
 * sum(output * dy) + sum(h_n * dh_n) for every weight, x and h0. The core GRU given the same
 * weights, rates and seed must agree within 1e-5 (1 + |Keras's value|), and its inference
 * output must equal Keras's training=False output. Also Keras's Bidirectional(GRU) with both
 * directions masked (each its own masks) against the core's bidirectional GRU.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { GRU } from '../ts/index.js';
import { forEachBackend, forEachIsa } from './backends.js';
import { within1e5 } from './keras-gru.test.js';

interface Case {
  name: string;
  resetAfter: boolean;
  dropout: number;
  recurrentDropout: number;
  seed: number;
  T: number;
  B: number;
  I: number;
  H: number;
  params: Record<string, number[]>;
  x: number[];
  h0: number[];
  dy: number[];
  dhn: number[];
  output: number[];
  hn: number[];
  inference: number[];
  grads: Record<string, number[]>;
  dx: number[];
  dh0: number[];
}

const FIXTURE: { keras: string; cases: Case[]; bidirectional: Case[] } = JSON.parse(
  readFileSync(new URL('./fixtures/keras-recurrent-dropout.json', import.meta.url), 'utf8'),
);

const worst = new Map<string, number>();
const note = (key: string, value: number) => worst.set(key, Math.max(worst.get(key) ?? 0, value));

forEachBackend(`GRU recurrentDropout against Keras ${FIXTURE.keras} (JAX)`, (backend) => {
  forEachIsa(backend, (isa) => {
    const all = [
      ...FIXTURE.cases.map((c) => ({ c, bidirectional: false })),
      ...FIXTURE.bidirectional.map((c) => ({ c, bidirectional: true })),
    ];
    for (const { c, bidirectional } of all) {
      it(`${c.name}: training output, h_n, dx, dh0 and every gradient within 1e-5 of Keras`, () => {
        const gru = new GRU({
          inputSize: c.I,
          hiddenSize: c.H,
          batchFirst: true,
          bidirectional,
          resetAfter: c.resetAfter,
          backend,
          seed: 1,
        });
        try {
          const params: Record<string, Float32Array> = {};
          for (const [k, v] of Object.entries(c.params)) params[k] = Float32Array.from(v);
          gru.loadStateDict(params);
          const x = Float32Array.from(c.x);
          const h0 = Float32Array.from(c.h0);
          const r = gru.forward(x, {
            batch: c.B,
            h0,
            train: true,
            inputDropout: c.dropout,
            recurrentDropout: c.recurrentDropout,
            dropoutSeed: c.seed,
          });
          const key = `${backend.name}/${isa}`;
          note(`${key} output`, within1e5(r.output!, c.output, 'output'));
          note(`${key} output`, within1e5(r.hN, c.hn, 'h_n'));
          const b = gru.backward({
            dOutput: Float32Array.from(c.dy),
            dHN: Float32Array.from(c.dhn),
            h0Grad: true,
          });
          note(`${key} gradients`, within1e5(b.dx!, c.dx, 'dx'));
          note(`${key} gradients`, within1e5(b.dh0!, c.dh0, 'dh0'));
          for (const name of gru.parameterNames()) {
            // Keras's reset_before has no recurrent bias; the core's bias_hh (held at zero by
            // the model layer) adds to the same pre-activations as bias_ih, so its gradient is
            // bias_ih's.
            const keras = c.grads[name] ?? c.grads[name.replace('bias_hh', 'bias_ih')]!;
            note(`${key} gradients`, within1e5(gru.getGradient(name), keras, name));
          }
          const plain = gru.forward(x, { batch: c.B, h0 }).output!;
          note(`${key} output`, within1e5(plain, c.inference, 'inference'));
          assert.notDeepEqual(Array.from(r.output!), Array.from(plain), 'training drops');
        } finally {
          gru.dispose();
        }
      });
    }
  });
});

after(() => {
  if (worst.size === 0) return;
  const rows = [...worst].map(([k, v]) => `  ${k}: max |diff| ${v.toExponential(2)}`);
  console.log(`recurrentDropout vs Keras ${FIXTURE.keras}:\n${rows.join('\n')}`);
});
