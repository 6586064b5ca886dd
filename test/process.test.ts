/**
 * Tests that need a fresh Node process: GRU_SIMD_ISA (native only; read once, when the addon
 * loads) and backends that cannot load (a loaded backend is cached for the process).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ALL_BACKENDS, BACKEND_NAMES, LOADED } from './backends.js';
import { CHILD_NODE_FLAGS } from './node-flags.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const INDEX = new URL('../ts/index.ts', import.meta.url).href;

interface Report {
  isa: string;
  isaList: string[];
}

const PROBE_ISA = `const m = await import(${JSON.stringify(INDEX)});
const b = await m.loadBackend('native');
console.log(JSON.stringify({ isa: b.isa(), isaList: b.isaList() }));`;

function probe(
  env: Record<string, string | undefined>,
  code = PROBE_ISA,
): { report: Report | null; stderr: string; status: number | null; stdout: string } {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete childEnv[k];
    else childEnv[k] = v;
  }
  const r = spawnSync(
    process.execPath,
    [...CHILD_NODE_FLAGS, '--import', 'tsx', '--input-type=module', '-e', code],
    {
      cwd: ROOT,
      env: childEnv,
      encoding: 'utf8',
      timeout: 30000,
    },
  );
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let report: Report | null;
  try {
    report = JSON.parse(line) as Report;
  } catch {
    report = null;
  }
  return { report, stderr: r.stderr, status: r.status, stdout: r.stdout };
}

describe('native: GRU_SIMD_ISA environment variable', () => {
  const native = LOADED.find((l) => l.name === 'native');
  // Not selected for this run: nothing to define. Selected but not loaded: a failure.
  if (!native) return;
  if (!native.backend) {
    it('the native backend loads', () =>
      assert.fail('the native backend did not load (see the main suite)'));
    return;
  }
  const backend = native.backend;

  it('GRU_SIMD_ISA=scalar: the native backend reports isa "scalar"', function () {
    this.slow(3000);
    const { report, stderr, status } = probe({ GRU_SIMD_ISA: 'scalar' });
    assert.equal(status, 0, `child exited ${status}: ${stderr}`);
    assert.ok(report, `no report from the child; stderr: ${stderr}`);
    assert.equal(report.isa, 'scalar');
  });

  it('GRU_SIMD_ISA=bogus: does not crash and reports a valid ISA (the default)', function () {
    this.slow(3000);
    const unset = probe({ GRU_SIMD_ISA: undefined });
    const { report, stderr, status } = probe({ GRU_SIMD_ISA: 'bogus' });
    assert.equal(status, 0, `child exited ${status}: ${stderr}`);
    assert.ok(report, `no report from the child; stderr: ${stderr}`);
    assert.ok(
      report.isaList.includes(report.isa),
      `isa ${report.isa} in ${report.isaList.join(',')}`,
    );
    assert.ok(
      unset.report,
      `no report from the child without GRU_SIMD_ISA; stderr: ${unset.stderr}`,
    );
    assert.equal(report.isa, unset.report.isa, 'falls back to the default ISA');
  });

  for (const isa of backend.isaList()) {
    if (isa === 'scalar') continue;
    if (backend.isaSupported(isa)) {
      it(`GRU_SIMD_ISA=${isa}: reports ${isa}`, function () {
        this.slow(3000);
        const { report, stderr, status } = probe({ GRU_SIMD_ISA: isa });
        assert.equal(status, 0, `child exited ${status}: ${stderr}`);
        assert.equal(report?.isa, isa);
      });
    } else {
      it(`GRU_SIMD_ISA=${isa}, which this CPU cannot run: falls back to the default and says so`, function () {
        this.slow(3000);
        const unset = probe({ GRU_SIMD_ISA: undefined });
        const { report, stderr, status } = probe({ GRU_SIMD_ISA: isa });
        assert.equal(status, 0, `child exited ${status}: ${stderr}`);
        assert.equal(report?.isa, unset.report?.isa);
        assert.match(stderr, new RegExp(`GRU_SIMD_ISA=${isa} is not a variant`));
      });
    }
  }
});

describe('backends that cannot load', () => {
  const where: Record<string, string> = {
    native: 'addonPath',
    'wasm-relaxed': 'wasmRelaxedUrl',
    'wasm-simd': 'wasmSimdUrl',
    wasm: 'wasmScalarUrl',
  };
  for (const name of ALL_BACKENDS.filter((n) => BACKEND_NAMES.includes(n))) {
    it(`${name} from a missing file -> ERR_GRU_BACKEND_UNAVAILABLE from loadBackend and init`, function () {
      this.slow(3000);
      const option = JSON.stringify({ [where[name]]: `/nonexistent/gru_simd-${name}` });
      const code = `const m = await import(${JSON.stringify(INDEX)});
const out = {};
try { new m.GRU({ inputSize: 1, hiddenSize: 1 }); } catch (e) { out.gruBeforeInit = e.code; }
try { await m.loadBackend(${JSON.stringify(name)}, ${option}); } catch (e) { out.load = e.code; out.message = e.message; }
try { await m.init({ backend: ${JSON.stringify(name)}, ...${option} }); } catch (e) { out.init = e.code; }
console.log(JSON.stringify(out));`;
      const r = probe({}, code);
      assert.equal(r.status, 0, `child exited ${r.status}: ${r.stderr}`);
      const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, string>;
      assert.equal(out.load, 'ERR_GRU_BACKEND_UNAVAILABLE', out.message);
      assert.equal(out.init, 'ERR_GRU_BACKEND_UNAVAILABLE');
      assert.ok(out.message.includes('/nonexistent/'), `message names the file: ${out.message}`);
      assert.equal(
        out.gruBeforeInit,
        'ERR_GRU_NOT_INITIALIZED',
        'new GRU before init() without a backend',
      );
    });
  }
});
