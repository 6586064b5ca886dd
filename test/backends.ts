/**
 * The backends the suite runs against: env GRU_SIMD_BACKENDS (comma list) or all four, less
 * wasm-relaxed where the engine has no relaxed SIMD (Node 20 without
 * --experimental-wasm-relaxed-simd). .mocharc.json passes that flag, and
 * test/wasm-relaxed.test.ts fails when the suite runs without it, so `npm test` always covers
 * wasm-relaxed; a single file run with `mocha --no-config` covers it with
 * `-n experimental-wasm-relaxed-simd`. Loaded once, at import (top-level await), so suites can
 * be generated per backend and per ISA variant. A selected backend that fails to load is a
 * failing test: see forEachBackend.
 */
import assert from 'node:assert/strict';
import { loadBackend } from '../ts/index.js';
import type { Backend, BackendName } from '../ts/backends/backend.js';
import { wasmRelaxedSimdSupported } from '../ts/backends/wasm.js';

export const ALL_BACKENDS: readonly BackendName[] = ['native', 'wasm-relaxed', 'wasm-simd', 'wasm'];

/** ALL_BACKENDS less those this engine cannot run at all (wasm-relaxed without relaxed SIMD). */
export const ENGINE_BACKENDS: readonly BackendName[] = ALL_BACKENDS.filter(
  (n) => n !== 'wasm-relaxed' || wasmRelaxedSimdSupported(),
);

export const BACKEND_NAMES: string[] = (process.env.GRU_SIMD_BACKENDS ?? ENGINE_BACKENDS.join(','))
  .split(',')
  .map((s) => s.trim())
  .filter((s) => s.length > 0);

export interface LoadedBackend {
  name: string;
  backend: Backend | null;
  error: unknown;
}

export const LOADED: readonly LoadedBackend[] = await Promise.all(
  BACKEND_NAMES.map(async (name): Promise<LoadedBackend> => {
    try {
      return { name, backend: await loadBackend(name as BackendName), error: null };
    } catch (error) {
      return { name, backend: null, error };
    }
  }),
);

function reason(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as Error & { code?: string }).code;
    return code ? `${code}: ${e.message}` : e.message;
  }
  return String(e);
}

/**
 * describe(`backend <name>`) for each selected backend, calling body with the loaded backend.
 * A selected backend that did not load is one failing test with the reason, here and in CI:
 * `npm test` builds the addon first and the .wasm modules are committed, so it is a bug, not a
 * missing tool. (To run without a backend, leave it out of GRU_SIMD_BACKENDS.)
 */
export function forEachBackend(title: string, body: (backend: Backend) => void): void {
  for (const entry of LOADED) {
    describe(`${title} [${entry.name}]`, () => {
      const backend = entry.backend;
      if (backend === null) {
        it(`backend ${entry.name} loads`, () => {
          throw entry.error instanceof Error ? entry.error : new Error(reason(entry.error));
        });
        return;
      }
      body(backend);
    });
  }
}

/**
 * describe(`isa <v>`) for each ISA variant compiled into the backend: run with the backend
 * switched to that variant (networks are created inside the tests, so they get it), and
 * restored afterwards. A variant the CPU lacks gets one test: setIsa refuses it.
 */
export function forEachIsa(backend: Backend, body: (isa: string) => void): void {
  for (const isa of backend.isaList()) {
    describe(`isa ${isa}`, () => {
      if (!backend.isaSupported(isa)) {
        // Compiled in but not runnable on this CPU / engine: what there is to test is that the
        // backend refuses it, rather than running instructions the CPU lacks.
        it(`isa ${isa}: not runnable here, so setIsa refuses it (ERR_GRU_ISA) and keeps ${backend.isa()}`, () => {
          const before = backend.isa();
          assert.throws(
            () => backend.setIsa(isa),
            (e: unknown) => (e as { code?: string }).code === 'ERR_GRU_ISA',
          );
          assert.equal(backend.isa(), before);
        });
        return;
      }
      let previous = '';
      before(() => {
        previous = backend.isa();
        backend.setIsa(isa);
      });
      after(() => {
        backend.setIsa(previous);
      });
      body(isa);
    });
  }
}
