/**
 * What TypeScript used to accept and the core refused later, far from the cause (or nothing ever
 * refused): numbers the float32 core sees as Infinity or 0 (4e38, 5e-324) or out of their range
 * (0.99999999999 is 1 as a float32), clipGradValue(0), thread counts that oversubscribe the
 * CPUs, loadBackend failures that threw instead of rejecting.
 */
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import {
  Adam,
  AdamW,
  CosineAnnealingLR,
  Dense,
  Dropout,
  GRU,
  GruError,
  LayerNorm,
  SGD,
  SequenceModel,
  loadBackend,
  setThreads,
} from '../../ts/index.js';
import type { Backend, BackendName } from '../../ts/backends/backend.js';
import { assertRejectsCode, assertThrowsCode } from '../util.js';

const bad = <T>(v: unknown): T => v as T;
const throws = (fn: () => unknown, code: string, mentions: string[] = []): void =>
  assertThrowsCode(fn, code, mentions, GruError);

/** Above FLT_MAX (Infinity as a float32); positive but 0 as a float32; 1 as a float32. */
const HUGE = 4e38;
const TINY = 5e-324;
const NEAR_ONE = 0.99999999999;

export function float32ArgSuite(backend: Backend): void {
  let dense: Dense;
  beforeEach(() => {
    dense = new Dense({ inFeatures: 2, outFeatures: 2, seed: 1, backend });
  });
  afterEach(() => dense.dispose());

  it('optimizer options: ERR_GRU_ARG naming each one, for values the float32 core refuses', () => {
    const cases: [string, () => unknown][] = [
      ['lr', () => new Adam([dense], { lr: HUGE })],
      ['lr', () => new Adam([dense], { lr: TINY })],
      ['betas[0]', () => new Adam([dense], { betas: [NEAR_ONE, 0.9] })],
      ['betas[1]', () => new AdamW([dense], { betas: [0.9, HUGE] })],
      ['eps', () => new Adam([dense], { eps: HUGE })],
      ['weightDecay', () => new AdamW([dense], { weightDecay: HUGE })],
      ['momentum', () => new SGD([dense], { lr: 0.1, momentum: HUGE })],
      ['dampening', () => new SGD([dense], { lr: 0.1, dampening: -HUGE })],
      ['nesterov', () => new SGD([dense], { lr: 0.1, momentum: TINY, nesterov: true })],
    ];
    for (const [name, make] of cases) throws(make, 'ERR_GRU_ARG', [name]);
  });

  it('opt.lr = 4e38 or 5e-324, clipGradValue(0 or 5e-324), clipGradNorm(5e-324): ERR_GRU_ARG, and the optimizer unchanged', () => {
    const opt = new Adam([dense], { lr: 0.01 });
    try {
      for (const v of [HUGE, TINY, -1, NaN]) {
        throws(
          () => {
            opt.lr = v;
          },
          'ERR_GRU_ARG',
          ['lr'],
        );
      }
      assert.equal(opt.lr, 0.01);
      for (const v of [0, TINY, HUGE]) throws(() => opt.clipGradValue(v), 'ERR_GRU_ARG', ['clip']);
      throws(() => opt.clipGradNorm(TINY), 'ERR_GRU_ARG', ['maxNorm']);
      opt.clipGradValue(1e-30); // positive as a float32: fine
      assert.ok(opt.clipGradNorm(Infinity) >= 0);
      opt.step(); // the lr the core sees is still valid
    } finally {
      opt.dispose();
    }
  });

  it('a schedule whose etaMin is above FLT_MAX: refused at construction, not at a later step', () => {
    const opt = new SGD([dense], { lr: 0.1 });
    try {
      throws(() => new CosineAnnealingLR(opt, { tMax: 10, etaMin: HUGE }), 'ERR_GRU_ARG', [
        'etaMin',
      ]);
    } finally {
      opt.dispose();
    }
  });

  it('dropout probabilities that are 1 as a float32, LayerNorm eps that is 0 as one, a model clipGradNorm of 5e-324', () => {
    throws(() => new Dropout({ p: NEAR_ONE, backend }), 'ERR_GRU_ARG', ['p']);
    const gru = new GRU({ inputSize: 1, hiddenSize: 2, numLayers: 2, backend });
    try {
      throws(
        () => gru.forward(new Float32Array(1), { train: true, dropout: NEAR_ONE }),
        'ERR_GRU_ARG',
        ['dropout'],
      );
    } finally {
      gru.dispose();
    }
    throws(() => new LayerNorm({ normalizedShape: 2, eps: TINY, backend }), 'ERR_GRU_ARG', ['eps']);
    throws(
      () =>
        new SequenceModel({
          inputSize: 1,
          gru: { hiddenSize: 2 },
          output: { size: 1, mode: 'last' },
          loss: 'mse',
          clipGradNorm: TINY,
          backend,
        }),
      'ERR_GRU_ARG',
      ['clipGradNorm'],
    );
  });

  it('setThreads(n) past 4 x the CPUs this process may use: ERR_GRU_ARG saying why; the threads unchanged', () => {
    const cpus = availableParallelism();
    const before = backend.threads();
    throws(() => setThreads(4 * cpus + 1, backend), 'ERR_GRU_ARG', [
      'n (threads)',
      `${cpus} CPU`,
      'oversubscribe',
    ]);
    assert.equal(backend.threads(), before);
    if (backend.name === 'native' && 4 * cpus <= 1024) {
      setThreads(4 * cpus, backend); // the limit itself is allowed
      assert.equal(backend.threads(), 4 * cpus);
      setThreads(before, backend);
    }
  });
}

export function loaderSuite(): void {
  it("loadBackend('cuda') and bad options reject the promise (ERR_GRU_ARG), never throw synchronously", async () => {
    let promise: Promise<unknown> | undefined;
    assert.doesNotThrow(() => {
      promise = loadBackend(bad<BackendName>('cuda'));
    });
    assert.ok(promise instanceof Promise);
    await assertRejectsCode(() => promise as Promise<unknown>, 'ERR_GRU_ARG');
    await assertRejectsCode(() => loadBackend('wasm', bad({ strictt: 1 })), 'ERR_GRU_ARG');
    await assertRejectsCode(() => loadBackend('wasm', bad(null)), 'ERR_GRU_ARG');
  });
}
