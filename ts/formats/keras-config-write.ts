/**
 * The model API's layers -> Keras 3's config (config.json of a `.keras` file), the inverse of
 * ./keras-config.ts: each layer's options under Keras's names (keras.saving.load_model fills
 * the rest with Keras's defaults; initializers are left out, as the weights come with the file).
 * An activation Keras 3 has no name for is an ERR_GRU_ARG naming the layer.
 */
import type { ActivationName } from '../activations.js';
import { GruError } from '../errors.js';
import { ActivationLayer } from '../models/activation.js';
import { BatchNormalizationLayer } from '../models/batch-normalization.js';
import { BidirectionalLayer } from '../models/bidirectional.js';
import { DenseLayer } from '../models/dense.js';
import { DropoutLayer } from '../models/dropout.js';
import { EmbeddingLayer } from '../models/embedding.js';
import { GlobalAveragePooling1DLayer, GlobalMaxPooling1DLayer } from '../models/global-pooling.js';
import { GRULayer } from '../models/gru.js';
import type { ModelLayer } from '../models/layer.js';
import { LayerNormalizationLayer } from '../models/layer-normalization.js';
import { MaskingLayer } from '../models/masking.js';

const POLICY = {
  module: 'keras',
  class_name: 'DTypePolicy',
  config: { name: 'float32' },
  registered_name: null,
};

/** The model API's activation -> Keras 3's name; one Keras 3 has not is an ERR_GRU_ARG. */
function kerasActivation(where: string, a: ActivationName): string {
  if (a === 'hardSigmoid') return 'hard_sigmoid';
  if (a === 'hardSigmoidKeras2' || a === 'geluTanh')
    throw new GruError(
      'ERR_GRU_ARG',
      `${where}: activation '${a}' has no name in Keras 3 (${a === 'geluTanh' ? "its 'gelu' is the exact form" : "its 'hard_sigmoid' is relu6(x + 3) / 6"}), so a .keras file cannot hold it`,
    );
  return a;
}

function entry(
  className: string,
  config: Record<string, unknown>,
  buildShape: unknown,
): Record<string, unknown> {
  return {
    module: 'keras.layers',
    class_name: className,
    config: { ...config, trainable: true, dtype: POLICY },
    registered_name: null,
    ...(buildShape === undefined ? {} : { build_config: { input_shape: buildShape } }),
  };
}

function gruConfig(where: string, g: GRULayer, name: string): Record<string, unknown> {
  if (g.returnState)
    throw new GruError(
      'ERR_GRU_ARG',
      `${where}: returnState true has no place in a Sequential .keras file`,
    );
  return {
    name,
    units: g.units,
    activation: kerasActivation(where, g.activation),
    recurrent_activation: kerasActivation(where, g.recurrentActivation),
    use_bias: g.useBias,
    return_sequences: g.returnSequences,
    return_state: false,
    go_backwards: g.goBackwards,
    stateful: g.stateful,
    unroll: false,
    zero_output_for_mask: g.zeroOutputForMask,
    dropout: g.dropout,
    recurrent_dropout: g.recurrentDropout,
    reset_after: g.resetAfter,
  };
}

/** One built layer's Keras 3 config entry, given the shape it was built from ([null, ...]). */
export function kerasLayerConfig(
  layer: ModelLayer,
  buildShape: (number | null)[],
): Record<string, unknown> {
  const where = `layer '${layer.name}' (${layer.className})`;
  const name = layer.name;
  if (layer instanceof GRULayer) return entry('GRU', gruConfig(where, layer, name), buildShape);
  if (layer instanceof BidirectionalLayer) {
    const fwd = entry('GRU', gruConfig(where, layer.layer, `forward_${name}`), buildShape);
    const back = layer.backwardLayer ?? layer.layer;
    const bwd = entry(
      'GRU',
      { ...gruConfig(where, back, `backward_${name}`), go_backwards: true },
      buildShape,
    );
    return entry(
      'Bidirectional',
      { name, merge_mode: layer.mergeMode, layer: fwd, backward_layer: bwd },
      buildShape,
    );
  }
  if (layer instanceof DenseLayer)
    return entry(
      'Dense',
      {
        name,
        units: layer.units,
        activation: kerasActivation(where, layer.activation),
        use_bias: layer.useBias,
      },
      buildShape,
    );
  if (layer instanceof EmbeddingLayer)
    return entry(
      'Embedding',
      { name, input_dim: layer.inputDim, output_dim: layer.outputDim, mask_zero: layer.maskZero },
      buildShape,
    );
  if (layer instanceof DropoutLayer)
    return entry('Dropout', { name, rate: layer.rate, seed: null, noise_shape: null }, buildShape);
  if (layer instanceof BatchNormalizationLayer)
    return entry(
      'BatchNormalization',
      {
        name,
        axis: -1,
        momentum: layer.momentum,
        epsilon: layer.epsilon,
        center: layer.affine,
        scale: layer.affine,
      },
      buildShape,
    );
  if (layer instanceof LayerNormalizationLayer)
    return entry(
      'LayerNormalization',
      { name, axis: -1, epsilon: layer.epsilon, center: layer.affine, scale: layer.affine },
      buildShape,
    );
  if (layer instanceof MaskingLayer)
    return entry('Masking', { name, mask_value: layer.maskValue }, buildShape);
  if (layer instanceof ActivationLayer)
    return entry(
      'Activation',
      { name, activation: kerasActivation(where, layer.activation) },
      buildShape,
    );
  if (layer instanceof GlobalAveragePooling1DLayer)
    return entry(
      'GlobalAveragePooling1D',
      { name, data_format: 'channels_last', keepdims: false },
      buildShape,
    );
  if (layer instanceof GlobalMaxPooling1DLayer)
    return entry(
      'GlobalMaxPooling1D',
      { name, data_format: 'channels_last', keepdims: false },
      buildShape,
    );
  throw new GruError('ERR_GRU_ARG', `${where}: no Keras class for this layer`);
}
