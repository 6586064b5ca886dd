/**
 * Bad input to the training API, through the public classes and straight into the backend
 * (the core's own checks): each failure has a stable code and a message naming the argument.
 *
 * Over 400 lines: one case per refused input of the training API; splitting would only scatter
 * them.
 */
import assert from 'node:assert/strict';
import {
  Adagrad,
  Adam,
  AdamW,
  RMSprop,
  SGD,
  GRU,
  Dense,
  Embedding,
  Dropout,
  GruError,
  softmaxCrossEntropy,
  bceWithLogits,
  mse,
} from '../../ts/index.js';
import type { Backend } from '../../ts/backends/backend.js';
import { assertThrowsCode, rng, uniform } from '../util.js';

/** Deliberately wrong values, passed where the types say otherwise. */
const bad = <T>(v: unknown): T => v as T;

export function trainErrorSuite(backend: Backend): void {
  const throws = (fn: () => unknown, code: string, mentions: string[] = []): void =>
    assertThrowsCode(fn, code, mentions, GruError);

  describe('GRU backward', () => {
    const [T, B] = [3, 2];
    const cfg = { inputSize: 4, hiddenSize: 5, numLayers: 2, backend, seed: 1 };
    const x = uniform(T * B * 4, -1, 1, rng(1));
    const withGru = (fn: (g: GRU) => void) => () => {
      const g = new GRU(cfg);
      try {
        fn(g);
      } finally {
        g.dispose();
      }
    };
    it(
      'dOutput / dHN of the wrong length -> ERR_GRU_SHAPE naming them; a correct backward still works after',
      withGru((g) => {
        g.forward(x, { batch: B, train: true });
        throws(() => g.backward({ dOutput: new Float32Array(T * B * 5 + 1) }), 'ERR_GRU_SHAPE', [
          'dOutput',
        ]);
        throws(() => g.backward({ dOutput: new Float32Array(T * B * 5 - 1) }), 'ERR_GRU_SHAPE', [
          'dOutput',
        ]);
        throws(() => g.backward({ dHN: new Float32Array(B * 5) }), 'ERR_GRU_SHAPE', ['dHN']);
        throws(() => g.backward({ dOutput: bad(new Float64Array(T * B * 5)) }), 'ERR_GRU_TYPE', [
          'dOutput',
        ]);
        // The failed calls consumed nothing: the one valid backward of this forward succeeds.
        const r = g.backward({ dOutput: new Float32Array(T * B * 5).fill(0.5) });
        assert.ok(
          r.dx!.some((v) => v !== 0),
          'the valid backward after the failures computed dx',
        );
      }),
    );
    it(
      'backward before any training forward, or after a plain forward -> ERR_GRU_STATE',
      withGru((g) => {
        throws(() => g.backward({ dOutput: new Float32Array(T * B * 5) }), 'ERR_GRU_STATE', [
          'train: true',
        ]);
        g.forward(x, { batch: B });
        throws(() => g.backward({ dOutput: new Float32Array(T * B * 5) }), 'ERR_GRU_STATE', [
          'train: true',
        ]);
      }),
    );
    it(
      'a second backward on the same training forward -> ERR_GRU_STATE; gradients unchanged by it',
      withGru((g) => {
        g.forward(x, { batch: B, train: true });
        g.backward({ dOutput: new Float32Array(T * B * 5).fill(1) });
        const grad = g.getGradient('weight_ih_l1');
        throws(
          () => g.backward({ dOutput: new Float32Array(T * B * 5).fill(1) }),
          'ERR_GRU_STATE',
          ['train: true'],
        );
        assert.deepEqual(g.getGradient('weight_ih_l1'), grad, 'the refused backward added nothing');
      }),
    );
    it(
      'dropout outside [0, 1) or NaN -> ERR_GRU_ARG naming dropout; dropout without train -> ERR_GRU_ARG',
      withGru((g) => {
        for (const p of [1, -0.1, 1.5, NaN])
          throws(() => g.forward(x, { batch: B, train: true, dropout: p }), 'ERR_GRU_ARG', [
            'dropout',
          ]);
        throws(() => g.forward(x, { batch: B, dropout: 0.5 }), 'ERR_GRU_ARG', ['dropout']);
      }),
    );
    it(
      'getGradient of an unknown name -> ERR_GRU_RANGE naming it',
      withGru((g) => {
        throws(() => g.getGradient('weight_ih_l2'), 'ERR_GRU_RANGE', ['weight_ih_l2']);
      }),
    );
    it('the core refuses a backward before a training forward too (straight into the backend)', () => {
      const net = backend.netCreate(2, 3, 1, 0, 1, 1);
      try {
        throws(
          () => backend.netBackward(net, new Float32Array(3), null, null, null),
          'ERR_GRU_STATE',
        );
        backend.netForwardTrain(
          net,
          1,
          1,
          0,
          new Float32Array(2),
          null,
          null,
          new Float32Array(3),
          null,
          0,
          0,
        );
        // The core checks lengths itself, too.
        throws(
          () => backend.netBackward(net, new Float32Array(4), null, null, null),
          'ERR_GRU_SHAPE',
        );
        backend.netBackward(net, new Float32Array(3), null, new Float32Array(2), null);
        throws(
          () => backend.netBackward(net, new Float32Array(3), null, null, null),
          'ERR_GRU_STATE',
        );
        throws(
          () =>
            backend.netForwardTrain(
              net,
              1,
              1,
              0,
              new Float32Array(2),
              null,
              null,
              null,
              null,
              1,
              0,
            ),
          'ERR_GRU_ARG',
          ['dropout'],
        );
      } finally {
        backend.destroy(net);
      }
    });
  });

  describe('Dense, Embedding, Dropout', () => {
    it('Dense: dy of the wrong length -> ERR_GRU_SHAPE naming dy; backward before / twice -> ERR_GRU_STATE', () => {
      const d = new Dense({ inFeatures: 3, outFeatures: 2, seed: 1, backend });
      try {
        throws(() => d.backward(new Float32Array(2)), 'ERR_GRU_STATE', ['train: true']);
        d.forward(new Float32Array(6), { train: true });
        throws(() => d.backward(new Float32Array(5)), 'ERR_GRU_SHAPE', ['dy']);
        d.backward(new Float32Array(4));
        throws(() => d.backward(new Float32Array(4)), 'ERR_GRU_STATE', ['train: true']);
        throws(() => d.forward(new Float32Array(4)), 'ERR_GRU_SHAPE', ['x']);
        throws(() => d.setParameter('weight', new Float32Array(5)), 'ERR_GRU_SHAPE', ['weight']);
      } finally {
        d.dispose();
      }
    });
    it('Embedding: index out of range (-1, numEmbeddings), non-integer -> error naming indices; dy shape', () => {
      const e = new Embedding({ numEmbeddings: 5, embeddingDim: 2, seed: 1, backend });
      try {
        throws(() => e.forward([0, 5]), 'ERR_GRU_RANGE', ['indices']);
        throws(() => e.forward(Int32Array.of(-1, 2)), 'ERR_GRU_RANGE', ['indices']);
        throws(() => e.forward([1.5]), 'ERR_GRU_ARG', ['indices']);
        throws(() => e.backward(new Float32Array(2)), 'ERR_GRU_STATE', ['train: true']);
        e.forward([1, 2], { train: true });
        throws(() => e.backward(new Float32Array(3)), 'ERR_GRU_SHAPE', ['dy']);
      } finally {
        e.dispose();
      }
    });
    it('the core refuses an out-of-range index itself (straight into the backend), writing nothing', () => {
      const h = backend.embeddingCreate(5, 2);
      try {
        const y = new Float32Array(4).fill(7);
        throws(() => backend.embeddingForward(h, Int32Array.of(1, 5), y, 0), 'ERR_GRU_RANGE');
        throws(() => backend.embeddingForward(h, Int32Array.of(-1, 0), y, 0), 'ERR_GRU_RANGE');
        assert.ok(
          y.every((v) => v === 7),
          'nothing written on failure',
        );
      } finally {
        backend.destroy(h);
      }
    });
    it('Dropout: p outside [0, 1) or NaN -> ERR_GRU_ARG naming p; backward before forward -> ERR_GRU_STATE', () => {
      for (const p of [1, -0.01, NaN, 2])
        throws(() => new Dropout({ p, backend }), 'ERR_GRU_ARG', ['p']);
      const d = new Dropout({ p: 0.5, seed: 1, backend });
      throws(() => d.backward(new Float32Array(3)), 'ERR_GRU_STATE');
      d.forward(new Float32Array(3), { train: true });
      throws(() => d.backward(new Float32Array(4)), 'ERR_GRU_SHAPE', ['dy']);
      throws(
        () => backend.dropoutForward(new Float32Array(3), 1, 0, new Float32Array(3)),
        'ERR_GRU_ARG',
      );
    });
  });

  describe('losses', () => {
    it('softmaxCrossEntropy: targets out of range -> ERR_GRU_RANGE naming targets; shapes -> ERR_GRU_SHAPE', () => {
      const logits = new Float32Array(6);
      throws(() => softmaxCrossEntropy(logits, [0, 3], { classes: 3, backend }), 'ERR_GRU_RANGE', [
        'targets',
      ]);
      throws(() => softmaxCrossEntropy(logits, [-2, 0], { classes: 3, backend }), 'ERR_GRU_RANGE', [
        'targets',
      ]);
      throws(() => softmaxCrossEntropy(logits, [0], { classes: 3, backend }), 'ERR_GRU_SHAPE', [
        'targets',
      ]);
      throws(() => softmaxCrossEntropy(logits, [0, 1], { classes: 4, backend }), 'ERR_GRU_SHAPE', [
        'logits',
      ]);
      throws(() => softmaxCrossEntropy(logits, [0, 1], { classes: 0, backend }), 'ERR_GRU_ARG', [
        'classes',
      ]);
      // The core checks targets itself.
      throws(
        () => backend.lossSoftmaxCrossEntropy(logits, 2, 3, Int32Array.of(0, 3), null),
        'ERR_GRU_RANGE',
      );
    });
    it('bceWithLogits / mse: targets of the wrong length -> ERR_GRU_SHAPE naming targets', () => {
      throws(
        () => bceWithLogits(new Float32Array(3), new Float32Array(2), { backend }),
        'ERR_GRU_SHAPE',
        ['targets'],
      );
      throws(() => mse(new Float32Array(3), new Float32Array(4), { backend }), 'ERR_GRU_SHAPE', [
        'targets',
      ]);
      throws(
        () => mse(bad(new Float64Array(3)), new Float32Array(3), { backend }),
        'ERR_GRU_TYPE',
        ['pred'],
      );
    });
    it('a grad buffer of the wrong length, or overlapping the input or targets -> ERR_GRU_SHAPE / ERR_GRU_ARG naming grad', () => {
      const buf = new Float32Array(9);
      const [x, t] = [buf.subarray(0, 3), buf.subarray(3, 6)];
      throws(() => mse(x, t, { backend, grad: new Float32Array(4) }), 'ERR_GRU_SHAPE', ['grad']);
      throws(() => mse(x, t, { backend, grad: buf.subarray(2, 5) }), 'ERR_GRU_ARG', [
        'grad',
        'pred',
      ]);
      throws(() => bceWithLogits(x, t, { backend, grad: buf.subarray(5, 8) }), 'ERR_GRU_ARG', [
        'grad',
        'targets',
      ]);
      throws(
        () =>
          softmaxCrossEntropy(buf.subarray(0, 6), [0, 1], {
            classes: 3,
            backend,
            grad: buf.subarray(0, 6),
          }),
        'ERR_GRU_ARG',
        ['grad', 'logits'],
      );
      throws(() => mse(x, t, { backend, grad: bad(new Float64Array(3)) }), 'ERR_GRU_TYPE', [
        'grad',
      ]);
    });
  });

  describe('optimizers', () => {
    const layer = (): Dense => new Dense({ inFeatures: 2, outFeatures: 2, seed: 1, backend });
    const ctors = [
      ['Adam', (p: Dense[], o: object) => new Adam(p, bad(o))],
      ['AdamW', (p: Dense[], o: object) => new AdamW(p, bad(o))],
      ['SGD', (p: Dense[], o: object) => new SGD(p, bad({ lr: 0.1, ...o }))],
      ['RMSprop', (p: Dense[], o: object) => new RMSprop(p, bad(o))],
      ['Adagrad', (p: Dense[], o: object) => new Adagrad(p, bad(o))],
    ] as const;
    for (const [name, make] of ctors) {
      it(`${name}: lr <= 0, NaN, Infinity -> ERR_GRU_ARG naming lr (constructor and setter)`, () => {
        const d = layer();
        try {
          for (const lr of [0, -1e-3, NaN, Infinity, bad<number>('0.1')])
            throws(() => make([d], { lr }), 'ERR_GRU_ARG', ['lr']);
          const opt = make([d], { lr: 0.1 });
          for (const lr of [0, -1, NaN]) throws(() => (opt.lr = lr), 'ERR_GRU_ARG', ['lr']);
          assert.equal(opt.lr, 0.1, 'a refused lr leaves the lr unchanged');
          opt.dispose();
        } finally {
          d.dispose();
        }
      });
    }
    for (const [name, make] of ctors.slice(0, 2)) {
      it(`${name}: betas outside [0, 1), eps < 0, weightDecay < 0 -> ERR_GRU_ARG naming them`, () => {
        const d = layer();
        try {
          for (const betas of [[1, 0.999], [0.9, 1], [-0.1, 0.9], [NaN, 0.9], [0.9], 'x']) {
            throws(() => make([d], { betas }), 'ERR_GRU_ARG', ['betas']);
          }
          for (const eps of [-1e-8, NaN]) throws(() => make([d], { eps }), 'ERR_GRU_ARG', ['eps']);
          throws(() => make([d], { weightDecay: -0.1 }), 'ERR_GRU_ARG', ['weightDecay']);
          throws(() => make([d], { betaz: [0.9, 0.9] }), 'ERR_GRU_ARG', ['betaz']);
        } finally {
          d.dispose();
        }
      });
    }
    it('RMSprop and Adagrad: options out of range or unknown -> ERR_GRU_ARG naming them', () => {
      const d = layer();
      try {
        const rms = (o: object) => () => new RMSprop([d], bad(o));
        for (const alpha of [-0.1, 1.1, NaN]) throws(rms({ alpha }), 'ERR_GRU_ARG', ['alpha']);
        throws(rms({ momentum: -1 }), 'ERR_GRU_ARG', ['momentum']);
        throws(rms({ eps: -1 }), 'ERR_GRU_ARG', ['eps']);
        throws(rms({ weightDecay: -1 }), 'ERR_GRU_ARG', ['weightDecay']);
        throws(rms({ centered: 1 }), 'ERR_GRU_ARG', ['centered']);
        throws(rms({ rho: 0.9 }), 'ERR_GRU_ARG', ['rho']);
        const ada = (o: object) => () => new Adagrad([d], bad(o));
        throws(ada({ lrDecay: -1 }), 'ERR_GRU_ARG', ['lrDecay']);
        throws(ada({ initialAccumulatorValue: -1 }), 'ERR_GRU_ARG', ['initialAccumulatorValue']);
        throws(ada({ eps: Infinity }), 'ERR_GRU_ARG', ['eps']);
        throws(ada({ maximize: 'yes' }), 'ERR_GRU_ARG', ['maximize']);
        throws(ada({ momentum: 0.9 }), 'ERR_GRU_ARG', ['momentum']);
        // A state dict of another type.
        const a = new Adagrad([d]);
        const r = new RMSprop([d]);
        throws(() => a.loadStateDict(r.stateDict()), 'ERR_GRU_ARG', ['stateDict.type']);
        a.dispose();
        r.dispose();
      } finally {
        d.dispose();
      }
    });
    it('SGD: momentum < 0, nesterov without momentum or with dampening -> ERR_GRU_ARG naming them', () => {
      const d = layer();
      try {
        throws(() => new SGD([d], { lr: 0.1, momentum: -0.5 }), 'ERR_GRU_ARG', ['momentum']);
        throws(() => new SGD([d], { lr: 0.1, nesterov: true }), 'ERR_GRU_ARG', ['nesterov']);
        throws(
          () => new SGD([d], { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }),
          'ERR_GRU_ARG',
          ['nesterov'],
        );
        throws(() => new SGD(bad([d]), bad({})), 'ERR_GRU_ARG', ['lr']);
      } finally {
        d.dispose();
      }
    });
    it('params: empty, not a layer, a disposed layer, a layer twice -> errors naming params', () => {
      const d = layer();
      const gone = layer();
      gone.dispose();
      try {
        throws(() => new Adam([]), 'ERR_GRU_ARG', ['params']);
        throws(() => new Adam(bad([{}])), 'ERR_GRU_ARG', ['params[0]']);
        throws(() => new Adam([d, gone]), 'ERR_GRU_DISPOSED', ['params[1]']);
        throws(() => new Adam([d, d]), 'ERR_GRU_ARG', ['params[1]']);
      } finally {
        d.dispose();
      }
    });
    it('an optimizer whose parameters were disposed: step / zeroGrad / clipGradNorm -> ERR_GRU_STATE naming the parameter', () => {
      const a = layer();
      const b = new GRU({ inputSize: 2, hiddenSize: 3, seed: 1, backend });
      const opt = new Adam([a, b], { lr: 0.1 });
      try {
        b.dispose();
        throws(() => opt.step(), 'ERR_GRU_STATE', ['params[1]']);
        throws(() => opt.zeroGrad(), 'ERR_GRU_STATE', ['params[1]']);
        throws(() => opt.clipGradNorm(1), 'ERR_GRU_STATE', ['params[1]']);
      } finally {
        opt.dispose();
        a.dispose();
      }
      throws(() => opt.step(), 'ERR_GRU_DISPOSED');
    });
    it('the core refuses a step over a destroyed layer (straight into the backend) and frees both later', () => {
      const start = backend.allocatedBytes();
      const h = backend.denseCreate(3, 2, 1, 0);
      const opt = backend.optimCreate(1, 0.1, 0.9, 0.999, 1e-8, 0, 0);
      backend.optimAdd(opt, h);
      throws(() => backend.optimAdd(opt, h), 'ERR_GRU_ARG', ['already added']);
      throws(() => backend.optimAdd(opt, opt), 'ERR_GRU_ARG', ['itself']);
      backend.optimStep(opt, 0.1);
      backend.destroy(h);
      throws(() => backend.optimStep(opt, 0.1), 'ERR_GRU_STATE');
      throws(() => backend.optimZeroGrad(opt), 'ERR_GRU_STATE');
      backend.destroy(opt);
      assert.equal(backend.allocatedBytes(), start, 'layer and optimizer freed');
    });
    it('the core refuses RMSprop / Adagrad / Keras hyperparameters and flags that do not apply', () => {
      const create = (kind: number, a: number, b: number, eps: number, flags: number) =>
        backend.optimCreate(kind, 0.1, a, b, eps, 0, flags);
      const cases: [number, number, number, number, number, string][] = [
        [3, 1.5, 0, 1e-8, 0, 'alpha'],
        [3, 0.9, -1, 1e-8, 0, 'momentum'],
        [3, 0.9, 0, -1, 0, 'eps'],
        [3, 0.9, 0, 1e-8, 1, 'amsgrad'],
        [4, -0.1, 0, 1e-8, 0, 'initial_accumulator_value'],
        [4, 0, -1, 1e-8, 0, 'lr_decay'],
        [4, 0, 0, 1e-8, 4, 'nesterov'],
        [1, 0.9, 0.999, 1e-8, 8, 'centered'],
        [0, 0.9, 0.5, 0, 16, 'dampening'],
        [3, 0.9, 0, 1e-8, 32, 'flags'],
        [5, 0.9, 0, 1e-8, 0, 'kind'],
      ];
      for (const [kind, a, b, eps, flags, what] of cases)
        throws(() => create(kind, a, b, eps, flags), 'ERR_GRU_ARG', [what]);
      // Adagrad's sum starts at the initial accumulator value: the state after adding a layer.
      const h = backend.denseCreate(3, 2, 1, 0);
      const opt = create(4, 0.25, 0, 1e-10, 16);
      try {
        backend.optimAdd(opt, h);
        const state = new Float32Array(backend.optimStateSize(opt));
        backend.optimGetState(opt, state);
        assert.deepEqual([...state], [0, ...new Array(3 * 2 + 2).fill(0.25)]);
      } finally {
        backend.destroy(opt);
        backend.destroy(h);
      }
    });
    it('gru_optim_clip_keras refuses a bad mode, value or skip index, and a destroyed layer', () => {
      const h = backend.denseCreate(3, 2, 1, 0);
      const opt = backend.optimCreate(1, 0.1, 0.9, 0.999, 1e-7, 0, 16);
      try {
        backend.optimAdd(opt, h);
        backend.optimClipKeras(opt, 1, 1, Int32Array.of(1));
        throws(() => backend.optimClipKeras(opt, 3, 1, null), 'ERR_GRU_ARG', ['mode']);
        for (const v of [0, -1, NaN, Infinity])
          throws(() => backend.optimClipKeras(opt, 0, v, null), 'ERR_GRU_ARG', ['value']);
        throws(() => backend.optimClipKeras(opt, 2, 1, Int32Array.of(2)), 'ERR_GRU_RANGE', [
          'skip[0]',
        ]);
        throws(() => backend.optimClipKeras(opt, 2, 1, Int32Array.of(0, -1)), 'ERR_GRU_RANGE', [
          'skip[1]',
        ]);
        backend.destroy(h);
        throws(() => backend.optimClipKeras(opt, 0, 1, null), 'ERR_GRU_STATE');
      } finally {
        backend.destroy(opt);
      }
    });
    it('the core refuses bad hyperparameters itself (lr < 0 or NaN, betas, eps, weightDecay, kind)', () => {
      const base = { kind: 1, lr: 0.1, a: 0.9, b: 0.999, eps: 1e-8, weightDecay: 0, flags: 0 };
      const create = (c: typeof base) =>
        backend.optimCreate(c.kind, c.lr, c.a, c.b, c.eps, c.weightDecay, c.flags);
      for (const over of [
        { lr: -0.1 },
        { lr: NaN },
        { a: 1 },
        { b: -0.1 },
        { eps: -1 },
        { weightDecay: -1 },
        { kind: 7 },
      ]) {
        throws(() => create({ ...base, ...over }), 'ERR_GRU_ARG');
      }
      const opt = create(base);
      try {
        throws(() => backend.optimStep(opt, -1), 'ERR_GRU_ARG', ['lr']);
        throws(() => backend.optimSetState(opt, new Float32Array(5)), 'ERR_GRU_SHAPE');
      } finally {
        backend.destroy(opt);
      }
    });
    it('loadStateDict of another type or size -> errors naming stateDict', () => {
      const d = layer();
      const e = new Dense({ inFeatures: 3, outFeatures: 2, seed: 1, backend });
      const adam = new Adam([d]);
      const sgd = new SGD([d], { lr: 0.1, momentum: 0.9 });
      const other = new Adam([e]);
      try {
        throws(() => adam.loadStateDict(bad(sgd.stateDict())), 'ERR_GRU_ARG', ['stateDict']);
        throws(() => other.loadStateDict(adam.stateDict()), 'ERR_GRU_SHAPE', ['stateDict']);
      } finally {
        for (const o of [adam, sgd, other]) o.dispose();
        d.dispose();
        e.dispose();
      }
    });
  });
}
