/**
 * Keras's weight initializers for the model API's layers (layers.gru's kernelInitializer,
 * recurrentInitializer, biasInitializer), by Keras's or tfjs's name ('glorot_uniform' =
 * 'glorotUniform') or as { name, seed?, ...the initializer's numbers }. The values are computed
 * in the core (gru_param_init, native/core/initializers.cpp: the formulas, the truncated
 * normals, orthogonal's QR), from a seed: the initializer's own, or one derived from the
 * model's seed per tensor, so a seeded model starts from the same weights on every backend.
 * (Keras's random streams are not reproduced: the same seed gives other numbers than Keras's.)
 */
import {
  GRU_INIT_GLOROT_NORMAL,
  GRU_INIT_GLOROT_UNIFORM,
  GRU_INIT_HE_NORMAL,
  GRU_INIT_HE_UNIFORM,
  GRU_INIT_LECUN_NORMAL,
  GRU_INIT_LECUN_UNIFORM,
  GRU_INIT_ONES,
  GRU_INIT_ORTHOGONAL,
  GRU_INIT_RANDOM_NORMAL,
  GRU_INIT_RANDOM_UNIFORM,
  GRU_INIT_ZEROS,
} from '../backends/abi.generated.js';
import { deriveSeed } from '../dropout.js';
import { GruError } from '../errors.js';
import type { Layer } from '../layer.js';
import * as check from '../validate.js';

/** The initializers' names, as tfjs writes them. */
export type InitializerName =
  | 'zeros'
  | 'ones'
  | 'randomUniform'
  | 'randomNormal'
  | 'glorotUniform'
  | 'glorotNormal'
  | 'heUniform'
  | 'heNormal'
  | 'lecunUniform'
  | 'lecunNormal'
  | 'orthogonal';

/**
 * An initializer: a name, or a name with a seed and its numbers (Keras's defaults when left
 * out): randomUniform minval -0.05, maxval 0.05; randomNormal mean 0, stddev 0.05; orthogonal
 * gain 1.
 */
export type Initializer =
  | string
  | {
      name: string;
      seed?: number;
      minval?: number;
      maxval?: number;
      mean?: number;
      stddev?: number;
      gain?: number;
    };

/** An initializer checked: its GRU_INIT_* kind, numbers and seed (undefined: derived). */
export interface ParsedInitializer {
  name: InitializerName;
  kind: number;
  a: number;
  b: number;
  seed: number | undefined;
}

/** Per name: the kind, and the option names of a and b with their Keras defaults. */
const TABLE: Record<InitializerName, { kind: number; numbers?: [string, number][] }> = {
  zeros: { kind: GRU_INIT_ZEROS },
  ones: { kind: GRU_INIT_ONES },
  randomUniform: {
    kind: GRU_INIT_RANDOM_UNIFORM,
    numbers: [
      ['minval', -0.05],
      ['maxval', 0.05],
    ],
  },
  randomNormal: {
    kind: GRU_INIT_RANDOM_NORMAL,
    numbers: [
      ['mean', 0],
      ['stddev', 0.05],
    ],
  },
  glorotUniform: { kind: GRU_INIT_GLOROT_UNIFORM },
  glorotNormal: { kind: GRU_INIT_GLOROT_NORMAL },
  heUniform: { kind: GRU_INIT_HE_UNIFORM },
  heNormal: { kind: GRU_INIT_HE_NORMAL },
  lecunUniform: { kind: GRU_INIT_LECUN_UNIFORM },
  lecunNormal: { kind: GRU_INIT_LECUN_NORMAL },
  orthogonal: { kind: GRU_INIT_ORTHOGONAL, numbers: [['gain', 1]] },
};
const NAMES = Object.keys(TABLE) as InitializerName[];

/** 'glorot_uniform', 'GlorotUniform', 'glorotUniform' -> 'glorotuniform'. */
const key = (name: string): string => name.replace(/_/g, '').toLowerCase();

/** Checks `option` (e.g. 'layers.gru options: kernelInitializer'); undefined gives `fallback`. */
export function parseInitializer(
  option: string,
  value: unknown,
  fallback: InitializerName,
): ParsedInitializer {
  if (value === undefined) value = fallback;
  const list = NAMES.map((n) => `'${n}'`).join(', ');
  const refuse = (got: unknown) =>
    new GruError(
      'ERR_GRU_ARG',
      `${option} must be an initializer name or { name, ... } with one of ${list}, got ${check.describe(got)}`,
    );
  if (typeof value !== 'string' && (typeof value !== 'object' || value === null))
    throw refuse(value);
  const o: Record<string, unknown> =
    typeof value === 'string' ? { name: value } : check.options(option, value);
  const name =
    typeof o.name === 'string' ? NAMES.find((n) => key(n) === key(o.name as string)) : undefined;
  if (name === undefined) throw refuse(o.name);
  const entry = TABLE[name];
  const numbers = entry.numbers ?? [];
  check.knownKeys(option, o, ['name', 'seed', ...numbers.map(([n]) => n)]);
  const [a, b] = numbers.map(([n, d]) =>
    o[n] === undefined ? d : check.float32(`${option}.${n}`, o[n]),
  );
  if (name === 'randomUniform' && a! > b!) {
    throw new GruError('ERR_GRU_ARG', `${option}: minval must be <= maxval, got ${a} and ${b}`);
  }
  if (name === 'randomNormal' && b! < 0) {
    throw new GruError('ERR_GRU_ARG', `${option}.stddev must be >= 0, got ${b}`);
  }
  const seed = o.seed === undefined ? undefined : check.uint32(`${option}.seed`, o.seed);
  return { name, kind: entry.kind, a: a ?? 0, b: b ?? 0, seed };
}

/**
 * Fills `param` of `layer` with `init`, Keras's fans of the weight given, from a seed derived
 * from the initializer's own seed, else the model's (`seed`), and the tensor's `slot` (so two
 * tensors with one initializer differ).
 */
export function initialize(
  layer: Layer,
  param: string,
  init: ParsedInitializer,
  fans: { fanIn: number; fanOut: number },
  seed: number,
  slot: number,
): void {
  layer._initParameter(param, init, fans.fanIn, fans.fanOut, deriveSeed(init.seed ?? seed, slot));
}
