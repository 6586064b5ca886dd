/**
 * GRUStreams (gru.streams()): any subset of many streams stepped in one call equals stepping
 * each stream alone, bitwise, on every backend and ISA; streams join and leave at any time;
 * stepAsync equals step; bad ids, shapes and GRUs are refused by the facade and by the core.
 */
import assert from 'node:assert/strict';
import type { Backend } from '../ts/backends/backend.js';
import { GRU } from '../ts/index.js';
import { forEachBackend, forEachIsa } from './backends.js';
import { assertThrowsCode, rng, uniform } from './util.js';

const [I, H, L] = [5, 40, 2];

function makeGru(backend: Backend, resetAfter: boolean): GRU {
  return new GRU({ inputSize: I, hiddenSize: H, numLayers: L, resetAfter, seed: 3, backend });
}

/** One stream stepped alone: a batch-1 forward of one timestep from its state. */
function stepAlone(gru: GRU, state: Float32Array, x: Float32Array): Float32Array {
  const r = gru.forward(x, { seqLen: 1, batch: 1, h0: state, hN: state });
  return r.output!;
}

forEachBackend('GRUStreams', (backend: Backend) => {
  forEachIsa(backend, () => {
    for (const resetAfter of [true, false]) {
      it(`subsets of 9 streams over 6 steps equal each stream stepped alone, bitwise (resetAfter ${resetAfter})`, () => {
        const gru = makeGru(backend, resetAfter);
        const group = gru.streams({ capacity: 4 }); // grows twice on the way to 9
        const r = rng(17);
        const alone: Float32Array[] = [];
        const ids: number[] = [];
        for (let s = 0; s < 9; s++) {
          const h0 = s % 3 === 0 ? undefined : uniform(L * H, -0.9, 0.9, r);
          ids.push(group.open(h0));
          alone.push(h0 ? h0.slice() : new Float32Array(L * H));
        }
        assert.deepEqual(ids, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
        assert.equal(group.capacity, 16);
        const subsets = [
          [0, 1, 2, 3, 4, 5, 6, 7, 8],
          [8, 3, 0],
          [5],
          [2, 7, 1, 6],
          [4, 0, 8, 3, 5, 2, 6],
          [1],
        ];
        for (const subset of subsets) {
          const x = uniform(subset.length * I, -1, 1, r);
          const y = group.step(subset, x);
          subset.forEach((id, i) => {
            const want = stepAlone(gru, alone[id]!, x.subarray(i * I, (i + 1) * I).slice());
            assert.deepEqual(y.subarray(i * H, (i + 1) * H), want, `stream ${id} output`);
          });
        }
        for (let s = 0; s < 9; s++) assert.deepEqual(group.state(s), alone[s], `stream ${s} state`);
        gru.dispose();
      });
    }
  });

  it('streams join and leave: a closed id is reused with a fresh state, the others keep theirs', () => {
    const gru = makeGru(backend, true);
    const group = gru.streams({ capacity: 2 });
    const r = rng(5);
    const a = group.open();
    const b = group.open(uniform(L * H, -1, 1, r));
    group.step([a, b], uniform(2 * I, -1, 1, r));
    const bState = group.state(b);
    group.close(a);
    assert.equal(group.size, 1);
    assertThrowsCode(() => group.state(a), 'ERR_GRU_RANGE', [`stream ${a} is not open`]);
    assertThrowsCode(() => group.step([a], new Float32Array(I)), 'ERR_GRU_RANGE', ['not open']);
    const c = group.open();
    assert.equal(c, a, 'the closed id is handed out again');
    assert.deepEqual(group.state(c), new Float32Array(L * H));
    assert.deepEqual(group.state(b), bState);
    const d = group.open(); // grows: b keeps its state and id
    assert.equal(group.capacity, 4);
    assert.deepEqual(group.state(b), bState);
    group.reset(b);
    assert.deepEqual(group.state(b), new Float32Array(L * H));
    group.step([d], new Float32Array(I), new Float32Array(H));
    assert.equal(group.size, 3);
    gru.dispose();
  });

  it('stepAsync equals step, and the group is busy while it runs', async () => {
    const [g1, g2] = [makeGru(backend, true), makeGru(backend, true)];
    const [s1, s2] = [g1.streams(), g2.streams()];
    const r = rng(8);
    for (let s = 0; s < 5; s++) {
      const h0 = uniform(L * H, -1, 1, r);
      s1.open(h0);
      s2.open(h0);
    }
    for (const subset of [
      [0, 1, 2, 3, 4],
      [3, 1],
    ]) {
      const x = uniform(subset.length * I, -1, 1, r);
      const want = s1.step(subset, x);
      const p = s2.stepAsync(subset, x);
      assertThrowsCode(() => s2.state(0), 'ERR_GRU_BUSY', ['stepAsync()']);
      assertThrowsCode(() => s2.step([0], new Float32Array(I)), 'ERR_GRU_BUSY', ['stepAsync()']);
      assert.deepEqual(await p, want);
    }
    for (let s = 0; s < 5; s++) assert.deepEqual(s2.state(s), s1.state(s));
    g1.dispose();
    g2.dispose();
  });

  it('streams join, leave and reset while a stepAsync runs; the step keeps its results', async () => {
    const gru = makeGru(backend, false);
    const group = gru.streams({ capacity: 3 });
    const r = rng(12);
    const h0 = [0, 1, 2].map(() => uniform(L * H, -1, 1, r));
    const [a, b, e] = h0.map((h) => group.open(h)) as [number, number, number];
    const x = uniform(2 * I, -1, 1, r);
    const wantA = h0[0]!.slice();
    stepAlone(gru, wantA, x.slice(0, I));
    const p = group.stepAsync([a, b], x);
    const joined = uniform(L * H, -1, 1, r);
    const joinedCopy = joined.slice();
    const c = group.open(joined); // a full group: it grows while the step runs
    joined.fill(0); // open() took a copy
    group.reset(b, h0[2]); // applies after the step, replacing the step's result for b
    group.close(e);
    const d = group.open(); // e's slot again, a fresh stream
    assert.equal(group.size, 4);
    assert.equal(group.capacity, 6);
    await p;
    assert.deepEqual(group.state(a), wantA, "the step's result survives the growth");
    assert.deepEqual(group.state(b), h0[2]);
    assert.deepEqual(group.state(c), joinedCopy);
    assert.equal(d, e);
    assert.deepEqual(group.state(d), new Float32Array(L * H));
    gru.dispose();
  });

  it('refuses bad ids, shapes and GRUs with a code that names them', () => {
    const gru = makeGru(backend, true);
    const group = gru.streams();
    const a = group.open();
    group.open();
    assertThrowsCode(() => group.step([a, a], new Float32Array(2 * I)), 'ERR_GRU_ARG', [
      'listed twice',
    ]);
    assertThrowsCode(() => group.step([], new Float32Array(0)), 'ERR_GRU_SHAPE', ['ids']);
    assertThrowsCode(() => group.step([99], new Float32Array(I)), 'ERR_GRU_RANGE', ['ids']);
    assertThrowsCode(() => group.step([a], new Float32Array(I + 1)), 'ERR_GRU_SHAPE', ['x']);
    assertThrowsCode(
      () => group.step([a], new Float32Array(I), new Float32Array(H - 1)),
      'ERR_GRU_SHAPE',
      ['output'],
    );
    assertThrowsCode(() => group.open(new Float32Array(3)), 'ERR_GRU_SHAPE', ['h0']);
    assertThrowsCode(() => group.close(1.5), 'ERR_GRU_RANGE', ['id']);
    assertThrowsCode(() => gru.streams({ capacity: 0 }), 'ERR_GRU_ARG', ['capacity']);
    assertThrowsCode(() => gru.streams({ capcity: 2 } as never), 'ERR_GRU_ARG', ['capcity']);
    const bi = new GRU({ inputSize: I, hiddenSize: 3, bidirectional: true, backend });
    assertThrowsCode(() => bi.streams(), 'ERR_GRU_STATE', ['unidirectional']);
    bi.dispose();

    // The core checks again, for callers of the Backend object.
    const net = gru._handle();
    const states = new Float32Array(4 * L * H);
    const x = new Float32Array(2 * I);
    assertThrowsCode(
      () => backend.netStepStreams(net, Int32Array.of(1, 1), x, states, null, states),
      'ERR_GRU_ARG',
      ['listed twice'],
    );
    assertThrowsCode(
      () => backend.netStepStreams(net, Int32Array.of(0, 4), x, states, null, states),
      'ERR_GRU_RANGE',
      ['slots[1]'],
    );
    assertThrowsCode(
      () => backend.netStepStreams(net, Int32Array.of(0, 1), x, states, null, states.slice()),
      'ERR_GRU_ARG',
      ['states_out'],
    );
    assertThrowsCode(
      () =>
        backend.netStepStreams(
          net,
          Int32Array.of(0, 1),
          x,
          states.subarray(1),
          null,
          states.subarray(1),
        ),
      'ERR_GRU_SHAPE',
      ['states'],
    );
    gru.dispose();
    assertThrowsCode(() => group.step([a], new Float32Array(I)), 'ERR_GRU_DISPOSED');
  });
});
