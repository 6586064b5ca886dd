/**
 * Async calls whose arrays change while they are in flight, on the native backend: the buffer
 * of an input or an output transferred away (structuredClone with transfer) and collected, a
 * resizable ArrayBuffer shrunk to 0 (or shrunk and grown back), an input overwritten. The addon
 * works on its own copies (native/addon/owned_arrays.h): an input changed under the call is read
 * as it was when the call started (the call resolves with the numbers of a sync call on the
 * original values); an output that lost its memory or length is not written and the call
 * rejects ERR_GRU_STATE naming it. child.ts runs these in a child process with --expose-gc (a
 * crash there is a failed test, not a dead runner); test/async-mutation.test.ts checks its report.
 */
import { Dense, GRU } from '../../ts/index.js';
import type { Backend } from '../../ts/backends/backend.js';
import { rng, uniform } from '../util.js';

/** What happens to an array right after the call started. */
type How = 'transfer' | 'shrink' | 'regrow' | 'nan';
type Typed = Float32Array | Int32Array;

export interface Started {
  promise: Promise<unknown>;
  /** After it resolved: its results equal the sync call's, bitwise (gradients included). */
  right(): boolean;
  /** After it settled: its object takes a sync call with the sync numbers (not left busy). */
  usable(): boolean;
}

export interface Scenario {
  name: string;
  /** The output named by the rejection; undefined: resolves with the sync numbers. */
  rejects?: string;
  start(backend: Backend): Started;
}

const WHAT: Record<How, string> = {
  transfer: 'transferred',
  shrink: 'resizable, shrunk to 0',
  regrow: 'resizable, shrunk and grown back',
  nan: 'overwritten with NaN',
};

/** An array as the scenario needs it: over a resizable ArrayBuffer to be resized. */
function prepare<A extends Typed>(values: A, how: How | undefined): A {
  if (how !== 'shrink' && how !== 'regrow') return values;
  const Resizable = ArrayBuffer as unknown as new (n: number, o: object) => ArrayBuffer;
  const Ctor = values.constructor as new (buffer: ArrayBuffer) => A;
  const a = new Ctor(new Resizable(values.byteLength, { maxByteLength: values.byteLength }));
  a.set(values);
  return a;
}

function change(a: Typed | null | undefined, how: How | undefined): void {
  if (!a || !how) return;
  const buffer = a.buffer as ArrayBuffer & { resize(n: number): void };
  const bytes = a.byteLength;
  if (how === 'transfer') structuredClone(buffer, { transfer: [buffer] }); // the copy is dropped
  if (how === 'shrink' || how === 'regrow') buffer.resize(0);
  if (how === 'regrow') buffer.resize(bytes);
  if (how === 'nan') a.fill(NaN);
}

/** The output named in the rejection when one of `outputs` loses its memory or length. */
function rejection(outputs: Record<string, How | undefined>): string | undefined {
  return Object.keys(outputs).find((k) => outputs[k] === 'transfer' || outputs[k] === 'shrink');
}

function title(call: string, changes: Record<string, How | undefined>, extra = ''): string {
  const parts = Object.entries(changes)
    .filter(([, how]) => how)
    .map(([name, how]) => `${name} ${WHAT[how!]}`);
  return `${call}: ${[...parts, extra].filter(Boolean).join(', ')}`;
}

/** Bitwise (Object.is per element: NaN equal, -0 and 0 told apart). */
function same(a: ArrayLike<number> | null | undefined, b: ArrayLike<number> | null | undefined) {
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

const [I, H, B, T] = [64, 128, 16, 300]; // a few ms of work: the collector runs while in flight
const xs = (): Float32Array => uniform(T * B * I, -1, 1, rng(7));
const states = (): Float32Array => uniform(B * H, -1, 1, rng(8));
const gru = (backend: Backend): GRU => new GRU({ inputSize: I, hiddenSize: H, seed: 3, backend });

/**
 * GRU.forwardAsync (train: the training forward). state: h0 and hN one array (the state updated
 * in place), or 'shared': x, h0 and hN over SharedArrayBuffers, h0 and hN two objects over one
 * memory (structuredClone of a SharedArrayBuffer shares it).
 */
function gruForward(
  c: { x?: How; output?: How; hN?: How },
  o: { train?: boolean; state?: 'in place' | 'shared' } = {},
): Scenario {
  return {
    name: title(`GRU.forwardAsync${o.train ? ' train' : ''}`, c, o.state && `h0 = hN ${o.state}`),
    rejects: rejection({ y: c.output, hN: c.hN }),
    start(backend) {
      const g = gru(backend);
      const h0Ref = o.state ? states() : undefined;
      const ref = g.forward(xs(), { batch: B, h0: h0Ref });
      let x: Float32Array = prepare(xs(), c.x);
      let h0: Float32Array | undefined;
      let hN: Float32Array | undefined = c.hN ? prepare(new Float32Array(B * H), c.hN) : undefined;
      if (o.state === 'in place') h0 = hN = prepare(states(), c.hN);
      if (o.state === 'shared') {
        const sab = new SharedArrayBuffer(B * H * 4);
        h0 = new Float32Array(sab);
        h0.set(states());
        hN = new Float32Array(structuredClone(sab));
        x = new Float32Array(new SharedArrayBuffer(x.byteLength));
        x.set(xs());
      }
      const output = c.output ? prepare(new Float32Array(T * B * H), c.output) : undefined;
      let r: { output: Float32Array | null; hN: Float32Array } | undefined;
      const promise = g
        .forwardAsync(x, { batch: B, train: o.train, h0, hN, output })
        .then((v) => (r = v));
      change(x, c.x);
      change(output, c.output);
      change(hN, c.hN);
      return {
        promise,
        right: () => same(r?.output, ref.output) && same(r?.hN, ref.hN),
        usable: () => same(g.forward(xs(), { batch: B, h0: h0Ref }).hN, ref.hN),
      };
    },
  };
}

/** GRU.backwardAsync after a training forward, against backward() of an equal GRU. */
function gruBackward(c: { dOutput?: How }): Scenario {
  return {
    name: title('GRU.backwardAsync', c),
    start(backend) {
      const [a, b] = [gru(backend), gru(backend)];
      const dOut = uniform(T * B * H, -1, 1, rng(9));
      a.forward(xs(), { batch: B, train: true });
      b.forward(xs(), { batch: B, train: true });
      const ref = a.backward({ dOutput: dOut });
      const dOutput = prepare(dOut.slice(), c.dOutput);
      let r: { dx: Float32Array | null } | undefined;
      const promise = b.backwardAsync({ dOutput }).then((v) => (r = v));
      change(dOutput, c.dOutput);
      const grads = (g: GRU) => g.parameterNames().map((n) => g.getGradient(n));
      return {
        promise,
        right: () => same(r?.dx, ref.dx) && grads(a).every((v, i) => same(grads(b)[i], v)),
        usable: () => same(b.forward(xs(), { batch: B }).hN, a.forward(xs(), { batch: B }).hN),
      };
    },
  };
}

/** backend.netBackwardAsync (dx is the caller's only there). */
function netBackward(c: { dx: How }): Scenario {
  return {
    name: title('backend.netBackwardAsync', c),
    rejects: rejection({ dx: c.dx }),
    start(backend) {
      const g = gru(backend);
      const ref = g.forward(xs(), { batch: B }).hN;
      g.forward(xs(), { batch: B, train: true });
      const dx = prepare(new Float32Array(T * B * I), c.dx);
      const dy = uniform(T * B * H, -1, 1, rng(9));
      const promise = backend.netBackwardAsync(g._handle(), dy, null, dx, null);
      change(dx, c.dx);
      return {
        promise,
        right: () => false,
        usable: () => same(g.forward(xs(), { batch: B }).hN, ref),
      };
    },
  };
}

const ROWS = 4096;
const [IN, OUT] = [96, 80];

/** Dense.forwardAsync / backwardAsync, or backend.denseForwardAsync for a y of the caller's. */
function dense(c: { x?: How; y?: How; dy?: How }): Scenario {
  const call = c.dy
    ? 'Dense.backwardAsync'
    : c.y
      ? 'backend.denseForwardAsync'
      : 'Dense.forwardAsync';
  return {
    name: title(call, c),
    rejects: rejection({ y: c.y }),
    start(backend) {
      const [a, b] = [0, 1].map(
        () => new Dense({ inFeatures: IN, outFeatures: OUT, seed: 4, backend }),
      );
      const x0 = uniform(ROWS * IN, -1, 1, rng(10));
      const dy0 = uniform(ROWS * OUT, -1, 1, rng(11));
      let ref = a!.forward(x0, { train: !!c.dy });
      if (c.dy) ref = a!.backward(dy0);
      const x = prepare(x0.slice(), c.x);
      const dy = prepare(dy0.slice(), c.dy);
      const y = prepare(new Float32Array(ROWS * OUT), c.y);
      let r: Float32Array | undefined;
      let promise: Promise<unknown>;
      if (c.dy) {
        b!.forward(x0, { train: true });
        promise = b!.backwardAsync(dy).then((v) => (r = v));
      } else if (c.y) {
        promise = backend.denseForwardAsync(b!._handle(), ROWS, x, y, 0);
      } else {
        promise = b!.forwardAsync(x).then((v) => (r = v));
      }
      change(x, c.x);
      change(y, c.y);
      change(dy, c.dy);
      return {
        promise,
        right: () => same(r, ref) && same(b!.getGradient('weight'), a!.getGradient('weight')),
        usable: () => same(b!.forward(x0), a!.forward(x0)),
      };
    },
  };
}

/** backend.loss*Async with a gradient output of the caller's, against the sync call. */
function loss(kind: 'mse' | 'bce' | 'ce', c: { input?: How; targets?: How; grad?: How }): Scenario {
  const [classes, n] = [8, 1 << 18];
  const method = { mse: 'lossMse', bce: 'lossBceWithLogits', ce: 'lossSoftmaxCrossEntropy' }[kind];
  const args = (p: Float32Array, t: Typed, g: Float32Array): unknown[] =>
    kind === 'ce' ? [p, n / classes, classes, t, g] : [p, t, g];
  return {
    name: title(`backend.${method}Async`, c),
    rejects: rejection({ [kind === 'mse' ? 'dpred' : 'dlogits']: c.grad }),
    start(backend) {
      const fn = (name: string) =>
        (backend as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!;
      const r = rng(12);
      const input = uniform(n, -3, 3, rng(13));
      const targets =
        kind === 'ce'
          ? Int32Array.from({ length: n / classes }, () => Math.floor(r() * classes))
          : Float32Array.from({ length: n }, () => (r() < 0.5 ? 0 : 1));
      const gradRef = new Float32Array(n);
      const lossRef = fn(method)(...args(input, targets, gradRef)) as number;
      const [p, t] = [prepare(input.slice(), c.input), prepare(targets.slice(), c.targets)];
      const g = prepare(new Float32Array(n), c.grad);
      let value: number | undefined;
      const promise = (fn(`${method}Async`)(...args(p, t, g)) as Promise<number>).then(
        (v) => (value = v),
      );
      change(p, c.input);
      change(t, c.targets);
      change(g, c.grad);
      return {
        promise,
        right: () => Object.is(value, lossRef) && same(g, gradRef),
        usable: () => true,
      };
    },
  };
}

export const SCENARIOS: Scenario[] = [
  gruForward({ output: 'transfer' }),
  gruForward({ output: 'shrink' }),
  gruForward({ output: 'regrow' }),
  gruForward({ hN: 'transfer' }),
  gruForward({ x: 'transfer' }),
  gruForward({ x: 'shrink' }),
  gruForward({ x: 'nan' }),
  gruForward({ x: 'transfer', output: 'transfer' }),
  gruForward({}, { state: 'in place' }),
  gruForward({ hN: 'transfer' }, { state: 'in place' }),
  gruForward({}, { state: 'shared' }),
  gruForward({ output: 'transfer' }, { train: true }),
  gruForward({ x: 'transfer' }, { train: true }),
  gruBackward({ dOutput: 'transfer' }),
  gruBackward({ dOutput: 'shrink' }),
  netBackward({ dx: 'transfer' }),
  dense({ x: 'transfer' }),
  dense({ x: 'shrink' }),
  dense({ y: 'transfer' }),
  dense({ dy: 'transfer' }),
  loss('mse', { input: 'transfer' }),
  loss('mse', { grad: 'transfer' }),
  loss('bce', { targets: 'shrink', grad: 'shrink' }),
  loss('ce', { input: 'shrink', targets: 'transfer' }),
];
