/**
 * A backend whose every call into the core is timed: the same functions as the backend it wraps
 * (the same addon or wasm instance, the same handles), each between two performance.now()
 * readings. Used by workload F to split a training step's time into the core's calls and what
 * the model API spends around them (validation, batching, array allocation, JavaScript glue).
 * The two clock readings cost well under a microsecond per call, against a few dozen calls
 * per step.
 */
import type { AbiCalls } from '../ts/backends/abi.generated.js';
import { makeBackend, type Backend } from '../ts/backends/backend.js';

export interface CallTimes {
  calls: number;
  seconds: number;
  /** Per function name: calls and seconds. */
  byName: Map<string, { calls: number; seconds: number }>;
}

export interface TimedBackend {
  backend: Backend;
  times: CallTimes;
  /** Zeroes the counters. */
  reset(): void;
}

/** Members of a Backend that are not calls of the C ABI (made by makeBackend itself). */
const CONVENIENCES = new Set(['name', 'isa', 'isaList', 'isaSupported']);

export function timedBackend(inner: Backend): TimedBackend {
  const times: CallTimes = { calls: 0, seconds: 0, byName: new Map() };
  const record = (name: string, t0: number): void => {
    const s = (performance.now() - t0) / 1000;
    times.calls++;
    times.seconds += s;
    const e = times.byName.get(name) ?? { calls: 0, seconds: 0 };
    e.calls++;
    e.seconds += s;
    times.byName.set(name, e);
  };
  const calls: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(inner)) {
    if (CONVENIENCES.has(name) || typeof value !== 'function') continue;
    const f = value as (...a: unknown[]) => unknown;
    calls[name] = (...args: unknown[]): unknown => {
      const t0 = performance.now();
      const r = f(...args);
      // An async call (native: on a worker thread) counts until it settles.
      if (r instanceof Promise) return r.finally(() => record(name, t0));
      record(name, t0);
      return r;
    };
  }
  // makeBackend rebuilds the conveniences from the raw calls.
  calls.isaList = () => inner.isaList().join(',');
  calls.isaSupported = (isa: string) => (inner.isaSupported(isa) ? 1 : 0);
  return {
    backend: makeBackend(inner.name, calls as unknown as AbiCalls),
    times,
    reset: () => {
      times.calls = 0;
      times.seconds = 0;
      times.byName.clear();
    },
  };
}
