/**
 * Arguments a hostile or careless caller passes, each refused with a GruError with a code and a
 * message naming the argument, never a TypeError or RangeError from deep inside: Proxies of typed
 * arrays (instanceof says yes, but there is no memory to read), revoked Proxies (every operation
 * throws), views of detached buffers, sizes past what can be allocated, objects that are not
 * what they say (backends, layers, optimizers), abstract classes constructed from JavaScript.
 */
import assert from 'node:assert/strict';
import {
  Adam,
  Dense,
  Dropout,
  GRU,
  GRUStream,
  GruError,
  LRSchedule,
  LayerNorm,
  StepLR,
  mse,
} from '../../ts/index.js';
import type { Backend } from '../../ts/backends/backend.js';
import { assertThrowsCode, rng, uniform } from '../util.js';

/** Deliberately wrong values, passed where the types say otherwise. */
const bad = <T>(v: unknown): T => v as T;

function revoked(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

/** A Float32Array whose buffer has been transferred away (detached): length 0 now. */
function detached(n: number): Float32Array {
  const a = new Float32Array(n);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
}

const throws = (fn: () => unknown, code: string, mentions: string[] = []): void =>
  assertThrowsCode(fn, code, mentions, GruError);

export function hostileArgSuite(backend: Backend): void {
  let gru: GRU;
  let dense: Dense;
  let norm: LayerNorm;
  let dropout: Dropout;
  before(() => {
    gru = new GRU({ inputSize: 4, hiddenSize: 3, seed: 1, backend });
    dense = new Dense({ inFeatures: 4, outFeatures: 2, seed: 2, backend });
    norm = new LayerNorm({ normalizedShape: 4, backend });
    dropout = new Dropout({ p: 0.5, seed: 3, backend });
  });
  after(() => {
    gru.dispose();
    dense.dispose();
    norm.dispose();
  });

  const x = uniform(8, -1, 1, rng(4));
  /** Every public call that takes a Float32Array, with that array as `v`. */
  const calls: [string, string, (v: Float32Array) => unknown][] = [
    ['GRU.forward x', 'x', (v) => gru.forward(v)],
    ['GRU.forward h0', 'h0', (v) => gru.forward(x, { h0: v })],
    ['GRU.setParameter', 'bias_ih_l0', (v) => gru.setParameter('bias_ih_l0', v)],
    [
      'GRU.loadStateDict entry',
      'bias_hh_l0',
      (v) => gru.loadStateDict({ bias_hh_l0: v }, { strict: false }),
    ],
    ['GRU.stream().step', 'x', (v) => gru.stream().step(v)],
    ['Dense.forward', 'x', (v) => dense.forward(v)],
    ['LayerNorm.forward', 'x', (v) => norm.forward(v)],
    ['Dropout.forward', 'x', (v) => dropout.forward(v, { train: true })],
    ['mse pred', 'pred', (v) => mse(v, x, { backend })],
  ];

  describe('a Proxy of a Float32Array: ERR_GRU_TYPE naming the argument', () => {
    for (const [title, name, call] of calls) {
      it(title, () => {
        const proxy = new Proxy(new Float32Array(8), {});
        assert.ok(proxy instanceof Float32Array, 'the Proxy passes instanceof');
        throws(() => call(proxy), 'ERR_GRU_TYPE', [name, 'Proxy']);
      });
    }
  });

  describe('a revoked Proxy: a GruError naming the argument', () => {
    for (const [title, name, call] of calls) {
      it(title, () => throws(() => call(bad(revoked())), 'ERR_GRU_TYPE', [name, 'revoked Proxy']));
    }
    const cases: [string, string, string, () => unknown][] = [
      [
        'GRU.forward options',
        'forward options',
        'ERR_GRU_ARG',
        () => gru.forward(x, bad(revoked())),
      ],
      [
        'GRU.forward lengths',
        'lengths',
        'ERR_GRU_TYPE',
        () => gru.forward(x, { lengths: bad(revoked()) }),
      ],
      ['GRU options', 'GRU options', 'ERR_GRU_ARG', () => new GRU(bad(revoked()))],
      [
        'backend option',
        'backend',
        'ERR_GRU_ARG',
        () => new Dense({ inFeatures: 1, outFeatures: 1, backend: bad(revoked()) }),
      ],
      ['Adam params', 'params', 'ERR_GRU_ARG', () => new Adam(bad(revoked()))],
      ['Adam params[0]', 'params[0]', 'ERR_GRU_ARG', () => new Adam([bad(revoked())])],
      [
        'StepLR optimizer',
        'optimizer',
        'ERR_GRU_ARG',
        () => new StepLR(bad(revoked()), { stepSize: 1 }),
      ],
      ['GRUStream gru', 'gru', 'ERR_GRU_ARG', () => new GRUStream(bad(revoked()), 1)],
      ['loadStateDict dict', 'stateDict', 'ERR_GRU_ARG', () => gru.loadStateDict(bad(revoked()))],
    ];
    for (const [title, name, code, call] of cases) it(title, () => throws(call, code, [name]));
  });

  describe('a view of a detached ArrayBuffer: ERR_GRU_ARG naming the argument', () => {
    for (const [title, name, call] of calls) {
      it(title, () => throws(() => call(detached(8)), 'ERR_GRU_ARG', [name, 'detached']));
    }
    it('straight into the backend (the binding refuses it: no TypeError, no empty array)', () => {
      const y = new Float32Array(8);
      throws(() => backend.dropoutForward(detached(8), 0.5, 1, y), 'ERR_GRU_ARG', [
        'x',
        'detached',
      ]);
      throws(() => backend.dropoutForward(x, 0.5, 1, detached(8)), 'ERR_GRU_ARG', [
        'y',
        'detached',
      ]);
      throws(() => backend.lossMse(detached(8), x, null), 'ERR_GRU_ARG', ['pred']);
    });
  });

  describe('objects that are not what they say', () => {
    it('a backend look-alike or a Proxy of a backend: ERR_GRU_ARG naming backend', () => {
      for (const fake of [{ netCreate() {} }, new Proxy(backend, {}), { ...backend }]) {
        throws(() => new GRU({ inputSize: 1, hiddenSize: 1, backend: bad(fake) }), 'ERR_GRU_ARG', [
          'backend',
        ]);
      }
    });
    it('a Proxy of a layer in an optimizer: ERR_GRU_ARG naming params[0]', () => {
      throws(() => new Adam([new Proxy(gru, {})]), 'ERR_GRU_ARG', ['params[0]']);
    });
    it('new GRUStream(null, 1), (gru, -1), (a Dense, 1): ERR_GRU_ARG naming gru / batch', () => {
      throws(() => new GRUStream(bad(null), 1), 'ERR_GRU_ARG', ['gru']);
      throws(() => new GRUStream(bad(dense), 1), 'ERR_GRU_ARG', ['gru']);
      for (const b of [-1, 0, 1.5, NaN, 2 ** 31])
        throws(() => new GRUStream(gru, b), 'ERR_GRU_ARG', ['batch']);
    });
    it('new LRSchedule(opt) (abstract, but constructible from JavaScript): ERR_GRU_TYPE, not a TypeError in step()', () => {
      const opt = new Adam([dense]);
      try {
        const Abstract = LRSchedule as unknown as new (o: Adam) => LRSchedule;
        throws(() => new Abstract(opt).step(), 'ERR_GRU_TYPE', ['LRSchedule', 'abstract']);
      } finally {
        opt.dispose();
      }
    });
  });

  describe('sizes past what can be allocated: ERR_GRU_ALLOC naming what', () => {
    it('gru.stream({ batch: 2^30 })', () => {
      const big = new GRU({ inputSize: 1, hiddenSize: 64, seed: 1, backend });
      try {
        throws(() => big.stream({ batch: 2 ** 30 }), 'ERR_GRU_ALLOC', ['state']);
      } finally {
        big.dispose();
      }
    });
    it('a forward whose output would not fit in a typed array (input 1, hidden 1024, 2^23 steps)', () => {
      const wide = new GRU({ inputSize: 1, hiddenSize: 1024, seed: 1, backend });
      try {
        throws(() => wide.forward(new Float32Array(2 ** 23)), 'ERR_GRU_ALLOC', ['output']);
      } finally {
        wide.dispose();
      }
    });
  });
}
