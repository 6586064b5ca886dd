/** init()/backendInfo() selection, and leaks: everything allocated is freed. */
import assert from 'node:assert/strict';
import { GRU, backendInfo, init, loadBackend } from '../../ts/index.js';
import type { Backend, BackendName } from '../../ts/backends/backend.js';
import { assertRejectsCode, rng, uniform } from '../util.js';

export function memorySuite(backend: Backend): void {
  it('2000 create / forward / stream / failed call / dispose loops free everything', () => {
    const start = backend.allocatedBytes();
    const rand = rng(3);
    let sawGrowth = false;
    for (let i = 0; i < 2000; i++) {
      const cfg = {
        inputSize: 1 + (i % 5),
        hiddenSize: 1 + (i % 17),
        numLayers: 1 + (i % 3),
        bidirectional: i % 2 === 1,
        bias: i % 4 !== 0,
        resetAfter: i % 3 !== 0,
      };
      const gru = new GRU({ ...cfg, seed: i, backend });
      if (backend.allocatedBytes() > start) sawGrowth = true;
      const B = 1 + (i % 3);
      const x = uniform(2 * B * cfg.inputSize, -1, 1, rand);
      gru.forward(x, { batch: B, lengths: i % 5 === 0 ? new Int32Array(B).fill(1) : undefined });
      if (!cfg.bidirectional && i % 4 === 1) gru.stream({ batch: B }).step(x);
      if (i % 7 === 0) {
        try {
          gru.forward(x, { batch: B, h0: new Float32Array(1 + cfg.hiddenSize * 1000) });
        } catch {
          // expected: ERR_GRU_SHAPE; checked elsewhere, here only its memory matters
        }
      }
      gru.dispose();
    }
    assert.ok(
      sawGrowth,
      'allocatedBytes() must grow while a network is alive (else this test proves nothing)',
    );
    assert.equal(backend.allocatedBytes(), start, 'allocatedBytes() back to its starting value');
  });
}

export function initSuite(backend: Backend): void {
  it(`init({ backend: '${backend.name}' }) selects it; backendInfo() reports it; new GRU uses it`, async () => {
    const info = await init({ backend: backend.name as BackendName });
    assert.equal(info.backend, backend.name);
    // threadPolicy's cooldown may tick between the two calls: compared below.
    const { threadPolicy: _now, ...again } = backendInfo();
    const { threadPolicy: _then, ...first } = info;
    assert.deepEqual(again, first);
    assert.ok(info.isaList.includes(info.isa), `isa ${info.isa} in ${info.isaList.join(',')}`);
    assert.ok(Number.isInteger(info.threads) && info.threads >= 1, `threads ${info.threads}`);
    const cfg = { inputSize: 3, hiddenSize: 6, seed: 17 };
    const byDefault = new GRU(cfg);
    const explicit = new GRU({ ...cfg, backend });
    try {
      const x = uniform(4 * 3, -1, 1, rng(8));
      assert.deepEqual(byDefault.forward(x).hN, explicit.forward(x).hN);
    } finally {
      byDefault.dispose();
      explicit.dispose();
    }
  });
}

/** backendInfo().threadPolicy: the core's thread policy (gru_thread_policy). */
export function threadPolicySuite(backend: Backend): void {
  it(`backendInfo().threadPolicy reports ${backend.name}'s threads, cooldown and stalls`, async () => {
    await init({ backend: backend.name as BackendName });
    const p = backendInfo().threadPolicy;
    assert.deepEqual(Object.keys(p).sort(), ['cooldownMsLeft', 'coolingDown', 'stalls', 'threads']);
    assert.equal(p.threads, backend.threads());
    assert.equal(typeof p.coolingDown, 'boolean');
    assert.ok(Number.isInteger(p.stalls) && p.stalls >= 0, `stalls ${p.stalls}`);
    // At most the longest cooldown (1.6 s), and some left exactly while cooling down (a
    // cooldown ending between the two reads of the core shows as 0 left: not cooling down).
    assert.ok(p.cooldownMsLeft >= 0 && p.cooldownMsLeft <= 1600, `ms left ${p.cooldownMsLeft}`);
    assert.equal(p.coolingDown, p.cooldownMsLeft > 0);
    if (backend.name !== 'native') {
      assert.deepEqual(p, { threads: 1, coolingDown: false, cooldownMsLeft: 0, stalls: 0 });
    } else {
      // The pool size follows setThreads.
      const threads = backend.threads();
      try {
        backend.setThreads(threads === 1 ? 2 : 1);
        assert.equal(backendInfo().threadPolicy.threads, threads === 1 ? 2 : 1);
      } finally {
        backend.setThreads(threads);
      }
    }
    // The core checks the length (the facade always passes 4).
    assert.throws(
      () => backend.threadPolicy(new Int32Array(3)),
      (e: unknown) => (e as { code?: string }).code === 'ERR_GRU_SHAPE',
    );
  });
}

export function autoInitSuite(loadedNames: readonly string[]): void {
  it("init({ backend: 'auto' }) picks native where it loads, else wasm-relaxed, wasm-simd, wasm", async () => {
    const info = await init({ backend: 'auto' });
    const order = ['native', 'wasm-relaxed', 'wasm-simd', 'wasm'];
    const preference = order.filter((n) => loadedNames.includes(n));
    // Only a claim about backends this run loaded: auto may still find one not selected here.
    if (preference.length > 0 && order.every((n) => loadedNames.includes(n)))
      assert.equal(info.backend, preference[0]);
    assert.ok(order.includes(info.backend));
    if (info.backend === 'native') assert.equal(info.fallbackReason, undefined);
  });
}

export function unknownBackendSuite(): void {
  it('init / loadBackend with an unknown backend name -> ERR_GRU_ARG', async () => {
    await assertRejectsCode(() => init({ backend: 'gpu' as BackendName }), 'ERR_GRU_ARG');
    await assertRejectsCode(async () => loadBackend('gpu' as BackendName), 'ERR_GRU_ARG');
    await assertRejectsCode(async () => loadBackend('auto' as BackendName), 'ERR_GRU_ARG');
  });
}
