/**
 * What a loss or metric name of names.ts runs: the core's Keras losses and metrics (ts/losses.ts,
 * ts/metrics.ts) on the model's output, with the checks of y against the output's shape. Each
 * loss is the same core call the function of ts/losses.ts makes (the model passes the gradient
 * buffer, or none in evaluate), so its numbers are that function's.
 */
import {
  GRU_LOSS_BINARY_CE,
  GRU_LOSS_BINARY_CE_LOGITS,
  GRU_LOSS_CATEGORICAL_CE,
  GRU_LOSS_CATEGORICAL_CE_LOGITS,
  GRU_LOSS_HUBER,
  GRU_LOSS_MAE,
  GRU_LOSS_MSE,
} from '../backends/abi.generated.js';
import type { Backend } from '../backends/backend.js';
import { GruError } from '../errors.js';
import { Metric, type MetricName } from '../metrics.js';
import { formatShape, sizeOf, type DType } from './tensor.js';

/** A loss ready to run on the model's output (the last layer's activation output). */
export interface Loss {
  name: string;
  /** The dtype of y: int32 class ids or float32 values. */
  targets: DType;
  /** Throws unless y's per-sample shape fits the model's per-sample output shape. */
  checkTargets(output: readonly number[], y: readonly number[]): void;
  /**
   * Keras's loss of a batch ('sum_over_batch_size': sum_r w_r l_r / rows); d loss / d output
   * into grad unless null. weight: the batch's sample weights (W entries dividing the rows, or
   * the elements), or null for all 1.
   */
  compute(
    backend: Backend,
    out: Float32Array,
    outShape: readonly number[],
    y: Float32Array | Int32Array,
    weight: Float32Array | null,
    grad: Float32Array | null,
  ): number;
  /** compute() on the addon's worker threads (native); a loss without it runs compute(). */
  computeAsync?(
    backend: Backend,
    out: Float32Array,
    outShape: readonly number[],
    y: Float32Array | Int32Array,
    weight: Float32Array | null,
    grad: Float32Array | null,
  ): Promise<number>;
}

export type LossKernel = Omit<Loss, 'name'>;

function mismatch(what: string, output: readonly number[], y: readonly number[]): GruError {
  return new GruError(
    'ERR_GRU_SHAPE',
    `y must hold ${what} for an output of shape ${formatShape([null, ...output])}, got y of shape ${formatShape([null, ...y])}`,
  );
}

const same = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

const lastDim = (shape: readonly number[]) => shape[shape.length - 1]!;

/** Class ids: the output's shape without its last axis (Keras also takes a trailing 1). */
function checkIds(output: readonly number[], y: readonly number[]): void {
  const rows = output.slice(0, -1);
  if (!same(y, rows) && !(y[y.length - 1] === 1 && same(y.slice(0, -1), rows)))
    throw mismatch('one class id per row', output, y);
}

function checkSameShape(output: readonly number[], y: readonly number[]): void {
  if (!same(output, y)) throw mismatch('one row of class probabilities per row', output, y);
}

function checkElements(output: readonly number[], y: readonly number[]): void {
  if (sizeOf(output) !== sizeOf(y)) throw mismatch('one value per output', output, y);
}

/** categoricalCrossentropy: y one-hot (or soft) rows of the output's shape. */
export function categoricalLoss(fromLogits: boolean): LossKernel {
  const kind = fromLogits ? GRU_LOSS_CATEGORICAL_CE_LOGITS : GRU_LOSS_CATEGORICAL_CE;
  return {
    targets: 'float32',
    checkTargets: checkSameShape,
    compute: (backend, out, shape, y, w, grad) =>
      backend.loss(kind, lastDim(shape), 1, out, y as Float32Array, w, grad),
    computeAsync: (backend, out, shape, y, w, grad) =>
      backend.lossAsync(kind, lastDim(shape), 1, out, y as Float32Array, w, grad),
  };
}

/** sparseCategoricalCrossentropy: y int32 class ids, one per row of the output. */
export function sparseLoss(fromLogits: boolean): LossKernel {
  const kind = fromLogits ? GRU_LOSS_CATEGORICAL_CE_LOGITS : GRU_LOSS_CATEGORICAL_CE;
  return {
    targets: 'int32',
    checkTargets: checkIds,
    compute: (backend, out, shape, y, w, grad) =>
      backend.lossSparse(kind, lastDim(shape), out, y as Int32Array, w, grad),
    computeAsync: (backend, out, shape, y, w, grad) =>
      backend.lossSparseAsync(kind, lastDim(shape), out, y as Int32Array, w, grad),
  };
}

const ELEMENTWISE = {
  binaryCrossentropy: GRU_LOSS_BINARY_CE,
  binaryCrossentropyFromLogits: GRU_LOSS_BINARY_CE_LOGITS,
  meanSquaredError: GRU_LOSS_MSE,
  meanAbsoluteError: GRU_LOSS_MAE,
  huber: GRU_LOSS_HUBER,
};

/** An element-wise loss (cols 1, as ts/losses.ts calls it); delta is huber's. */
export function elementLoss(kind: keyof typeof ELEMENTWISE, delta = 1): LossKernel {
  return {
    targets: 'float32',
    checkTargets: checkElements,
    compute: (backend, out, _shape, y, w, grad) =>
      backend.loss(ELEMENTWISE[kind], 1, delta, out, y as Float32Array, w, grad),
    computeAsync: (backend, out, _shape, y, w, grad) =>
      backend.lossAsync(ELEMENTWISE[kind], 1, delta, out, y as Float32Array, w, grad),
  };
}

/** Keras 3's choice for 'accuracy' (keras/src/trainers/compile_utils.py), from the shapes. */
export function accuracyFor(output: readonly number[], y: readonly number[]): MetricName {
  // Ranks with the batch; y's last dimension is the batch for a rank-1 y, which cannot matter
  // (its rank is then below the output's).
  const [yRank, pRank] = [y.length + 1, output.length + 1];
  const [yLast, pLast] = [y.length > 0 ? lastDim(y) : -1, lastDim(output)];
  if (pLast === 1) return 'binaryAccuracy';
  if (yRank < pRank || (yLast === 1 && pLast > 1)) return 'sparseCategoricalAccuracy';
  return 'categoricalAccuracy';
}

/**
 * A fresh core Metric `core` for outputs and targets of these per-sample shapes (y's dtype
 * `targets`, which the loss chose); ERR_GRU_ARG when it cannot read such targets. `name` is the
 * name given to compile(), for messages.
 */
export function makeMetric(
  name: string,
  core: MetricName,
  backend: Backend,
  output: readonly number[],
  y: readonly number[],
  targets: DType,
  options: Record<string, unknown> = {},
): Metric {
  const sparse = core === 'sparseCategoricalAccuracy';
  if (sparse !== (targets === 'int32')) {
    throw new GruError(
      'ERR_GRU_ARG',
      sparse
        ? `metric '${name}' (${core}) needs integer class ids as y: compile with loss sparseCategoricalCrossentropy`
        : `metric '${name}' (${core}) needs y of the output's shape ${formatShape([null, ...output])}, but the loss takes class ids: use 'accuracy' or 'sparseCategoricalAccuracy'`,
    );
  }
  if (sparse) checkIds(output, y);
  else if (core === 'categoricalAccuracy') checkSameShape(output, y);
  else checkElements(output, y);
  const categorical = sparse || core === 'categoricalAccuracy';
  return new Metric(core, {
    ...options,
    backend,
    ...(categorical ? { classes: lastDim(output) } : {}),
  });
}
