/** Parameters in PyTorch layout by name, state dict round trips, seeded init. */
import assert from 'node:assert/strict';
import { GRU } from '../../ts/index.js';
import type { Backend } from '../../ts/backends/backend.js';
import { parameterNames, parameterShape, type RefConfig } from '../reference.js';
import { rng, uniform } from '../util.js';

const CFG_BIDIR: RefConfig = {
  inputSize: 5,
  hiddenSize: 7,
  numLayers: 2,
  bidirectional: true,
  bias: true,
  resetAfter: true,
};
const CFG_NOBIAS: RefConfig = {
  inputSize: 3,
  hiddenSize: 16,
  numLayers: 3,
  bidirectional: false,
  bias: false,
  resetAfter: false,
};

const numel = (cfg: RefConfig, name: string): number =>
  parameterShape(cfg, name).reduce((a, b) => a * b, 1);

export function paramSuite(backend: Backend): void {
  for (const cfg of [CFG_BIDIR, CFG_NOBIAS]) {
    const tag = `L${cfg.numLayers}${cfg.bidirectional ? ' bidir' : ''}${cfg.bias ? '' : ' nobias'}`;
    it(`${tag}: parameterNames() and stateDict() keys are PyTorch's, in its order, with its sizes`, () => {
      const gru = new GRU({ ...cfg, seed: 3, backend });
      try {
        const want = parameterNames(cfg);
        assert.deepEqual(gru.parameterNames(), want);
        const sd = gru.stateDict();
        assert.deepEqual(Object.keys(sd), want);
        for (const name of want) {
          assert.ok(sd[name] instanceof Float32Array, `${name} is a Float32Array`);
          assert.equal(sd[name].length, numel(cfg, name), `${name} length`);
        }
      } finally {
        gru.dispose();
      }
    });
  }

  it('setParameter then getParameter / stateDict give back the exact tensor; others unchanged', () => {
    const cfg = CFG_BIDIR;
    const gru = new GRU({ ...cfg, seed: 11, backend });
    try {
      const before = gru.stateDict();
      // A known tensor: element i is i / 1024 - 1 (exact in fp32), in the [3H, D*H] layout.
      const name = 'weight_ih_l1_reverse';
      const known = new Float32Array(numel(cfg, name)).map((_, i) => i / 1024 - 1);
      gru.setParameter(name, known);
      assert.deepEqual(gru.getParameter(name), known);
      const after = gru.stateDict();
      assert.deepEqual(after[name], known);
      for (const other of parameterNames(cfg)) {
        if (other !== name)
          assert.deepEqual(after[other], before[other], `${other} must not change`);
      }
      // The caller's array is copied in, not kept.
      known[0] = 42;
      assert.notEqual(gru.getParameter(name)[0], 42, 'setParameter must copy its input');
    } finally {
      gru.dispose();
    }
  });

  it('loadStateDict(stateDict()) of another net gives a bitwise identical forward', () => {
    const cfg = CFG_BIDIR;
    const a = new GRU({ ...cfg, seed: 21, backend });
    const b = new GRU({ ...cfg, seed: 22, backend });
    try {
      const x = uniform(4 * 3 * cfg.inputSize, -1, 1, rng(5));
      const ya = a.forward(x, { batch: 3 });
      const yb0 = b.forward(x, { batch: 3 });
      assert.notDeepEqual(yb0.hN, ya.hN, 'different seeds give different networks');
      b.loadStateDict(a.stateDict());
      assert.deepEqual(b.stateDict(), a.stateDict());
      const yb = b.forward(x, { batch: 3 });
      assert.deepEqual(yb.output, ya.output);
      assert.deepEqual(yb.hN, ya.hN);
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('seeded init: same seed same parameters, different seed different, U(-1/sqrt(H), 1/sqrt(H))', () => {
    for (const cfg of [CFG_BIDIR, CFG_NOBIAS]) {
      const a = new GRU({ ...cfg, seed: 1234, backend });
      const b = new GRU({ ...cfg, seed: 1234, backend });
      const c = new GRU({ ...cfg, seed: 1235, backend });
      try {
        const sa = a.stateDict();
        assert.deepEqual(b.stateDict(), sa, 'same seed, same parameters');
        const sc = c.stateDict();
        const k = 1 / Math.sqrt(cfg.hiddenSize);
        let maxAbs = 0;
        let sum = 0;
        let n = 0;
        for (const name of parameterNames(cfg)) {
          assert.notDeepEqual(
            sc[name],
            sa[name],
            `${name}: a different seed gives different values`,
          );
          for (const v of sa[name]) {
            if (!(Math.abs(v) <= Math.fround(k)))
              assert.fail(`${name}: ${v} outside +-1/sqrt(H) = ${k}`);
            maxAbs = Math.max(maxAbs, Math.abs(v));
            sum += v;
            n++;
          }
        }
        // Not all zeros or a constant: the values fill the interval and centre on 0.
        assert.ok(
          maxAbs > 0.95 * k,
          `values should fill +-1/sqrt(H): max |v| ${maxAbs}, bound ${k}`,
        );
        assert.ok(Math.abs(sum / n) < 0.1 * k, `mean ${sum / n} should be near 0`);
        const distinct = new Set(sa[parameterNames(cfg)[1]]).size;
        assert.ok(distinct > 0.9 * sa[parameterNames(cfg)[1]].length, 'values are not repeated');
      } finally {
        a.dispose();
        b.dispose();
        c.dispose();
      }
    }
  });
}

/** The same seed gives the same parameters on every backend and ISA variant. */
export function seededAcrossBackendsSuite(backends: readonly Backend[]): void {
  // With a single variant in this run (e.g. GRU_SIMD_BACKENDS=wasm) there is nothing to compare.
  const variants = backends.reduce(
    (n, b) => n + b.isaList().filter((v) => b.isaSupported(v)).length,
    0,
  );
  if (variants < 2) return;
  it(`seed 42 gives identical parameters on ${backends.map((b) => b.name).join(', ')} and every ISA`, function () {
    const cfg = CFG_BIDIR;
    const dicts: { where: string; sd: Record<string, Float32Array> }[] = [];
    for (const backend of backends) {
      const previous = backend.isa();
      try {
        for (const isa of backend.isaList().filter((v) => backend.isaSupported(v))) {
          backend.setIsa(isa);
          const gru = new GRU({ ...cfg, seed: 42, backend });
          dicts.push({ where: `${backend.name}/${isa}`, sd: gru.stateDict() });
          gru.dispose();
        }
      } finally {
        backend.setIsa(previous);
      }
    }
    for (const d of dicts.slice(1))
      assert.deepEqual(d.sd, dicts[0].sd, `${d.where} vs ${dicts[0].where}`);
  });
}
