/**
 * State changes are all or nothing: a layer's or an optimizer's loadStateDict reads each value
 * of the dict once (a getter that answers differently the second time, or throws, or changes
 * another entry's array, cannot get part of it written), checks everything the core will check,
 * and only then writes; on any failure nothing has changed.
 */
import assert from 'node:assert/strict';
import {
  Adam,
  Dense,
  GRU,
  SGD,
  type AdamStateDict,
  type OptimizerStateDict,
  type SGDStateDict,
} from '../../ts/index.js';
import type { Backend } from '../../ts/backends/backend.js';
import { assertThrowsCode, rng, uniform } from '../util.js';

type Dict = Record<string, Float32Array>;

/** A copy of a dict whose entries are getters: `answer(name, read)` answers read 0, 1, ... */
function gettersOf(dict: Dict, answer: (name: string, read: number) => Float32Array): Dict {
  const out: Dict = {};
  const reads = new Map<string, number>();
  for (const name of Object.keys(dict)) {
    Object.defineProperty(out, name, {
      enumerable: true,
      get: () => {
        const read = reads.get(name) ?? 0;
        reads.set(name, read + 1);
        return answer(name, read);
      },
    });
  }
  return out;
}

function assertSameDict(got: Dict, want: Dict, what: string): void {
  assert.deepEqual(Object.keys(got), Object.keys(want));
  for (const name of Object.keys(want))
    assert.deepEqual(got[name], want[name], `${what}: ${name} changed`);
}

export function layerStateSuite(backend: Backend): void {
  const layers: [string, () => GRU | Dense][] = [
    // Two layers, bidirectional: 16 tensors.
    [
      'GRU',
      () =>
        new GRU({
          inputSize: 3,
          hiddenSize: 5,
          numLayers: 2,
          bidirectional: true,
          seed: 1,
          backend,
        }),
    ],
    ['Dense', () => new Dense({ inFeatures: 4, outFeatures: 3, seed: 2, backend })],
  ];
  for (const [what, make] of layers) {
    describe(what, () => {
      let layer: GRU | Dense;
      let before: Dict;
      let next: Dict;
      beforeEach(() => {
        layer = make();
        before = layer.stateDict();
        next = {};
        const r = rng(3);
        for (const [name, v] of Object.entries(before)) next[name] = uniform(v.length, -1, 1, r);
      });
      afterEach(() => layer.dispose());

      it('reads each entry once and writes what it read (a second answer would be the wrong size)', () => {
        const reads: string[] = [];
        const dict = gettersOf(next, (name, read) => {
          reads.push(name);
          return read === 0 ? (next[name] as Float32Array) : new Float32Array(1);
        });
        layer.loadStateDict(dict);
        assert.deepEqual(reads, Object.keys(next), 'one read per entry');
        assertSameDict(layer.stateDict(), next, 'after the load');
      });

      it('copies each entry as it reads it: a later getter that changes an earlier array does not reach the layer', () => {
        const names = Object.keys(next);
        const first = (next[names[0] as string] as Float32Array).slice();
        const dict = gettersOf(next, (name) => {
          if (name === names[names.length - 1])
            (next[names[0] as string] as Float32Array).fill(NaN);
          return next[name] as Float32Array;
        });
        layer.loadStateDict(dict);
        assert.deepEqual(layer.getParameter(names[0] as string), first);
      });

      it('a getter that throws on the last entry: the error, and nothing written', () => {
        const names = Object.keys(next);
        const dict = gettersOf(next, (name) => {
          if (name === names[names.length - 1]) throw new Error('getter failed');
          return next[name] as Float32Array;
        });
        assert.throws(() => layer.loadStateDict(dict), /getter failed/);
        assertSameDict(layer.stateDict(), before, 'after the failed load');
      });

      it('the last entry of the wrong size: ERR_GRU_SHAPE naming it, and nothing written', () => {
        const names = Object.keys(next);
        const last = names[names.length - 1] as string;
        assertThrowsCode(
          () => layer.loadStateDict({ ...next, [last]: new Float32Array(1) }),
          'ERR_GRU_SHAPE',
          [last],
        );
        assertSameDict(layer.stateDict(), before, 'after the failed load');
      });

      it('an unknown option key (strictt) is refused as constructors refuse them, before anything is written', () => {
        const bad = { strictt: true } as unknown as { strict?: boolean };
        assertThrowsCode(() => layer.loadStateDict(next, bad), 'ERR_GRU_ARG', ['strictt']);
        assertSameDict(layer.stateDict(), before, 'after the failed load');
      });
    });
  }
}

export function optimizerStateSuite(backend: Backend): void {
  let gru: GRU;
  let other: GRU;
  beforeEach(() => {
    gru = new GRU({ inputSize: 3, hiddenSize: 4, seed: 5, backend });
    other = new GRU({ inputSize: 3, hiddenSize: 4, seed: 6, backend });
  });
  afterEach(() => {
    gru.dispose();
    other.dispose();
  });

  /** `steps` training steps of opt over gru (fresh gradients each). */
  const train = (opt: Adam | SGD, steps: number): void => {
    const r = rng(7);
    for (let i = 0; i < steps; i++) {
      opt.zeroGrad();
      const f = gru.forward(uniform(2 * 3, -1, 1, r), { train: true });
      gru.backward({ dOutput: uniform(f.output!.length, -1, 1, r) });
      opt.step();
    }
  };
  const snapshot = <T extends OptimizerStateDict>(sd: T): T => ({ ...sd, state: sd.state.slice() });

  it('one bad field (the step count state[0] = 2^25, with a new eps): ERR_GRU_ARG, and eps, moments, step and lr as they were', () => {
    const opt = new Adam([gru], { lr: 0.01 });
    try {
      train(opt, 3);
      const before = snapshot(opt.stateDict() as AdamStateDict);
      const state = before.state.slice();
      state[0] = 2 ** 25;
      assertThrowsCode(
        () => opt.loadStateDict({ ...before, eps: 1e-3, lr: 0.5, step: 9, state }),
        'ERR_GRU_ARG',
        ['step count', '2^24'],
      );
      assert.deepEqual(opt.stateDict(), before);
    } finally {
      opt.dispose();
    }
  });

  it('a state of the wrong size for new hyperparameters (amsgrad): ERR_GRU_SHAPE, nothing changed', () => {
    const opt = new Adam([gru], { lr: 0.01 });
    try {
      train(opt, 2);
      const before = snapshot(opt.stateDict() as AdamStateDict);
      assertThrowsCode(() => opt.loadStateDict({ ...before, amsgrad: true }), 'ERR_GRU_SHAPE', [
        'stateDict.state',
      ]);
      assert.deepEqual(opt.stateDict(), before);
    } finally {
      opt.dispose();
    }
  });

  it('a state saved with other hyperparameters (amsgrad, so another size) loads whole', () => {
    const saved = new Adam([other], { lr: 0.02, amsgrad: true, eps: 1e-6 });
    const opt = new Adam([gru], { lr: 0.01 });
    try {
      other.zeroGrad();
      const f = other.forward(uniform(6, -1, 1, rng(8)), { train: true });
      other.backward({ dOutput: uniform(f.output!.length, -1, 1, rng(9)) });
      saved.step();
      const sd = snapshot(saved.stateDict());
      opt.loadStateDict(sd);
      assert.deepEqual(opt.stateDict(), sd);
      train(opt, 1); // the rebuilt optimizer steps
      assert.equal(opt.stepCount, sd.step + 1);
    } finally {
      saved.dispose();
      opt.dispose();
    }
  });

  it('reads every field once; a getter that throws (after a hyperparameter change) changes nothing', () => {
    const opt = new SGD([gru], { lr: 0.1, momentum: 0.9 });
    try {
      train(opt, 2);
      const before = snapshot(opt.stateDict() as SGDStateDict);
      const reads = new Map<string, number>();
      const counted = {} as OptimizerStateDict;
      for (const [k, v] of Object.entries({ ...before, momentum: 0.5 })) {
        Object.defineProperty(counted, k, {
          enumerable: true,
          get: () => {
            reads.set(k, (reads.get(k) ?? 0) + 1);
            return v;
          },
        });
      }
      opt.loadStateDict(counted);
      for (const k of Object.keys(before)) assert.equal(reads.get(k), 1, `reads of ${k}`);
      assert.equal((opt.stateDict() as SGDStateDict).momentum, 0.5);

      const after = snapshot(opt.stateDict());
      const throwing = { ...after, dampening: 0.25 } as OptimizerStateDict;
      Object.defineProperty(throwing, 'state', {
        enumerable: true,
        get: () => {
          throw new Error('state getter failed');
        },
      });
      assert.throws(() => opt.loadStateDict(throwing), /state getter failed/);
      assert.deepEqual(opt.stateDict(), after);
    } finally {
      opt.dispose();
    }
  });
}
