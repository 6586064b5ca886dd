/**
 * Bugs the fuzzer (test/fuzz/) found in the TypeScript facade, each as the call it made: a
 * GruError with a code now, where there was a TypeError, or nothing at all (an argument
 * silently accepted). The fuzzer's own slice (test/fuzz.test.ts) finds them again if they come
 * back; these say what each one was.
 */
import { Adam, Dense, GRU, GRUStream, GruError } from '../../ts/index.js';
import type { Backend } from '../../ts/backends/backend.js';
import { assertThrowsCode } from '../util.js';

const throws = (fn: () => unknown, code: string, mentions: string[] = []): void =>
  assertThrowsCode(fn, code, mentions, GruError);

export function fuzzFoundSuite(backend: Backend): void {
  it('new GRUStream over a bidirectional GRU: ERR_GRU_STATE (as gru.stream()), not a stream whose first step fails', () => {
    const gru = new GRU({ inputSize: 2, hiddenSize: 3, bidirectional: true, seed: 1, backend });
    try {
      throws(() => new GRUStream(gru, 1), 'ERR_GRU_STATE', ['unidirectional']);
      throws(() => gru.stream(), 'ERR_GRU_STATE', ['unidirectional']);
    } finally {
      gru.dispose();
    }
  });

  it('setting lr on a disposed optimizer: ERR_GRU_DISPOSED (every later call throws), reading it still works', () => {
    const dense = new Dense({ inFeatures: 2, outFeatures: 1, seed: 1, backend });
    const opt = new Adam([dense], { lr: 0.01 });
    opt.dispose();
    try {
      throws(() => {
        opt.lr = 0.05;
      }, 'ERR_GRU_DISPOSED');
      throws(() => opt.step(), 'ERR_GRU_DISPOSED');
      if (opt.lr !== 0.01) throw new Error(`lr changed to ${opt.lr}`);
    } finally {
      dense.dispose();
    }
  });
}
