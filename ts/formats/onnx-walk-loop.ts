/**
 * Loop nodes, read by the ONNX importer's walk (onnx-walk.ts): a Loop whose body is one step of
 * a GRU over the time axis, as tf2onnx writes a Keras 3 GRU (its GRU rewriter matches tf.keras
 * 2 graphs only). The body is not matched against a fixed pattern: it is *run* (a small
 * interpreter, onnx-loop-body.ts) on random inputs and states for each of the trip's steps,
 * and its new state is compared with the GRU cell's formula for each reading of its constants
 * (which is the kernel, which the recurrent kernel, the bias, the gate order, reset_after or
 * not, the activations). One reading must reproduce the body's state, and its scan outputs,
 * to rounding; else the Loop is refused, naming what does not fit. A body whose state depends
 * on anything else (another carried value, a different step of the input) never fits.
 *
 * The Keras cell, gates in the kernel's column blocks (z, r, h), `x W` and `h U` row-vector
 * products, bias rows b_x (input) and b_h (recurrent, reset_after only):
 *   z = σ(x W_z + b_xz + h U_z + b_hz),  r = σ(x W_r + b_xr + h U_r + b_hr)
 *   reset_after:  n = tanh(x W_h + b_xh + r ⊙ (h U_h + b_hh))
 *   reset_before: n = tanh(x W_h + b_xh + (r ⊙ h) U_h)
 *   h' = z ⊙ h + (1 − z) ⊙ n
 */
import type { GRUActivation, GRURecurrentActivation } from '../gru.js';
import { swapFirstTwoBlocks } from './onnx-export.js';
import { transpose, where } from './onnx-import-util.js';
import { CHECK_WORK, runBody, toTensor, type Tensor } from './onnx-loop-body.js';
import { formatError, type OnnxGraph, type OnnxNode } from './onnx-proto.js';
import { type DataValue, type DirectionOf, type GruNodeSpec, type Value } from './onnx-values.js';
import type { Walk } from './onnx-walk.js';

/** The body graph of a Loop node. */
export function loopBody(node: OnnxNode): OnnxGraph {
  const a = node.attributes.get('body');
  if (a?.type !== 'graph') return formatError(`${where(node)} has no body graph`);
  return a.value;
}

/** The names a node's subgraphs read from the enclosing graph (for the import's node order). */
export function outerReads(node: OnnxNode): string[] {
  if (node.opType !== 'Loop') return [];
  const known = OUTER_READS.get(node);
  if (known !== undefined) return known;
  const body = loopBody(node);
  const inside = new Set([
    ...body.inputs.map((i) => i.name),
    ...body.initializers.keys(),
    ...body.nodes.flatMap((n) => n.outputs),
  ]);
  const out = new Set<string>();
  for (const n of body.nodes) for (const i of n.inputs) if (i && !inside.has(i)) out.add(i);
  OUTER_READS.set(node, [...out]);
  return [...out];
}
const OUTER_READS = new WeakMap<OnnxNode, string[]>();

/** The importer runs the body once per step (checking its condition): a bound on that work. */
const MAX_TRIPS = 4096;
/** Readings of the constants tried (a real body has one kernel, one recurrent kernel, one bias). */
const MAX_READINGS = 4096;

/** One reading of the body's constants as a Keras GRU cell. */
interface Reading {
  kernel: Tensor;
  recurrent: Tensor;
  bias: Tensor | null;
  resetAfter: boolean;
  /** Where z, r and h start in the 3H columns, in blocks of H. */
  order: 'zrh' | 'rzh';
  activation: GRUActivation;
  recurrentActivation: GRURecurrentActivation;
}

const GATE_ACTS: Record<GRURecurrentActivation, (v: number) => number> = {
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  hardSigmoid: (v) => Math.min(1, Math.max(0, v / 6 + 0.5)),
  hardSigmoidKeras2: (v) => Math.min(1, Math.max(0, 0.2 * v + 0.5)),
};
const CANDIDATE_ACTS: Record<GRUActivation, (v: number) => number> = {
  tanh: Math.tanh,
  relu: (v) => Math.max(0, v),
};

/** The Keras cell's new state for a batch x [B, I], h [B, H], as `reading` reads the weights. */
function cell(rd: Reading, x: Tensor, h: Tensor, B: number, I: number, H: number): Float64Array {
  const [zAt, rAt] = rd.order === 'zrh' ? [0, H] : [H, 0];
  const hAt = 2 * H;
  const W = rd.kernel.v;
  const U = rd.recurrent.v;
  const b = rd.bias?.v;
  const f = GATE_ACTS[rd.recurrentActivation];
  const g = CANDIDATE_ACTS[rd.activation];
  const out = new Float64Array(B * H);
  const xw = (n: number, col: number) => {
    let s = b ? b[col]! : 0;
    for (let i = 0; i < I; i++) s += x.v[n * I + i]! * W[i * 3 * H + col]!;
    return s;
  };
  const hu = (n: number, col: number, state: (k: number) => number) => {
    let s = rd.resetAfter && b ? b[3 * H + col]! : 0;
    for (let k = 0; k < H; k++) s += state(k) * U[k * 3 * H + col]!;
    return s;
  };
  for (let n = 0; n < B; n++) {
    const hOf = (k: number) => h.v[n * H + k]!;
    const r = Array.from({ length: H }, (_, j) => f(xw(n, rAt + j) + hu(n, rAt + j, hOf)));
    for (let j = 0; j < H; j++) {
      const z = f(xw(n, zAt + j) + hu(n, zAt + j, hOf));
      const pre = rd.resetAfter
        ? xw(n, hAt + j) + r[j]! * hu(n, hAt + j, hOf)
        : xw(n, hAt + j) + hu(n, hAt + j, (k) => r[k]! * hOf(k));
      out[n * H + j] = z * hOf(j) + (1 - z) * g(pre);
    }
  }
  return out;
}

/** Deterministic pseudo-random numbers in [-1, 1) (the probes must not depend on Math.random). */
function probe(count: number, seed: number): Float64Array {
  let s = seed >>> 0 || 1;
  return Float64Array.from({ length: count }, () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) / 2 ** 32) * 2 - 1;
  });
}

const near = (a: Float64Array, b: Float64Array) =>
  a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) <= 1e-6 * (1 + Math.abs(b[i]!)));

export function readLoop(w: Walk, node: OnnxNode): (Value | null)[] {
  const what = where(node);
  const body = loopBody(node);
  const refuse = (why: string): never =>
    formatError(`${what}: not a GRU step over the time axis (${why})`);
  const N = node.inputs.length - 2;
  if (N < 1 || body.inputs.length !== N + 2 || body.outputs.length < N + 1)
    refuse(
      `${N} loop-carried values for a body of ${body.inputs.length} inputs and ${body.outputs.length} outputs`,
    );
  // The trip: M steps, M = the input's declared steps. (A trip count computed when the model
  // runs is refused: the probes could not show that the body's condition holds for every step.)
  const M = w.input(node, 0);
  const trips = M?.kind === 'const' && M.ints?.length === 1 ? M.ints[0]! : null;
  if (trips !== null && trips > MAX_TRIPS)
    return refuse(`its ${trips} steps are more than the ${MAX_TRIPS} the importer runs it for`);
  if (trips === null || trips < 1 || trips !== w.declaredSteps)
    return refuse(
      `its trip count ${trips ?? 'computed when the model runs'} is not the input's declared number of steps (${w.declaredSteps ?? 'dynamic'})`,
    );
  const cond = w.input(node, 1);
  if (cond !== null && !(cond.kind === 'const' && (cond.ints ?? cond.floats)?.[0]))
    refuse('its first condition is not a constant true');
  // The carried values: one state starting from zeros, constants, and integer counters.
  const initial = node.inputs.slice(2).map((_, k) => w.need(node, k + 2));
  const stateAt = initial.findIndex((v) => v.kind === 'zeros');
  if (stateAt < 0 || initial.some((v, k) => k !== stateAt && v.kind !== 'const'))
    refuse(
      `its carried values must be one state starting from zeros and constants, got ${initial.map((v) => v.kind).join(', ')}`,
    );
  // Candidate weights: carried float constants, those the body reads from the graph, and its
  // float initializers.
  const pool: Tensor[] = [];
  initial.forEach((v, k) => {
    if (
      v.kind === 'const' &&
      v.floats !== null &&
      body.outputs[k + 1]?.name === body.inputs[k + 2]!.name
    )
      pool.push(toTensor(v));
  });
  for (const name of outerReads(node)) {
    const v = w.value(name, `${what}'s body`);
    if (v.kind === 'const' && v.floats !== null && v.dims.length >= 1) pool.push(toTensor(v));
  }
  for (const t of body.initializers.values()) {
    if (t.dims.length >= 1 && t.count >= 3) {
      const c = w.tensor(t);
      if (c.floats !== null) pool.push(toTensor(c));
    }
  }
  const recurrents = pool.filter((t) => t.dims.length === 2 && t.dims[1] === 3 * t.dims[0]!);
  if (recurrents.length === 0) refuse('no constant is a recurrent kernel [units, 3 units]');
  // The input the body reads step by step: found by running it (a Gather of outer data).
  const B = 2;
  const read: { x: DataValue | null } = { x: null };
  const readings: Reading[] = [];
  for (const recurrent of recurrents) {
    const H = recurrent.dims[0]!;
    for (const kernel of pool) {
      if (kernel === recurrent || kernel.dims.length !== 2 || kernel.dims[1] !== 3 * H) continue;
      const biases: (Tensor | null)[] = [
        null,
        ...pool.filter((t) => t.v.length === 3 * H || t.v.length === 6 * H),
      ];
      for (const bias of biases)
        for (const resetAfter of bias === null || bias.v.length === 3 * H ? [true, false] : [true])
          for (const order of ['zrh', 'rzh'] as const)
            for (const recurrentActivation of Object.keys(GATE_ACTS) as GRURecurrentActivation[])
              for (const activation of Object.keys(CANDIDATE_ACTS) as GRUActivation[])
                readings.push({
                  kernel,
                  recurrent,
                  bias,
                  resetAfter,
                  order,
                  activation,
                  recurrentActivation,
                });
    }
  }
  if (readings.length > MAX_READINGS)
    refuse(
      `its constants can be read as a cell in ${readings.length} ways (at most ${MAX_READINGS} are tried)`,
    );
  if (readings.length === 0)
    refuse('no constant is a kernel [features, 3 units] beside the recurrent one');
  // Run the body for each step, checking every reading against its new state (for each number
  // of units the recurrent kernels allow, as the state's size is only known when it runs).
  const work = { left: CHECK_WORK };
  let I = 0;
  const check = (H: number): Reading[] => {
    let carried = initial.map((v) => (v.kind === 'const' ? toTensor(v) : null));
    let alive = readings.filter((rd) => rd.recurrent.dims[0] === H);
    for (let i = 0; i < trips && alive.length > 0; i++) {
      const h: Tensor = { dims: [B, H], v: probe(B * H, 7 + i) };
      const inputs = carried.map((t, k) => (k === stateAt ? h : t!));
      const run = runBody(
        w,
        node,
        body,
        i,
        inputs,
        (data) => {
          if (read.x !== null && data !== read.x) refuse('it reads two different data values');
          read.x = data;
          I = data.axes[2]!.size!;
          return { dims: [B, I], v: probe(B * I, 1000 + i) };
        },
        work,
      );
      if (read.x === null) refuse("it does not read the model's input step by step");
      if (i < trips - 1 && !run.cond)
        refuse(`its condition stops it after step ${i + 1} of ${trips}`);
      const state = run.outputs[stateAt]!;
      const shaped = [state, ...run.scans].every((t) => t.dims.join() === `${B},${H}`);
      alive = alive.filter((rd) => {
        if (rd.kernel.dims[0] !== I || !shaped) return false;
        work.left -= 2 * B * 3 * H * (I + H);
        if (work.left < 0)
          refuse(`checking its readings is more work than ${CHECK_WORK} operations`);
        const want = cell(rd, run.x!, h, B, I, H);
        return near(state.v, want) && run.scans.every((s) => near(s.v, want));
      });
      carried = run.outputs.map((t, k) => (k === stateAt ? null : t));
    }
    return alive;
  };
  let alive: Reading[] = [];
  for (const H of new Set(readings.map((rd) => rd.recurrent.dims[0]!))) {
    alive = check(H);
    if (alive.length > 0) break;
  }
  const rd = alive[0];
  if (rd === undefined)
    refuse(
      'its new state is not a GRU cell (Keras form, sigmoid or hard-sigmoid gates, tanh or relu candidate) of its constants and the step of the input',
    );
  const xs = w.settle(read.x!, what);
  const H = rd.recurrent.dims[0]!;
  // To the core's layout: [3H, in] in the gate order (r, z, n).
  const zrh = (m: Float64Array, rows: number): Float32Array => {
    const t = transpose(Float32Array.from(m), rows, 3 * H);
    return rd.order === 'zrh' ? swapFirstTwoBlocks(t, H * rows) : t;
  };
  const vec = (m: Float64Array | undefined, at: number): Float32Array => {
    if (m === undefined) return new Float32Array(3 * H);
    const v = Float32Array.from(m.subarray(at, at + 3 * H));
    return rd.order === 'zrh' ? swapFirstTwoBlocks(v, H) : v;
  };
  const gru: GruNodeSpec = {
    node: node.name,
    units: H,
    inputSize: I,
    direction: 'forward',
    resetAfter: rd.resetAfter,
    activation: rd.activation,
    recurrentActivation: rd.recurrentActivation,
    useBias: rd.bias !== null,
    masked: false,
    weights: [
      {
        weightIh: zrh(rd.kernel.v, I),
        weightHh: zrh(rd.recurrent.v, H),
        biasIh: vec(rd.bias?.v, 0),
        biasHh: rd.resetAfter && rd.bias ? vec(rd.bias.v, 3 * H) : new Float32Array(3 * H),
      },
    ],
    inputLayers: xs.layers,
  };
  const directions: DirectionOf[] = [{ gru, direction: 0 }];
  const b = { role: 'batch' as const, size: null };
  const f = { role: 'features' as const, size: H };
  const outs: (Value | null)[] = initial.map((v, k) =>
    k === stateAt
      ? { kind: 'data', axes: [b, f], layers: [], pending: { directions, final: true }, ids: false }
      : v.kind === 'const' && body.outputs[k + 1]?.name === body.inputs[k + 2]!.name
        ? v
        : null,
  );
  for (let s = N + 1; s < body.outputs.length; s++)
    outs.push({
      kind: 'data',
      axes: [{ role: 'steps', size: null }, b, f],
      layers: [],
      pending: { directions, final: false },
      ids: false,
    });
  return outs;
}
