/** Messages between the demo page (main.ts) and its training worker (worker.ts). */
import type { BackendInfo } from '../../ts/index.browser.js';

export type BackendChoice = 'auto' | 'wasm-relaxed' | 'wasm-simd' | 'wasm';

export type ToWorker =
  { type: 'start'; backend: BackendChoice } | { type: 'pause' } | { type: 'resume' };

export type FromWorker =
  | {
      type: 'ready';
      info: BackendInfo;
      /** Trainable parameters of the whole model. */
      parameters: number;
      vocab: number;
      textChars: number;
      /** Entropy of the text's character frequencies: the loss of the best model without context. */
      unigram: number;
      config: {
        hiddenSize: number;
        embeddingDim: number;
        seqLen: number;
        batch: number;
        lr: number;
      };
      loadMs: number;
    }
  | {
      type: 'progress';
      /** Steps done so far. */
      step: number;
      /** The loss of each step since the last message. */
      losses: number[];
      stepsPerSecond: number;
      /** Characters predicted per second (steps/s x seqLen x batch). */
      charsPerSecond: number;
    }
  | { type: 'sample'; step: number; prompt: string; text: string }
  | { type: 'error'; message: string };
