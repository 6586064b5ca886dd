/**
 * Every name the model API resolves, in one place: Dense activations, losses, metrics and
 * optimizers. An entry says what it calls in the core, or why it is not available yet (the core
 * piece it waits for); nothing else in ts/models/ interprets these names. Names match in Keras's
 * snake_case or tfjs's camelCase ('binary_crossentropy' = 'binaryCrossentropy').
 *
 * Core activations on Dense, core losses (categorical / sparse categorical / binary
 * cross-entropy on probabilities, mae, huber) and core metrics are being added; when they land,
 * their entries here change from pending to a core call, and nothing else needs to.
 */
import type { Backend } from '../backends/backend.js';
import { GruError } from '../errors.js';
import type { Layer } from '../layer.js';
import { Adam, AdamW, SGD, type Optimizer } from '../optim.js';
import * as check from '../validate.js';
import type { DType } from './tensor.js';

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

export interface Activation {
  /** Applies the activation to the layer's raw output for predict, in the core; null: identity. */
  apply: ((backend: Backend, x: Float32Array) => Float32Array) | null;
  /**
   * Training has no core backward of this activation alone: it is allowed only on the last
   * layer, fused into one of these losses (with fromLogits false), which then read the raw
   * output. Absent: usable anywhere (linear).
   */
  fusedInto?: readonly string[];
}

const CORE_DENSE = 'it needs the core Dense activation option (being added to the core)';

const ACTIVATIONS: Record<string, Activation | Pending> = {
  linear: { apply: null },
  sigmoid: {
    apply: (backend, x) => {
      const y = new Float32Array(x.length);
      backend.evalSigmoid(x, y);
      return y;
    },
    fusedInto: ['binaryCrossentropy'],
  },
  // The loss could be fused (softmaxCrossEntropy reads logits), but predict would need a core
  // softmax, and there is none yet.
  softmax: {
    pending:
      "predict needs a core softmax, and the core has none yet (the core Dense activation option being added brings it); meanwhile use activation 'linear' with loss { name: 'sparseCategoricalCrossentropy', fromLogits: true }",
  },
  relu: { pending: CORE_DENSE },
  tanh: { pending: CORE_DENSE },
  gelu: { pending: CORE_DENSE },
  elu: { pending: CORE_DENSE },
  selu: { pending: CORE_DENSE },
  softplus: { pending: CORE_DENSE },
};

export function resolveActivation(name: unknown): { name: string; activation: Activation } {
  const { name: n, entry } = lookup('activation', ACTIVATIONS, {}, name ?? 'linear');
  return { name: n, activation: entry };
}

// ---------------------------------------------------------------------------------------------
// Losses

/** A loss ready to run on the last layer's raw (pre-activation) output. */
export interface Loss {
  name: string;
  /** The dtype of y: int32 class ids or float32 values. */
  targets: DType;
  /** Throws unless y's per-sample shape fits the model's per-sample output shape. */
  checkTargets(output: readonly number[], y: readonly number[]): void;
  /** The mean loss of a batch; d loss / d output into grad unless null. */
  compute(
    backend: Backend,
    out: Float32Array,
    outShape: readonly number[],
    y: Float32Array | Int32Array,
    grad: Float32Array | null,
  ): number;
}

type Kernel = Omit<Loss, 'name'>;

function mismatch(what: string, output: readonly number[], y: readonly number[]): GruError {
  return new GruError(
    'ERR_GRU_SHAPE',
    `y must hold ${what} for an output of shape (None, ${output.join(', ')}), got y of shape (None, ${y.join(', ')})`,
  );
}

/** The core losses, each a mean over elements (over rows for the cross-entropy), as Keras's. */
const KERNELS = {
  softmaxCrossEntropy: {
    targets: 'int32',
    checkTargets(output, y) {
      const rows = output.slice(0, -1);
      const ok = (s: readonly number[]) =>
        s.length === rows.length && s.every((d, i) => d === rows[i]);
      if (!ok(y) && !(y[y.length - 1] === 1 && ok(y.slice(0, -1))))
        throw mismatch('one class id per row', output, y);
    },
    compute: (backend, out, shape, y, grad) => {
      const classes = shape[shape.length - 1]!;
      return backend.lossSoftmaxCrossEntropy(
        out,
        out.length / classes,
        classes,
        y as Int32Array,
        grad,
      );
    },
  },
  bceWithLogits: {
    targets: 'float32',
    checkTargets(output, y) {
      if (output.reduce((a, b) => a * b, 1) !== y.reduce((a, b) => a * b, 1))
        throw mismatch('one value per output', output, y);
    },
    compute: (backend, out, _shape, y, grad) =>
      backend.lossBceWithLogits(out, y as Float32Array, grad),
  },
  mse: {
    targets: 'float32',
    checkTargets: (output, y) => KERNELS.bceWithLogits.checkTargets(output, y),
    compute: (backend, out, _shape, y, grad) => backend.lossMse(out, y as Float32Array, grad),
  },
} satisfies Record<string, Kernel>;

interface LossEntry {
  /** The core kernel for this loss after the last layer's activation, or why there is none. */
  plan(fromLogits: boolean, activation: string): Kernel | string;
}

const CORE_LOSSES = 'it needs a core loss (being added to the core)';

const LOSSES: Record<string, LossEntry | Pending> = {
  sparseCategoricalCrossentropy: {
    plan: (fromLogits, activation) =>
      activation === 'linear' && fromLogits
        ? KERNELS.softmaxCrossEntropy
        : activation === 'linear'
          ? `on probabilities ${CORE_LOSSES}; give the last layer activation 'linear' and the loss { name: 'sparseCategoricalCrossentropy', fromLogits: true }`
          : `after activation '${activation}' it is not available yet (use activation 'linear' and fromLogits: true)`,
  },
  binaryCrossentropy: {
    plan: (fromLogits, activation) =>
      activation === 'linear' && fromLogits
        ? KERNELS.bceWithLogits
        : activation === 'sigmoid' && !fromLogits
          ? KERNELS.bceWithLogits // fused: the core's stable BCE on the sigmoid's input
          : activation === 'linear'
            ? `on probabilities from a linear layer ${CORE_LOSSES}; use activation 'sigmoid' on the last layer, or fromLogits: true`
            : `after activation '${activation}' with fromLogits ${fromLogits} it is not available`,
  },
  meanSquaredError: {
    plan: (_fromLogits, activation) =>
      activation === 'linear'
        ? KERNELS.mse
        : `after activation '${activation}' it needs the core Dense activation option (being added to the core); only 'linear' precedes it today`,
  },
  categoricalCrossentropy: { pending: `one-hot targets ${CORE_LOSSES}` },
  meanAbsoluteError: { pending: CORE_LOSSES },
  huber: { pending: CORE_LOSSES },
};
const LOSS_ALIASES: Record<string, string> = { mse: 'meanSquaredError', mae: 'meanAbsoluteError' };

export type LossConfig = string | { name: string; fromLogits?: boolean };

/** The loss of compile() for a model whose last layer has `activation`. */
export function resolveLoss(config: unknown, activation: string): Loss {
  const c = typeof config === 'string' ? { name: config } : check.options('loss', config);
  if (typeof config !== 'string') check.knownKeys('loss', c, ['name', 'fromLogits']);
  const { name, entry } = lookup('loss', LOSSES, LOSS_ALIASES, c.name);
  const fromLogits = check.boolean('loss.fromLogits', c.fromLogits, false);
  const plan = entry.plan(fromLogits, activation);
  if (typeof plan === 'string')
    throw new GruError('ERR_GRU_ARG', `loss '${name}' (fromLogits: ${fromLogits}): ${plan}`);
  return { name, ...plan };
}

// ---------------------------------------------------------------------------------------------
// Metrics

const CORE_METRICS = 'metrics are computed in the core, and core metrics are being added';
const METRICS: Record<string, Pending> = Object.fromEntries(
  [
    'accuracy',
    'binaryAccuracy',
    'categoricalAccuracy',
    'sparseCategoricalAccuracy',
    'precision',
    'recall',
    'auc',
    'meanSquaredError',
    'meanAbsoluteError',
  ].map((n) => [n, { pending: CORE_METRICS }]),
);

/** compile()'s metrics: none is available yet, so any name is refused (and an unknown one named). */
export function resolveMetrics(value: unknown): string[] {
  if (value === undefined) return [];
  const names = check.isArray(value) ? value : [value];
  for (const n of names) lookup('metric', METRICS, { ...LOSS_ALIASES, acc: 'accuracy' }, n);
  return [];
}

// ---------------------------------------------------------------------------------------------
// Optimizers

/**
 * Keras's option names and defaults, mapped onto the core's optimizers. The core's Adam is
 * PyTorch's: eps is added to sqrt(v / (1 - beta2^t)). Keras folds the bias correction into the
 * learning rate and adds eps to sqrt(v): the two differ only while sqrt(v) is within a few eps,
 * and Keras's formula is not reproduced exactly yet. SGD with momentum is the same update in
 * both (Keras's velocity is -lr times PyTorch's buffer). Keras's weightDecay is decoupled (as
 * PyTorch's AdamW), so Adam with weightDecay runs as the core's AdamW.
 */
interface OptimizerEntry {
  keys: readonly string[];
  /** Checks the options now; the optimizer is made once the model's layers exist. */
  parse(o: Record<string, unknown>): (layers: Layer[]) => Optimizer;
}

const num = (o: Record<string, unknown>, k: string, d: number, min = 0): number =>
  o[k] === undefined ? d : check.finiteNumber(k, o[k], { min });

function adamLike(defaultDecay: number): OptimizerEntry {
  return {
    keys: ['learningRate', 'beta1', 'beta2', 'epsilon', 'amsgrad', 'weightDecay'],
    parse(o) {
      const options = {
        lr: num(o, 'learningRate', 1e-3),
        betas: [num(o, 'beta1', 0.9), num(o, 'beta2', 0.999)] as [number, number],
        eps: num(o, 'epsilon', 1e-7),
        amsgrad: check.boolean('amsgrad', o.amsgrad, false),
        weightDecay: num(o, 'weightDecay', defaultDecay),
      };
      return (layers) =>
        options.weightDecay > 0 ? new AdamW(layers, options) : new Adam(layers, options);
    },
  };
}

const OPTIMIZERS: Record<string, OptimizerEntry | Pending> = {
  adam: adamLike(0),
  adamw: adamLike(0.004),
  sgd: {
    keys: ['learningRate', 'momentum', 'nesterov'],
    parse(o) {
      const options = {
        lr: num(o, 'learningRate', 0.01),
        momentum: num(o, 'momentum', 0),
        nesterov: check.boolean('nesterov', o.nesterov, false),
      };
      return (layers) => new SGD(layers, options);
    },
  },
  rmsprop: { pending: 'it needs a core RMSprop (not in the core yet)' },
  adagrad: { pending: 'it needs a core Adagrad (not in the core yet)' },
};

/** Keras options with no core counterpart yet, and why. */
const OPTIMIZER_PENDING: Record<string, string> = {
  clipnorm: 'clipping from compile() is not wired yet',
  clipvalue: 'clipping from compile() is not wired yet',
  globalClipnorm: 'clipping from compile() is not wired yet',
  useEma: 'the core has no weight averaging',
};
const SGD_DECAY =
  "Keras's SGD weightDecay is decoupled, and the core's SGD has only PyTorch's L2 form";

export type OptimizerConfig = string | ({ name: string } & Record<string, unknown>);

/** compile()'s optimizer, checked now: create() makes it once the model's layers exist. */
export function resolveOptimizer(config: unknown): {
  name: string;
  create: (layers: Layer[]) => Optimizer;
} {
  const c = typeof config === 'string' ? { name: config } : check.options('optimizer', config);
  const { name: _name, ...o } = c;
  const { name, entry } = lookup('optimizer', OPTIMIZERS, {}, c.name);
  for (const k of Object.keys(o)) {
    const why = OPTIMIZER_PENDING[k] ?? (name === 'sgd' && k === 'weightDecay' ? SGD_DECAY : null);
    if (why !== null)
      throw new GruError('ERR_GRU_ARG', `optimizer option ${k} is not available yet: ${why}`);
  }
  check.knownKeys(`optimizer '${name}'`, o, entry.keys);
  return { name, create: entry.parse(o) };
}
