/**
 * The GRU layer: a stack of numLayers GRU cells, one or two directions each, whose weights
 * live in a backend (native addon or wasm heap) in the kernels' packed layout. Parameters go
 * in and out in PyTorch's nn.GRU state_dict layout; the packed form is private.
 *
 * Over 400 lines: forward, training and their async variants of one layer, and their option
 * checks.
 */
import { ACTIVATIONS } from './activations.js';
import type { Backend, NetHandle } from './backends/backend.js';
import { holding } from './busy.js';
import { deriveSeed } from './dropout.js';
import { GruError } from './errors.js';
import { currentBackend } from './loader.js';
import { GRUStream } from './gru-stream.js';
import { GRUStreams, type GRUStreamsOptions } from './gru-streams.js';
import { Layer } from './layer.js';
import { trainingOutput } from './step-arrays.js';
import * as check from './validate.js';

export interface GRUOptions {
  /** Features per timestep of the input. */
  inputSize: number;
  /** Features of the hidden state. */
  hiddenSize: number;
  /** Stacked layers (default 1). Layer k > 0 takes layer k-1's output. */
  numLayers?: number;
  /** Run a second direction over each sequence reversed and concatenate (default false). */
  bidirectional?: boolean;
  /** Learnable biases b_ih and b_hh (default true). */
  bias?: boolean;
  /** Input and output as [batch, seq, features] instead of [seq, batch, features] (default false). */
  batchFirst?: boolean;
  /**
   * true (default): n = tanh(W_n x + b_in + r * (U_n h + b_hn)), as PyTorch, ONNX
   * (linear_before_reset=1), cuDNN and Keras 2+. false: n = tanh(W_n x + b_in + U_n (r * h) + b_hn),
   * as Cho et al. 2014 and Keras reset_after=False.
   */
  resetAfter?: boolean;
  /**
   * The candidate's activation (default 'tanh'): 'relu' gives n = relu(...), as Keras's
   * GRU(activation='relu').
   */
  activation?: GRUActivation;
  /**
   * The gates' (r and z) activation (default 'sigmoid'): 'hardSigmoid' is Keras 3's
   * relu6(x + 3) / 6, 'hardSigmoidKeras2' Keras 2's, tf.keras's and tfjs's clip(0.2 x + 0.5, 0, 1)
   * (the default of Keras 2's GRU, so of many saved models).
   */
  recurrentActivation?: GRURecurrentActivation;
  /**
   * How the packed weights the forward reads are stored (default 'fp32'): 'bf16' (half the
   * bytes, each weight rounded to nearest even, relative error <= 2^-9) or 'int8' (a quarter,
   * symmetric per output row: scale max|row| / 127, error <= scale / 2 per weight). Inference
   * only (forward without train, streams); the inputs, sums and gate math stay fp32. See
   * setPrecision().
   */
  precision?: GRUPrecision;
  /** Seed of the initial parameters, U(-1/sqrt(H), 1/sqrt(H)); random if omitted. */
  seed?: number;
  /** Backend to hold the weights; default: the one chosen by init(). */
  backend?: Backend;
}

/** The candidate activations the core GRU offers. */
export type GRUActivation = 'tanh' | 'relu';
/** The gate activations the core GRU offers. */
export type GRURecurrentActivation = 'sigmoid' | 'hardSigmoid' | 'hardSigmoidKeras2';
export const GRU_ACTIVATIONS: readonly GRUActivation[] = ['tanh', 'relu'];
/** How a GRU's packed weights are stored (GRUOptions.precision). */
export type GRUPrecision = 'fp32' | 'bf16' | 'int8';
export const GRU_PRECISIONS: readonly GRUPrecision[] = ['fp32', 'bf16', 'int8'];
/** The core's GRU_PRECISION_* of each. */
const PRECISION_CODES: Record<GRUPrecision, number> = { fp32: 0, bf16: 1, int8: 2 };
export const GRU_RECURRENT_ACTIVATIONS: readonly GRURecurrentActivation[] = [
  'sigmoid',
  'hardSigmoid',
  'hardSigmoidKeras2',
];

/** A precision option (GRUOptions.precision), or an ERR_GRU_ARG naming `name` and the choices. */
export function parsePrecision(name: string, value: unknown): GRUPrecision {
  return choice(name, value, GRU_PRECISIONS);
}

/** One of `choices` (a string), or an ERR_GRU_ARG naming the option and the choices. */
function choice<T extends string>(name: string, value: unknown, choices: readonly T[]): T {
  if (typeof value === 'string' && (choices as readonly string[]).includes(value))
    return value as T;
  throw new GruError(
    'ERR_GRU_ARG',
    `${name} must be one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${check.describe(value)}`,
  );
}

export interface ForwardOptions {
  /** Sequences in the batch (default 1). */
  batch?: number;
  /** Timesteps; inferred from x.length when omitted, checked when given. */
  seqLen?: number;
  /** Initial state [numLayers * numDirections, batch, hiddenSize]; zeros when omitted. */
  h0?: Float32Array;
  /** Valid steps of each sequence (like ONNX sequence_lens); steps past them are padding. */
  lengths?: Int32Array | readonly number[];
  /** Return the output sequence (default true); false computes only hN. */
  returnSequences?: boolean;
  /**
   * Training mode (default false): also keep what backward() needs (the gates of every step,
   * every layer's output), replacing what the previous training forward kept.
   */
  train?: boolean;
  /** Dropout probability in [0, 1) on the inputs of layers 1..numLayers-1; only with train. */
  dropout?: number;
  /**
   * Keras's GRU dropout, in [0, 1), only with train: each input feature of a sequence is kept
   * with probability 1 - inputDropout (and scaled by 1 / (1 - inputDropout)), with one mask per
   * sequence that every step shares; dx goes through the same mask. Bidirectional: one mask per
   * direction.
   */
  inputDropout?: number;
  /**
   * Keras's GRU recurrent_dropout, in [0, 1), only with train: each gate (r, z, n) multiplies
   * its own masked copy of the state by its recurrent weights, one mask per sequence and gate
   * that every step shares (kept with probability 1 - recurrentDropout, scaled by
   * 1 / (1 - recurrentDropout)); the blend with the previous state uses it unmasked. With
   * inputDropout too, the input gets one mask per gate as well (Keras's implementation 1).
   * Every layer and direction is masked. Inference is unchanged.
   */
  recurrentDropout?: number;
  /**
   * Seed of the dropout masks (dropout's, inputDropout's and recurrentDropout's); default: the
   * next of a sequence derived from the GRU's seed.
   */
  dropoutSeed?: number;
  /**
   * Where to write the output sequence (seqLen x batch x numDirections*hiddenSize floats) instead
   * of a new array; the result's `output` is this array. For servers that call forward in a
   * loop: a fresh array of megabytes costs page faults every call (B64 T100 H256, 6.5 MB: about
   * 3 ms on a 2-core VM, where the forward itself takes 13-25 ms). Must not overlap x or h0.
   * With forwardAsync it is written when the promise settles (native computes into a copy);
   * detached or resized by then, it is not, and the promise rejects ERR_GRU_STATE.
   */
  output?: Float32Array;
  /**
   * Where to write the final state ([numLayers * numDirections, batch, hiddenSize]) instead of a
   * new array. May be h0 itself (the state updated in place); must not overlap x, output, or
   * part of h0.
   */
  hN?: Float32Array;
}

export interface BackwardOptions {
  /** d loss / d output, in the layout of forward()'s output; omitted: zero. */
  dOutput?: Float32Array;
  /** d loss / d hN, [numLayers * numDirections, batch, hiddenSize]; omitted: zero. */
  dHN?: Float32Array;
  /** Compute dx (default true). */
  inputGrad?: boolean;
  /** Compute dh0 (default false). */
  h0Grad?: boolean;
}

export interface BackwardResult {
  /** d loss / d x, in the layout of x; null with inputGrad: false. */
  dx: Float32Array | null;
  /** d loss / d h0, [numLayers * numDirections, batch, hiddenSize]; null unless h0Grad. */
  dh0: Float32Array | null;
}

export interface ForwardResult {
  /** [seq, batch, D*H] ([batch, seq, D*H] when batchFirst), or null with returnSequences: false. */
  output: Float32Array | null;
  outputShape: [number, number, number];
  /** Final state of every layer and direction, [numLayers * D, batch, hiddenSize]. */
  hN: Float32Array;
  hNShape: [number, number, number];
}

const FORWARD_KEYS = [
  'batch',
  'seqLen',
  'h0',
  'lengths',
  'returnSequences',
  'train',
  'dropout',
  'inputDropout',
  'recurrentDropout',
  'dropoutSeed',
  'output',
  'hN',
] as const;
const BACKWARD_KEYS = ['dOutput', 'dHN', 'inputGrad', 'h0Grad'] as const;
const GRU_KEYS = [
  'inputSize',
  'hiddenSize',
  'numLayers',
  'bidirectional',
  'bias',
  'batchFirst',
  'resetAfter',
  'activation',
  'recurrentActivation',
  'precision',
  'seed',
  'backend',
] as const;
/** The arguments of gru_net_forward after the handle. */
interface ForwardCall {
  seqLen: number;
  batch: number;
  batchFirst: boolean;
  x: Float32Array;
  h0: Float32Array | null;
  lengths: Int32Array | null;
  y: Float32Array | null;
  hN: Float32Array | null;
}

/** The arguments of gru_net_backward after the handle. */
interface BackwardCall {
  dy: Float32Array | null;
  dhN: Float32Array | null;
  dx: Float32Array | null;
  dh0: Float32Array | null;
}

/** A checked forward call: what forward() and forwardAsync() hand to the backend. */
interface PreparedForward {
  call: ForwardCall;
  train: boolean;
  dropout: number;
  inputDropout: number;
  recurrentDropout: number;
  dropoutSeed: number;
  /** The seed was derived (not given): count it once the call succeeds. */
  derivedSeed: boolean;
  result: ForwardResult;
}

export class GRU extends Layer<NetHandle> {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bidirectional: boolean;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly resetAfter: boolean;
  readonly activation: GRUActivation;
  readonly recurrentActivation: GRURecurrentActivation;
  /** Shape of the last training forward that backward() has not consumed yet. */
  #trained: { seqLen: number; batch: number } | null = null;
  /** Seeds of dropout masks when forward() is given none: deriveSeed(#dropoutBase, n++). */
  readonly #dropoutBase: number;
  #dropoutCount = 0;
  #precision: GRUPrecision = 'fp32';

  constructor(options: GRUOptions) {
    const o = check.options('GRU options', options);
    check.knownKeys('GRU options', o, GRU_KEYS);
    const inputSize = check.positiveInt('inputSize', o.inputSize);
    const hiddenSize = check.positiveInt('hiddenSize', o.hiddenSize);
    const numLayers =
      o.numLayers === undefined ? 1 : check.positiveInt('numLayers', o.numLayers, 1024);
    const bidirectional = check.boolean('bidirectional', o.bidirectional, false);
    const bias = check.boolean('bias', o.bias, true);
    const batchFirst = check.boolean('batchFirst', o.batchFirst, false);
    const resetAfter = check.boolean('resetAfter', o.resetAfter, true);
    const activation =
      o.activation === undefined ? 'tanh' : choice('activation', o.activation, GRU_ACTIVATIONS);
    const recurrentActivation =
      o.recurrentActivation === undefined
        ? 'sigmoid'
        : choice('recurrentActivation', o.recurrentActivation, GRU_RECURRENT_ACTIVATIONS);
    const precision =
      o.precision === undefined ? 'fp32' : choice('precision', o.precision, GRU_PRECISIONS);
    const seed = check.seedOption(o.seed);
    const backend = check.backendOption(o.backend, currentBackend);
    const net = backend.netCreate(
      inputSize,
      hiddenSize,
      numLayers,
      +bidirectional,
      +bias,
      +resetAfter,
    );
    super(backend, 'GRU', net, seed);
    if (activation !== 'tanh' || recurrentActivation !== 'sigmoid')
      backend.netSetActivations(net, ACTIVATIONS[activation], ACTIVATIONS[recurrentActivation]);
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.numLayers = numLayers;
    this.bidirectional = bidirectional;
    this.bias = bias;
    this.batchFirst = batchFirst;
    this.resetAfter = resetAfter;
    this.activation = activation;
    this.recurrentActivation = recurrentActivation;
    this.#dropoutBase = deriveSeed(seed, 0x64726f70);
    // After the initial parameters: the first quantization sees them.
    if (precision !== 'fp32') this.setPrecision(precision);
  }

  /** How the packed weights are stored: 'fp32', 'bf16' or 'int8' (setPrecision()). */
  get precision(): GRUPrecision {
    return this.#precision;
  }

  /**
   * Stores the packed weights the forward reads as 'bf16' or 'int8' (inference only), or back
   * as 'fp32'. The parameters (getParameter, state dicts) stay the fp32 values they were: the
   * packed weights are derived from them, now and whenever they are set again. A forward with
   * train: true needs 'fp32' (ERR_GRU_STATE otherwise); what the last training forward kept is
   * dropped.
   */
  setPrecision(precision: GRUPrecision): void {
    const p = choice('precision', precision, GRU_PRECISIONS);
    const net = this._handle();
    this.backend.netSetPrecision(net, PRECISION_CODES[p]);
    this.#precision = p;
    this.#trained = null;
  }

  /**
   * Bytes of the packed weights a forward reads (the input projection's and the recurrent
   * ones, int8's per-row scales included): about half of fp32's for 'bf16', a quarter for
   * 'int8'.
   */
  weightBytes(): number {
    return this.backend.netWeightBytes(this._handle());
  }

  get numDirections(): number {
    return this.bidirectional ? 2 : 1;
  }

  /**
   * @internal Training forwards that drew their dropout masks from the layer's seed so far (the
   * position in the mask sequence): a model file records and restores it (ts/models/model-file.ts).
   */
  get _dropoutCount(): number {
    return this.#dropoutCount;
  }

  set _dropoutCount(count: number) {
    this.#dropoutCount = count;
  }

  protected override _disposed(): void {
    this.#trained = null;
  }

  /** Bytes a training forward keeps per (batch row, timestep, layer). */
  trainBytesPerStep(): number {
    return this.backend.netTrainBytesPerStep(this._handle());
  }

  /** Bytes kept by the last training forward. */
  trainBytes(): number {
    return this.backend.netTrainBytes(this._handle());
  }

  /**
   * Runs the GRU over a batch of sequences.
   * x: [seqLen, batch, inputSize] ([batch, seqLen, inputSize] when batchFirst), flat.
   */
  forward(x: Float32Array, options: ForwardOptions = {}): ForwardResult {
    const net = this._handle();
    const f = this.#prepareForward(x, options);
    if (f.train) {
      // The core drops what the previous training forward kept as soon as this one starts.
      this.#trained = null;
      this.backend.netSetInputDropout(net, f.inputDropout, f.dropoutSeed);
      this.backend.netSetRecurrentDropout(net, f.recurrentDropout, f.dropoutSeed);
      this.backend.netForwardTrain(net, ...forwardArgs(f.call), f.dropout, f.dropoutSeed);
      this.#commitTrain(f);
    } else {
      this.backend.netForward(net, ...forwardArgs(f.call));
    }
    return f.result;
  }

  /**
   * forward() off the event loop: same options, checks and results. Native: the backend runs on
   * a worker thread while the event loop goes on; x (and h0) are read in place, so leave them
   * unmodified until the promise settles. Meanwhile this GRU is busy: every other call on it
   * (dispose, setParameter, forward, backward, zeroGrad, an optimizer's step) throws
   * ERR_GRU_BUSY. Separate layers may run concurrently. Wasm has no threads here: the call runs
   * synchronously inside the promise, with the same results.
   */
  forwardAsync(x: Float32Array, options: ForwardOptions = {}): Promise<ForwardResult> {
    return holding('forwardAsync()', [this._busy], async (run) => {
      const { net, f } = run(() => ({ net: this._handle(), f: this.#prepareForward(x, options) }));
      if (f.train) {
        this.#trained = null;
        run(() => this.backend.netSetInputDropout(net, f.inputDropout, f.dropoutSeed));
        run(() => this.backend.netSetRecurrentDropout(net, f.recurrentDropout, f.dropoutSeed));
        await run(() =>
          this.backend.netForwardTrainAsync(net, ...forwardArgs(f.call), f.dropout, f.dropoutSeed),
        );
        this.#commitTrain(f);
      } else {
        await run(() => this.backend.netForwardAsync(net, ...forwardArgs(f.call)));
      }
      return f.result;
    });
  }

  #commitTrain(f: PreparedForward): void {
    if (f.derivedSeed) this.#dropoutCount++;
    this.#trained = { seqLen: f.call.seqLen, batch: f.call.batch };
  }

  /** Checks forward()'s arguments and allocates its outputs. */
  #prepareForward(x: Float32Array, options: ForwardOptions): PreparedForward {
    const o = check.options('forward options', options);
    check.knownKeys('forward options', o, FORWARD_KEYS);
    const input = check.float32Array('x', x);
    const batch = o.batch === undefined ? 1 : check.positiveInt('batch', o.batch, 1 << 30);
    const perStep = batch * this.inputSize;
    let seqLen: number;
    if (o.seqLen === undefined) {
      if (input.length === 0 || input.length % perStep !== 0) {
        throw new GruError(
          'ERR_GRU_SHAPE',
          `x must hold seqLen x batch (${batch}) x inputSize (${this.inputSize}) floats, a positive multiple of ${perStep}, got ${input.length}`,
        );
      }
      seqLen = input.length / perStep;
    } else {
      seqLen = check.positiveInt('seqLen', o.seqLen, 1 << 30);
      if (input.length !== seqLen * perStep) {
        throw new GruError(
          'ERR_GRU_SHAPE',
          `x must have ${seqLen * perStep} elements (seqLen ${seqLen} x batch ${batch} x inputSize ${this.inputSize}), got ${input.length}`,
        );
      }
    }
    const stateShape: [number, number, number] = [
      this.numLayers * this.numDirections,
      batch,
      this.hiddenSize,
    ];
    const stateLen = stateShape[0] * batch * this.hiddenSize;
    const h0 =
      o.h0 === undefined
        ? null
        : check.float32ArrayOfLength('h0', o.h0, stateLen, `[${stateShape.join(', ')}]`);
    const lengths =
      o.lengths === undefined ? null : check.sequenceLengths(o.lengths, batch, seqLen);
    const returnSequences = check.boolean('returnSequences', o.returnSequences, true);
    const train = check.boolean('train', o.train, false);
    if (train && this.#precision !== 'fp32') {
      throw new GruError(
        'ERR_GRU_STATE',
        `train: true needs precision 'fp32', and this GRU's is '${this.#precision}' (reduced precision is for inference; setPrecision('fp32') first)`,
      );
    }
    const dropout = o.dropout === undefined ? 0 : check.dropProbability('dropout', o.dropout);
    if (!train && dropout !== 0) {
      throw new GruError(
        'ERR_GRU_ARG',
        `dropout applies only in training: pass train: true with dropout ${dropout}`,
      );
    }
    const inputDropout =
      o.inputDropout === undefined ? 0 : check.dropProbability('inputDropout', o.inputDropout);
    if (!train && inputDropout !== 0) {
      throw new GruError(
        'ERR_GRU_ARG',
        `inputDropout applies only in training: pass train: true with inputDropout ${inputDropout}`,
      );
    }
    const recurrentDropout =
      o.recurrentDropout === undefined
        ? 0
        : check.dropProbability('recurrentDropout', o.recurrentDropout);
    if (!train && recurrentDropout !== 0) {
      throw new GruError(
        'ERR_GRU_ARG',
        `recurrentDropout applies only in training: pass train: true with recurrentDropout ${recurrentDropout}`,
      );
    }
    if (!train && o.dropoutSeed !== undefined) {
      throw new GruError(
        'ERR_GRU_ARG',
        'dropoutSeed applies only in training: pass train: true with it',
      );
    }
    const dropoutSeed =
      o.dropoutSeed === undefined
        ? deriveSeed(this.#dropoutBase, this.#dropoutCount)
        : check.uint32('dropoutSeed', o.dropoutSeed);

    const features = this.numDirections * this.hiddenSize;
    const outputShape: [number, number, number] = this.batchFirst
      ? [batch, seqLen, features]
      : [seqLen, batch, features];
    const outputLen = seqLen * batch * features;
    let output: Float32Array | null = null;
    if (o.output !== undefined) {
      if (!returnSequences)
        throw new GruError(
          'ERR_GRU_ARG',
          'output was given with returnSequences: false: pass one or the other',
        );
      output = check.float32ArrayOfLength(
        'output',
        o.output,
        outputLen,
        `[${outputShape.join(', ')}]`,
      );
      check.disjoint('output', output, 'x', input);
      check.disjoint('output', output, 'h0', h0);
    } else if (returnSequences) {
      output = train
        ? trainingOutput(this, 'output', outputLen)
        : check.allocFloat32('output', outputLen);
    }
    let hN: Float32Array;
    if (o.hN !== undefined) {
      hN = check.float32ArrayOfLength('hN', o.hN, stateLen, `[${stateShape.join(', ')}]`);
      check.disjoint('hN', hN, 'x', input);
      // The same array as h0 is fine (each layer's state is read before it is written): a state
      // updated in place. A partial overlap is not.
      const sameAsH0 = h0 !== null && hN.buffer === h0.buffer && hN.byteOffset === h0.byteOffset;
      if (!sameAsH0) check.disjoint('hN', hN, 'h0', h0);
      if (output) check.disjoint('hN', hN, 'output', output);
    } else {
      hN = train ? trainingOutput(this, 'hN', stateLen) : check.allocFloat32('hN', stateLen);
    }
    const call = {
      seqLen,
      batch,
      batchFirst: this.batchFirst,
      x: input,
      h0,
      lengths,
      y: output,
      hN,
    };
    return {
      call,
      train,
      dropout,
      inputDropout,
      recurrentDropout,
      dropoutSeed,
      derivedSeed: o.dropoutSeed === undefined,
      result: { output, outputShape, hN, hNShape: stateShape },
    };
  }

  /**
   * Backpropagation through time for the last training forward (once per training forward):
   * adds the parameter gradients into getGradient()'s buffers and returns dx and dh0.
   */
  backward(options: BackwardOptions = {}): BackwardResult {
    const net = this._handle();
    const b = this.#prepareBackward(options);
    this.backend.netBackward(net, b.call.dy, b.call.dhN, b.call.dx, b.call.dh0);
    this.#trained = null;
    return b.result;
  }

  /** backward() off the event loop, as forwardAsync() is to forward(). */
  backwardAsync(options: BackwardOptions = {}): Promise<BackwardResult> {
    return holding('backwardAsync()', [this._busy], async (run) => {
      const { net, b } = run(() => ({ net: this._handle(), b: this.#prepareBackward(options) }));
      await run(() =>
        this.backend.netBackwardAsync(net, b.call.dy, b.call.dhN, b.call.dx, b.call.dh0),
      );
      this.#trained = null;
      return b.result;
    });
  }

  /** Checks backward()'s arguments and allocates its outputs. */
  #prepareBackward(options: BackwardOptions): { call: BackwardCall; result: BackwardResult } {
    const o = check.options('backward options', options);
    check.knownKeys('backward options', o, BACKWARD_KEYS);
    const trained = this.#trained;
    if (trained === null) {
      throw new GruError(
        'ERR_GRU_STATE',
        'backward() needs a forward(x, { train: true }) first (once per training forward)',
      );
    }
    const { seqLen, batch } = trained;
    const H = this.hiddenSize;
    const features = this.numDirections * H;
    const outShape = this.batchFirst
      ? `[${batch}, ${seqLen}, ${features}]`
      : `[${seqLen}, ${batch}, ${features}]`;
    const stateShape = `[${this.numLayers * this.numDirections}, ${batch}, ${H}]`;
    const stateLen = this.numLayers * this.numDirections * batch * H;
    const dy =
      o.dOutput === undefined
        ? null
        : check.float32ArrayOfLength('dOutput', o.dOutput, seqLen * batch * features, outShape);
    const dhN =
      o.dHN === undefined ? null : check.float32ArrayOfLength('dHN', o.dHN, stateLen, stateShape);
    const dx = check.boolean('inputGrad', o.inputGrad, true)
      ? trainingOutput(this, 'dx', seqLen * batch * this.inputSize)
      : null;
    const dh0 = check.boolean('h0Grad', o.h0Grad, false)
      ? trainingOutput(this, 'dh0', stateLen)
      : null;
    return { call: { dy, dhN, dx, dh0 }, result: { dx, dh0 } };
  }

  /**
   * A stateful stream over this GRU: each step() call takes the next timestep (or chunk of
   * timesteps) and carries h over to the next call. Results equal one forward() over the
   * concatenated input. Unidirectional only (the reverse direction needs the future).
   */
  stream(options: { batch?: number; h0?: Float32Array } = {}): GRUStream {
    this._handle();
    if (this.bidirectional) {
      throw new GruError(
        'ERR_GRU_STATE',
        'stream() needs a unidirectional GRU: a bidirectional one must see the whole sequence',
      );
    }
    const o = check.options('stream options', options);
    check.knownKeys('stream options', o, ['batch', 'h0']);
    const batch = o.batch === undefined ? 1 : check.positiveInt('batch', o.batch, 1 << 30);
    return new GRUStream(this, batch, o.h0 as Float32Array | undefined);
  }

  /**
   * A group of independent streams over this GRU (a server's live sessions): open() and close()
   * streams at any time, and step() any subset of them by one timestep in one call, each with
   * its own input row. Each stream's numbers are bitwise those of stepping it alone.
   * Unidirectional only.
   */
  streams(options: GRUStreamsOptions = {}): GRUStreams {
    this._handle();
    return new GRUStreams(this, options);
  }

  /** @internal runs the backend forward with caller-owned buffers (used by GRUStream). */
  _forwardInto(
    x: Float32Array,
    seqLen: number,
    batch: number,
    state: Float32Array,
    y: Float32Array,
  ): void {
    this.backend.netForward(
      this._handle(),
      seqLen,
      batch,
      +this.batchFirst,
      x,
      state,
      null,
      y,
      state,
    );
  }
}

/** The positional arguments of gru_net_forward after the handle. */
function forwardArgs(c: ForwardCall) {
  return [c.seqLen, c.batch, +c.batchFirst, c.x, c.h0, c.lengths, c.y, c.hN] as const;
}
