/**
 * SequenceModel: the usual recurrent model in one object. (Embedding or float input) ->
 * optional input dropout -> GRU -> Dense head on the last state or on every step -> loss, with
 * an optimizer and optional gradient clipping. Layout is time-major, [T, B, ...].
 *
 * Every number is computed by the backend through the layers' own forward/backward; this file
 * only wires them together and moves rows (the head's input, padded steps of the targets).
 *
 * Over 400 lines: its option parsing, training step, async variant and checkpoint belong to one
 * object.
 */
import type { Backend } from './backends/backend.js';
import { Busy, holding } from './busy.js';
import { Dense } from './dense.js';
import { Dropout, deriveSeed } from './dropout.js';
import { Embedding } from './embedding.js';
import { GruError } from './errors.js';
import { GRU, type BackwardOptions, type ForwardOptions, type ForwardResult } from './gru.js';
import { currentBackend } from './loader.js';
import { Adam, AdamW, SGD, type AdamOptions, type Optimizer, type SGDOptions } from './optim.js';
import { trainingOutput, withStepArrays } from './step-arrays.js';
import * as check from './validate.js';

export type SequenceLoss = 'softmax-cross-entropy' | 'bce' | 'mse';
export type OutputMode = 'last' | 'sequence';

export interface SequenceModelOptions {
  /** Token input: x holds ids in [0, numEmbeddings). */
  embedding?: { numEmbeddings: number; embeddingDim: number };
  /** Features per step of float input; required without embedding. */
  inputSize?: number;
  gru: {
    hiddenSize: number;
    numLayers?: number;
    bidirectional?: boolean;
    resetAfter?: boolean;
    dropout?: number;
  };
  /** Dropout on the GRU's input (after the embedding) in training, in [0, 1). */
  inputDropout?: number;
  /**
   * size: outputs per prediction (classes for softmax-cross-entropy). mode 'last': one
   * prediction per sequence from its final state; 'sequence': one per step.
   */
  output: { size: number; mode: OutputMode };
  loss: SequenceLoss;
  /** Default: Adam with its defaults. */
  optimizer?: ({ type?: 'adam' | 'adamw' } & AdamOptions) | ({ type: 'sgd' } & SGDOptions);
  /** Clip the total gradient norm to this before each step. */
  clipGradNorm?: number;
  /** Seed from which every sub-layer's seed is derived; random if omitted. */
  seed?: number;
  backend?: Backend;
}

/** One batch. x: Int32Array / number[] token ids [T*B] with an embedding, else Float32Array [T*B*inputSize]. */
export interface SequenceBatch {
  x: Int32Array | readonly number[] | Float32Array;
  /**
   * 'last': [B] class ids (softmax) or [B*size] floats. 'sequence': [T*B] class ids, -1 to
   * ignore a step, or [T*B*size] floats. Steps past lengths are ignored either way.
   */
  targets: Int32Array | readonly number[] | Float32Array;
  batch: number;
  lengths?: Int32Array | readonly number[];
}

export interface FitProgress {
  /** Index of the epoch, from 0. */
  epoch: number;
  /** Index of the step within this fit() call, from 0, counting across epochs. */
  step: number;
  loss: number;
  gradNorm: number;
  /** Steps per second since fit() started. */
  stepsPerSecond: number;
}

const MODEL_KEYS = [
  'embedding',
  'inputSize',
  'gru',
  'inputDropout',
  'output',
  'loss',
  'optimizer',
  'clipGradNorm',
  'seed',
  'backend',
] as const;
const LOSSES: readonly SequenceLoss[] = ['softmax-cross-entropy', 'bce', 'mse'];
const MODES: readonly OutputMode[] = ['last', 'sequence'];

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new GruError(
      'ERR_GRU_ARG',
      `${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${check.describe(value)}`,
    );
  }
  return value as T;
}

/** A batch checked against the model: ids or floats, T, lengths, targets with padding masked. */
interface Prepared {
  x: Int32Array | Float32Array;
  seqLen: number;
  batch: number;
  lengths: Int32Array | null;
  /** softmax: Int32Array with -1 at ignored rows; bce/mse: Float32Array. null for predict. */
  targets: Int32Array | Float32Array | null;
  /** Rows of the head's output that count (float losses with padding); null: all. */
  validRows: Int32Array | null;
}

export class SequenceModel {
  readonly gru: GRU;
  readonly dense: Dense;
  readonly embedding: Embedding | undefined;
  readonly inputDropout: Dropout | undefined;
  readonly optimizer: Optimizer;
  readonly outputMode: OutputMode;
  readonly lossType: SequenceLoss;
  readonly backend: Backend;
  readonly #inputSize: number;
  readonly #outputSize: number;
  readonly #gruDropout: number;
  readonly #clip: number | undefined;
  #disposed = false;
  /** @internal Set while trainStepAsync() is in flight. */
  readonly _busy = new Busy('this SequenceModel');

  constructor(options: SequenceModelOptions) {
    const o = check.options('SequenceModel options', options);
    check.knownKeys('SequenceModel options', o, MODEL_KEYS);
    this.backend = check.backendOption(o.backend, currentBackend);
    const seed = check.seedOption(o.seed);

    let emb: { numEmbeddings: number; embeddingDim: number } | undefined;
    if (o.embedding !== undefined) {
      const e = check.options('embedding', o.embedding);
      check.knownKeys('embedding', e, ['numEmbeddings', 'embeddingDim']);
      emb = {
        numEmbeddings: check.positiveInt('numEmbeddings', e.numEmbeddings, 1 << 30),
        embeddingDim: check.positiveInt('embeddingDim', e.embeddingDim),
      };
      if (o.inputSize !== undefined && o.inputSize !== emb.embeddingDim) {
        throw new GruError(
          'ERR_GRU_ARG',
          `inputSize must be omitted with an embedding (it is embeddingDim = ${emb.embeddingDim}), got ${check.describe(o.inputSize)}`,
        );
      }
      this.#inputSize = emb.embeddingDim;
    } else {
      if (o.inputSize === undefined)
        throw new GruError('ERR_GRU_ARG', 'inputSize is required without an embedding');
      this.#inputSize = check.positiveInt('inputSize', o.inputSize);
    }
    if (o.gru === undefined)
      throw new GruError('ERR_GRU_ARG', 'gru options are required ({ hiddenSize, ... })');
    const g = check.options('gru', o.gru);
    check.knownKeys('gru', g, [
      'hiddenSize',
      'numLayers',
      'bidirectional',
      'resetAfter',
      'dropout',
    ]);
    this.#gruDropout =
      g.dropout === undefined ? 0 : check.dropProbability('gru.dropout', g.dropout);
    const inputDropout =
      o.inputDropout === undefined ? 0 : check.dropProbability('inputDropout', o.inputDropout);
    if (o.output === undefined)
      throw new GruError(
        'ERR_GRU_ARG',
        "output options are required ({ size, mode: 'last' | 'sequence' })",
      );
    const out = check.options('output', o.output);
    check.knownKeys('output', out, ['size', 'mode']);
    this.#outputSize = check.positiveInt('output.size', out.size);
    this.outputMode = oneOf('output.mode', out.mode, MODES);
    this.lossType = oneOf('loss', o.loss, LOSSES);
    this.#clip =
      o.clipGradNorm === undefined
        ? undefined
        : check.float32('clipGradNorm', o.clipGradNorm, { min: 0, minOpen: true });
    const { type: optimType, ...optimOptions } = check.options('optimizer', o.optimizer);
    const type =
      optimType === undefined
        ? 'adam'
        : oneOf('optimizer.type', optimType, ['adam', 'adamw', 'sgd'] as const);

    // Build, releasing what was built if a later part fails.
    const built: { dispose(): void }[] = [];
    try {
      const backend = this.backend;
      if (emb) {
        this.embedding = new Embedding({ ...emb, seed: deriveSeed(seed, 1), backend });
        built.push(this.embedding);
      }
      this.gru = new GRU({
        inputSize: this.#inputSize,
        hiddenSize: g.hiddenSize as number,
        numLayers: g.numLayers as number | undefined,
        bidirectional: g.bidirectional as boolean | undefined,
        resetAfter: g.resetAfter as boolean | undefined,
        seed: deriveSeed(seed, 2),
        backend,
      });
      built.push(this.gru);
      const features = this.gru.numDirections * this.gru.hiddenSize;
      this.dense = new Dense({
        inFeatures: features,
        outFeatures: this.#outputSize,
        seed: deriveSeed(seed, 3),
        backend,
      });
      built.push(this.dense);
      if (inputDropout > 0)
        this.inputDropout = new Dropout({ p: inputDropout, seed: deriveSeed(seed, 4), backend });
      const params = this.embedding
        ? [this.embedding, this.gru, this.dense]
        : [this.gru, this.dense];
      if (type === 'sgd') this.optimizer = new SGD(params, optimOptions as unknown as SGDOptions);
      else if (type === 'adamw') this.optimizer = new AdamW(params, optimOptions as AdamOptions);
      else this.optimizer = new Adam(params, optimOptions as AdamOptions);
    } catch (e) {
      for (const layer of built) layer.dispose();
      throw e;
    }
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** Frees the optimizer and every layer. Idempotent. ERR_GRU_BUSY while any is in use by an async call. */
  dispose(): void {
    if (this.#disposed) return;
    for (const guard of this.#guards()) guard.check(); // all or nothing
    this.#disposed = true;
    this.optimizer.dispose();
    this.dense.dispose();
    this.gru.dispose();
    this.embedding?.dispose();
  }

  /**
   * One optimization step on a batch: zero the gradients, forward in training mode, loss,
   * backward through head, GRU and embedding, clip (clipGradNorm), update. gradNorm is the
   * total gradient norm before clipping.
   */
  trainStep(batch: SequenceBatch): { loss: number; gradNorm: number } {
    this.#live();
    const p = this.#prepare('trainStep batch', batch, true);
    // The layers' outputs and gradients stay inside the step: the same arrays every step
    // (step-arrays.ts), as in a Sequential's.
    return withStepArrays(this.#stepOwners(), () => {
      this.optimizer.zeroGrad();
      const out = this.#forward(p, true);
      const grad = this.#outputGrad(p, out.length);
      const loss = this.#loss(p, out, grad);
      const { dx } = this.gru.backward(this.#gruGrad(p, this.dense.backward(grad)));
      this.#backInput(dx);
      const gradNorm = this.optimizer.clipGradNorm(this.#clip ?? Infinity);
      this.optimizer.step();
      return { loss, gradNorm };
    });
  }

  /** The objects whose training outputs a step reuses: the model (its output gradient) and its layers. */
  #stepOwners(): object[] {
    return this.embedding
      ? [this, this.embedding, this.gru, this.dense]
      : [this, this.gru, this.dense];
  }

  /**
   * The gradient of the loss with respect to the output: reused from step to step. The loss
   * writes every element, except the rows it leaves out (padded steps: p.validRows, all of
   * them when no row counts), which must hold zeros.
   */
  #outputGrad(p: Prepared, length: number): Float32Array {
    const grad = trainingOutput(this, 'dOutput', length);
    if (p.validRows !== null) grad.fill(0);
    return grad;
  }

  /**
   * trainStep() off the event loop: the same step with the same results. Native: the GRU's
   * forward and backward, the head, the loss, the clipping and the update each run on a worker
   * thread (the embedding lookup, dropout and row copies stay on the JS thread: they move
   * memory once). The model, its layers and its optimizer are busy until the promise settles:
   * every other call on them throws ERR_GRU_BUSY. Leave batch's arrays unmodified meanwhile.
   * Wasm has no threads here: each part runs synchronously inside the promise.
   */
  trainStepAsync(batch: SequenceBatch): Promise<{ loss: number; gradNorm: number }> {
    return holding('trainStepAsync()', this.#guards(), async (run) => {
      const { p, h } = run(() => {
        this.#live();
        const prepared = this.#prepare('trainStep batch', batch, true);
        this.optimizer.zeroGrad();
        return { p: prepared, h: this.#embed(prepared, true) };
      });
      const r = await run(() => this.gru.forwardAsync(h, this.#gruOptions(p, true)));
      const out = await run(() => this.dense.forwardAsync(this.#features(r, p), { train: true }));
      const grad = new Float32Array(out.length);
      const loss = await run(() => this.#lossAsync(p, out, grad));
      const dFeatures = await run(() => this.dense.backwardAsync(grad));
      const { dx } = await run(() => this.gru.backwardAsync(this.#gruGrad(p, dFeatures)));
      run(() => this.#backInput(dx));
      const gradNorm = await run(() => this.optimizer.clipGradNormAsync(this.#clip ?? Infinity));
      await run(() => this.optimizer.stepAsync());
      return { loss, gradNorm };
    });
  }

  /** Everything an async step holds. */
  #guards(): Busy[] {
    const guards = [this._busy, this.gru._busy, this.dense._busy, this.optimizer._busy];
    if (this.embedding) guards.push(this.embedding._busy);
    if (this.inputDropout) guards.push(this.inputDropout._busy);
    return guards;
  }

  /** The head's raw outputs (logits for the cross-entropies): [B, size] ('last') or [T*B, size]. */
  predict(batch: Omit<SequenceBatch, 'targets'>): Float32Array {
    this.#live();
    return this.#forward(this.#prepare('predict batch', batch, false), false);
  }

  /** The loss on a batch, without training (no dropout, no gradient). */
  evaluate(batch: SequenceBatch): number {
    this.#live();
    const p = this.#prepare('evaluate batch', batch, true);
    return this.#loss(p, this.#forward(p, false), null);
  }

  /**
   * trainStep over every batch, epochs times (batches must then be re-iterable, e.g. an
   * array). Returns the loss of every step.
   */
  fit(
    batches: Iterable<SequenceBatch>,
    options: { epochs?: number; onProgress?: (p: FitProgress) => void } = {},
  ): { losses: number[] } {
    this.#live();
    const o = check.options('fit options', options);
    check.knownKeys('fit options', o, ['epochs', 'onProgress']);
    const epochs = o.epochs === undefined ? 1 : check.positiveInt('epochs', o.epochs, 2 ** 31 - 1);
    if (o.onProgress !== undefined && typeof o.onProgress !== 'function') {
      throw new GruError(
        'ERR_GRU_ARG',
        `onProgress must be a function, got ${check.describe(o.onProgress)}`,
      );
    }
    const onProgress = o.onProgress as ((p: FitProgress) => void) | undefined;
    const iterator = (batches as Partial<Iterable<SequenceBatch>> | null)?.[Symbol.iterator];
    if (typeof batches !== 'object' || typeof iterator !== 'function') {
      throw new GruError(
        'ERR_GRU_ARG',
        `batches must be an iterable of { x, targets, batch, lengths? }, got ${check.describe(batches)}`,
      );
    }
    if (epochs > 1 && (iterator.call(batches) as unknown) === batches) {
      throw new GruError(
        'ERR_GRU_ARG',
        `batches is a one-shot iterator; epochs ${epochs} needs an array or another re-iterable`,
      );
    }
    const losses: number[] = [];
    const t0 = performance.now();
    for (let epoch = 0; epoch < epochs; epoch++) {
      for (const b of batches) {
        const { loss, gradNorm } = this.trainStep(b);
        losses.push(loss);
        if (onProgress) {
          const seconds = (performance.now() - t0) / 1000;
          onProgress({
            epoch,
            step: losses.length - 1,
            loss,
            gradNorm,
            stepsPerSecond: seconds > 0 ? losses.length / seconds : 0,
          });
        }
      }
    }
    return { losses };
  }

  #live(): void {
    if (this.#disposed)
      throw new GruError('ERR_GRU_DISPOSED', 'this SequenceModel has been disposed');
    this._busy.check();
  }

  #prepare(what: string, value: unknown, withTargets: boolean): Prepared {
    const o = check.options(what, value);
    check.knownKeys(
      what,
      o,
      withTargets ? ['x', 'targets', 'batch', 'lengths'] : ['x', 'batch', 'lengths'],
    );
    const batch = check.positiveInt('batch', o.batch, 1 << 30);
    let x: Int32Array | Float32Array;
    let perStep: number;
    if (this.embedding) {
      if (check.isFloat32Array(o.x)) {
        throw new GruError(
          'ERR_GRU_TYPE',
          'x must be token ids (an Int32Array or an array of integers) for a model with an embedding, got a Float32Array',
        );
      }
      x = check.int32Indices('x', o.x, 0, this.embedding.numEmbeddings);
      perStep = batch;
    } else {
      x = check.float32Array('x', o.x);
      perStep = batch * this.#inputSize;
    }
    if (x.length === 0 || x.length % perStep !== 0) {
      const unit = this.embedding
        ? `T x batch (${batch}) token ids`
        : `T x batch (${batch}) x inputSize (${this.#inputSize}) floats`;
      throw new GruError(
        'ERR_GRU_SHAPE',
        `x must hold ${unit}, a positive multiple of ${perStep}, got ${x.length}`,
      );
    }
    const seqLen = x.length / perStep;
    const lengths =
      o.lengths === undefined ? null : check.sequenceLengths(o.lengths, batch, seqLen);
    const p: Prepared = { x, seqLen, batch, lengths, targets: null, validRows: null };
    if (!withTargets) return p;

    const rows = this.outputMode === 'last' ? batch : seqLen * batch;
    const shape =
      this.outputMode === 'last' ? `[batch = ${batch}]` : `[T * batch = ${seqLen} * ${batch}]`;
    // Steps past a sequence's length: rows (t, b) with t >= lengths[b] ('sequence' only).
    const padded = (row: number): boolean =>
      lengths !== null && Math.floor(row / batch) >= (lengths[row % batch] as number);
    const anyPadded =
      this.outputMode === 'sequence' && lengths !== null && lengths.some((len) => len < seqLen);
    if (this.lossType === 'softmax-cross-entropy') {
      if (check.isFloat32Array(o.targets)) {
        throw new GruError(
          'ERR_GRU_TYPE',
          'targets must be class ids (an Int32Array or an array of integers) for softmax-cross-entropy, got a Float32Array',
        );
      }
      const t = check.int32Indices('targets', o.targets, 0, this.#outputSize, -1);
      if (t.length !== rows)
        throw new GruError(
          'ERR_GRU_SHAPE',
          `targets must have ${rows} class ids ${shape}, got ${t.length}`,
        );
      if (anyPadded) for (let r = 0; r < rows; r++) if (padded(r)) t[r] = -1;
      p.targets = t;
    } else {
      const size = this.#outputSize;
      p.targets = check.float32ArrayOfLength(
        'targets',
        o.targets,
        rows * size,
        `${shape.slice(0, -1)} x size ${size}]`,
      );
      if (anyPadded) {
        const valid: number[] = [];
        for (let r = 0; r < rows; r++) if (!padded(r)) valid.push(r);
        p.validRows = Int32Array.from(valid);
      }
    }
    return p;
  }

  /** Embedding -> input dropout (training) -> GRU -> head; returns the head's output. */
  #forward(p: Prepared, train: boolean): Float32Array {
    const r = this.gru.forward(this.#embed(p, train), this.#gruOptions(p, train));
    return this.dense.forward(this.#features(r, p), { train });
  }

  /** The GRU's input: embedded ids (or the float input), through input dropout in training. */
  #embed(p: Prepared, train: boolean): Float32Array {
    const h: Float32Array = this.embedding
      ? this.embedding.forward(p.x as Int32Array, { train })
      : (p.x as Float32Array);
    return train && this.inputDropout ? this.inputDropout.forward(h, { train: true }) : h;
  }

  #gruOptions(p: Prepared, train: boolean): ForwardOptions {
    return {
      batch: p.batch,
      ...(p.lengths ? { lengths: p.lengths } : {}),
      returnSequences: this.outputMode === 'sequence',
      ...(train ? { train: true, dropout: this.#gruDropout } : {}),
    };
  }

  /** The head's input: the last states [B, D*H] ('last') or the whole output [T*B, D*H]. */
  #features(r: ForwardResult, p: Prepared): Float32Array {
    return this.outputMode === 'last'
      ? this.#gatherLast(r.hN, p.batch)
      : (r.output as Float32Array);
  }

  /** The GRU's backward options from d loss / d head input. */
  #gruGrad(p: Prepared, dFeatures: Float32Array): BackwardOptions {
    const inputGrad = this.embedding !== undefined;
    return this.outputMode === 'last'
      ? { dHN: this.#scatterLast(dFeatures, p.batch), inputGrad }
      : { dOutput: dFeatures, inputGrad };
  }

  /** d loss / d GRU input, back through input dropout into the embedding (if any). */
  #backInput(dx: Float32Array | null): void {
    if (this.embedding && dx)
      this.embedding.backward(this.inputDropout ? this.inputDropout.backward(dx) : dx);
  }

  /** The last layer's final state per sequence, [B, D*H] (forward then reverse for bidirectional). */
  #gatherLast(hN: Float32Array, batch: number): Float32Array {
    const { numLayers: L, numDirections: D, hiddenSize: H } = this.gru;
    if (D === 1) return hN.slice((L - 1) * batch * H, L * batch * H);
    const out = new Float32Array(batch * D * H);
    for (let b = 0; b < batch; b++) {
      for (let d = 0; d < D; d++) {
        const from = ((L - 1) * D + d) * batch * H + b * H;
        out.set(hN.subarray(from, from + H), (b * D + d) * H);
      }
    }
    return out;
  }

  /** The inverse of #gatherLast: d features [B, D*H] into a zero dHN [L*D, B, H]. */
  #scatterLast(dFeatures: Float32Array, batch: number): Float32Array {
    const { numLayers: L, numDirections: D, hiddenSize: H } = this.gru;
    const dHN = new Float32Array(L * D * batch * H);
    if (D === 1) {
      dHN.set(dFeatures, (L - 1) * batch * H);
      return dHN;
    }
    for (let b = 0; b < batch; b++) {
      for (let d = 0; d < D; d++) {
        const from = (b * D + d) * H;
        dHN.set(dFeatures.subarray(from, from + H), ((L - 1) * D + d) * batch * H + b * H);
      }
    }
    return dHN;
  }

  /** Mean loss of the head's output; fills grad (d loss / d output) unless null. */
  #loss(p: Prepared, out: Float32Array, grad: Float32Array | null): number {
    const call = this.#lossCall(p, out, grad);
    if (call === null) return 0;
    const loss = call.sync();
    call.finish();
    return loss;
  }

  /** #loss off the event loop. */
  async #lossAsync(p: Prepared, out: Float32Array, grad: Float32Array | null): Promise<number> {
    const call = this.#lossCall(p, out, grad);
    if (call === null) return 0;
    const loss = await call.async();
    call.finish();
    return loss;
  }

  /**
   * The backend call of the loss, to run sync or async, and finish() to scatter the gradient
   * of the valid rows back; null when no row counts (loss 0).
   */
  #lossCall(
    p: Prepared,
    out: Float32Array,
    grad: Float32Array | null,
  ): { sync(): number; async(): Promise<number>; finish(): void } | null {
    const size = this.#outputSize;
    const b = this.backend;
    if (this.lossType === 'softmax-cross-entropy') {
      const rows = out.length / size;
      const t = p.targets as Int32Array;
      return {
        sync: () => b.lossSoftmaxCrossEntropy(out, rows, size, t, grad),
        async: () => b.lossSoftmaxCrossEntropyAsync(out, rows, size, t, grad),
        finish: () => {},
      };
    }
    const bce = this.lossType === 'bce';
    let x = out;
    let t = p.targets as Float32Array;
    let g = grad;
    let finish = (): void => {};
    const rows = p.validRows;
    if (rows !== null) {
      // Padded steps do not count: the loss is the mean over the valid rows only.
      if (rows.length === 0) return null;
      const pick = (from: Float32Array): Float32Array => {
        const to = new Float32Array(rows.length * size);
        rows.forEach((r, i) => to.set(from.subarray(r * size, (r + 1) * size), i * size));
        return to;
      };
      x = pick(out);
      t = pick(t);
      const picked = grad ? new Float32Array(rows.length * size) : null;
      g = picked;
      finish = () => {
        if (grad && picked)
          rows.forEach((r, i) => grad.set(picked.subarray(i * size, (i + 1) * size), r * size));
      };
    }
    return {
      sync: () => (bce ? b.lossBceWithLogits(x, t, g) : b.lossMse(x, t, g)),
      async: () => (bce ? b.lossBceWithLogitsAsync(x, t, g) : b.lossMseAsync(x, t, g)),
      finish,
    };
  }
}
