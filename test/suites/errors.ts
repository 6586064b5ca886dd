/**
 * Bad input, through the public API and straight into the backend (the core's own checks):
 * every failure is a GruError with a stable code and a message naming the argument, and
 * nothing is written to the caller's outputs.
 *
 * Over 400 lines: one case per refused input of the inference API and of the backend directly.
 */
import assert from 'node:assert/strict';
import { GRU, GruError } from '../../ts/index.js';
import type { Backend, NetHandle } from '../../ts/backends/backend.js';
import { rng, uniform, assertThrowsCode } from '../util.js';

type GruOptions = ConstructorParameters<typeof GRU>[0];
type ForwardOptions = NonNullable<Parameters<GRU['forward']>[1]>;

/** Deliberately wrong values, passed where the types say otherwise. */
const bad = <T>(v: unknown): T => v as T;

export function errorSuite(backend: Backend): void {
  const throws = (fn: () => unknown, code: string, mentions: string[] = []): void =>
    assertThrowsCode(fn, code, mentions, GruError);

  const base = { inputSize: 4, hiddenSize: 5, backend };
  const make = (over: Partial<GruOptions> = {}): GRU =>
    new GRU({ ...base, seed: 9, ...over } as GruOptions);

  describe('constructor', () => {
    for (const field of ['inputSize', 'hiddenSize', 'numLayers'] as const) {
      for (const v of [0, -1, 1.5, NaN]) {
        it(`${field} = ${v} -> ERR_GRU_ARG naming ${field}`, () => {
          throws(() => new GRU({ ...base, [field]: v }), 'ERR_GRU_ARG', [field]);
        });
      }
    }
    it('a non-boolean bidirectional -> ERR_GRU_ARG naming it', () => {
      throws(() => new GRU({ ...base, bidirectional: bad<boolean>('yes') }), 'ERR_GRU_ARG', [
        'bidirectional',
      ]);
    });
    it('hiddenSize = Infinity -> ERR_GRU_ARG', () => {
      throws(() => new GRU({ ...base, hiddenSize: Infinity }), 'ERR_GRU_ARG', ['hiddenSize']);
    });
  });

  describe('forward', () => {
    const B = 2;
    const T = 3;
    const x = uniform(T * B * 4, -1, 1, rng(1));
    const cases: {
      title: string;
      code: string;
      name: string;
      x?: unknown;
      opts: Partial<ForwardOptions> & Record<string, unknown>;
    }[] = [
      {
        title: 'x a number[]',
        code: 'ERR_GRU_TYPE',
        name: 'x',
        x: Array.from(x),
        opts: { batch: B },
      },
      {
        title: 'x a Float64Array',
        code: 'ERR_GRU_TYPE',
        name: 'x',
        x: Float64Array.from(x),
        opts: { batch: B },
      },
      {
        title: 'x length not a multiple of batch*inputSize',
        code: 'ERR_GRU_SHAPE',
        name: 'x',
        x: x.subarray(1),
        opts: { batch: B },
      },
      {
        title: 'x length != seqLen*batch*inputSize',
        code: 'ERR_GRU_SHAPE',
        name: 'x',
        opts: { batch: B, seqLen: T + 1 },
      },
      { title: 'batch = 0', code: 'ERR_GRU_ARG', name: 'batch', opts: { batch: 0 } },
      { title: 'batch = -2', code: 'ERR_GRU_ARG', name: 'batch', opts: { batch: -2 } },
      { title: 'batch = 1.5', code: 'ERR_GRU_ARG', name: 'batch', opts: { batch: 1.5 } },
      {
        title: 'h0 one element short',
        code: 'ERR_GRU_SHAPE',
        name: 'h0',
        opts: { batch: B, h0: new Float32Array(B * 5 - 1) },
      },
      {
        title: 'h0 one element long',
        code: 'ERR_GRU_SHAPE',
        name: 'h0',
        opts: { batch: B, h0: new Float32Array(B * 5 + 1) },
      },
      {
        title: 'h0 a Float64Array',
        code: 'ERR_GRU_TYPE',
        name: 'h0',
        opts: { batch: B, h0: bad<Float32Array>(new Float64Array(B * 5)) },
      },
      {
        title: 'lengths of the wrong size',
        code: 'ERR_GRU_SHAPE',
        name: 'lengths',
        opts: { batch: B, lengths: new Int32Array([1, 2, 3]) },
      },
      {
        title: 'a length > seqLen',
        code: 'ERR_GRU_RANGE',
        name: 'lengths',
        opts: { batch: B, lengths: new Int32Array([T, T + 1]) },
      },
      {
        title: 'a length < 0',
        code: 'ERR_GRU_RANGE',
        name: 'lengths',
        opts: { batch: B, lengths: [-1, T] },
      },
      {
        title: 'output one element short',
        code: 'ERR_GRU_SHAPE',
        name: 'output',
        opts: { batch: B, output: new Float32Array(T * B * 5 - 1) },
      },
      {
        title: 'output a Float64Array',
        code: 'ERR_GRU_TYPE',
        name: 'output',
        opts: { batch: B, output: bad<Float32Array>(new Float64Array(T * B * 5)) },
      },
      {
        title: 'output with returnSequences: false',
        code: 'ERR_GRU_ARG',
        name: 'output',
        opts: { batch: B, output: new Float32Array(T * B * 5), returnSequences: false },
      },
      {
        title: 'hN one element long',
        code: 'ERR_GRU_SHAPE',
        name: 'hN',
        opts: { batch: B, hN: new Float32Array(B * 5 + 1) },
      },
    ];
    for (const c of cases) {
      it(`${c.title} -> ${c.code} naming ${c.name}; the net still works after`, () => {
        const gru = make();
        try {
          const good = gru.forward(x, { batch: B });
          throws(
            () => gru.forward(bad<Float32Array>(c.x ?? x), bad<ForwardOptions>(c.opts)),
            c.code,
            [c.name],
          );
          assert.deepEqual(
            gru.forward(x, { batch: B }),
            good,
            'a failed call leaves the network unchanged',
          );
        } finally {
          gru.dispose();
        }
      });
    }
  });

  describe('forward into caller buffers that overlap its inputs', () => {
    const B = 2;
    const T = 3;
    // One buffer holding x (T*B*4 floats) followed by room for more.
    const shared = new Float32Array(T * B * 4 + T * B * 5 + B * 5);
    shared.set(uniform(T * B * 4, -1, 1, rng(3)));
    const x = shared.subarray(0, T * B * 4);
    it('output overlapping x -> ERR_GRU_ARG naming output and x; output untouched', () => {
      const gru = make();
      try {
        const output = shared.subarray(T * B * 4 - 1, T * B * 4 - 1 + T * B * 5);
        const before = shared.slice();
        throws(() => gru.forward(x, { batch: B, output }), 'ERR_GRU_ARG', ['output', 'x']);
        assert.deepEqual(shared, before);
      } finally {
        gru.dispose();
      }
    });
    it('hN overlapping output, or part of h0 -> ERR_GRU_ARG; hN = h0 itself is allowed', () => {
      const gru = make();
      try {
        const output = shared.subarray(T * B * 4, T * B * 4 + T * B * 5);
        throws(
          () => gru.forward(x, { batch: B, output, hN: output.subarray(0, B * 5) }),
          'ERR_GRU_ARG',
          ['hN', 'output'],
        );
        const h = new Float32Array(B * 5 + 1);
        throws(
          () => gru.forward(x, { batch: B, h0: h.subarray(0, B * 5), hN: h.subarray(1) }),
          'ERR_GRU_ARG',
          ['hN', 'h0'],
        );
        const state = new Float32Array(B * 5).fill(0.25);
        const want = gru.forward(x, { batch: B, h0: state.slice() }).hN;
        assert.equal(gru.forward(x, { batch: B, h0: state, hN: state }).hN, state);
        assert.deepEqual(state, want, 'hN = h0: the state updated in place');
      } finally {
        gru.dispose();
      }
    });
  });

  describe('parameters', () => {
    it('unknown names -> ERR_GRU_RANGE naming the name', () => {
      const gru = make({ bias: false });
      try {
        for (const name of ['bogus', 'weight_ih_l1', 'weight_hh_l0_reverse', 'bias_ih_l0']) {
          throws(() => gru.getParameter(name), 'ERR_GRU_RANGE', [name]);
          throws(() => gru.setParameter(name, new Float32Array(15 * 4)), 'ERR_GRU_RANGE', [name]);
        }
      } finally {
        gru.dispose();
      }
    });
    it('setParameter / loadStateDict with a wrong length -> ERR_GRU_SHAPE, nothing changed', () => {
      const gru = make();
      try {
        const before = gru.stateDict();
        throws(
          () => gru.setParameter('weight_hh_l0', new Float32Array(15 * 5 - 1)),
          'ERR_GRU_SHAPE',
          ['weight_hh_l0'],
        );
        throws(() => gru.setParameter('bias_ih_l0', new Float32Array(16)), 'ERR_GRU_SHAPE', [
          'bias_ih_l0',
        ]);
        throws(
          () => gru.loadStateDict({ ...before, weight_ih_l0: new Float32Array(3) }),
          'ERR_GRU_SHAPE',
          ['weight_ih_l0'],
        );
        assert.deepEqual(gru.stateDict(), before);
      } finally {
        gru.dispose();
      }
    });
    it('setParameter with a Float64Array / number[] -> ERR_GRU_TYPE', () => {
      const gru = make();
      try {
        throws(
          () => gru.setParameter('bias_hh_l0', bad<Float32Array>(new Float64Array(15))),
          'ERR_GRU_TYPE',
          ['bias_hh_l0'],
        );
        throws(
          () => gru.setParameter('bias_hh_l0', bad<Float32Array>(new Array(15).fill(0))),
          'ERR_GRU_TYPE',
          ['bias_hh_l0'],
        );
      } finally {
        gru.dispose();
      }
    });
    it('loadStateDict with an unknown key -> ERR_GRU_RANGE naming it', () => {
      const gru = make();
      try {
        throws(
          () => gru.loadStateDict({ ...gru.stateDict(), weight_ih_l7: new Float32Array(1) }),
          'ERR_GRU_RANGE',
          ['weight_ih_l7'],
        );
      } finally {
        gru.dispose();
      }
    });
  });

  describe('stream', () => {
    it('streaming a bidirectional GRU -> ERR_GRU_STATE', () => {
      const gru = make({ bidirectional: true });
      try {
        throws(() => gru.stream({ batch: 1 }), 'ERR_GRU_STATE');
      } finally {
        gru.dispose();
      }
    });
    it('step with a bad x, stream with a bad h0 -> ERR_GRU_SHAPE / ERR_GRU_TYPE', () => {
      const gru = make();
      try {
        throws(() => gru.stream({ batch: 2, h0: new Float32Array(9) }), 'ERR_GRU_SHAPE', ['h0']);
        const st = gru.stream({ batch: 2 });
        throws(() => st.step(new Float32Array(7)), 'ERR_GRU_SHAPE', ['x']);
        throws(() => st.step(bad<Float32Array>(new Float64Array(8))), 'ERR_GRU_TYPE', ['x']);
        throws(() => st.reset(new Float32Array(11)), 'ERR_GRU_SHAPE', ['h0']);
        // The stream is still usable and still at its zero state.
        const one = st.step(new Float32Array(8).fill(0.5));
        assert.deepEqual(one.outputShape, [1, 2, 5]);
        assert.deepEqual(
          one.output,
          gru.forward(new Float32Array(8).fill(0.5), { batch: 2 }).output,
        );
      } finally {
        gru.dispose();
      }
    });
  });

  describe('dispose', () => {
    it('after dispose() every method throws ERR_GRU_DISPOSED, and so does step() of its stream', () => {
      const gru = make();
      const st = gru.stream({ batch: 1 });
      const sd = gru.stateDict();
      gru.dispose();
      const calls: [string, () => unknown][] = [
        ['forward', () => gru.forward(new Float32Array(4))],
        ['stateDict', () => gru.stateDict()],
        ['loadStateDict', () => gru.loadStateDict(sd)],
        ['getParameter', () => gru.getParameter('weight_ih_l0')],
        ['setParameter', () => gru.setParameter('weight_ih_l0', sd.weight_ih_l0)],
        ['parameterNames', () => gru.parameterNames()],
        ['stream', () => gru.stream({ batch: 1 })],
        ['stream.step', () => st.step(new Float32Array(4))],
        ['stream.stepInto', () => st.stepInto(new Float32Array(4), new Float32Array(8))],
        ['stream.state', () => st.state()],
        ['stream.reset', () => st.reset()],
      ];
      const wrong: string[] = [];
      for (const [what, fn] of calls) {
        try {
          fn();
          wrong.push(`${what}: no error`);
        } catch (e) {
          const code = (e as { code?: string }).code;
          if (!(e instanceof GruError) || code !== 'ERR_GRU_DISPOSED')
            wrong.push(`${what}: ${code ?? String(e)}`);
        }
      }
      assert.deepEqual(wrong, [], 'methods that did not throw ERR_GRU_DISPOSED after dispose()');
    });
  });

  describe('backend methods called directly: the core checks lengths itself', () => {
    const T = 5;
    const B = 2;
    const D = 2;
    let net: NetHandle;
    beforeEach(() => {
      net = backend.netCreate(3, 4, 2, 1, 1, 1);
      backend.initParams(net, 1);
    });
    afterEach(() => backend.destroy(net));

    interface ForwardCall {
      seqLen: number;
      batch: number;
      x: Float32Array;
      h0: Float32Array | null;
      lengths: Int32Array | null;
      y: Float32Array | null;
      hN: Float32Array | null;
    }
    const call = (over: Partial<ForwardCall>): ForwardCall => ({
      seqLen: T,
      batch: B,
      x: new Float32Array(T * B * 3).fill(0.25),
      h0: null,
      lengths: null,
      y: new Float32Array(T * B * D * 4).fill(7),
      hN: new Float32Array(2 * D * B * 4).fill(7),
      ...over,
    });
    const forward = (c: ForwardCall): void =>
      backend.netForward(net, c.seqLen, c.batch, 0, c.x, c.h0, c.lengths, c.y, c.hN);

    it('a valid call works (the baseline of the cases below)', () => {
      const c = call({});
      forward(c);
      assert.ok(c.y!.every((v) => v !== 7 && Math.abs(v) < 1));
    });

    const shapeCases: [string, Partial<ForwardCall>, string][] = [
      ['x too short', { x: new Float32Array(T * B * 3 - 1) }, 'ERR_GRU_SHAPE'],
      ['x too long', { x: new Float32Array(T * B * 3 + 1) }, 'ERR_GRU_SHAPE'],
      ['y too short', { y: new Float32Array(T * B * D * 4 - 1) }, 'ERR_GRU_SHAPE'],
      ['hN too short', { hN: new Float32Array(2 * D * B * 4 - 1) }, 'ERR_GRU_SHAPE'],
      ['h0 too short', { h0: new Float32Array(2 * D * B * 4 - 1) }, 'ERR_GRU_SHAPE'],
      ['lengths too short', { lengths: new Int32Array(B - 1) }, 'ERR_GRU_SHAPE'],
      ['a length > seqLen', { lengths: new Int32Array([T, T + 1]) }, 'ERR_GRU_RANGE'],
      ['a length < 0', { lengths: new Int32Array([-1, T]) }, 'ERR_GRU_RANGE'],
      ['batch 0', { batch: 0 }, 'ERR_GRU_ARG'],
      ['batch 2.5', { batch: 2.5 }, 'ERR_GRU_ARG'],
      ['x a Float64Array', { x: bad<Float32Array>(new Float64Array(T * B * 3)) }, 'ERR_GRU_TYPE'],
      ['x null', { x: bad<Float32Array>(null) }, 'ERR_GRU_TYPE'],
    ];
    for (const [title, over, code] of shapeCases) {
      it(`netForward with ${title} -> ${code}, outputs untouched`, () => {
        const c = call(over);
        c.y?.fill(7);
        c.hN?.fill(7);
        throws(() => forward(c), code);
        if (c.y)
          assert.ok(
            c.y.every((v) => v === 7),
            'y must not be written on failure',
          );
        if (c.hN)
          assert.ok(
            c.hN.every((v) => v === 7),
            'hN must not be written on failure',
          );
      });
    }

    it('parameters by index: names, shapes and sizes of nn.GRU; a wrong length -> ERR_GRU_SHAPE; bad index -> ERR_GRU_RANGE', () => {
      assert.equal(backend.paramCount(net), 2 * D * 4);
      assert.equal(backend.paramName(net, 4), 'weight_ih_l0_reverse');
      assert.equal(backend.paramName(net, 15), 'bias_hh_l1_reverse');
      const dims = new Int32Array(4);
      backend.paramShape(net, 12, dims);
      assert.deepEqual([...dims], [12, D * 4, 0, 0], 'weight_ih_l1_reverse is [3H, D*H]');
      const n = backend.paramSize(net, 12);
      assert.equal(n, 3 * 4 * (D * 4));
      throws(() => backend.paramSet(net, 12, new Float32Array(n - 1)), 'ERR_GRU_SHAPE');
      throws(() => backend.paramGet(net, 12, new Float32Array(n + 1)), 'ERR_GRU_SHAPE');
      throws(() => backend.paramGrad(net, 12, new Float32Array(n + 1)), 'ERR_GRU_SHAPE');
      throws(() => backend.paramShape(net, 12, new Int32Array(3)), 'ERR_GRU_SHAPE');
      throws(() => backend.paramSize(net, 16), 'ERR_GRU_RANGE');
      throws(() => backend.paramName(net, -1), 'ERR_GRU_RANGE');
      throws(() => backend.paramGet(net, 16, new Float32Array(n)), 'ERR_GRU_RANGE');
    });

    it('handles: the wrong kind -> ERR_GRU_TYPE, a destroyed or made-up one -> ERR_GRU_DISPOSED, and nothing else is touched', () => {
      const dense = backend.denseCreate(3, 2, 1, 0);
      try {
        throws(
          () =>
            backend.netForward(
              bad<NetHandle>(dense),
              T,
              B,
              0,
              new Float32Array(T * B * 3),
              null,
              null,
              null,
              null,
            ),
          'ERR_GRU_TYPE',
        );
        throws(() => backend.netTrainBytes(bad<NetHandle>(dense)), 'ERR_GRU_TYPE');
        throws(() => backend.optimAdd(bad(dense), net), 'ERR_GRU_TYPE');
        assert.equal(backend.paramCount(dense), 2, 'the dense layer is intact');
      } finally {
        backend.destroy(dense);
      }
      throws(() => backend.paramCount(dense), 'ERR_GRU_DISPOSED');
      throws(() => backend.destroy(dense), 'ERR_GRU_DISPOSED');
      for (const h of [0, 1 << 20, 0xffffffff, net + 1])
        throws(() => backend.bytes(bad(h)), 'ERR_GRU_DISPOSED');
      throws(() => backend.bytes(bad(-1)), 'ERR_GRU_ARG');
      throws(() => backend.bytes(bad('1')), 'ERR_GRU_TYPE');
      assert.ok(backend.bytes(net) > 0, 'the network is intact');
    });

    it('netCreate with hiddenSize 0 -> ERR_GRU_ARG; setIsa("bogus") -> ERR_GRU_ISA', () => {
      throws(() => backend.netCreate(3, 0, 1, 0, 1, 1), 'ERR_GRU_ARG');
      const before = backend.isa();
      throws(() => backend.setIsa('bogus'), 'ERR_GRU_ISA');
      assert.equal(backend.isa(), before);
    });

    it('evalSigmoid / evalTanh with y shorter than x -> ERR_GRU_SHAPE', () => {
      throws(() => backend.evalSigmoid(new Float32Array(9), new Float32Array(8)), 'ERR_GRU_SHAPE');
      throws(() => backend.evalTanh(new Float32Array(9), new Float32Array(8)), 'ERR_GRU_SHAPE');
    });
  });
}
