/**
 * The suite, run against every backend (env GRU_SIMD_BACKENDS, default all three) and, for
 * the numeric parts, every ISA variant the backend has and the CPU supports. The backend is a
 * parameter: the bodies live in test/suites/ and never name a backend.
 */
import { forwardErrors, forwardSuite, streamSuite } from './suites/forward.js';
import { activationErrors, activationSuite } from './suites/activations.js';
import { paramSuite, seededAcrossBackendsSuite } from './suites/params.js';
import { errorSuite } from './suites/errors.js';
import {
  autoInitSuite,
  initSuite,
  memorySuite,
  threadPolicySuite,
  unknownBackendSuite,
} from './suites/lifecycle.js';
import { forEachBackend, forEachIsa, LOADED } from './backends.js';
import { FORWARD, ACTIVATION } from './tolerance.js';
import type { Backend } from '../ts/backends/backend.js';

describe('gru-simd', () => {
  after(() => {
    forwardErrors.print(
      `forward max error vs float64 (tolerance |diff| <= ${FORWARD.abs} + ${FORWARD.rel}*|ref|; worst/tol <= 1 passes)`,
    );
    activationErrors.print(
      `activation max error vs float64 (bounds: sigmoid ${ACTIVATION.sigmoid.abs} abs ${ACTIVATION.sigmoid.rel} rel, ` +
        `tanh ${ACTIVATION.tanh.abs} abs ${ACTIVATION.tanh.rel} rel; rel over |ref| >= ${ACTIVATION.REL_FLOOR})`,
    );
  });

  forEachBackend('backend', (backend) => {
    describe('forward vs float64 reference', () =>
      forEachIsa(backend, (isa) => forwardSuite(backend, isa)));
    describe('streaming', () => forEachIsa(backend, (isa) => streamSuite(backend, isa)));
    describe('activations', () => forEachIsa(backend, (isa) => activationSuite(backend, isa)));
    describe('parameters', () => paramSuite(backend));
    describe('bad input', () => errorSuite(backend));
    describe('memory', () => memorySuite(backend));
    describe('init', () => {
      initSuite(backend);
      threadPolicySuite(backend);
    });
  });

  describe('across backends', () => {
    const loaded = LOADED.filter((l) => l.backend !== null);
    seededAcrossBackendsSuite(loaded.map((l) => l.backend as Backend));
    autoInitSuite(loaded.map((l) => l.name));
    unknownBackendSuite();
  });
});
