/**
 * The core's row gather and scatter (gru_rows_gather / gru_rows_scatter_sum), which move the
 * recurrent layers' steps (goBackwards, masks, Bidirectional states), on every backend: rows
 * copied and summed exactly, scatter_sum the adjoint of gather (<gather(x), d> = <x,
 * scatter(d)>), and the core refusing bad widths, lengths and indices when the facade is bypassed.
 */
import assert from 'node:assert/strict';
import type { Backend } from '../../ts/backends/backend.js';
import { forEachBackend } from '../backends.js';
import { assertThrowsCode, rng, uniform } from '../util.js';

forEachBackend('models: core row gather / scatter', (backend: Backend) => {
  it('gather copies the indexed rows and writes zeros for -1', () => {
    const w = 3;
    const x = uniform(4 * w, -2, 2, rng(1));
    const index = Int32Array.from([3, -1, 0, 3, 1]);
    const y = new Float32Array(index.length * w).fill(7);
    backend.rowsGather(4, w, x, index, y);
    index.forEach((r, i) => {
      const want = r < 0 ? new Float32Array(w) : x.subarray(r * w, (r + 1) * w);
      assert.deepEqual(y.subarray(i * w, (i + 1) * w), want, `row ${i}`);
    });
  });

  it('scatter_sum sums the rows naming each target in order, zeros elsewhere, and is the adjoint', () => {
    const w = 2;
    const d = uniform(5 * w, -1, 1, rng(2));
    const index = Int32Array.from([2, -1, 0, 2, 2]);
    const y = new Float32Array(4 * w).fill(9);
    backend.rowsScatterSum(4, w, d, index, y);
    for (let j = 0; j < w; j++) {
      assert.equal(y[0 * w + j], d[2 * w + j]);
      assert.equal(y[1 * w + j], 0);
      assert.equal(y[2 * w + j], Math.fround(Math.fround(d[j]! + d[3 * w + j]!) + d[4 * w + j]!));
      assert.equal(y[3 * w + j], 0);
    }
    const x = uniform(4 * w, -1, 1, rng(3));
    const g = new Float32Array(5 * w);
    backend.rowsGather(4, w, x, index, g);
    const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);
    assert.ok(Math.abs(dot(g, d) - dot(x, y)) < 1e-5);
  });

  it('the core refuses bad widths, lengths and indices, naming them, and writes nothing', () => {
    const x = new Float32Array(6);
    const y = new Float32Array(4).fill(5);
    const ok = Int32Array.from([0, 2]);
    assertThrowsCode(() => backend.rowsGather(3, 0, x, ok, y), 'ERR_GRU_ARG', ['width']);
    assertThrowsCode(() => backend.rowsGather(0, 2, x, ok, y), 'ERR_GRU_ARG', ['rows']);
    assertThrowsCode(() => backend.rowsGather(3, 2, x, ok, new Float32Array(5)), 'ERR_GRU_SHAPE', [
      'y',
    ]);
    assertThrowsCode(() => backend.rowsGather(4, 2, x, ok, y), 'ERR_GRU_SHAPE', ['x']);
    assertThrowsCode(
      () => backend.rowsGather(3, 2, x, Int32Array.from([0, 3]), y),
      'ERR_GRU_RANGE',
      ['index[1]'],
    );
    assertThrowsCode(
      () => backend.rowsGather(3, 2, x, Int32Array.from([-2, 0]), y),
      'ERR_GRU_RANGE',
      ['index[0]'],
    );
    assertThrowsCode(() => backend.rowsGather(3, 2, x, new Int32Array(0), y), 'ERR_GRU_SHAPE', [
      'index',
    ]);
    assert.deepEqual(y, new Float32Array(4).fill(5));
    assertThrowsCode(
      () => backend.rowsScatterSum(3, 2, y, Int32Array.from([0, 3]), x),
      'ERR_GRU_RANGE',
      ['index[1]'],
    );
    assertThrowsCode(() => backend.rowsScatterSum(3, 2, x, ok, y), 'ERR_GRU_SHAPE', ['x']);
    assertThrowsCode(
      () => backend.rowsScatterSum(3, 2, y, ok, new Float32Array(3)),
      'ERR_GRU_SHAPE',
      ['y'],
    );
  });
});
