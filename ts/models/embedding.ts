/**
 * layers.embedding: Keras's Embedding over the core Embedding: integer ids [batch, length] ->
 * [batch, length, outputDim]. It takes the model's input (an Int32Array), so it is the first
 * layer. Parameters inputDim * outputDim, as Keras. The core initialises approximately N(0, 1)
 * (PyTorch's); Keras's uniform(-0.05, 0.05) is not available yet. maskZero: id 0 is padding,
 * and the mask (mask.ts: 1 where the id is not 0) goes on to the next layers, as Keras's.
 */
import { Embedding } from '../embedding.js';
import { GruError } from '../errors.js';
import type { Layer } from '../layer.js';
import * as check from '../validate.js';
import { ModelLayer, type BuildContext, type LayerArgs, type PendingOptions } from './layer.js';
import type { Mask } from './mask.js';
import type { Shape, Tensor } from './tensor.js';

export interface EmbeddingLayerArgs extends LayerArgs {
  /** Size of the vocabulary: ids in [0, inputDim). */
  inputDim: number;
  /** Features per id. */
  outputDim: number;
  /** Id 0 is padding: the steps holding it are masked for the layers after (default false). */
  maskZero?: boolean;
  /** tfjs's (and Keras 2's) shorthand for inputShape: [inputLength]. */
  inputLength?: number;
}

const PENDING: PendingOptions = {
  embeddingsInitializer: {
    allowed: [],
    why: "the core initialises as PyTorch does; Keras's initializers are not available yet",
  },
};

export class EmbeddingLayer extends ModelLayer {
  readonly className = 'Embedding';
  protected readonly prefix = 'embedding';
  readonly inputDim: number;
  readonly outputDim: number;
  readonly maskZero: boolean;
  #embedding: Embedding | null = null;

  constructor(args: EmbeddingLayerArgs) {
    const o = { ...check.options('layers.embedding options', args) }; // each option read once (ModelLayer records them)
    const { inputLength, ...rest } = o;
    if (inputLength !== undefined && rest.inputShape !== undefined) {
      throw new GruError(
        'ERR_GRU_ARG',
        'layers.embedding options: give inputLength or inputShape, not both',
      );
    }
    const shaped = inputLength === undefined ? rest : { ...rest, inputShape: [inputLength] };
    super('layers.embedding options', shaped, ['inputDim', 'outputDim', 'maskZero'], PENDING);
    this.inputDim = check.positiveInt('inputDim', o.inputDim, 1 << 30);
    this.outputDim = check.positiveInt('outputDim', o.outputDim);
    this.maskZero = check.boolean('maskZero', o.maskZero, false);
  }

  override get takesIds(): boolean {
    return true;
  }

  /** The core Embedding (built). */
  get core(): Embedding {
    if (this.#embedding === null) throw new GruError('ERR_GRU_STATE', `${this.name} is not built`);
    return this.#embedding;
  }

  protected build(input: Shape, ctx: BuildContext): Shape {
    this.expect(input.length === 1, '(None, length) of integer ids', input);
    this.#embedding = new Embedding({
      numEmbeddings: this.inputDim,
      embeddingDim: this.outputDim,
      seed: ctx.seed,
      backend: ctx.backend,
    });
    return [input[0] as number | null, this.outputDim];
  }

  forward(x: Tensor, train: boolean): Tensor {
    const core = this.core;
    const t = this.input(x, 'Int32Array');
    const y = core.forward(t.data as Int32Array, { train });
    return { data: y, shape: [...t.shape, this.outputDim] };
  }

  /** With maskZero, the mask of the ids: one scan over them (one id per step). */
  override _forwardMasked(x: Tensor, train: boolean, _mask: Mask): { y: Tensor; mask: Mask } {
    const y = this.forward(x, train);
    if (!this.maskZero) return { y, mask: null };
    const ids = x.data as Int32Array;
    return { y, mask: Float32Array.from(ids, (id) => (id !== 0 ? 1 : 0)) };
  }

  backward(dy: Float32Array, _inputGrad: boolean): null {
    this.core.backward(this.gradient(dy));
    return null;
  }

  override async _forwardAsync(x: Tensor, train: boolean): Promise<Tensor> {
    const t = this.input(x, 'Int32Array');
    const y = await this.core.forwardAsync(t.data as Int32Array, { train });
    return { data: y, shape: [...t.shape, this.outputDim] };
  }

  override async _backwardAsync(dy: Float32Array, _inputGrad: boolean): Promise<null> {
    await this.core.backwardAsync(this.gradient(dy));
    return null;
  }

  trainables(): Layer[] {
    return this.#embedding ? [this.#embedding] : [];
  }

  protected _release(): void {
    this.#embedding = null;
  }
}
