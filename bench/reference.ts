/**
 * What every contestant is checked against before it is timed: gru-simd on the best backend of
 * this Node process (native, else wasm-simd) on the same weights and inputs. Used by the Node
 * workers and, over HTTP, by the browser bench (bench/browser/server.ts), so a module in the
 * page is checked against native code too.
 */
import type { Case } from './cases.js';
import { prepareGruSimd } from './contestants/gru-simd.js';
import type { Probe } from './contestants/types.js';
import * as gs from '../ts/index.js';

let referenceBackend: Promise<Awaited<ReturnType<typeof gs.loadBackend>>> | null = null;

export async function reference(
  c: Case,
  resetAfter: boolean,
): Promise<{ probe: Probe; name: string }> {
  referenceBackend ??= gs.loadBackend('native').catch(() => gs.loadBackend('wasm-simd'));
  const backend = await referenceBackend;
  const p = prepareGruSimd(backend, c, resetAfter);
  try {
    const name = `gru-simd ${backend.name}${resetAfter ? '' : ' (resetAfter: false)'}`;
    return { probe: (await p.probe()).probe, name };
  } finally {
    p.dispose();
  }
}
