/** gru-simd's version, written into model files (test/models/model-file.test.ts checks it is package.json's). */
export const VERSION = '0.1.0';
