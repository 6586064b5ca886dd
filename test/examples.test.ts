/**
 * The dataset examples (examples/spam.ts, moby-dick.ts, births.ts) run in their quick mode (a
 * small, fixed slice of the data, a few epochs) and write their chart; each learns something a
 * trivial baseline cannot, with margins wide enough for any backend's rounding. Their data
 * preparation and the SVG chart module are checked on their own, and one example is started as a
 * script (the command the README gives).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isHoliday, run as births } from '../examples/births.js';
import { lineChart, ticks } from '../examples/chart.js';
import { commandLine, shuffled } from '../examples/example-run.js';
import {
  alphabet,
  run as mobyDick,
  optimizer as mobyDickOptimizer,
  SETTINGS as mobyDickSettings,
} from '../examples/moby-dick.js';
import {
  encode,
  run as spam,
  SETTINGS as spamSettings,
  spamModel,
  subjectAndBody,
  vocabulary,
  words,
} from '../examples/spam.js';
import { GRULayer, init } from '../ts/index.js';

const quiet = (): void => {};

function assertChart(path: string, mentions: string[]): void {
  assert.ok(existsSync(path), `${path} written`);
  const svg = readFileSync(path, 'utf8');
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'), 'an SVG document');
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  assert.ok((svg.match(/<polyline /g) ?? []).length >= 2, 'a line per curve');
  for (const m of mentions) assert.ok(svg.includes(m), `"${m}" in the chart`);
}

describe('examples on real data (quick mode)', function () {
  this.timeout(120_000);
  let out: string;
  before(() => {
    out = mkdtempSync(join(tmpdir(), 'gru-examples-'));
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  it('spam: model 3 with AUC and early stopping beats the majority class on held-out emails', async () => {
    const r = await spam({ quick: true, outDir: out, log: quiet });
    assert.equal(r.trainEmails + r.validationEmails + r.testEmails, 1200);
    assert.equal(r.validationEmails, 96, 'the last tenth of the 960 training emails');
    assert.ok(r.accuracy >= 0.8, `held-out accuracy ${r.accuracy}`);
    assert.ok(r.accuracy > r.majorityAccuracy + 0.1, `${r.accuracy} vs ${r.majorityAccuracy}`);
    assert.ok(r.auc > 0.85 && r.auc <= 1, `held-out AUC ${r.auc}`);
    // The same weights stored as bf16 / int8 for inference (issue 13: under half a point).
    for (const p of ['bf16', 'int8'] as const)
      assert.ok(
        Math.abs(r.accuracyAt[p] - r.accuracy) < 0.005,
        `${p}: ${r.accuracyAt[p]} vs ${r.accuracy}`,
      );
    // earlyStopping ended the run once the validation loss stopped improving, and
    // restoreBestWeights put back the best epoch's weights: evaluate() on the validation split
    // gives that epoch's loss, not the last one's.
    const best = Math.min(...r.validationLosses);
    assert.ok(r.epochsRun < spamSettings.quick.epochs, `${r.epochsRun} epochs run`);
    assert.equal(r.epochsRun - 1 - r.bestEpoch, spamSettings.quick.patience);
    assert.equal(r.validationLosses[r.bestEpoch], best);
    assert.ok(
      Math.abs(r.finalValidationLoss - best) <= 1e-5 * best,
      `${r.finalValidationLoss} vs best ${best} (last ${r.validationLosses.at(-1)})`,
    );
    assertChart(r.chart, ['validation', 'majority class', 'AUC']);
  });

  it("spam's model: BatchNormalization, GRU dropout and recurrentDropout, and maskZero, so padding changes nothing", async () => {
    await init({ quiet: true });
    const s = spamSettings.quick;
    const model = spamModel(s);
    try {
      assert.deepEqual(
        model.layers.map((l) => l.className),
        ['Embedding', 'BatchNormalization', 'GRU', 'BatchNormalization', 'GRU', 'Dense'],
      );
      assert.deepEqual(
        model.layers.filter((l) => l instanceof GRULayer).map((l) => (l as GRULayer).dropout),
        [0.2, 0.2],
      );
      assert.deepEqual(
        model.layers
          .filter((l) => l instanceof GRULayer)
          .map((l) => (l as GRULayer).recurrentDropout),
        [0.2, 0.2],
      );
      // The same words padded in front, padded behind, and other words: with the mask the GRUs
      // skip the padding wherever it is (without it, the embedding of id 0 would be read).
      const L = s.length;
      const ids = [5, 17, 3, 200, 42, 9];
      const x = new Int32Array(3 * L);
      x.set(ids, L - ids.length);
      x.set(ids, L);
      x.set([7, 8, 300, 11], 3 * L - 4);
      const p = model.predict({ data: x, shape: [3, L] }).data;
      assert.ok(Math.abs(p[0]! - p[1]!) <= 1e-6, `left ${p[0]} vs right padding ${p[1]}`);
      assert.ok(Math.abs(p[0]! - p[2]!) > 1e-6, `other words: ${p[2]}`);
    } finally {
      model.dispose();
    }
  });

  it('moby-dick: GRU(64) -> GRU(32) -> Dense(softmax) beats the unigram baseline', async () => {
    const r = await mobyDick({ quick: true, outDir: out, log: quiet });
    assert.ok(r.characters > 30 && r.characters < 60, `${r.characters} characters`);
    assert.ok(r.accuracy > r.unigram.accuracy + 0.03, `${r.accuracy} vs ${r.unigram.accuracy}`);
    for (const p of ['bf16', 'int8'] as const)
      assert.ok(
        Math.abs(r.accuracyAt[p] - r.accuracy) < 0.005,
        `${p}: ${r.accuracyAt[p]} vs ${r.accuracy}`,
      );
    assert.ok(
      r.perplexity < r.unigram.perplexity * 0.95,
      `${r.perplexity} vs ${r.unigram.perplexity}`,
    );
    // The bigram baseline is stronger than the unigram one (the baselines are computed right).
    assert.ok(r.bigram.perplexity < r.unigram.perplexity);
    assertChart(r.chart, ['perplexity', 'bigram baseline']);
  });

  it("moby-dick's optimizer: RMSprop with clipnorm and a per-epoch exponential decay", () => {
    const s = mobyDickSettings.quick;
    const o = mobyDickOptimizer(s) as Record<string, unknown>;
    assert.equal(o.name, 'rmsprop');
    assert.equal(o.clipnorm, 1);
    assert.deepEqual(o.learningRate, {
      className: 'ExponentialDecay',
      config: {
        initialLearningRate: s.lr,
        decaySteps: Math.ceil(s.train / 64), // the batches of an epoch
        decayRate: s.decay,
        staircase: false,
      },
    });
  });

  it('births: the GRU forecast, with a plateau schedule and early stopping, beats the seasonal-naive one on the held-out year', async () => {
    const r = await births({ quick: true, outDir: out, log: quiet });
    assert.equal(r.testDays, 365);
    assert.ok(r.gru.mae < r.lastWeek.mae * 0.95, `MAE ${r.gru.mae} vs ${r.lastWeek.mae}`);
    assert.ok(r.gru.rmse < r.lastWeek.rmse, `RMSE ${r.gru.rmse} vs ${r.lastWeek.rmse}`);
    // The same weights stored as bf16 / int8 for inference: the MAE moves by under 1%.
    for (const p of ['bf16', 'int8'] as const)
      assert.ok(Math.abs(r.gruAt[p].mae - r.gru.mae) < 0.01 * r.gru.mae, `${p}: ${r.gruAt[p].mae}`);
    assert.ok(r.lastWeek.mae > 100 && r.lastYear.mae > 100, 'baselines in births per day');
    // reduceLROnPlateau lowered the rate when the validation loss stalled; earlyStopping ended
    // the run and put back the best epoch's weights (evaluate() gives that epoch's loss).
    assert.equal(r.learningRates.length, r.epochsRun);
    assert.ok(r.learningRates[0]! > 0.0029 && r.learningRates[0]! < 0.0031, `${r.learningRates}`);
    assert.ok(Math.min(...r.learningRates) < r.learningRates[0]! * 0.6, `${r.learningRates}`);
    const best = Math.min(...r.validationLosses);
    assert.ok(r.epochsRun < 30, `${r.epochsRun} epochs run`);
    assert.equal(r.epochsRun - 1 - r.bestEpoch, 4, 'stopped after 4 epochs without improvement');
    assert.equal(r.validationLosses[r.bestEpoch], best);
    assert.ok(
      Math.abs(r.finalValidationLoss - best) <= 1e-5 * best,
      `${r.finalValidationLoss} vs best ${best} (last ${r.validationLosses.at(-1)})`,
    );
    assertChart(r.chart, ['seasonal naive: same weekday last week', 'reduceLROnPlateau']);
  });

  it('runs as a script with --quick --out, printing its metric', () => {
    const dir = join(out, 'script');
    const p = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'examples/births.ts', '--quick', '--out', dir],
      { encoding: 'utf8' },
    );
    assert.equal(p.status, 0, p.stderr);
    assert.match(p.stdout, /held-out 1985, births per day: GRU MAE \d+\.\d/);
    assert.ok(existsSync(join(dir, 'births-quick.svg')));
  });
});

describe('examples: data preparation', () => {
  it('spam reads the Subject and the body, never the other headers', () => {
    const raw = 'From: a@list.org\r\nSubject: Cheap pills!\r\nX-Spam: yes\r\n\r\nBuy now\r\n';
    const text = subjectAndBody(raw);
    assert.ok(text.includes('Cheap pills!') && text.includes('Buy now'));
    assert.ok(!text.includes('list.org') && !text.includes('X-Spam'));
    assert.deepEqual(words(text), ['cheap', 'pills!', 'buy', 'now']);
  });

  it('spam ids: most frequent words first, 1 for unknown, padded in front, truncated', () => {
    const vocab = vocabulary(
      [
        ['b', 'a', 'b'],
        ['c', 'b'],
      ],
      4,
    );
    assert.deepEqual(
      [...vocab.entries()],
      [
        ['b', 2],
        ['a', 3],
      ],
    );
    const x = encode(
      [
        ['a', 'zz'],
        ['b', 'b', 'a', 'b'],
      ],
      vocab,
      3,
    );
    assert.deepEqual(x.shape, [2, 3]);
    assert.deepEqual([...x.data], [0, 3, 1, 2, 2, 3]);
  });

  it("moby-dick's alphabet keeps frequent characters and maps the rest to '~'", () => {
    const text = `${'a'.repeat(60)}${'b'.repeat(50)}${'c'.repeat(49)}~`;
    assert.deepEqual([...alphabet(text).keys()], ['a', 'b', '~']);
  });

  it('births knows the moving US holidays', () => {
    assert.ok(isHoliday(1985, 11, 28) && isHoliday(1985, 11, 29)); // Thanksgiving and after
    assert.ok(isHoliday(1985, 5, 27) && !isHoliday(1985, 5, 20)); // Memorial Day: last Monday
    assert.ok(isHoliday(1985, 9, 2) && !isHoliday(1985, 9, 9)); // Labor Day: first Monday
    assert.ok(isHoliday(1988, 12, 25) && isHoliday(1969, 7, 4) && !isHoliday(1985, 7, 5));
  });

  it('the split is seeded: the same order every run, every index once', () => {
    const a = shuffled(100, 3);
    assert.deepEqual(a, shuffled(100, 3));
    assert.notDeepEqual(a, shuffled(100, 4));
    assert.deepEqual(
      [...a].sort((p, q) => p - q),
      Array.from({ length: 100 }, (_, i) => i),
    );
  });

  it('the command line takes --quick and --out DIR, and refuses anything else', () => {
    assert.deepEqual(commandLine([]), { quick: false, outDir: undefined });
    const o = commandLine(['--out', '/tmp/x', '--quick']);
    assert.equal(o.quick, true);
    assert.equal(o.outDir, '/tmp/x');
    assert.throws(() => commandLine(['--fast']), /usage/);
    assert.throws(() => commandLine(['--out']), /usage/);
  });
});

describe('examples: the SVG line chart', () => {
  it('ticks are round numbers covering the range', () => {
    assert.deepEqual(ticks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    for (const [lo, hi] of [
      [0.03, 0.97],
      [-3, 250],
      [9000, 11000],
    ] as const) {
      const t = ticks(lo, hi);
      assert.ok(t.length >= 3 && t.length <= 6, `${t}`);
      assert.ok(t[0]! >= lo && t[t.length - 1]! <= hi, `${t} in [${lo}, ${hi}]`);
      const step = t[1]! - t[0]!;
      assert.ok(
        [1, 2, 5].some((m) => Math.abs(step / 10 ** Math.floor(Math.log10(step)) - m) < 1e-9),
      );
    }
  });

  it('draws one polyline per series, skips non-finite values, escapes text', () => {
    const svg = lineChart({
      title: 'a < b & c',
      panels: [
        { title: 'loss', yLabel: 'l', series: [{ name: 'train', values: [3, NaN, 1] }] },
        {
          title: 'acc',
          yLabel: 'a',
          series: [
            { name: 'x', values: [0.5, 0.7, 0.9] },
            { name: 'one point', values: [0.6], dashed: true },
          ],
        },
      ],
    });
    assert.ok(svg.includes('a &lt; b &amp; c'));
    assert.equal((svg.match(/<polyline /g) ?? []).length, 2);
    assert.equal((svg.match(/<circle /g) ?? []).length, 1);
    const first = /points="([^"]+)"/.exec(svg)![1]!.split(' ');
    assert.equal(first.length, 2, 'the NaN is left out');
    assert.ok(!svg.includes('NaN'));
  });
});
