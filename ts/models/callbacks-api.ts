/**
 * The `callbacks` namespace of the model API: tfjs's factory names for Keras's built-in
 * callbacks (callbacks.ts), passed to fit() in `callbacks` beside custom ones.
 */
import {
  EarlyStopping,
  LearningRateScheduler,
  ReduceLROnPlateau,
  type EarlyStoppingArgs,
  type LearningRateSchedulerFn,
  type ReduceLROnPlateauArgs,
} from './callbacks.js';
import { ModelCheckpoint, type ModelCheckpointArgs } from './model-checkpoint.js';

/** Keras's EarlyStopping (tfjs's tf.callbacks.earlyStopping). */
export function earlyStopping(args: EarlyStoppingArgs = {}): EarlyStopping {
  return new EarlyStopping(args);
}

/** Keras's ReduceLROnPlateau. */
export function reduceLROnPlateau(args: ReduceLROnPlateauArgs = {}): ReduceLROnPlateau {
  return new ReduceLROnPlateau(args);
}

/** Keras's LearningRateScheduler: schedule(epoch, lr) at each epoch's start. */
export function learningRateScheduler(
  schedule: LearningRateSchedulerFn,
  args: { verbose?: 0 | 1 } = {},
): LearningRateScheduler {
  return new LearningRateScheduler(schedule, args);
}

/**
 * Keras's ModelCheckpoint: saves the model (save(), or saveWeights() with saveWeightsOnly) during
 * fit(), at each epoch's end or every saveFreq batches, to filepath formatted with the epoch and
 * the logs ('ckpt-{epoch:02d}-{val_loss:.4f}.safetensors'); saveBestOnly keeps the best by monitor.
 */
export function modelCheckpoint(args: ModelCheckpointArgs): ModelCheckpoint {
  return new ModelCheckpoint(args);
}
