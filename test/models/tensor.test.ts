/** tensor(): typed arrays taken as they are, nested arrays flattened once, shapes checked. */
import assert from 'node:assert/strict';
import { tensor } from '../../ts/index.js';
import { assertThrowsCode } from '../util.js';

describe('models: tensor()', () => {
  it('takes a typed array as it is (no copy), with its shape or [length]', () => {
    const data = new Float32Array(6);
    const t = tensor(data, [2, 3]);
    assert.equal(t.data, data);
    assert.deepEqual(t.shape, [2, 3]);
    assert.deepEqual(tensor(new Int32Array(4)).shape, [4]);
  });

  it('flattens nested arrays, inferring the shape; int32 on request', () => {
    const t = tensor([
      [[1], [2]],
      [[3], [4]],
    ]);
    assert.deepEqual(t, { data: new Float32Array([1, 2, 3, 4]), shape: [2, 2, 1] });
    assert.deepEqual(tensor([1, 2, 3, 4], [2, 2], 'int32'), {
      data: new Int32Array([1, 2, 3, 4]),
      shape: [2, 2],
    });
  });

  it('refuses ragged, empty, non-finite and mismatched input, naming it', () => {
    assertThrowsCode(() => tensor([[1, 2], [3]]), 'ERR_GRU_SHAPE', [
      '[1] must be an array of length 2',
    ]);
    assertThrowsCode(() => tensor([[1, 2], 3] as never), 'ERR_GRU_SHAPE', ['rectangular']);
    assertThrowsCode(() => tensor([]), 'ERR_GRU_SHAPE', ['empty']);
    assertThrowsCode(() => tensor([1, NaN]), 'ERR_GRU_ARG', ['[1] must be a finite number']);
    assertThrowsCode(() => tensor([1.5], undefined, 'int32'), 'ERR_GRU_ARG', ['32-bit integers']);
    assertThrowsCode(() => tensor(new Float32Array(6), [4, 2]), 'ERR_GRU_SHAPE', [
      'holds 8 values',
      'has 6',
    ]);
    assertThrowsCode(() => tensor(new Float32Array(6), [6, 0]), 'ERR_GRU_ARG', ['shape[1]']);
    assertThrowsCode(() => tensor(new Float32Array(2), [2], 'int32'), 'ERR_GRU_TYPE', [
      'Int32Array',
    ]);
    assertThrowsCode(() => tensor('abc' as never), 'ERR_GRU_TYPE', ['nested arrays']);
    assertThrowsCode(() => tensor([1], undefined, 'float64' as never), 'ERR_GRU_ARG', ['dtype']);
  });
});
