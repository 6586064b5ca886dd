/**
 * The model API's layers by Keras class name: the one table every reader of a model file builds
 * layers from (gru-simd's own files: model-file.ts; Keras files: formats/keras-config.ts;
 * TensorFlow.js files: formats/tfjs-model.ts). Each takes the options the layer's factory in
 * layers.ts takes, validated there. Bidirectional takes its GRUs already made: each format
 * records them its own way ({ className, config }, Keras's nested config, tfjs's).
 */
import type { ModelLayer } from './layer.js';
import * as layers from './layers.js';

export type LayerFactory = (options: Record<string, unknown>) => ModelLayer;

export const LAYER_FACTORIES: Readonly<Record<string, LayerFactory>> = {
  GRU: (c) => layers.gru(c as never),
  Dense: (c) => layers.dense(c as never),
  Embedding: (c) => layers.embedding(c as never),
  Dropout: (c) => layers.dropout(c as never),
  LayerNormalization: (c) => layers.layerNormalization(c),
  BatchNormalization: (c) => layers.batchNormalization(c),
  Activation: (c) => layers.activation(c as never),
  GlobalAveragePooling1D: (c) => layers.globalAveragePooling1d(c),
  GlobalMaxPooling1D: (c) => layers.globalMaxPooling1d(c),
  Masking: (c) => layers.masking(c),
  // options.layer (and options.backwardLayer): the GRUs, made by the caller
  Bidirectional: (c) => layers.bidirectional(c as never),
};

/** Whether a class name has a factory (an own key: '__proto__' or 'toString' do not). */
export function hasLayerFactory(className: string): boolean {
  return Object.hasOwn(LAYER_FACTORIES, className);
}
