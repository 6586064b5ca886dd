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
  check.knownKeys('softmaxCrossEntropy options', o, ['classes', 'backend']);
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
    throw new GruError('ERR_GRU_SHAPE', `targets must have one class per row of logits (${rows}), got ${t.length}`);
  }
  const grad = new Float32Array(x.length);
  const loss = backendOf(o).lossSoftmaxCrossEntropy(x, rows, classes, t, grad);
  return { loss, grad };
}

function elementwise(
  what: string,
  input: Float32Array,
  targets: Float32Array,
  options: LossOptions | undefined,
): [Float32Array, Float32Array, Backend] {
  const o = check.options(`${what} options`, options);
  check.knownKeys(`${what} options`, o, ['backend']);
  const name = what === 'mse' ? 'pred' : 'logits';
  const x = check.float32Array(name, input);
  if (x.length === 0) throw new GruError('ERR_GRU_SHAPE', `${name} must not be empty`);
  const t = check.float32ArrayOfLength('targets', targets, x.length, `the length of ${name}`);
  return [x, t, backendOf(o)];
}

/** Binary cross-entropy on logits (numerically stable), targets in [0, 1], same length. */
export function bceWithLogits(logits: Float32Array, targets: Float32Array, options?: LossOptions): LossResult {
  const [x, t, backend] = elementwise('bceWithLogits', logits, targets, options);
  const grad = new Float32Array(x.length);
  return { loss: backend.lossBceWithLogits(x, t, grad), grad };
}

/** Mean squared error, mean((pred - targets)^2). */
export function mse(pred: Float32Array, targets: Float32Array, options?: LossOptions): LossResult {
  const [x, t, backend] = elementwise('mse', pred, targets, options);
  const grad = new Float32Array(x.length);
  return { loss: backend.lossMse(x, t, grad), grad };
}
