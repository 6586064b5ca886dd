/**
 * The `gru-simd` command line (ts/cli/), run as a child process from source (node --import tsx
 * ts/cli/main.ts; test/package/package.e2e.ts runs the installed bin): --help on every command,
 * --version; `inspect` of the real and fixture model files it reads, with their layer structure
 * checked; `convert` round trips tfjs -> gru-simd -> tfjs with equal predictions (and within
 * 1e-5 of the framework's recorded ones); `predict` from nested arrays and { shape, data }, to
 * stdout and to a file; exit codes and one-line errors (1: the work failed, with the GruError's
 * code; 2: wrong usage); one `bench` run of one contestant and workload (no speed asserted).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { VERSION } from '../ts/version.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const FIXTURES = path.join(ROOT, 'test/fixtures');
const TFJS = path.join(FIXTURES, 'tfjs-files');
const REAL_TFJS = path.join(FIXTURES, 'real-models/tfjs/tfjs-e2e-embedding-gru');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Run {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'ts/cli/main.ts'), ...args],
    {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** cli() without waiting: the table-driven cases run side by side (each start costs seconds). */
function cliAsync(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'ts/cli/main.ts'), ...args],
      {
        cwd: ROOT,
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function ok(r: Run): Run {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r;
}

interface Described {
  format: string;
  params: number;
  inputShape?: (number | null)[];
  layers?: {
    name: string;
    className: string;
    outputShape: (number | null)[];
    params: number;
    options: Record<string, unknown>;
  }[];
  tensors?: { name: string; shape: number[] }[];
  notes: string[];
}
const inspectJson = (file: string) =>
  JSON.parse(ok(cli('inspect', file, '--json')).stdout) as Described;

let tmp: string;
before(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'gru-simd-cli-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('cli: help, version, usage errors', () => {
  it('--help, --version and every command --help exit 0 with their usage', async () => {
    const [main, version, ...commands] = await Promise.all([
      cliAsync('--help'),
      cliAsync('--version'),
      ...['inspect', 'convert', 'predict', 'bench'].map((c) => cliAsync(c, '--help')),
    ]);
    const help = ok(main!).stdout;
    for (const c of ['inspect', 'convert', 'predict', 'bench'])
      assert.match(help, new RegExp(`gru-simd ${c} `));
    assert.match(help, /tfjs\s+TensorFlow.js LayersModel/);
    assert.equal(ok(version!).stdout.trim(), VERSION);
    ['inspect', 'convert', 'predict', 'bench'].forEach((c, i) =>
      assert.match(ok(commands[i]!).stdout, new RegExp(`^Usage: gru-simd ${c}`)),
    );
  });

  it('wrong usage exits 2 naming the problem and pointing to --help', async () => {
    const cases: [string[], RegExp][] = [
      [[], /Usage: gru-simd COMMAND/],
      [['frobnicate'], /unknown command "frobnicate"/],
      [['inspect'], /expected one FILE, got nothing/],
      [['inspect', 'a', 'b'], /expected one FILE/],
      [['inspect', '--bogus', 'x'], /Unknown option '--bogus'/],
      [['predict', path.join(REAL_TFJS, 'model.json')], /--input DATA.json is required/],
      [
        ['predict', 'x', '--input', 'y', '--batch-size', '0'],
        /--batch-size must be a positive integer/,
      ],
      [
        ['convert', path.join(REAL_TFJS, 'model.json'), path.join(tmp, 'x.bin')],
        /cannot tell OUT's format/,
      ],
      [['convert', 'a', 'b', '--to', 'onnx'], /--to must be/],
      [
        [
          'convert',
          path.join(FIXTURES, 'torch-state-dict/a.safetensors'),
          path.join(tmp, 'y.json'),
        ],
        /holds no model architecture/,
      ],
      [['inspect', 'x', '--backend', 'gpu'], /--backend must be native, wasm-simd or wasm/],
      [['bench', '--only', 'bogus'], /--only: unknown bogus/],
    ];
    const runs = await Promise.all(cases.map(([args]) => cliAsync(...args)));
    for (const [i, [args, message]] of cases.entries()) {
      const r = runs[i]!;
      assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code} ${r.stderr}`);
      assert.match(r.stderr + r.stdout, message, args.join(' '));
      if (args.length > 0) assert.match(r.stderr, /--help' for its usage/);
    }
  });

  it('a failure exits 1 with the GruError code and message on one line', async () => {
    const cases: [string[], RegExp][] = [
      [['inspect', path.join(tmp, 'missing.json')], /ERR_GRU_IO: .*no such file/],
      [
        ['inspect', path.join(FIXTURES, 'real-models/pytorch/gtcrn-model_trained_on_dns3.pt')],
        /ERR_GRU_FORMAT: a PyTorch torch.save file/,
      ],
      [
        ['inspect', path.join(FIXTURES, 'real-models/SOURCES.md')],
        /ERR_GRU_FORMAT: .*not a model file gru-simd knows/,
      ],
    ];
    const broken = path.join(tmp, 'broken');
    rmSync(broken, { recursive: true, force: true });
    const json = JSON.parse(readFileSync(path.join(TFJS, 'gru-stack/model.json'), 'utf8'));
    json.modelTopology.config.layers[1].class_name = 'LSTM';
    writeFileSync(path.join(tmp, 'broken.json'), JSON.stringify(json));
    cases.push([
      ['inspect', path.join(tmp, 'broken.json')],
      /ERR_GRU_FORMAT: layers\[1\] \(LSTM .*is not supported/,
    ]);
    writeFileSync(path.join(tmp, 'bad-input.json'), JSON.stringify([[1, 2, 3]]));
    cases.push([
      ['predict', path.join(TFJS, 'gru-stack'), '--input', path.join(tmp, 'bad-input.json')],
      /ERR_GRU_SHAPE/,
    ]);
    const runs = await Promise.all(cases.map(([args]) => cliAsync(...args)));
    for (const [i, [args, message]] of cases.entries()) {
      const r = runs[i]!;
      assert.equal(r.code, 1, `${args.join(' ')}: exit ${r.code} ${r.stderr}`);
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('gru-simd '));
      assert.equal(errors.length, 1, `one line: ${r.stderr}`);
      assert.match(errors[0]!, message);
    }
  });
});

describe('cli: inspect reports the layer structure', () => {
  it('the tfjs repository e2e model (real-models/tfjs): Embedding -> GRU goBackwards, hard sigmoid', () => {
    const d = inspectJson(REAL_TFJS);
    assert.equal(d.format, 'tfjs');
    assert.equal(d.params, 2300);
    assert.deepEqual(d.inputShape, [null, 10]);
    assert.deepEqual(
      d.layers!.map((l) => [l.className, l.outputShape, l.params]),
      [
        ['Embedding', [null, 10, 20], 2000],
        ['GRU', [null, 4], 300],
      ],
    );
    const gru = d.layers![1]!.options;
    assert.equal(gru.units, 4);
    assert.equal(gru.goBackwards, true);
    assert.equal(gru.resetAfter, false);
    assert.equal(gru.recurrentActivation, 'hardSigmoidKeras2');
    const text = ok(cli('inspect', REAL_TFJS)).stdout;
    assert.match(text, /gru_GRU1 \(GRU\)\s+\(None, 4\)\s+300 +units=4 .*goBackwards=true/);
    assert.match(text, /parameters: 2,300/);
  });

  it('every tfjs fixture: its classes in order, and a reset-after model noted as tfjs-refused', () => {
    for (const name of readdirSync(TFJS)) {
      const json = JSON.parse(readFileSync(path.join(TFJS, name, 'model.json'), 'utf8'));
      const classes = (json.modelTopology.config.layers as { class_name: string }[])
        .map((l) => l.class_name)
        .filter((c) => c !== 'InputLayer');
      const d = inspectJson(path.join(TFJS, name));
      assert.deepEqual(
        d.layers!.map((l) => l.className),
        classes,
        name,
      );
      assert.equal(
        d.notes.some((n) => /reset_after/.test(n)),
        name === 'keras-reset-after',
        name,
      );
    }
    const bidi = inspectJson(path.join(TFJS, 'keras-reset-after')).layers![1]!;
    assert.equal(
      (bidi.options.layer as { config: { resetAfter: boolean } }).config.resetAfter,
      true,
    );
    assert.deepEqual(bidi.outputShape, [null, 6]);
  });

  it('a safetensors state dict: tensors and their count, no architecture', () => {
    const d = inspectJson(path.join(FIXTURES, 'torch-state-dict/a.safetensors'));
    assert.equal(d.format, 'safetensors');
    assert.equal(d.layers, undefined);
    assert.ok(d.tensors!.length > 0);
    assert.equal(
      d.params,
      d.tensors!.reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0),
    );
  });
});

describe('cli: convert and predict', () => {
  it('tfjs -> gru-simd -> tfjs: equal predictions, within 1e-5 of the framework (tfjs, Keras)', () => {
    for (const name of ['gru-stack', 'embedding-bidirectional-masked', 'keras-reset-after']) {
      const e = JSON.parse(readFileSync(path.join(TFJS, name, 'expected.json'), 'utf8'));
      const input = path.join(tmp, `${name}.input.json`);
      writeFileSync(input, JSON.stringify(e.input));
      const own = path.join(tmp, `${name}.safetensors`);
      const back = path.join(tmp, `${name}-tfjs`);
      const c1 = ok(cli('convert', path.join(TFJS, name), own));
      assert.match(c1.stderr, /converted tfjs -> gru-simd/);
      const c2 = ok(cli('convert', own, back));
      assert.equal(
        /warning: .*resetAfter true/.test(c2.stderr),
        name === 'keras-reset-after',
        c2.stderr,
      );
      assert.ok(
        existsSync(path.join(back, 'model.json')) &&
          existsSync(path.join(back, 'group1-shard1of1.bin')),
      );
      const outs = [path.join(TFJS, name), own, back].map(
        (f) =>
          JSON.parse(ok(cli('predict', f, '--input', input, '-q')).stdout) as {
            shape: number[];
            data: number[];
          },
      );
      assert.deepEqual(outs[1], outs[0], `${name}: gru-simd file`);
      assert.deepEqual(outs[2], outs[0], `${name}: tfjs file written by gru-simd`);
      assert.deepEqual(outs[0]!.shape, e.output.shape);
      const err = Math.max(...outs[0]!.data.map((v, i) => Math.abs(v - e.output.data[i])));
      assert.ok(err <= 1e-5, `${name}: max error ${err}`);
    }
  });

  it('predict: nested arrays, ids, --output, --batch-size, another backend: the same numbers', () => {
    const e = JSON.parse(readFileSync(path.join(REAL_TFJS, 'expected.json'), 'utf8'));
    const nested = path.join(tmp, 'ids.json');
    writeFileSync(nested, JSON.stringify([e.input.data, e.input.data]));
    const r = JSON.parse(ok(cli('predict', REAL_TFJS, '-i', nested, '-q')).stdout) as {
      shape: number[];
      data: number[];
    };
    assert.deepEqual(r.shape, [2, 4]);
    const err = Math.max(...r.data.map((v, i) => Math.abs(v - e.expected_output.data[i % 4])));
    assert.ok(err <= 1e-5, `max error ${err}`);
    const out = path.join(tmp, 'y.json');
    const w = ok(
      cli(
        'predict',
        REAL_TFJS,
        '-i',
        nested,
        '-o',
        out,
        '--batch-size',
        '1',
        '--backend',
        'wasm-simd',
      ),
    );
    assert.equal(w.stdout, '');
    assert.match(w.stderr, /wrote .*y\.json: output shape \[2, 4\]/);
    const y = JSON.parse(readFileSync(out, 'utf8')) as { data: number[] };
    assert.ok(Math.max(...y.data.map((v, i) => Math.abs(v - r.data[i]!))) <= 1e-6);
  });
});

describe('cli: bench', () => {
  it('runs the suite quick mode for one contestant and workload, writing its results', function () {
    this.timeout(180_000);
    const out = path.join(tmp, 'bench');
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(ROOT, 'ts/cli/main.ts'),
        'bench',
        '--only',
        'wasm-simd',
        '--cases',
        'A',
        '--out',
        out,
      ],
      { cwd: ROOT, encoding: 'utf8', timeout: 170_000 },
    );
    assert.equal(r.status, 0, r.stderr.slice(-2000));
    const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
    assert.match(JSON.stringify(results), /wasm-simd/);
    assert.ok(existsSync(path.join(out, 'results.md')));
  });
});
