/**
 * Loss functions, each the mean over elements (or rows not ignored) with PyTorch's
 * semantics, computed by a backend. Each returns the loss and d loss / d input.
 */
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
