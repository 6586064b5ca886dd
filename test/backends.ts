/**
 * The backends the suite runs against: env GRU_SIMD_BACKENDS (comma list) or all three.
 * Loaded once, at import (top-level await), so suites can be generated per backend and per
 * ISA variant. A backend that fails to load is a failure in CI (env CI=true) and a visible
 * skip elsewhere: see forEachBackend.
 */
import { loadBackend } from '../ts/index.js';
import type { Backend, BackendName } from '../ts/backends/backend.js';

export const ALL_BACKENDS: readonly BackendName[] = ['native', 'wasm-simd', 'wasm'];
export const IN_CI = process.env.CI === 'true';

export const BACKEND_NAMES: string[] = (process.env.GRU_SIMD_BACKENDS ?? ALL_BACKENDS.join(','))
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
 * A backend that did not load gives one failing test in CI, one skipped test with the reason
 * elsewhere.
 */
export function forEachBackend(title: string, body: (backend: Backend) => void): void {
  for (const entry of LOADED) {
    describe(`${title} [${entry.name}]`, () => {
      const backend = entry.backend;
      if (backend === null) {
        if (IN_CI) {
          it(`backend ${entry.name} loads (required in CI)`, () => {
            throw entry.error instanceof Error ? entry.error : new Error(reason(entry.error));
          });
        } else {
          it.skip(`backend ${entry.name} unavailable here (${reason(entry.error)})`);
        }
        return;
      }
      body(backend);
    });
  }
}

/**
 * describe(`isa <v>`) for each ISA variant compiled into the backend: run with the backend
 * switched to that variant (networks are created inside the tests, so they get it), and
 * restored afterwards. A variant the CPU lacks is a visible skip.
 */
export function forEachIsa(backend: Backend, body: (isa: string) => void): void {
  for (const isa of backend.isaList()) {
    describe(`isa ${isa}`, () => {
      if (!backend.isaSupported(isa)) {
        it.skip(`isa ${isa} not supported by this CPU / engine`);
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
