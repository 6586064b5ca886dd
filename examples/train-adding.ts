/**
 * The adding problem (Hochreiter & Schmidhuber 1997): each step of a sequence carries a random
 * value in [0, 1) and a marker; exactly two steps are marked, and the target is the sum of their
 * two values. Guessing the mean (1.0) scores MSE 1/6 ~ 0.167; a GRU that learns to remember the
 * marked values gets far below that.
 *
 *   node --import tsx examples/train-adding.ts
 */
import { init, SequenceModel, CosineAnnealingLR } from '../ts/index.js';

const T = 100; // timesteps
const B = 32; // sequences per batch
const STEPS = 800;

/** A seeded generator (mulberry32) so every run sees the same data. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One batch, time-major: x [T, B, 2] (value, marker), targets [B, 1]. */
function batchOf(rand: () => number): { x: Float32Array; targets: Float32Array; batch: number } {
  const x = new Float32Array(T * B * 2);
  const targets = new Float32Array(B);
  for (let b = 0; b < B; b++) {
    const first = Math.floor(rand() * (T / 2));
    const second = T / 2 + Math.floor(rand() * (T / 2));
    for (let t = 0; t < T; t++) {
      const i = (t * B + b) * 2;
      x[i] = rand();
      if (t === first || t === second) {
        x[i + 1] = 1;
        targets[b] += x[i] as number;
      }
    }
  }
  return { x, targets, batch: B };
}

const info = await init();
console.log(`backend ${info.backend} (${info.isa}); adding problem, T = ${T}, batch ${B}`);

const model = new SequenceModel({
  inputSize: 2,
  gru: { hiddenSize: 32 },
  output: { size: 1, mode: 'last' },
  loss: 'mse',
  optimizer: { type: 'adam', lr: 1e-2 },
  clipGradNorm: 1,
  seed: 7,
});
const schedule = new CosineAnnealingLR(model.optimizer, { tMax: STEPS, etaMin: 1e-4 });

const rand = rng(1);
const heldOut = batchOf(rng(2));
const t0 = performance.now();
let sum = 0;
for (let step = 1; step <= STEPS; step++) {
  const { loss } = model.trainStep(batchOf(rand));
  schedule.step();
  sum += loss;
  if (step % 50 === 0) {
    const evalLoss = model.evaluate(heldOut);
    console.log(
      `step ${String(step).padStart(4)}  train MSE ${(sum / 50).toFixed(4)}  held-out MSE ${evalLoss.toFixed(4)}` +
        `  lr ${schedule.getLastLr().toExponential(2)}`,
    );
    sum = 0;
  }
}
const seconds = (performance.now() - t0) / 1000;
console.log(`${STEPS} steps in ${seconds.toFixed(1)} s (${(STEPS / seconds).toFixed(0)} steps/s)`);

const pred = model.predict({ x: heldOut.x, batch: B });
for (let b = 0; b < 3; b++) {
  console.log(
    `  sequence ${b}: target ${heldOut.targets[b]!.toFixed(3)}, predicted ${pred[b]!.toFixed(3)}`,
  );
}
model.dispose();
