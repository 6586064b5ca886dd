/**
 * Training, on every backend (env GRU_SIMD_BACKENDS, default all three) and, for the numeric
 * parts, every ISA variant the backend has and the CPU supports: the float64 oracle checked
 * against finite differences, gradients against the oracle, optimizers against torch.optim's
 * formulas, bytes kept for backward, learning on real tasks, bad input, leaks. The bodies live
 * in test/suites/train-*.ts and never name a backend (except where a test compares two).
 */
import { referenceSelfCheckSuite, fdErrors } from './suites/train-reference.js';
import {
  gradErrors,
  gruGradientSuite,
  layerGradientSuite,
  trainBytesSuite,
  trainBytesTable,
} from './suites/train-gradients.js';
import { optimErrors, optimizerSuite, resumeSuite, scheduleSuite } from './suites/train-optim.js';
import { trainErrorSuite } from './suites/train-errors.js';
import { trainMemorySuite } from './suites/train-memory.js';
import { modelSuite } from './suites/train-model.js';
import { learningSuite, learningReport } from './suites/train-learning.js';
import { forEachBackend, forEachIsa, LOADED } from './backends.js';
import { GRADIENT, OPTIMIZER, REFERENCE_FD } from './tolerance.js';
import type { Backend } from '../ts/backends/backend.js';

describe('gru-simd training', () => {
  after(() => {
    fdErrors.print(
      `float64 reference vs central finite differences (eps 1e-6; tolerance ${REFERENCE_FD.abs} + ${REFERENCE_FD.rel}*|fd|)`,
    );
    gradErrors.print(
      `training gradients vs float64 (tolerance |diff| <= ${GRADIENT.abs}*max|ref| + ${GRADIENT.rel}*|ref|; worst/tol <= 1 passes)`,
    );
    optimErrors.print(
      `optimizer parameters after 10 steps vs torch.optim formulas in float64 (tolerance ${OPTIMIZER.abs} + ${OPTIMIZER.rel}*|ref|)`,
    );
    if (trainBytesTable.length)
      console.log(
        `\n      bytes kept by a training forward\n${trainBytesTable.map((l) => `      ${l}`).join('\n')}\n`,
      );
    learningReport.print();
  });

  describe('float64 reference self-check', () => referenceSelfCheckSuite());

  forEachBackend('backend', (backend) => {
    describe('GRU gradients vs float64 reference', () =>
      forEachIsa(backend, (isa) => gruGradientSuite(backend, isa)));
    describe('Dense, Embedding, losses, Dropout vs float64', () =>
      forEachIsa(backend, (isa) => layerGradientSuite(backend, isa)));
    describe('optimizers vs torch.optim formulas', () =>
      forEachIsa(backend, (isa) => optimizerSuite(backend, isa)));
    describe('schedules', () => scheduleSuite(backend));
    describe('optimizer state resume', () => resumeSuite(backend));
    describe('bytes kept for backward', () =>
      forEachIsa(backend, (isa) => trainBytesSuite(backend, isa)));
    describe('SequenceModel vs float64 composition', () => modelSuite(backend));
    describe('bad input (training)', () => trainErrorSuite(backend));
    describe('memory (training)', () => trainMemorySuite(backend));
  });

  describe('learning', () => {
    const loaded = LOADED.filter((l) => l.backend !== null).map((l) => l.backend as Backend);
    learningSuite(loaded);
  });
});
