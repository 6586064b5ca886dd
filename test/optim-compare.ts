/**
 * How the optimizer tests compare parameters with PyTorch's and Keras's (test/optim-fixtures,
 * test/models/optimizers): the relative error of a tensor, max |a - e| / max |e| over its
 * elements (normwise, so that an element passing near zero is judged at the tensor's scale),
 * within RELATIVE after 20 steps.
 */
import assert from 'node:assert/strict';

export const RELATIVE = 1e-4;

export function relativeError(actual: ArrayLike<number>, expected: readonly number[]): number {
  assert.equal(actual.length, expected.length, 'length');
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return diff === 0 ? 0 : diff / scale;
}
