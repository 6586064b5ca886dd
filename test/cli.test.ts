/**
 * The `gru-simd` command line (ts/cli/), run as a child process from source, bundled by esbuild
 * into build/cli-test/main.mjs first (a tsx start costs ~1.5 s a command; npm packages stay
 * external; test/package/package.e2e.ts runs the installed bin): --help on every command,
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
import { build } from 'esbuild';
import { VERSION } from '../ts/version.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const FIXTURES = path.join(ROOT, 'test/fixtures');
// Inside the repository (build/ is ignored) so that the bundle finds the package root, its
// addon and wasm modules, and bench/run.ts as ts/cli/main.ts would.
const CLI = path.join(ROOT, 'build/cli-test/main.mjs');
const TFJS = path.join(FIXTURES, 'tfjs-files');
const REAL_TFJS = path.join(FIXTURES, 'real-models/tfjs/tfjs-e2e-embedding-gru');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** cli() without waiting: the table-driven cases run side by side (each start costs seconds). */
function cliAsync(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
    });
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
before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'gru-simd-cli-'));
  await build({
    entryPoints: [path.join(ROOT, 'ts/cli/main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outfile: CLI,
    logLevel: 'silent',
  });
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
      [['convert', 'a', 'b', '--to', 'caffe'], /--to must be/],
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

  it('the real Keras files (real-models/keras, h5): their layers, shapes and parameters', () => {
    const REAL = path.join(FIXTURES, 'real-models');
    // Structures as test/fixtures/real-models/SOURCES.md records them (read there with h5py).
    const cases: [string, string, (number | null)[], [string, (number | null)[], number][]][] = [
      [
        'keras/keras3-bigru-gru-quantvision.keras',
        '3.11.1',
        [null, 100, 15],
        [
          ['Bidirectional', [null, 100, 128], 2 * (15 * 192 + 64 * 192 + 2 * 192)],
          ['Dropout', [null, 100, 128], 0],
          ['GRU', [null, 32], 128 * 96 + 32 * 96 + 2 * 96],
          ['Dropout', [null, 32], 0],
          ['Dense', [null, 1], 33],
        ],
      ],
      [
        'keras/tfkeras2.15-gru3-relu-weather-cloud.keras',
        '2.15.0',
        [null, 9, 1],
        [
          ['GRU', [null, 9, 16], 48 + 16 * 48 + 2 * 48],
          ['GRU', [null, 9, 8], 16 * 24 + 8 * 24 + 2 * 24],
          ['GRU', [null, 9, 4], 8 * 12 + 4 * 12 + 2 * 12],
          ['Dense', [null, 9, 1], 5],
        ],
      ],
      [
        'h5/keras2.1.3-embedding-gru2-hardsigmoid.h5',
        '2.1.3',
        [null, 100],
        [
          ['Embedding', [null, 100, 32], 320000],
          ['GRU', [null, 100, 32], 32 * 96 + 32 * 96 + 96],
          ['GRU', [null, 32], 32 * 96 + 32 * 96 + 96],
          ['Dense', [null, 23], 32 * 23 + 23],
        ],
      ],
      [
        'h5/tfkeras2.10-gru2-resetafter-btc.h5',
        '2.10.0',
        [null, 10, 193],
        [
          ['GRU', [null, 10, 100], 193 * 300 + 100 * 300 + 2 * 300],
          ['Dropout', [null, 10, 100], 0],
          ['GRU', [null, 50], 100 * 150 + 50 * 150 + 2 * 150],
          ['Dropout', [null, 50], 0],
          ['Dense', [null, 25], 50 * 25 + 25],
          ['Dense', [null, 1], 26],
        ],
      ],
    ];
    for (const [file, version, inputShape, layers] of cases) {
      const d = inspectJson(path.join(REAL, file));
      assert.equal(d.format, 'keras', file);
      assert.equal((d as { details?: Record<string, string> }).details?.keras_version, version);
      assert.deepEqual(d.inputShape, inputShape, file);
      assert.deepEqual(
        d.layers!.map((l) => [l.className, l.outputShape, l.params]),
        layers,
        file,
      );
      assert.equal(
        d.params,
        layers.reduce((a, l) => a + l[2], 0),
        file,
      );
    }
    const h5 = inspectJson(path.join(REAL, 'h5/keras2.1.3-embedding-gru2-hardsigmoid.h5'));
    assert.equal(h5.layers![1]!.options.recurrentActivation, 'hardSigmoidKeras2');
    assert.equal(h5.layers![1]!.options.resetAfter, false);
    // A file gru-simd cannot load is still described, from the file, with the reason.
    const lstm = inspectJson(path.join(REAL, 'h5/keras2.1.3-lstm-dl4j-simple-flatten.h5'));
    assert.deepEqual(
      lstm.layers!.map((l) => [l.className, l.params]),
      [
        ['LSTM', 4 * (1 * 50 + 50 * 50 + 50)],
        ['Dense', 51],
      ],
    );
    assert.ok(lstm.notes.some((n) => /not loadable.*LSTM/.test(n)));
  });

  it('ONNX files: GRU nodes and operators; other operators listed as not loadable', () => {
    const REAL = path.join(FIXTURES, 'real-models/onnx');
    const gtcrn = inspectJson(path.join(REAL, 'gtcrn_simple.onnx')) as Described & {
      details: Record<string, string>;
    };
    assert.equal(gtcrn.format, 'onnx');
    assert.equal(gtcrn.details.gru_nodes!.split(';').length, 14);
    assert.equal(gtcrn.layers, undefined);
    assert.ok(
      gtcrn.notes.some((n) => /not loadable.*Conv \(11\)/.test(n)),
      gtcrn.notes.join(),
    );
    const burn = inspectJson(path.join(REAL, 'burn-onnx-gru/gru_bidirectional.onnx'));
    assert.deepEqual(
      burn.layers!.map((l) => [l.className, l.outputShape]),
      [['Bidirectional', [null, 5, 16]]],
    );
    assert.equal(burn.params, 2 * (3 * 8 * 4 + 3 * 8 * 8 + 6 * 8));
    // tf2onnx writes a Keras 3 GRU as a Loop: inspect names it as the GRU it computes.
    const loop = inspectJson(path.join(REAL, 'tf2onnx/gru-classifier.onnx')) as Described & {
      details: Record<string, string>;
    };
    assert.match(loop.details.gru_nodes!, /\(a Loop computing a GRU\): hidden 8, forward/);
    assert.deepEqual(
      loop.layers!.map((l) => l.className),
      ['GRU', 'Dense'],
    );
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

  it('Keras -> ONNX and Keras -> gru-simd: the same predictions as the Keras file', () => {
    const keras = path.join(
      FIXTURES,
      'real-models/keras/tfkeras2.15-gru3-relu-weather-cloud.keras',
    );
    const input = path.join(tmp, 'cloud.input.json');
    const x = Array.from({ length: 2 }, (_, b) =>
      Array.from({ length: 9 }, (_, t) => [Math.sin(b * 9 + t)]),
    );
    writeFileSync(input, JSON.stringify(x));
    const onnx = path.join(tmp, 'cloud.onnx');
    const own = path.join(tmp, 'cloud.safetensors');
    assert.match(ok(cli('convert', keras, onnx)).stderr, /converted keras -> onnx/);
    assert.match(ok(cli('convert', keras, own)).stderr, /converted keras -> gru-simd/);
    const [a, b, c] = [keras, onnx, own].map(
      (f) =>
        JSON.parse(ok(cli('predict', f, '--input', input, '-q')).stdout) as {
          shape: number[];
          data: number[];
        },
    );
    assert.deepEqual(a!.shape, [2, 9, 1]);
    assert.deepEqual(c, a);
    const err = Math.max(...a!.data.map((v, i) => Math.abs(v - b!.data[i]!)));
    assert.ok(err <= 1e-6, `onnx read back: max difference ${err}`);
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
      [CLI, 'bench', '--only', 'wasm-simd', '--cases', 'A', '--out', out],
      { cwd: ROOT, encoding: 'utf8', timeout: 170_000 },
    );
    assert.equal(r.status, 0, r.stderr.slice(-2000));
    const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
    assert.match(JSON.stringify(results), /wasm-simd/);
    assert.ok(existsSync(path.join(out, 'results.md')));
  });
});
