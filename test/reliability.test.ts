/**
 * Reliability under hostile use, on every backend (env GRU_SIMD_BACKENDS, default all three):
 * all-or-nothing state loads, GruErrors for hostile arguments, refusals of what the float32
 * core would refuse later, what the fuzzer found (test/fuzz/), and (native, every ISA) denormals
 * flushed to zero. The bodies live in test/suites/ and never name a backend, except the denormal
 * suite, native only.
 */
import { layerStateSuite, optimizerStateSuite } from './suites/state-atomic.js';
import { hostileArgSuite } from './suites/hostile-args.js';
import { float32ArgSuite, loaderSuite } from './suites/silent-acceptance.js';
import { denormalSuite } from './suites/denormals.js';
import { fuzzFoundLoaderSuite, fuzzFoundSuite } from './suites/fuzz-found.js';
import { forEachBackend, forEachIsa } from './backends.js';

describe('gru-simd reliability', () => {
  forEachBackend('backend', (backend) => {
    describe('layer loadStateDict: all or nothing', () => layerStateSuite(backend));
    describe('optimizer loadStateDict: all or nothing', () => optimizerStateSuite(backend));
    describe('hostile arguments: GruErrors', () => hostileArgSuite(backend));
    describe('numbers and options the core would refuse later', () => float32ArgSuite(backend));
    describe('found by the fuzzer', () => fuzzFoundSuite(backend));
    if (backend.name === 'native') {
      describe('denormals flushed to zero (native)', () =>
        forEachIsa(backend, (isa) => denormalSuite(backend, isa)));
    }
  });
  describe('loader', () => loaderSuite());
  describe('loader: found by the fuzzer', () => fuzzFoundLoaderSuite());
});
