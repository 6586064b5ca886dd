/**
 * The demo's training worker (a module worker): loads gru-simd's browser build, trains a
 * character-level GRU language model on an excerpt of Moby Dick, and posts the loss of every
 * step and a generated sample every SAMPLE_EVERY steps. All the work happens here, so the page
 * stays responsive. It trains with the fastest module the browser runs (init's choice:
 * relaxed SIMD, else SIMD) and, on a cross-origin isolated page, with as many threads as the
 * browser reports cores (the module's helpers are workers of this worker).
 */
import {
  backendInfo,
  init,
  SequenceModel,
  setThreads,
  threadsReady,
} from '../../ts/index.browser.js';
import type { BackendChoice, FromWorker, ToWorker } from './protocol.js';

const CONFIG = { hiddenSize: 128, embeddingDim: 32, seqLen: 64, batch: 32, lr: 5e-3 };
const SAMPLE_EVERY = 50;
const SAMPLE_CHARS = 160;
const PROMPT = 'call me ishmael. ';
/** Post progress (and take messages) this often, in ms of training. */
const SLICE_MS = 100;

const scope = self as unknown as {
  postMessage(message: FromWorker): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
};

/** mulberry32: seeded, so a run is repeatable. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Corpus {
  chars: string[];
  ids: Int32Array;
  unigram: number;
}

async function loadCorpus(): Promise<Corpus> {
  const res = await fetch(new URL('./moby-dick.txt', import.meta.url));
  if (!res.ok) throw new Error(`moby-dick.txt: HTTP ${res.status} ${await res.text()}`);
  // Lower case, whitespace runs as one space: a small vocabulary that learns fast.
  const text = (await res.text()).toLowerCase().replace(/\s+/g, ' ');
  const chars = [...new Set(text)].sort();
  const index = new Map(chars.map((c, i) => [c, i]));
  const ids = Int32Array.from(text, (c) => index.get(c) as number);
  const counts = new Float64Array(chars.length);
  for (const id of ids) counts[id]++;
  let unigram = 0;
  for (const c of counts) if (c > 0) unigram -= (c / ids.length) * Math.log(c / ids.length);
  return { chars, ids, unigram };
}

/** A batch of random windows, time-major: x [T, B] ids, targets the next character. */
function batchOf(
  c: Corpus,
  rand: () => number,
): { x: Int32Array; targets: Int32Array; batch: number } {
  const { seqLen: T, batch: B } = CONFIG;
  const x = new Int32Array(T * B);
  const targets = new Int32Array(T * B);
  for (let b = 0; b < B; b++) {
    const start = Math.floor(rand() * (c.ids.length - T - 1));
    for (let t = 0; t < T; t++) {
      x[t * B + b] = c.ids[start + t] as number;
      targets[t * B + b] = c.ids[start + t + 1] as number;
    }
  }
  return { x, targets, batch: B };
}

/** Feeds the prompt, then samples one character at a time at temperature 0.8. */
function sample(model: SequenceModel, c: Corpus, rand: () => number): string {
  const embedding = model.embedding as NonNullable<SequenceModel['embedding']>;
  const index = new Map(c.chars.map((ch, i) => [ch, i]));
  const stream = model.gru.stream({ batch: 1 });
  const H = model.gru.hiddenSize;
  let out = stream.step(embedding.forward(Array.from(PROMPT, (ch) => index.get(ch) ?? 0))).output;
  let text = '';
  for (let i = 0; i < SAMPLE_CHARS; i++) {
    const logits = model.dense.forward(out.subarray(out.length - H));
    let max = -Infinity;
    for (const v of logits) max = Math.max(max, v);
    const p = Array.from(logits, (v) => Math.exp((v - max) / 0.8));
    let r = rand() * p.reduce((a, b) => a + b, 0);
    let next = 0;
    while (next < p.length - 1 && (r -= p[next] as number) > 0) next++;
    text += c.chars[next];
    out = stream.step(embedding.forward([next])).output;
  }
  return text;
}

let paused = false;
let wake: (() => void) | null = null;

async function train(choice: BackendChoice): Promise<void> {
  const t0 = performance.now();
  const [first, corpus] = await Promise.all([init({ backend: choice }), loadCorpus()]);
  // All the cores the page may use, where the page is cross-origin isolated (serve.mjs sends
  // the headers); elsewhere one thread, and info.threadsNote says why.
  if (first.threadsNote === undefined) {
    setThreads(Math.max(1, navigator.hardwareConcurrency || 1));
    await threadsReady();
  }
  const info = backendInfo();
  const model = new SequenceModel({
    embedding: { numEmbeddings: corpus.chars.length, embeddingDim: CONFIG.embeddingDim },
    gru: { hiddenSize: CONFIG.hiddenSize },
    output: { size: corpus.chars.length, mode: 'sequence' },
    loss: 'softmax-cross-entropy',
    optimizer: { type: 'adam', lr: CONFIG.lr },
    clipGradNorm: 1,
    seed: 1,
  });
  const parameters = [model.embedding, model.gru, model.dense].reduce((n, layer) => {
    if (layer === undefined) return n;
    return (
      n +
      layer
        .parameterNames()
        .reduce((m, name) => m + layer.parameterShape(name).reduce((a, b) => a * b, 1), 0)
    );
  }, 0);
  scope.postMessage({
    type: 'ready',
    info,
    parameters,
    vocab: corpus.chars.length,
    textChars: corpus.ids.length,
    unigram: corpus.unigram,
    config: CONFIG,
    loadMs: performance.now() - t0,
  });

  const rand = rng(1);
  const sampleRand = rng(2);
  let step = 0;
  const recent: { step: number; time: number }[] = [{ step: 0, time: performance.now() }];
  for (;;) {
    if (paused) await new Promise<void>((resolve) => (wake = resolve));
    const losses: number[] = [];
    const sliceStart = performance.now();
    let sampleDue = false;
    while (performance.now() - sliceStart < SLICE_MS) {
      losses.push(model.trainStep(batchOf(corpus, rand)).loss);
      step++;
      if (step % SAMPLE_EVERY === 0) {
        sampleDue = true;
        break;
      }
    }
    // Steps per second over the last ~2 s.
    const now = performance.now();
    recent.push({ step, time: now });
    while (recent.length > 2 && now - (recent[0] as { time: number }).time > 2000) recent.shift();
    const first = recent[0] as { step: number; time: number };
    const stepsPerSecond = now > first.time ? ((step - first.step) * 1000) / (now - first.time) : 0;
    scope.postMessage({
      type: 'progress',
      step,
      losses,
      stepsPerSecond,
      charsPerSecond: stepsPerSecond * CONFIG.seqLen * CONFIG.batch,
    });
    if (sampleDue)
      scope.postMessage({
        type: 'sample',
        step,
        prompt: PROMPT,
        text: sample(model, corpus, sampleRand),
      });
    // Let messages (pause) in; setTimeout(0) costs at most ~4 ms per slice.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

scope.onmessage = (event) => {
  const msg = event.data;
  if (msg.type === 'start') {
    train(msg.backend).catch((e: unknown) => {
      scope.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) });
    });
  } else if (msg.type === 'pause') {
    paused = true;
  } else if (msg.type === 'resume') {
    paused = false;
    wake?.();
    wake = null;
  }
};
