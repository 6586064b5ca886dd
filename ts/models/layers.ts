/**
 * The `layers` namespace: tfjs's factory names (tf.layers.gru({ units }) -> layers.gru({ units })),
 * each making a layer of the model API that builds its core layer(s) when the model is built.
 */
import { ActivationLayer, type ActivationLayerArgs } from './activation.js';
import { BidirectionalLayer, type BidirectionalLayerArgs } from './bidirectional.js';
import {
  BatchNormalizationLayer,
  type BatchNormalizationLayerArgs,
} from './batch-normalization.js';
import { DenseLayer, type DenseLayerArgs } from './dense.js';
import { DropoutLayer, type DropoutLayerArgs } from './dropout.js';
import { EmbeddingLayer, type EmbeddingLayerArgs } from './embedding.js';
import {
  GlobalAveragePooling1DLayer,
  GlobalMaxPooling1DLayer,
  type GlobalPooling1DLayerArgs,
} from './global-pooling.js';
import { GRULayer, type GRULayerArgs } from './gru.js';
import { MaskingLayer, type MaskingLayerArgs } from './masking.js';
import {
  LayerNormalizationLayer,
  type LayerNormalizationLayerArgs,
} from './layer-normalization.js';

/** Keras's GRU: [batch, steps, features] -> [batch, units] (or every step with returnSequences). */
export function gru(args: GRULayerArgs): GRULayer {
  return new GRULayer(args);
}

/** Keras's Dense on the last axis, on 2-D and 3-D input. */
export function dense(args: DenseLayerArgs): DenseLayer {
  return new DenseLayer(args);
}

/** Keras's Embedding: integer ids [batch, length] -> [batch, length, outputDim]. */
export function embedding(args: EmbeddingLayerArgs): EmbeddingLayer {
  return new EmbeddingLayer(args);
}

/** Keras's Dropout, active in training only. */
export function dropout(args: DropoutLayerArgs): DropoutLayer {
  return new DropoutLayer(args);
}

/** Keras's LayerNormalization over the last axis. */
export function layerNormalization(
  args: LayerNormalizationLayerArgs = {},
): LayerNormalizationLayer {
  return new LayerNormalizationLayer(args);
}

/** Keras's BatchNormalization over the last axis: batch statistics in training, moving ones after. */
export function batchNormalization(
  args: BatchNormalizationLayerArgs = {},
): BatchNormalizationLayer {
  return new BatchNormalizationLayer(args);
}

/** Keras's Activation: an activation by name on its own (softmax over the last axis). */
export function activation(args: ActivationLayerArgs): ActivationLayer {
  return new ActivationLayer(args);
}

/** Keras's GlobalAveragePooling1D: [batch, steps, features] -> [batch, features], the mean. */
export function globalAveragePooling1d(
  args: GlobalPooling1DLayerArgs = {},
): GlobalAveragePooling1DLayer {
  return new GlobalAveragePooling1DLayer(args);
}

/** Keras's GlobalMaxPooling1D: [batch, steps, features] -> [batch, features], the max. */
export function globalMaxPooling1d(args: GlobalPooling1DLayerArgs = {}): GlobalMaxPooling1DLayer {
  return new GlobalMaxPooling1DLayer(args);
}

/** Keras's Masking: steps whose features all equal maskValue are padding for the layers after. */
export function masking(args: MaskingLayerArgs = {}): MaskingLayer {
  return new MaskingLayer(args);
}

/** Keras's Bidirectional around a GRU: both directions, merged ('concat', 'sum', 'ave', 'mul'). */
export function bidirectional(args: BidirectionalLayerArgs): BidirectionalLayer {
  return new BidirectionalLayer(args);
}
