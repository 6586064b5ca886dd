/**
 * callbacks.modelCheckpoint: Keras 3's ModelCheckpoint (keras/src/callbacks/model_checkpoint.py)
 * writing gru-simd's own file (model-file.ts) with save() or saveWeights().
 *
 * filepath is formatted as Keras formats it (Python's str.format with epoch = epoch + 1, batch =
 * batch + 1 when saving by batches, and every value of the logs): '{epoch}', '{epoch:02d}',
 * '{val_loss:.4f}', '{loss:.2e}'; '{{' and '}}' are braces. A name that is not in the logs is
 * an error naming it (Keras's KeyError). The directory is made if missing.
 *
 * saveBestOnly: saves only when the monitor improves on the best so far (or on
 * initialValueThreshold), by mode ('auto': the loss goes down, a metric its own way: as
 * earlyStopping); a monitor missing from the logs saves anyway, with a warning (Keras 3).
 * saveFreq 'epoch' (default) saves at each epoch's end; a number n saves every n batches.
 */
import { GruError } from '../errors.js';
import * as check from '../validate.js';
import { MonitorCallback, nonEmpty, verboseOption, type MonitorArgs } from './callbacks.js';
import type { Logs } from './compiled.js';

export interface ModelCheckpointArgs extends Omit<MonitorArgs, 'minDelta'> {
  /** Where to save: a path (Node) or 'indexeddb://name', with '{epoch}'-style fields. */
  filepath: string;
  /** Save only when the monitor improves (default false). */
  saveBestOnly?: boolean;
  /** Save the weights alone, as saveWeights() (default false: the whole model, as save()). */
  saveWeightsOnly?: boolean;
  /** 'epoch' (default) or every this many batches. */
  saveFreq?: 'epoch' | number;
  /** With saveBestOnly, the value to beat first (Keras's initial_value_threshold). */
  initialValueThreshold?: number;
  /** 1: print each save (default 0). */
  verbose?: 0 | 1;
}

const KEYS = [
  'filepath',
  'monitor',
  'mode',
  'saveBestOnly',
  'saveWeightsOnly',
  'saveFreq',
  'initialValueThreshold',
  'verbose',
];

/** One '{name}' or '{name:spec}' field's text, Python's format spec [0][width][.precision][dfe]. */
function formatField(name: string, spec: string, value: number): string {
  const m = /^(0?)(\d*)(?:\.(\d+))?([dfe]?)$/.exec(spec);
  if (m === null) {
    throw new GruError(
      'ERR_GRU_ARG',
      `callbacks.modelCheckpoint: filepath field {${name}:${spec}} has a format this callback does not know (use d, .Nf or .Ne, with a width)`,
    );
  }
  const [, zero, width, precision, type] = m;
  let text: string;
  if (type === 'd') {
    if (!Number.isInteger(value)) {
      throw new GruError(
        'ERR_GRU_ARG',
        `callbacks.modelCheckpoint: filepath field {${name}:${spec}} needs an integer, and ${name} is ${value}`,
      );
    }
    text = String(Math.abs(value));
  } else if (type === 'e') text = Math.abs(value).toExponential(Number(precision ?? 6));
  else if (type === 'f' || precision !== undefined)
    text = Math.abs(value).toFixed(Number(precision ?? 6));
  else text = String(Math.abs(value));
  // Python writes exponents with at least two digits: 1.5e-03.
  if (type === 'e') text = text.replace(/e([+-])(\d)$/, 'e$10$2');
  const sign = value < 0 || Object.is(value, -0) ? '-' : '';
  const w = Number(width || 0);
  if (zero === '0') text = text.padStart(w - sign.length, '0');
  return (sign + text).padStart(w, ' ');
}

/**
 * filepath with its fields filled from `values` (see the top of this file); with null, only
 * checks every field's format (each filled with 1).
 */
export function formatFilepath(filepath: string, values: Record<string, number> | null): string {
  return filepath.replace(
    /\{\{|\}\}|\{([^{}:]*)(?::([^{}]*))?\}/g,
    (all, name?: string, spec?: string) => {
      if (all === '{{') return '{';
      if (all === '}}') return '}';
      const key = name as string;
      if (values === null) return formatField(key, spec ?? '', 1);
      if (!Object.hasOwn(values, key)) {
        throw new GruError(
          'ERR_GRU_ARG',
          `callbacks.modelCheckpoint: filepath ${JSON.stringify(filepath)} has the field {${key}}, which is not in the logs (they have: epoch, ${Object.keys(
            values,
          )
            .filter((k) => k !== 'epoch')
            .join(', ')})`,
        );
      }
      return formatField(key, spec ?? '', values[key]!);
    },
  );
}

/** Keras's ModelCheckpoint: saves the model (or its weights) during fit(). */
export class ModelCheckpoint extends MonitorCallback {
  readonly filepath: string;
  readonly saveBestOnly: boolean;
  readonly saveWeightsOnly: boolean;
  readonly saveFreq: 'epoch' | number;
  readonly initialValueThreshold: number | null;
  readonly verbose: 0 | 1;
  /** The best monitored value so far (Keras's best): null until the first save-best. */
  best: number | null = null;
  #epoch = 0;
  #batchesSinceSave = 0;

  constructor(args: ModelCheckpointArgs) {
    const what = 'callbacks.modelCheckpoint';
    const o = check.options(`${what} options`, args);
    check.knownKeys(`${what} options`, o, KEYS);
    if (o.filepath === undefined)
      throw new GruError('ERR_GRU_ARG', `${what}: filepath is required (where to save)`);
    super(what, o, 0);
    this.filepath = nonEmpty(`${what}: filepath`, o.filepath);
    formatFilepath(this.filepath, null); // a format it cannot write is refused now
    this.saveBestOnly = check.boolean(`${what}: saveBestOnly`, o.saveBestOnly, false);
    this.saveWeightsOnly = check.boolean(`${what}: saveWeightsOnly`, o.saveWeightsOnly, false);
    const freq = o.saveFreq === undefined ? 'epoch' : o.saveFreq;
    if (freq !== 'epoch')
      check.positiveInt(`${what}: saveFreq ('epoch' or a number of batches)`, freq, 2 ** 31 - 1);
    this.saveFreq = freq as 'epoch' | number;
    this.initialValueThreshold =
      o.initialValueThreshold === undefined || o.initialValueThreshold === null
        ? null
        : check.finiteNumber(`${what}: initialValueThreshold`, o.initialValueThreshold);
    this.verbose = verboseOption(what, o.verbose);
  }

  onTrainBegin(): void {
    if (this.saveBestOnly) this.resolveMode();
    this.best = this.initialValueThreshold;
    this.#batchesSinceSave = 0;
  }

  onEpochBegin(epoch: number): void {
    this.#epoch = epoch;
  }

  async onBatchEnd(batch: number, logs?: Logs): Promise<void> {
    if (this.saveFreq === 'epoch' || ++this.#batchesSinceSave < this.saveFreq) return;
    this.#batchesSinceSave = 0;
    await this.#save(this.#epoch, batch, logs ?? {});
  }

  async onEpochEnd(epoch: number, logs?: Logs): Promise<void> {
    if (this.saveFreq === 'epoch') await this.#save(epoch, null, logs ?? {});
  }

  async #save(epoch: number, batch: number | null, logs: Logs): Promise<void> {
    const values: Record<string, number> = { ...logs, epoch: epoch + 1 };
    // Keras's {batch} counts from 1 (fit()'s batch logs carry tfjs's 0-based one: replaced).
    if (batch !== null) values.batch = batch + 1;
    const path = formatFilepath(this.filepath, values);
    if (this.saveBestOnly) {
      const current = this.current(logs);
      if (current !== undefined) {
        const best = this.best === null ? 'None' : this.best.toFixed(5);
        if (!this.improves(current, this.best)) {
          if (this.verbose > 0)
            console.log(`Epoch ${epoch + 1}: ${this.monitor} did not improve from ${best}`);
          return;
        }
        if (this.verbose > 0)
          console.log(
            `Epoch ${epoch + 1}: ${this.monitor} improved from ${best} to ${current.toFixed(5)}, saving model to ${path}`,
          );
        this.best = current;
      }
    } else if (this.verbose > 0) console.log(`Epoch ${epoch + 1}: saving model to ${path}`);
    await this.boundModel._saveCheckpoint(path, this.saveWeightsOnly);
  }
}
