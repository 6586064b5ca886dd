/**
 * gru-simd: a GRU for JavaScript computed by one C++ SIMD kernel core, as a Node N-API addon
 * or as WebAssembly, behind this one API.
 *
 *   import { init, GRU } from 'gru-simd';
 *   await init();                                   // native, else wasm-simd, else wasm
 *   const gru = new GRU({ inputSize: 8, hiddenSize: 32, seed: 1 });
 *   const { output, hN } = gru.forward(x, { batch: 4 });
 *
 * Training: layers (GRU, Dense, Embedding, Dropout) with forward({ train: true }) / backward(),
 * losses, optimizers (Adam, AdamW, SGD), lr schedules, and SequenceModel wiring them together.
 */
export { init, loadBackend, backendInfo } from './loader.js';
export type { BackendInfo, InitOptions, LoadOptions } from './loader.js';
export type { Backend, BackendName } from './backends/backend.js';
export { GRU, GRUStream } from './gru.js';
export type { GRUOptions, ForwardOptions, ForwardResult, BackwardOptions, BackwardResult } from './gru.js';
export { Dense } from './dense.js';
export type { DenseOptions } from './dense.js';
export { Embedding } from './embedding.js';
export type { EmbeddingOptions } from './embedding.js';
export { Dropout } from './dropout.js';
export type { DropoutOptions } from './dropout.js';
export { softmaxCrossEntropy, bceWithLogits, mse } from './losses.js';
export type { LossResult, LossOptions, SoftmaxCrossEntropyOptions } from './losses.js';
export { Optimizer, Adam, AdamW, SGD } from './optim.js';
export type { Trainable, AdamOptions, SGDOptions, AdamStateDict, SGDStateDict, OptimizerStateDict, OptimizerType } from './optim.js';
export { LRSchedule, StepLR, ExponentialLR, CosineAnnealingLR } from './schedules.js';
export { SequenceModel } from './model.js';
export type { SequenceModelOptions, SequenceBatch, SequenceLoss, OutputMode, FitProgress } from './model.js';
export { GruError } from './errors.js';
export type { GruErrorCode } from './errors.js';
