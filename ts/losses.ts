/**
 * Loss functions computed by a backend, each returning the loss and d loss / d input:
 * softmaxCrossEntropy, bceWithLogits and mse with PyTorch's semantics (the mean over elements,
 * or rows not ignored; arguments (input, targets)), and Keras 3's losses with sample weights
 * (categoricalCrossentropy, sparseCategoricalCrossentropy, binaryCrossentropy,
 * meanSquaredError, meanAbsoluteError, huber; arguments (yTrue, yPred) as Keras and tfjs).
 */
import {
  GRU_LOSS_BINARY_CE,
  GRU_LOSS_BINARY_CE_LOGITS,
  GRU_LOSS_CATEGORICAL_CE,
  GRU_LOSS_CATEGORICAL_CE_LOGITS,
  GRU_LOSS_HUBER,
  GRU_LOSS_MAE,
  GRU_LOSS_MSE,
} from './backends/abi.generated.js';
import type { Backend } from './backends/backend.js';
import { GruError } from './errors.js';
import { currentBackend } from './loader.js';
import * as check from './validate.js';

export interface LossResult {
  loss: number;
  /** d loss / d input, same layout as the input. */
  grad: Float32Array;
}

export interface LossOptions {
  /** Backend that computes the loss; default: the one chosen by init(). */
  backend?: Backend;
  /**
   * Where to write d loss / d input (the input's length) instead of a new array; the result's
   * `grad` is this array. For training loops; must not overlap the input or the targets.
   */
  grad?: Float32Array;
}

/** options.grad checked (length, no overlap with the inputs), or a new array. */
function gradBuffer(
  o: Record<string, unknown>,
  inputName: string,
  input: Float32Array,
  targets: ArrayBufferView,
): Float32Array {
  if (o.grad === undefined) return new Float32Array(input.length);
  const grad = check.float32ArrayOfLength(
    'grad',
    o.grad,
    input.length,
    `the length of ${inputName}`,
  );
  check.disjoint('grad', grad, inputName, input);
  check.disjoint('grad', grad, 'targets', targets);
  return grad;
}

export interface SoftmaxCrossEntropyOptions extends LossOptions {
  /** Classes per row of logits. */
  classes: number;
}

function backendOf(o: Record<string, unknown>): Backend {
  return check.backendOption(o.backend, currentBackend);
}

/**
 * logits [rows, classes], targets [rows] class indices in [0, classes) or -1 (row ignored,
 * as PyTorch's ignore_index). The loss is the mean over the rows not ignored.
 */
export function softmaxCrossEntropy(
  logits: Float32Array,
  targets: Int32Array | readonly number[],
  options: SoftmaxCrossEntropyOptions,
): LossResult {
  const o = check.options('softmaxCrossEntropy options', options);
  check.knownKeys('softmaxCrossEntropy options', o, ['classes', 'backend', 'grad']);
  const classes = check.positiveInt('classes', o.classes);
  const x = check.float32Array('logits', logits);
  if (x.length === 0 || x.length % classes !== 0) {
    throw new GruError(
      'ERR_GRU_SHAPE',
      `logits must hold rows x classes (${classes}) floats, a positive multiple of ${classes}, got ${x.length}`,
    );
  }
  const rows = x.length / classes;
  const t = check.int32Indices('targets', targets, 0, classes, -1);
  if (t.length !== rows) {
    throw new GruError(
      'ERR_GRU_SHAPE',
      `targets must have one class per row of logits (${rows}), got ${t.length}`,
    );
  }
  const grad = gradBuffer(o, 'logits', x, t);
  const loss = backendOf(o).lossSoftmaxCrossEntropy(x, rows, classes, t, grad);
  return { loss, grad };
}

function elementwise(
  what: string,
  input: Float32Array,
  targets: Float32Array,
  options: LossOptions | undefined,
): [Float32Array, Float32Array, Backend, Float32Array] {
  const o = check.options(`${what} options`, options);
  check.knownKeys(`${what} options`, o, ['backend', 'grad']);
  const name = what === 'mse' ? 'pred' : 'logits';
  const x = check.float32Array(name, input);
  if (x.length === 0) throw new GruError('ERR_GRU_SHAPE', `${name} must not be empty`);
  const t = check.float32ArrayOfLength('targets', targets, x.length, `the length of ${name}`);
  return [x, t, backendOf(o), gradBuffer(o, name, x, t)];
}

/** Binary cross-entropy on logits (numerically stable), targets in [0, 1], same length. */
export function bceWithLogits(
  logits: Float32Array,
  targets: Float32Array,
  options?: LossOptions,
): LossResult {
  const [x, t, backend, grad] = elementwise('bceWithLogits', logits, targets, options);
  return { loss: backend.lossBceWithLogits(x, t, grad), grad };
}

/** Mean squared error, mean((pred - targets)^2). */
export function mse(pred: Float32Array, targets: Float32Array, options?: LossOptions): LossResult {
  const [x, t, backend, grad] = elementwise('mse', pred, targets, options);
  return { loss: backend.lossMse(x, t, grad), grad };
}

/* ---- Keras 3's losses ----------------------------------------------------------------------
 * Argument order and semantics as Keras and tfjs: (yTrue, yPred), the loss reduced
 * 'sum_over_batch_size' = sum_r w_r l_r / rows, where l_r is a row's loss (categorical: over
 * its classes; the others: the mean over its elements) and w_r its sample weight. `grad` is
 * d loss / d yPred. Formulas and the gradients' details: native/include/gru_simd.h (gru_loss).
 */

export interface KerasLossOptions extends LossOptions {
  /**
   * Keras's sample_weight: one finite weight >= 0 per sample. Its length W must divide the rows
   * (the elements, for the element-wise losses); entry i weighs the i-th block of rows / W rows,
   * as Keras broadcasts weights [batch] over a sequence [batch, T, ...]. Default: all 1.
   */
  sampleWeight?: Float32Array | null;
}

export interface CategoricalLossOptions extends KerasLossOptions {
  /** Classes per row of yPred. */
  classes: number;
  /** yPred holds logits rather than probabilities (default false). */
  fromLogits?: boolean;
}

export interface BinaryLossOptions extends KerasLossOptions {
  /** yPred holds logits rather than probabilities (default false). */
  fromLogits?: boolean;
}

export interface HuberOptions extends KerasLossOptions {
  /** Where the loss turns from quadratic to linear (default 1). */
  delta?: number;
}

const KERAS_KEYS = ['sampleWeight', 'grad', 'backend'] as const;

interface Prepared {
  pred: Float32Array;
  weight: Float32Array | null;
  grad: Float32Array;
  backend: Backend;
  o: Record<string, unknown>;
}

/**
 * yPred (rows x classes floats; classes 0 for the element-wise losses), sampleWeight (W
 * dividing the rows, or the elements), the grad buffer and the backend, validated.
 */
function prepare(
  what: string,
  yPred: Float32Array,
  options: unknown,
  extraKeys: readonly string[],
  classes = 0,
): Prepared {
  const o = check.options(`${what} options`, options);
  check.knownKeys(`${what} options`, o, [...KERAS_KEYS, ...extraKeys]);
  const pred = check.float32Array('yPred', yPred);
  if (pred.length === 0) throw new GruError('ERR_GRU_SHAPE', 'yPred must not be empty');
  if (classes > 0 && pred.length % classes !== 0) {
    throw new GruError(
      'ERR_GRU_SHAPE',
      `yPred must hold rows x classes (${classes}) floats, a multiple of ${classes}, got ${pred.length}`,
    );
  }
  let weight: Float32Array | null = null;
  if (o.sampleWeight !== undefined && o.sampleWeight !== null) {
    weight = check.float32Array('sampleWeight', o.sampleWeight);
    const units = classes > 0 ? pred.length / classes : pred.length;
    if (weight.length === 0 || units % weight.length !== 0) {
      throw new GruError(
        'ERR_GRU_SHAPE',
        `sampleWeight must have a number of entries that divides the ${units} ${classes > 0 ? 'rows' : 'elements'} of yPred (one per sample), got ${weight.length}`,
      );
    }
  }
  const grad = gradBuffer(o, 'yPred', pred, pred);
  if (weight) check.disjoint('grad', grad, 'sampleWeight', weight);
  return { pred, weight, grad, backend: backendOf(o), o };
}

function categoricalKind(o: Record<string, unknown>): number {
  return check.boolean('fromLogits', o.fromLogits, false)
    ? GRU_LOSS_CATEGORICAL_CE_LOGITS
    : GRU_LOSS_CATEGORICAL_CE;
}

/** Keras's categorical_crossentropy: yTrue [rows, classes] (one-hot or soft), yPred the same. */
export function categoricalCrossentropy(
  yTrue: Float32Array,
  yPred: Float32Array,
  options: CategoricalLossOptions,
): LossResult {
  const o0 = check.options('categoricalCrossentropy options', options);
  const classes = check.positiveInt('classes', o0.classes);
  const p = prepare('categoricalCrossentropy', yPred, options, ['classes', 'fromLogits'], classes);
  const t = check.float32ArrayOfLength('yTrue', yTrue, p.pred.length, 'the length of yPred');
  check.disjoint('grad', p.grad, 'yTrue', t);
  const loss = p.backend.loss(categoricalKind(p.o), classes, 1, p.pred, t, p.weight, p.grad);
  return { loss, grad: p.grad };
}

/** Keras's sparse_categorical_crossentropy: yTrue [rows] class indices, yPred [rows, classes]. */
export function sparseCategoricalCrossentropy(
  yTrue: Int32Array | readonly number[],
  yPred: Float32Array,
  options: CategoricalLossOptions,
): LossResult {
  const o0 = check.options('sparseCategoricalCrossentropy options', options);
  const classes = check.positiveInt('classes', o0.classes);
  const p = prepare(
    'sparseCategoricalCrossentropy',
    yPred,
    options,
    ['classes', 'fromLogits'],
    classes,
  );
  const rows = p.pred.length / classes;
  // An Int32Array goes to the core as it is (the core checks each label: ERR_GRU_RANGE).
  const t =
    check.typedArrayKind(yTrue) === 'Int32Array'
      ? (yTrue as Int32Array)
      : check.int32Indices('yTrue', yTrue, 0, classes);
  if (t.length !== rows) {
    throw new GruError(
      'ERR_GRU_SHAPE',
      `yTrue must have one class index per row of yPred (${rows}), got ${t.length}`,
    );
  }
  const loss = p.backend.lossSparse(categoricalKind(p.o), classes, p.pred, t, p.weight, p.grad);
  return { loss, grad: p.grad };
}

function elementLoss(
  what: string,
  kind: number | ((o: Record<string, unknown>) => number),
  yTrue: Float32Array,
  yPred: Float32Array,
  options: unknown,
  extraKeys: readonly string[],
  delta = 1,
): LossResult {
  const p = prepare(what, yPred, options, extraKeys);
  const t = check.float32ArrayOfLength('yTrue', yTrue, p.pred.length, 'the length of yPred');
  check.disjoint('grad', p.grad, 'yTrue', t);
  const k = typeof kind === 'number' ? kind : kind(p.o);
  const loss = p.backend.loss(k, 1, delta, p.pred, t, p.weight, p.grad);
  return { loss, grad: p.grad };
}

/** Keras's binary_crossentropy (probabilities clipped to [1e-7, 1 - 1e-7], or fromLogits). */
export function binaryCrossentropy(
  yTrue: Float32Array,
  yPred: Float32Array,
  options?: BinaryLossOptions,
): LossResult {
  return elementLoss(
    'binaryCrossentropy',
    (o) =>
      check.boolean('fromLogits', o.fromLogits, false)
        ? GRU_LOSS_BINARY_CE_LOGITS
        : GRU_LOSS_BINARY_CE,
    yTrue,
    yPred,
    options,
    ['fromLogits'],
  );
}

/** Keras's mean_squared_error: mean (yPred - yTrue)^2. */
export function meanSquaredError(
  yTrue: Float32Array,
  yPred: Float32Array,
  options?: KerasLossOptions,
): LossResult {
  return elementLoss('meanSquaredError', GRU_LOSS_MSE, yTrue, yPred, options, []);
}

/** Keras's mean_absolute_error: mean |yPred - yTrue|. */
export function meanAbsoluteError(
  yTrue: Float32Array,
  yPred: Float32Array,
  options?: KerasLossOptions,
): LossResult {
  return elementLoss('meanAbsoluteError', GRU_LOSS_MAE, yTrue, yPred, options, []);
}

/** Keras's huber: e^2 / 2 where |e| <= delta, else delta |e| - delta^2 / 2 (e = yPred - yTrue). */
export function huber(
  yTrue: Float32Array,
  yPred: Float32Array,
  options?: HuberOptions,
): LossResult {
  const o = check.options('huber options', options);
  const delta =
    o.delta === undefined
      ? 1
      : check.finiteNumber('delta', o.delta, { min: 0, minOpen: true, max: check.FLT_MAX });
  return elementLoss('huber', GRU_LOSS_HUBER, yTrue, yPred, options, ['delta'], delta);
}
