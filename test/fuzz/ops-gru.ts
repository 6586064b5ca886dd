/**
 * GRU and GRUStream (ts/gru.ts, ts/gru-stream.ts). Bad, by the README: a size that is not an
 * integer in its range (inputSize/hiddenSize <= GRU_MAX_DIM, numLayers <= 1024, batch and
 * seqLen <= 2^30), x not a positive multiple of batch x inputSize (or not seqLen x that), h0 /
 * hN / output of the wrong length, lengths not batch integers in [0, seqLen], dropout outside
 * [0, 1) or without train, dropoutSeed without train, output with returnSequences false,
 * output or hN overlapping x (or output, or part of h0: hN may be h0 itself), a stream over a
 * bidirectional GRU ("unidirectional GRUs only"), any call but dispose on a disposed GRU or on
 * a stream whose GRU was disposed.
 */
import { GRU } from '../../ts/gru.js';
import { GRUStream } from '../../ts/gru-stream.js';
import { GRUStreams } from '../../ts/gru-streams.js';
import { arg, bad, good, type Arg, type Ctx, type Op } from './call.js';
import { f32, i32, isF32, lengthOf, mutateInFlight } from './arrays.js';
import { backendArg, getter, ints, isDisposed, objectArg, onPool } from './ops-common.js';
import { layerMeta, layerOps } from './ops-layer.js';
import type { Entry } from './pool.js';
import { bool, choice, float32, int, options, uint32 } from './values.js';

interface GruMeta {
  I: number;
  H: number;
  L: number;
  D: number;
  /** GRU precision: a training forward with bf16 / int8 weights must be refused. */
  precision: string;
  trained: { T: number; B: number } | null;
}

const none = good(undefined, '');
const maybe = (ctx: Ctx, p: number, make: () => Arg): Arg => (ctx.rng.chance(p) ? make() : none);

/** Keeps a new GRU in the pool when it is small (else disposes it: no big object stays). */
export function keepGru(ctx: Ctx, g: GRU): void {
  const small = g.inputSize * g.hiddenSize * g.numLayers <= 4096;
  const meta = {
    I: g.inputSize,
    H: g.hiddenSize,
    L: g.numLayers,
    D: g.numDirections,
    precision: g.precision,
  };
  const entry = small ? ctx.pool.add('GRU', g, {}) : ctx.pool.track('GRU', g, {});
  Object.assign(entry.meta, meta, { trained: null }, layerMeta(g));
  if (!small) ctx.pool.dispose(entry);
}

const newGru: Op = {
  name: 'new GRU',
  make(ctx) {
    const r = ctx.rng;
    // Now and then both sizes at GRU_MAX_DIM: valid, but 3 * 2^20 * 2^21 floats cannot be
    // allocated (ERR_GRU_ALLOC), and on wasm32 the byte count overflows 32 bits.
    const huge = r.chance(0.03);
    const size = (name: string, hi: number) =>
      huge ? good(2 ** 20, `${name}: 2^20`) : int(ctx, name, { min: 1, max: 2 ** 20, hi });
    const fields = {
      inputSize: size('inputSize', 12),
      hiddenSize: size('hiddenSize', 20),
      numLayers: int(ctx, 'numLayers', { min: 1, max: 1024, hi: 3, optional: true }),
      bidirectional: bool(ctx, 'bidirectional'),
      bias: bool(ctx, 'bias'),
      batchFirst: bool(ctx, 'batchFirst'),
      resetAfter: bool(ctx, 'resetAfter'),
      activation: choice(
        ctx,
        'activation',
        ['tanh', 'relu'],
        ['sigmoid', 'Tanh', 'bogus', 5],
        true,
      ),
      recurrentActivation: choice(
        ctx,
        'recurrentActivation',
        ['sigmoid', 'hardSigmoid', 'hardSigmoidKeras2'],
        ['hard_sigmoid', 'tanh', 'relu', null, 2],
        true,
      ),
      precision: choice(
        ctx,
        'precision',
        ['fp32', 'bf16', 'int8'],
        ['fp16', 'BF16', 'int4', null, 1],
        true,
      ),
      seed: uint32(ctx, 'seed'),
      backend: backendArg(ctx),
    };
    const o = options(ctx, 'GRU options', fields);
    return {
      args: [o],
      run: () => new GRU(o.value as never),
      done: (g) => keepGru(ctx, g as GRU),
    };
  },
};

/** forward()'s arguments for a GRU of the pool. */
function forwardArgs(ctx: Ctx, g: GRU, m: GruMeta) {
  const r = ctx.rng;
  let B = r.int(1, 3);
  const T = r.int(1, 4);
  const batch =
    B === 1 && r.chance(0.3)
      ? none
      : int(ctx, 'batch', { min: 1, max: 2 ** 30, lo: B, hi: B, optional: true });
  if (batch.value === undefined) B = 1; // omitted: batch 1
  const per = B * m.I;
  const seqLen = maybe(ctx, 0.3, () =>
    int(ctx, 'seqLen', { min: 1, max: 2 ** 30, lo: T, hi: T, optional: true }),
  );
  const ok =
    seqLen.value === undefined
      ? (l: number) => l > 0 && l % per === 0
      : (l: number) => l === T * per;
  const stateLen = m.L * m.D * B * m.H;
  const outLen = T * B * m.D * m.H;
  let train = maybe(ctx, 0.4, () => bool(ctx, 'train'));
  const training = train.value === true;
  // Training needs fp32 weights (GRUOptions.precision).
  if (training && m.precision !== 'fp32')
    train = bad(true, `train: true with precision '${m.precision}'`);
  const f: Record<string, Arg> = {
    batch,
    seqLen,
    h0: maybe(ctx, 0.3, () => f32(ctx, 'h0', stateLen, { optional: true })),
    lengths: maybe(ctx, 0.25, () =>
      i32(ctx, 'lengths', ints(ctx, B, 0, T), { lo: 0, hi: T, arrays: true, optional: true }),
    ),
    returnSequences: maybe(ctx, 0.2, () => bool(ctx, 'returnSequences')),
    train,
  };
  const drop = maybe(ctx, 0.3, () =>
    float32(ctx, 'dropout', { min: 0, max: 1, maxOpen: true, lo: 0, hi: 0.9, optional: true }),
  );
  const dropBad = !training && typeof drop.value === 'number' && drop.value !== 0;
  f.dropout = dropBad ? bad(drop.value, `${drop.what} without train`) : drop;
  const inDrop = maybe(ctx, 0.3, () =>
    float32(ctx, 'inputDropout', { min: 0, max: 1, maxOpen: true, lo: 0, hi: 0.9, optional: true }),
  );
  f.inputDropout =
    !training && typeof inDrop.value === 'number' && inDrop.value !== 0
      ? bad(inDrop.value, `${inDrop.what} without train`)
      : inDrop;
  const recDrop = maybe(ctx, 0.3, () =>
    float32(ctx, 'recurrentDropout', {
      min: 0,
      max: 1,
      maxOpen: true,
      lo: 0,
      hi: 0.9,
      optional: true,
    }),
  );
  f.recurrentDropout =
    !training && typeof recDrop.value === 'number' && recDrop.value !== 0
      ? bad(recDrop.value, `${recDrop.what} without train`)
      : recDrop;
  const seed = maybe(ctx, 0.1, () => uint32(ctx, 'dropoutSeed'));
  f.dropoutSeed =
    !training && seed.value !== undefined ? bad(seed.value, 'dropoutSeed without train') : seed;
  // x, and output / hN: alone, or views of one buffer (overlapping or not).
  let x = f32(ctx, 'x', T * per, { ok });
  const noSeq = f.returnSequences.value === false;
  if (r.chance(0.3) && !x.bad) {
    const shared = new ArrayBuffer((T * per + outLen + stateLen) * 4);
    x = good(new Float32Array(shared, 0, T * per), `x: Float32Array(${T * per}) at 0`);
    const at = r.pick([0, r.int(0, T * per), T * per]);
    const out = new Float32Array(shared, at * 4, outLen);
    const overlaps = at < T * per;
    f.output = arg(out, overlaps || noSeq, `output at ${at}${overlaps ? ', overlapping x' : ''}`);
    const hAt = r.pick([0, T * per, T * per + outLen]);
    const hOver = hAt < T * per + outLen;
    f.hN = maybe(ctx, 0.5, () =>
      arg(new Float32Array(shared, hAt * 4, stateLen), hOver, `hN at ${hAt}`),
    );
  } else {
    f.output = maybe(ctx, 0.2, () => f32(ctx, 'output', outLen, { optional: true }));
    if (f.output.value !== undefined && noSeq)
      f.output = bad(f.output.value, 'output with returnSequences: false');
    const h0 = f.h0.value;
    f.hN = maybe(ctx, 0.25, () =>
      isF32(h0) && h0.length > 0 && r.chance(0.5) // (a detached h0 has no subarray)
        ? r.chance(0.6)
          ? arg(h0, f.h0.bad, 'hN: h0 itself')
          : arg(h0.subarray(1), true, 'hN: part of h0')
        : f32(ctx, 'hN', stateLen, { optional: true }),
    );
  }
  const o = options(ctx, 'forward options', f, true);
  // Options omitted: batch 1 and seqLen inferred, so x needs only to hold whole steps.
  const xl = isF32(x.value) ? x.value.length : undefined;
  if (o.value === undefined && xl !== undefined) x = { ...x, bad: !(xl > 0 && xl % m.I === 0) };
  return { x, o, training, T, B };
}

function forwardOp(name: string, isAsync: boolean): Op {
  return onPool<GRU>(name, 'GRU', (ctx, e) => {
    const m = e.meta as unknown as GruMeta;
    const a = forwardArgs(ctx, e.obj, m);
    const args = [a.x, a.o];
    const forget = () => {
      if (a.training) m.trained = null;
    };
    return {
      args,
      async: isAsync,
      run: () => {
        if (!isAsync) return e.obj.forward(a.x.value as never, a.o.value as never);
        const p = e.obj.forwardAsync(a.x.value as never, a.o.value as never);
        mutateInFlight(ctx, [a.x.value, a.o.value]);
        return p;
      },
      done: () => {
        if (a.training) m.trained = { T: a.T, B: a.B };
      },
      failed: forget,
    };
  });
}

function backwardOp(name: string, isAsync: boolean): Op {
  return onPool<GRU>(name, 'GRU', (ctx, e) => {
    const m = e.meta as unknown as GruMeta;
    const t = m.trained;
    // Lengths are known only after a training forward the fuzzer saw succeed.
    const anyLen = { ok: () => t === null };
    const out = t ? t.T * t.B * m.D * m.H : ctx.rng.int(1, 40);
    const state = t ? m.L * m.D * t.B * m.H : ctx.rng.int(1, 40);
    const f = {
      dOutput: maybe(ctx, 0.6, () =>
        f32(ctx, 'dOutput', out, { optional: true, ...(t ? {} : anyLen) }),
      ),
      dHN: maybe(ctx, 0.4, () => f32(ctx, 'dHN', state, { optional: true, ...(t ? {} : anyLen) })),
      inputGrad: maybe(ctx, 0.3, () => bool(ctx, 'inputGrad')),
      h0Grad: maybe(ctx, 0.3, () => bool(ctx, 'h0Grad')),
    };
    const o = options(ctx, 'backward options', f, true);
    return {
      args: [o],
      async: isAsync,
      run: () =>
        isAsync ? e.obj.backwardAsync(o.value as never) : e.obj.backward(o.value as never),
      done: () => {
        m.trained = null;
      },
    };
  });
}

const streamOp = onPool<GRU>('GRU.stream', 'GRU', (ctx, e) => {
  const m = e.meta as unknown as GruMeta;
  const B = ctx.rng.int(1, 3);
  const batch = int(ctx, 'batch', { min: 1, max: 2 ** 30, lo: B, hi: B, optional: true });
  const b = typeof batch.value === 'number' && !batch.bad ? batch.value : 1;
  const f = { batch, h0: maybe(ctx, 0.3, () => f32(ctx, 'h0', m.L * b * m.H, { optional: true })) };
  const o = options(ctx, 'stream options', f, true);
  return {
    args: [o],
    run: () => e.obj.stream(o.value as never),
    done: (s) => {
      ctx.pool.add('GRUStream', s, { ...m, B: (s as GRUStream).batch });
    },
  };
});

const sizeOps = [
  onPool<GRU>('GRU.trainBytesPerStep', 'GRU', (_c, e) => ({
    args: [],
    run: () => e.obj.trainBytesPerStep(),
  })),
  onPool<GRU>('GRU.trainBytes', 'GRU', (_c, e) => ({ args: [], run: () => e.obj.trainBytes() })),
  getter('GRU.numDirections', 'GRU', 'numDirections'),
  onPool<GRU>('GRU.weightBytes', 'GRU', (_c, e) => ({ args: [], run: () => e.obj.weightBytes() })),
  getter('GRU.precision', 'GRU', 'precision'),
  onPool<GRU>('GRU.setPrecision', 'GRU', (ctx, e) => {
    const m = e.meta as unknown as GruMeta;
    const p = choice(ctx, 'precision', ['fp32', 'bf16', 'int8'], ['fp16', 'FP32', '', null, 2]);
    return {
      args: [p],
      run: () => e.obj.setPrecision(p.value as never),
      // What the last training forward kept is dropped.
      done: () => {
        m.precision = p.value as string;
        m.trained = null;
      },
    };
  }),
];

// ---- GRUStream ----------------------------------------------------------------------------

const newStream: Op = {
  name: 'new GRUStream',
  make(ctx) {
    const g = objectArg(ctx, 'gru', ['GRU']);
    const gru = g.value instanceof GRU ? g.value : null;
    const gArg = gru && gru.bidirectional ? bad(gru, 'gru: a bidirectional GRU') : g;
    const B = ctx.rng.int(1, 3);
    const batch = int(ctx, 'batch', { min: 1, max: 2 ** 30, lo: B, hi: B });
    const L = gru?.numLayers ?? 1;
    const H = gru?.hiddenSize ?? 1;
    const h0 = maybe(ctx, 0.3, () => f32(ctx, 'h0', L * B * H, { optional: true }));
    return {
      args: [gArg, batch, h0],
      run: () => new GRUStream(gArg.value as never, batch.value as never, h0.value as never),
      done: (s) => {
        const st = s as GRUStream;
        const m = { I: st.gru.inputSize, H: st.gru.hiddenSize, L: st.gru.numLayers, B: st.batch };
        ctx.pool.add('GRUStream', s, m);
      },
    };
  },
};

type StreamEntry = Entry<GRUStream>;
const streamGone = (e: StreamEntry) => (isDisposed(e.obj.gru) ? 'its GRU was disposed' : undefined);

function streamOps(): Op[] {
  const m = (e: StreamEntry) => e.meta as { I: number; H: number; L: number; B: number };
  const xArg = (ctx: Ctx, e: StreamEntry, steps: number) =>
    f32(ctx, 'x', steps * m(e).B * m(e).I, { ok: (l) => l > 0 && l % (m(e).B * m(e).I) === 0 });
  const o = { badState: streamGone };
  return [
    onPool<GRUStream>(
      'GRUStream.state',
      'GRUStream',
      (_c, e) => ({ args: [], run: () => e.obj.state() }),
      o,
    ),
    onPool<GRUStream>(
      'GRUStream.reset',
      'GRUStream',
      (ctx, e) => {
        const h0 = maybe(ctx, 0.5, () =>
          f32(ctx, 'h0', m(e).L * m(e).B * m(e).H, { optional: true }),
        );
        return { args: [h0], run: () => e.obj.reset(h0.value as never) };
      },
      o,
    ),
    onPool<GRUStream>(
      'GRUStream.step',
      'GRUStream',
      (ctx, e) => {
        const x = xArg(ctx, e, ctx.rng.int(1, 3));
        return { args: [x], run: () => e.obj.step(x.value as never) };
      },
      o,
    ),
    onPool<GRUStream>(
      'GRUStream.stepInto',
      'GRUStream',
      (ctx, e) => {
        const steps = ctx.rng.int(1, 3);
        const x = xArg(ctx, e, steps);
        const n = isF32(x.value) && !x.bad ? x.value.length / m(e).I : steps * m(e).B;
        const out = f32(ctx, 'output', n * m(e).H);
        return { args: [x, out], run: () => e.obj.stepInto(x.value as never, out.value as never) };
      },
      o,
    ),
  ];
}

// ---- GRUStreams -----------------------------------------------------------------------------
// Meta: the GRU's sizes and the ids open now (kept by open and close as they succeed).

interface StreamsMeta {
  I: number;
  H: number;
  L: number;
  open: number[];
}

function addStreams(ctx: Ctx, s: unknown): void {
  const g = (s as GRUStreams).gru;
  ctx.pool.add('GRUStreams', s, { I: g.inputSize, H: g.hiddenSize, L: g.numLayers, open: [] });
}

function streamsOptions(ctx: Ctx): Arg {
  const f = {
    capacity: int(ctx, 'capacity', { min: 1, max: 2 ** 24, lo: 1, hi: 6, optional: true }),
  };
  return options(ctx, 'streams options', f, true);
}

const streamsOp = onPool<GRU>('GRU.streams', 'GRU', (ctx, e) => {
  const o = streamsOptions(ctx);
  return {
    args: [o],
    run: () => e.obj.streams(o.value as never),
    done: (s) => addStreams(ctx, s),
  };
});

const newStreams: Op = {
  name: 'new GRUStreams',
  make(ctx) {
    const g = objectArg(ctx, 'gru', ['GRU']);
    const gru = g.value instanceof GRU ? g.value : null;
    const gArg = gru && gru.bidirectional ? bad(gru, 'gru: a bidirectional GRU') : g;
    const o = streamsOptions(ctx);
    return {
      args: [gArg, o],
      run: () => new GRUStreams(gArg.value as never, o.value as never),
      done: (s) => addStreams(ctx, s),
    };
  },
};

type StreamsEntry = Entry<GRUStreams>;
const streamsGone = (e: StreamsEntry) =>
  isDisposed(e.obj.gru) ? 'its GRU was disposed' : undefined;

/** An id: mostly an open one; else a closed or never-used slot, or out of range (bad). */
function streamId(ctx: Ctx, e: StreamsEntry): Arg {
  const m = e.meta as unknown as StreamsMeta;
  if (m.open.length > 0 && ctx.rng.chance(0.85)) {
    const id = ctx.rng.pick(m.open);
    return good(id, `id: ${id} (open)`);
  }
  const id = int(ctx, 'id', { min: 0, max: e.obj.capacity - 1, lo: 0, hi: e.obj.capacity - 1 });
  if (!id.bad && typeof id.value === 'number' && !m.open.includes(id.value))
    return bad(id.value, `id: ${id.value} (not open)`);
  return id;
}

function streamsOps(): Op[] {
  const m = (e: StreamsEntry) => e.meta as unknown as StreamsMeta;
  const o = { badState: streamsGone };
  const h0Arg = (ctx: Ctx, e: StreamsEntry) =>
    maybe(ctx, 0.5, () => f32(ctx, 'h0', m(e).L * m(e).H, { optional: true }));
  const stepOp = (isAsync: boolean) =>
    onPool<GRUStreams>(
      `GRUStreams.step${isAsync ? 'Async' : ''}`,
      'GRUStreams',
      (ctx, e) => {
        const open = m(e).open;
        if (open.length === 0) return null;
        const n = ctx.rng.int(1, open.length);
        const chosen = [...open].sort(() => ctx.rng.next() - 0.5).slice(0, n);
        const ids = i32(ctx, 'ids', chosen, {
          lo: 0,
          hi: e.obj.capacity - 1,
          arrays: true,
          ok: (l) => l > 0,
        });
        const rows = ids.bad ? n : (lengthOf(ids.value) ?? n);
        const x = f32(ctx, 'x', rows * m(e).I);
        const out = maybe(ctx, 0.4, () => f32(ctx, 'output', rows * m(e).H, { optional: true }));
        return {
          args: [ids, x, out],
          async: isAsync,
          run: () =>
            isAsync
              ? e.obj.stepAsync(ids.value as never, x.value as never, out.value as never)
              : e.obj.step(ids.value as never, x.value as never, out.value as never),
        };
      },
      o,
    );
  return [
    onPool<GRUStreams>(
      'GRUStreams.open',
      'GRUStreams',
      (ctx, e) => {
        const h0 = h0Arg(ctx, e);
        return {
          args: [h0],
          run: () => e.obj.open(h0.value as never),
          done: (id) => void m(e).open.push(id as number),
        };
      },
      o,
    ),
    onPool<GRUStreams>(
      'GRUStreams.close',
      'GRUStreams',
      (ctx, e) => {
        const id = streamId(ctx, e);
        return {
          args: [id],
          run: () => e.obj.close(id.value as never),
          done: () => {
            m(e).open = m(e).open.filter((v) => v !== id.value);
          },
        };
      },
      o,
    ),
    onPool<GRUStreams>(
      'GRUStreams.reset',
      'GRUStreams',
      (ctx, e) => {
        const id = streamId(ctx, e);
        const h0 = h0Arg(ctx, e);
        return { args: [id, h0], run: () => e.obj.reset(id.value as never, h0.value as never) };
      },
      o,
    ),
    onPool<GRUStreams>(
      'GRUStreams.state',
      'GRUStreams',
      (ctx, e) => {
        const id = streamId(ctx, e);
        return { args: [id], run: () => e.obj.state(id.value as never) };
      },
      o,
    ),
    stepOp(false),
    stepOp(true),
    getter('GRUStreams.size', 'GRUStreams', 'size'),
    getter('GRUStreams.capacity', 'GRUStreams', 'capacity'),
  ];
}

export const GRU_OPS: Op[] = [
  newGru,
  forwardOp('GRU.forward', false),
  forwardOp('GRU.forwardAsync', true),
  backwardOp('GRU.backward', false),
  backwardOp('GRU.backwardAsync', true),
  streamOp,
  ...sizeOps,
  ...layerOps('GRU', ['GRU']),
  newStream,
  ...streamOps(),
  streamsOp,
  newStreams,
  ...streamsOps(),
];
