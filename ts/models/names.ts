/**
 * Every name the model API resolves, in one place: Dense activations, losses, metrics and
 * optimizers (whose Keras specs are ts/models/optimizers.ts). An entry says what it calls in the core, or why it is not available (the core
 * piece it waits for); nothing else in ts/models/ interprets these names. Names match in Keras's
 * snake_case or tfjs's camelCase ('binary_crossentropy' = 'binaryCrossentropy').
 *
 * Activations run in the core Dense (ts/dense.ts, fused after the GEMM, with its backward), on
 * any layer. Losses are the core's Keras losses (ts/losses.ts) on the model's output, which is
 * the last layer's activation output: after a 'softmax' or 'sigmoid' layer the cross-entropy is
 * computed from the probabilities, clipped to [1e-7, 1 - 1e-7] as Keras defines it (and as its
 * JAX and PyTorch backends compute it; Keras's TensorFlow backend instead takes the logits behind
 * a softmax or sigmoid output when it can find them). The numbers are Keras's; for the stable
 * form, end with activation 'linear' and give the loss { name, fromLogits: true }. Metrics are
 * the core's (ts/metrics.ts), 'accuracy' chosen from the shapes as Keras 3 chooses it.
 *
 * Over 400 lines: every name table of the model API in one place, by design.
 */
import type { ActivationName } from '../activations.js';
import type { Backend } from '../backends/backend.js';
import { GruError } from '../errors.js';
import {
  parseMetricOptions,
  type Metric,
  type MetricName,
  type MetricOptions,
} from '../metrics.js';
import * as check from '../validate.js';
import {
  accuracyFor,
  categoricalLoss,
  elementLoss,
  makeMetric,
  sparseLoss,
  type Loss,
  type LossKernel,
} from './objectives.js';
import {
  COMMON_KEYS,
  KERAS_SPECS,
  parseKerasOptimizer,
  type KerasSpec,
  type MakeOptimizer,
} from './optimizers.js';
import type { DType } from './tensor.js';

export type { Loss } from './objectives.js';

/** Normalizes a name: 'binary_crossentropy', 'binaryCrossentropy' -> 'binarycrossentropy'. */
const key = (name: string): string => name.replace(/_/g, '').toLowerCase();

interface Pending {
  /** What is missing, for the error message. */
  pending: string;
}

/** Looks `name` up in `table` (and its aliases); a GruError naming what is supported otherwise. */
function lookup<E extends object>(
  what: string,
  table: Record<string, E | Pending>,
  aliases: Record<string, string>,
  name: unknown,
): { name: string; entry: E } {
  const supported = Object.keys(table).filter((n) => !('pending' in table[n]!));
  const list = supported.map((n) => `'${n}'`).join(', ') || 'none yet';
  if (typeof name !== 'string') {
    throw new GruError(
      'ERR_GRU_ARG',
      `${what} must be a name (supported: ${list}), got ${check.describe(name)}`,
    );
  }
  const canonical = Object.keys(table).find((n) => key(n) === key(aliases[key(name)] ?? name));
  if (canonical === undefined) {
    throw new GruError(
      'ERR_GRU_ARG',
      `unknown ${what} '${name}'; supported: ${list} (not yet: ${Object.keys(table)
        .filter((n) => !supported.includes(n))
        .map((n) => `'${n}'`)
        .join(', ')})`,
    );
  }
  const entry = table[canonical]!;
  if ('pending' in entry) {
    throw new GruError(
      'ERR_GRU_ARG',
      `${what} '${name}' is not available yet: ${entry.pending}; supported now: ${list}`,
    );
  }
  return { name: canonical, entry };
}

// ---------------------------------------------------------------------------------------------
// Activations of Dense

const NO_CORE_ACT = 'the core has no such activation (ts/activations.ts lists those it has)';

/** Keras 3's and tfjs's activation names -> the core Dense's. */
const ACTIVATIONS: Record<string, { core: ActivationName } | Pending> = {
  linear: { core: 'linear' },
  relu: { core: 'relu' },
  sigmoid: { core: 'sigmoid' },
  tanh: { core: 'tanh' },
  softmax: { core: 'softmax' },
  // Keras 3's gelu (approximate=False) and tfjs's 'gelu' are the exact form.
  gelu: { core: 'gelu' },
  geluTanh: { core: 'geluTanh' },
  elu: { core: 'elu' },
  selu: { core: 'selu' },
  softplus: { core: 'softplus' },
  // The name means Keras 3's, relu6(x + 3) / 6; tfjs's and Keras 2's clip(0.2 x + 0.5, 0, 1)
  // is 'hardSigmoidKeras2' (models saved by Keras 2 need it).
  hardSigmoid: { core: 'hardSigmoid' },
  hardSigmoidKeras2: { core: 'hardSigmoidKeras2' },
  ...Object.fromEntries(
    [
      'relu6',
      'leakyRelu',
      'softsign',
      'swish',
      'mish',
      'celu',
      'exponential',
      'logSoftmax',
      'logSigmoid',
      'hardSilu',
      'hardTanh',
    ].map((n) => [n, { pending: NO_CORE_ACT }]),
  ),
};
/** tfjs's 'gelu_new' is the tanh approximation; Keras's silu = swish, hard_swish = hard_silu. */
const ACTIVATION_ALIASES: Record<string, string> = {
  gelunew: 'geluTanh',
  silu: 'swish',
  hardswish: 'hardSilu',
};

/** The core Dense activation of a Keras / tfjs name (undefined or null: 'linear', as Keras). */
export function resolveActivation(name: unknown): ActivationName {
  return lookup('activation', ACTIVATIONS, ACTIVATION_ALIASES, name ?? 'linear').entry.core;
}

/**
 * A GRU's activation option (`option`: 'activation' or 'recurrentActivation') by a Keras / tfjs
 * name, one of `offered` (the core GRU's: ts/gru.ts); undefined gives `fallback`, Keras 3's
 * default. A name the core has for Dense but not in a GRU is a GruError naming both lists.
 */
export function resolveGruActivation<T extends ActivationName>(
  what: string,
  option: string,
  name: unknown,
  offered: readonly T[],
  fallback: T,
): T {
  if (name === undefined) return fallback;
  const core = lookup(`${what}: ${option}`, ACTIVATIONS, ACTIVATION_ALIASES, name).entry.core;
  if ((offered as readonly string[]).includes(core)) return core as T;
  throw new GruError(
    'ERR_GRU_ARG',
    `${what}: ${option} '${String(name)}' is not one a GRU offers; supported: ${offered.map((n) => `'${n}'`).join(', ')}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Losses

/** Parsed loss options (those an entry does not list keep their default). */
interface LossOptions {
  fromLogits: boolean;
  delta: number;
}

interface LossEntry {
  /** Options it takes besides name. */
  keys: readonly (keyof LossOptions)[];
  make(o: LossOptions): LossKernel;
}

const NO_CORE_LOSS = 'the core has no such loss (ts/losses.ts lists those it has)';

const LOSSES: Record<string, LossEntry | Pending> = {
  categoricalCrossentropy: { keys: ['fromLogits'], make: (o) => categoricalLoss(o.fromLogits) },
  sparseCategoricalCrossentropy: { keys: ['fromLogits'], make: (o) => sparseLoss(o.fromLogits) },
  binaryCrossentropy: {
    keys: ['fromLogits'],
    make: (o) => elementLoss(o.fromLogits ? 'binaryCrossentropyFromLogits' : 'binaryCrossentropy'),
  },
  meanSquaredError: { keys: [], make: () => elementLoss('meanSquaredError') },
  meanAbsoluteError: { keys: [], make: () => elementLoss('meanAbsoluteError') },
  huber: { keys: ['delta'], make: (o) => elementLoss('huber', o.delta) },
  ...Object.fromEntries(
    [
      'kullbackLeiblerDivergence',
      'poisson',
      'logCosh',
      'meanAbsolutePercentageError',
      'meanSquaredLogarithmicError',
      'hinge',
      'squaredHinge',
      'categoricalHinge',
      'cosineSimilarity',
    ].map((n) => [n, { pending: NO_CORE_LOSS }]),
  ),
};
/** Keras's short names (keras/src/losses/__init__.py). */
const LOSS_ALIASES: Record<string, string> = {
  mse: 'meanSquaredError',
  mae: 'meanAbsoluteError',
  bce: 'binaryCrossentropy',
  mape: 'meanAbsolutePercentageError',
  msle: 'meanSquaredLogarithmicError',
  kld: 'kullbackLeiblerDivergence',
  kldivergence: 'kullbackLeiblerDivergence',
};
/** Keras loss options the core losses do not have: refused unless at their default. */
const LOSS_PENDING: Record<string, { allowed: unknown; why: string }> = {
  labelSmoothing: { allowed: 0, why: 'the core losses have no label smoothing' },
  reduction: {
    allowed: 'sum_over_batch_size',
    why: "the core losses reduce as Keras's default, 'sum_over_batch_size'",
  },
  ignoreClass: { allowed: null, why: 'the core sparse cross-entropy has no ignored class' },
  axis: { allowed: -1, why: 'the core losses reduce over the last axis' },
};

export type LossConfig =
  string | { name: string; fromLogits?: boolean; delta?: number; [option: string]: unknown };

/** compile()'s loss: a name, or { name, fromLogits } (the cross-entropies), { name, delta } (huber). */
export function resolveLoss(config: unknown): Loss {
  const c = typeof config === 'string' ? { name: config } : check.options('loss', config);
  const { name, entry } = lookup('loss', LOSSES, LOSS_ALIASES, c.name);
  for (const [k, { allowed, why }] of Object.entries(LOSS_PENDING)) {
    if (c[k] !== undefined && c[k] !== allowed) {
      throw new GruError(
        'ERR_GRU_ARG',
        `loss option ${k} ${check.describe(c[k])} is not available: ${why}`,
      );
    }
  }
  check.knownKeys(`loss '${name}'`, c, ['name', ...entry.keys, ...Object.keys(LOSS_PENDING)]);
  const fromLogits = check.boolean('loss.fromLogits', c.fromLogits, false);
  const delta =
    c.delta === undefined
      ? 1
      : check.finiteNumber('loss.delta', c.delta, { min: 0, minOpen: true, max: check.FLT_MAX });
  return { name, ...entry.make({ fromLogits, delta }) };
}

// ---------------------------------------------------------------------------------------------
// Metrics

const METRICS: Record<string, { core: MetricName | 'accuracy' } | Pending> = {
  // Binary, sparse categorical or categorical, from the shapes of y and the output, as Keras 3.
  accuracy: { core: 'accuracy' },
  binaryAccuracy: { core: 'binaryAccuracy' },
  categoricalAccuracy: { core: 'categoricalAccuracy' },
  sparseCategoricalAccuracy: { core: 'sparseCategoricalAccuracy' },
  meanSquaredError: { core: 'meanSquaredError' },
  meanAbsoluteError: { core: 'meanAbsoluteError' },
  precision: { core: 'precision' },
  recall: { core: 'recall' },
  auc: { core: 'auc' },
};
const METRIC_ALIASES: Record<string, string> = {
  acc: 'accuracy',
  mse: 'meanSquaredError',
  mae: 'meanAbsoluteError',
};

/** A compiled metric: its name in logs (as given, as Keras and tfjs name it) and its maker. */
export interface ModelMetric {
  name: string;
  /** Whether it improves going up (accuracies, precision, recall, auc) or down (mae, mse). */
  direction: 'min' | 'max';
  /** A fresh core Metric for outputs and targets of these per-sample shapes (y's dtype). */
  make(backend: Backend, output: readonly number[], y: readonly number[], targets: DType): Metric;
}

/**
 * A metric with options, as Keras's metric objects (keras.metrics.AUC(curve='PR',
 * name='pr_auc')): `metric` is the metric's name, `name` its name in logs and History (default:
 * `metric`), the rest its options (ts/metrics.ts's MetricOptions: threshold, numThresholds,
 * curve, summationMethod, fromLogits). metrics.auc({ ... }) makes one.
 */
export interface MetricConfig extends Pick<
  MetricOptions,
  'threshold' | 'numThresholds' | 'curve' | 'summationMethod' | 'fromLogits' | 'multiLabel'
> {
  metric: string;
  name?: string;
}

/** One compile() metric: a name, or a MetricConfig. */
function metricEntry(given: unknown): {
  name: string;
  core: MetricName | 'accuracy';
  options: Record<string, unknown>;
} {
  if (typeof given === 'string') {
    const { entry } = lookup('metric', METRICS, METRIC_ALIASES, given);
    return { name: given, core: entry.core, options: {} };
  }
  if (typeof given !== 'object' || given === null || check.isArray(given)) {
    throw new GruError(
      'ERR_GRU_ARG',
      `a metric must be a name ('accuracy', 'auc', ...) or { metric, name?, ...options } (metrics.auc({ ... })), got ${check.describe(given)}`,
    );
  }
  const { metric, name, ...options } = check.options('metric', given);
  const { entry } = lookup('metric', METRICS, METRIC_ALIASES, metric);
  if (name !== undefined && (typeof name !== 'string' || name === '')) {
    throw new GruError(
      'ERR_GRU_ARG',
      `a metric's name must be a non-empty string, got ${check.describe(name)}`,
    );
  }
  if (entry.core === 'accuracy' && Object.keys(options).length > 0) {
    throw new GruError(
      'ERR_GRU_ARG',
      `metric 'accuracy' takes no options (its kind comes from the shapes): name the kind ('binaryAccuracy', ...) to give options`,
    );
  }
  if (entry.core !== 'accuracy') parseMetricOptions(entry.core, options, false);
  return { name: (name as string | undefined) ?? (metric as string), core: entry.core, options };
}

/**
 * compile()'s metrics: names (Keras's or tfjs's) or MetricConfigs (options checked now), each
 * name at most once.
 */
export function resolveMetrics(value: unknown): ModelMetric[] {
  if (value === undefined || value === null) return [];
  const given: unknown[] = check.isArray(value) ? value : [value];
  const seen = new Set<string>();
  return given.map((g) => {
    const { name, core, options } = metricEntry(g);
    if (seen.has(name))
      throw new GruError('ERR_GRU_ARG', `metric '${name}' is given twice in compile()`);
    seen.add(name);
    return {
      name,
      direction: core === 'meanAbsoluteError' || core === 'meanSquaredError' ? 'min' : 'max',
      make: (backend, output, y, targets) =>
        makeMetric(
          name,
          core === 'accuracy' ? accuracyFor(output, y) : core,
          backend,
          output,
          y,
          targets,
          options,
        ),
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Optimizers

/**
 * Keras's optimizers (ts/models/optimizers.ts: option names, defaults, formulas, clipping and
 * schedules) by name. Keras's weight averaging (useEma) has no core counterpart yet.
 */
const OPTIMIZER_PENDING: Record<string, string> = {
  useEma: 'the core has no weight averaging',
  emaMomentum: 'the core has no weight averaging',
  emaOverwriteFrequency: 'the core has no weight averaging',
  lossScaleFactor: 'the core trains in float32 only',
  gradientAccumulationSteps: 'the core steps on every batch',
};

/** Keras's optimizers with no core counterpart yet. */
const NO_CORE = (what: string): Pending => ({ pending: `the core has no ${what} yet` });
const OPTIMIZERS: Record<string, KerasSpec | Pending> = {
  ...KERAS_SPECS,
  adadelta: NO_CORE('Adadelta'),
  adamax: NO_CORE('Adamax'),
  nadam: NO_CORE('Nadam'),
  ftrl: NO_CORE('FTRL'),
  lion: NO_CORE('Lion'),
  lamb: NO_CORE('LAMB'),
  adafactor: NO_CORE('Adafactor'),
};

export type OptimizerConfig = string | ({ name: string } & Record<string, unknown>);

/** compile()'s optimizer, checked now: create() makes it once the model's layers exist. */
export function resolveOptimizer(config: unknown): { name: string; create: MakeOptimizer } {
  const c = typeof config === 'string' ? { name: config } : check.options('optimizer', config);
  const { name: _name, ...o } = c;
  const { name, entry } = lookup('optimizer', OPTIMIZERS, {}, c.name);
  for (const k of Object.keys(o)) {
    const why = OPTIMIZER_PENDING[k];
    if (why !== undefined && o[k] !== undefined)
      throw new GruError('ERR_GRU_ARG', `optimizer option ${k} is not available yet: ${why}`);
  }
  check.knownKeys(`optimizer '${name}'`, o, [...COMMON_KEYS, ...entry.keys]);
  return { name, create: parseKerasOptimizer(name, o) };
}
