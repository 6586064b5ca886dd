/**
 * layers.dropout: Keras's Dropout over the core Dropout: in training (fit, trainOnBatch) each
 * element is zeroed with probability rate and the rest scaled by 1 / (1 - rate); in evaluate
 * and predict it passes its input through. No parameters.
 */
import { Dropout } from '../dropout.js';
import { GruError } from '../errors.js';
import * as check from '../validate.js';
import { ModelLayer, type BuildContext, type LayerArgs, type PendingOptions } from './layer.js';
import type { Shape, Tensor } from './tensor.js';

export interface DropoutLayerArgs extends LayerArgs {
  /** Probability of zeroing an element, in [0, 1). */
  rate: number;
  /** Seed of the masks; default: derived from the model's seed. */
  seed?: number;
}

const PENDING: PendingOptions = {
  noiseShape: { allowed: [], why: 'the core draws one mask element per element' },
};

export class DropoutLayer extends ModelLayer {
  readonly className = 'Dropout';
  protected readonly prefix = 'dropout';
  readonly rate: number;
  readonly #seed: number | undefined;
  #dropout: Dropout | null = null;

  constructor(args: DropoutLayerArgs) {
    const o = { ...check.options('layers.dropout options', args) }; // each option read once (ModelLayer records them)
    super('layers.dropout options', o, ['rate', 'seed'], PENDING);
    this.rate = check.dropProbability('rate', o.rate);
    this.#seed = o.seed === undefined ? undefined : check.uint32('seed', o.seed);
  }

  protected build(input: Shape, ctx: BuildContext): Shape {
    this.#dropout = new Dropout({
      p: this.rate,
      seed: this.#seed ?? ctx.seed,
      backend: ctx.backend,
    });
    return [...input];
  }

  /** The core Dropout (built): ERR_GRU_STATE before build() (or after dispose()). */
  #core(): Dropout {
    if (this.#dropout === null) throw new GruError('ERR_GRU_STATE', `${this.name} is not built`);
    return this.#dropout;
  }

  forward(x: Tensor, train: boolean): Tensor {
    const dropout = this.#core();
    const t = this.input(x, 'Float32Array');
    if (!train || this.rate === 0) return t;
    return { data: dropout.forward(t.data as Float32Array, { train: true }), shape: t.shape };
  }

  backward(dy: Float32Array, _inputGrad: boolean): Float32Array {
    const dropout = this.#core();
    const d = this.gradient(dy);
    return this.rate === 0 ? d : dropout.backward(d);
  }

  /** @internal Its mask sequence's position (model-file.ts). */
  override _streams(): number[] {
    return this.#dropout === null ? [] : [this.#dropout._calls];
  }

  override _setStreams(counts: number[]): void {
    if (this.#dropout !== null) this.#dropout._calls = counts[0]!;
  }

  protected _release(): void {
    this.#dropout = null;
  }
}
