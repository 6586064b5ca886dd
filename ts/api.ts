/**
 * The public API, shared by the Node entry (index.ts) and the browser entry (index.browser.ts).
 * Nothing here references the native backend or a node: module.
 */
export { init, loadBackend, backendInfo, setThreads, threadsReady } from './loader.js';
export type { BackendInfo, InitOptions, LoadOptions, ThreadPolicy } from './loader.js';
export type { Backend, BackendName } from './backends/backend.js';
export { GRU } from './gru.js';
export { GRUStream } from './gru-stream.js';
export { GRUStreams, type GRUStreamsOptions } from './gru-streams.js';
export type {
  GRUOptions,
  GRUActivation,
  GRURecurrentActivation,
  GRUPrecision,
  ForwardOptions,
  ForwardResult,
  BackwardOptions,
  BackwardResult,
} from './gru.js';
export { Dense } from './dense.js';
export type { DenseOptions } from './dense.js';
export { Embedding } from './embedding.js';
export type { EmbeddingOptions } from './embedding.js';
export { Layer } from './layer.js';
export { LayerNorm } from './layer-norm.js';
export type { LayerNormOptions } from './layer-norm.js';
export { BatchNorm1d } from './batch-norm.js';
export type { BatchNormOptions } from './batch-norm.js';
export { Dropout } from './dropout.js';
export type { DropoutOptions } from './dropout.js';
export {
  ACTIVATIONS,
  activationForward,
  activationBackward,
  activationSaves,
} from './activations.js';
export type { ActivationName, ActivationOptions } from './activations.js';
export {
  softmaxCrossEntropy,
  bceWithLogits,
  mse,
  categoricalCrossentropy,
  sparseCategoricalCrossentropy,
  binaryCrossentropy,
  meanSquaredError,
  meanAbsoluteError,
  huber,
} from './losses.js';
export type {
  LossResult,
  LossOptions,
  SoftmaxCrossEntropyOptions,
  KerasLossOptions,
  CategoricalLossOptions,
  BinaryLossOptions,
  HuberOptions,
} from './losses.js';
export { Metric, metric } from './metrics.js';
export type { MetricName, MetricOptions, MetricUpdateOptions } from './metrics.js';
export { Optimizer, Adam, AdamW, SGD, RMSprop, Adagrad } from './optim.js';
export type {
  Trainable,
  AdamOptions,
  SGDOptions,
  RMSpropOptions,
  AdagradOptions,
  AdamStateDict,
  SGDStateDict,
  RMSpropStateDict,
  AdagradStateDict,
  OptimizerStateDict,
  OptimizerType,
} from './optim.js';
export { LRSchedule, StepLR, ExponentialLR, CosineAnnealingLR } from './schedules.js';
export { SequenceModel } from './model.js';
export type {
  SequenceModelOptions,
  SequenceBatch,
  SequenceLoss,
  OutputMode,
  FitProgress,
} from './model.js';
export {
  sequential,
  Sequential,
  loadModel,
  layers,
  metrics,
  callbacks,
  schedules,
  tensor,
  ModelLayer,
} from './models/index.js';
export {
  GRULayer,
  DenseLayer,
  EmbeddingLayer,
  DropoutLayer,
  LayerNormalizationLayer,
  BatchNormalizationLayer,
  ActivationLayer,
  GlobalAveragePooling1DLayer,
  GlobalMaxPooling1DLayer,
  MaskingLayer,
  BidirectionalLayer,
} from './models/index.js';
export type {
  SequentialArgs,
  ModelSaveArgs,
  LoadModelArgs,
  ModelSource,
  ModelCheckpoint,
  ModelCheckpointArgs,
  ModelCompileArgs,
  ModelEvaluateArgs,
  ModelTrainOnBatchArgs,
  ModelFitArgs,
  History,
  CustomCallbackArgs,
  Logs,
  Tensor,
  TensorLike,
  NestedArray,
  DType,
  Shape,
  LayerArgs,
  GRULayerArgs,
  Initializer,
  InitializerName,
  DenseLayerArgs,
  EmbeddingLayerArgs,
  DropoutLayerArgs,
  LayerNormalizationLayerArgs,
  BatchNormalizationLayerArgs,
  ActivationLayerArgs,
  GlobalPooling1DLayerArgs,
  MaskingLayerArgs,
  BidirectionalLayerArgs,
  MergeMode,
  LossConfig,
  OptimizerConfig,
  LearningRateSchedule,
  ExponentialDecayConfig,
  InverseTimeDecayConfig,
  PiecewiseConstantDecayConfig,
  CosineDecayConfig,
  MetricConfig,
  AucArgs,
  ThresholdArgs,
  FitCallback,
  EarlyStopping,
  EarlyStoppingArgs,
  ReduceLROnPlateau,
  ReduceLROnPlateauArgs,
  LearningRateScheduler,
  LearningRateSchedulerFn,
} from './models/index.js';
export { GruError } from './errors.js';
export type { GruErrorCode } from './errors.js';
export {
  loadTorchStateDict,
  saveTorchStateDict,
  torchStateDictBytes,
} from './formats/torch-state-dict.js';
export type { TorchModules } from './formats/torch-state-dict.js';
export { loadKerasModel, loadKerasWeights } from './formats/keras.js';
export { kerasModelBytes, saveKerasModel } from './formats/keras-save.js';
export type { KerasSaveArgs } from './formats/keras-save.js';
export type { LoadKerasModelArgs } from './formats/keras.js';
export { describeKerasFile } from './formats/keras-describe.js';
export type {
  KerasFileDescription,
  KerasFileLayer,
  KerasFileWeight,
} from './formats/keras-describe.js';
export { exportOnnx, onnxModelBytes, loadOnnxModel, describeOnnx } from './formats/onnx.js';
export type { OnnxExportArgs, LoadOnnxModelArgs, OnnxDescription } from './formats/onnx.js';
export { loadTfjsModel, saveTfjsModel, tfjsModelArtifacts } from './formats/tfjs-model.js';
export type {
  LoadTfjsModelArgs,
  SavedTfjsModel,
  TfjsArtifacts,
  TfjsModelArtifacts,
  TfjsSource,
} from './formats/tfjs-model.js';
