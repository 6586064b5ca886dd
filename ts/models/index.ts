/**
 * The model API (Keras-style, in tfjs's shape): sequential(), the layers namespace, tensor().
 * The PyTorch-style classes of ts/ (GRU, Dense, Adam, ...) are the level below it.
 */
import * as callbacks from './callbacks-api.js';
import * as layers from './layers.js';
import * as metrics from './metrics.js';

export { callbacks, layers, metrics };
export { Sequential, sequential } from './sequential.js';
export { loadModel } from './load-model.js';
export type { LoadModelArgs } from './load-model.js';
export type { ModelSource } from './storage.js';
export type { ModelCheckpoint, ModelCheckpointArgs } from './model-checkpoint.js';
export type {
  ModelSaveArgs,
  SequentialArgs,
  ModelCompileArgs,
  ModelEvaluateArgs,
  ModelTrainOnBatchArgs,
} from './sequential.js';
export type { ModelFitArgs, History, CustomCallbackArgs, FitCallback, Logs } from './fit.js';
export type {
  EarlyStopping,
  EarlyStoppingArgs,
  ReduceLROnPlateau,
  ReduceLROnPlateauArgs,
  LearningRateScheduler,
  LearningRateSchedulerFn,
} from './callbacks.js';
export { tensor } from './tensor.js';
export type { Tensor, TensorLike, NestedArray, DType, Shape } from './tensor.js';
export { ModelLayer } from './layer.js';
export type { LayerArgs } from './layer.js';
export { GRULayer } from './gru.js';
export type { GRULayerArgs } from './gru.js';
export type { Initializer, InitializerName } from './initializers.js';
export { DenseLayer } from './dense.js';
export type { DenseLayerArgs } from './dense.js';
export { EmbeddingLayer } from './embedding.js';
export type { EmbeddingLayerArgs } from './embedding.js';
export { DropoutLayer } from './dropout.js';
export type { DropoutLayerArgs } from './dropout.js';
export { LayerNormalizationLayer } from './layer-normalization.js';
export type { LayerNormalizationLayerArgs } from './layer-normalization.js';
export type { LossConfig, MetricConfig, OptimizerConfig } from './names.js';
export type { AucArgs, ThresholdArgs } from './metrics.js';
export { schedules } from './schedules.js';
export type {
  LearningRateSchedule,
  ExponentialDecayConfig,
  InverseTimeDecayConfig,
  PiecewiseConstantDecayConfig,
  CosineDecayConfig,
} from './schedules.js';
export { BatchNormalizationLayer } from './batch-normalization.js';
export type { BatchNormalizationLayerArgs } from './batch-normalization.js';
export { ActivationLayer } from './activation.js';
export type { ActivationLayerArgs } from './activation.js';
export { GlobalAveragePooling1DLayer, GlobalMaxPooling1DLayer } from './global-pooling.js';
export type { GlobalPooling1DLayerArgs } from './global-pooling.js';
export { MaskingLayer } from './masking.js';
export type { MaskingLayerArgs } from './masking.js';
export { BidirectionalLayer } from './bidirectional.js';
export type { BidirectionalLayerArgs, MergeMode } from './bidirectional.js';
