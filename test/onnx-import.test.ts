/**
 * ONNX import (loadOnnxModel, ts/formats/onnx-import.ts) on every backend: PyTorch's exports of
 * GRU models (scripts/gen-onnx-fixtures.py: test/fixtures/onnx/, the TorchScript exporter and
 * the dynamo one) predict what onnxruntime recorded within 1e-5; the burn-onnx single-GRU
 * graphs (test/fixtures/real-models/onnx/burn-onnx-gru, time-first input, raw Y and Y_h
 * outputs) give the output sums upstream asserts; a graph with other operators (gtcrn) is one
 * ERR_GRU_FORMAT listing them with their counts (tf2onnx's Loop-form GRU: onnx-loop-import.test.ts);
 * describeOnnx summarises files without building a model.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type * as P from '../ts/formats/onnx-messages.js';
import { onnx } from '../ts/formats/onnx-proto.js';
import { describeOnnx, GruError, loadOnnxModel } from '../ts/index.js';
import { encodeOnnx, ONNX_DTYPE, type ModelToEncode } from '../ts/formats/onnx-proto.js';
import type { Tensor } from '../ts/models/index.js';
import { forEachBackend } from './backends.js';
import { assertRejectsCode } from './util.js';

const DIR = 'test/fixtures/onnx';
const BURN = 'test/fixtures/real-models/onnx/burn-onnx-gru';
const GTCRN = 'test/fixtures/real-models/onnx/gtcrn_simple.onnx';

interface FixtureCase {
  exporter: string;
  operators: string[];
  input: { shape: number[]; dtype: string; data: number[] };
  output: { shape: number[]; data: number[] };
}
const fixture = JSON.parse(readFileSync(path.join(DIR, 'predictions.json'), 'utf8')) as {
  cases: Record<string, FixtureCase>;
};
const burn = JSON.parse(readFileSync(path.join(BURN, 'expected.json'), 'utf8')) as {
  input: { shape: number[]; data: number[][][] };
  cases: Record<string, { Y_sum: number; Y_h_sum: number; tolerance: number }>;
};

const read = (file: string) => new Uint8Array(readFileSync(file));

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

async function formatError(source: Uint8Array, backend: unknown): Promise<GruError> {
  try {
    const m = await loadOnnxModel(source, { backend: backend as never });
    m.dispose();
  } catch (e) {
    assert.ok(e instanceof GruError, String(e));
    assert.equal(e.code, 'ERR_GRU_FORMAT', e.message);
    return e;
  }
  return assert.fail('expected ERR_GRU_FORMAT');
}

/** The burn input [steps 5, batch 2, features 4] as the Sequential's [batch, steps, features]. */
function burnInput(): Tensor {
  const [T, Bn, F] = burn.input.shape as [number, number, number];
  const data = new Float32Array(T * Bn * F);
  for (let t = 0; t < T; t++)
    for (let b = 0; b < Bn; b++)
      for (let f = 0; f < F; f++) data[(b * T + t) * F + f] = burn.input.data[t]![b]![f]!;
  return { data, shape: [Bn, T, F] };
}

const sum = (a: ArrayLike<number>) => Array.prototype.reduce.call(a, (s, v) => s + v, 0) as number;

forEachBackend('ONNX import', (backend) => {
  for (const [file, c] of Object.entries(fixture.cases)) {
    it(`${file} (${c.exporter}) predicts onnxruntime's output within 1e-5`, async () => {
      const model = await loadOnnxModel(read(path.join(DIR, file)), { backend });
      try {
        const x: Tensor =
          c.input.dtype === 'int64'
            ? { data: Int32Array.from(c.input.data), shape: c.input.shape }
            : { data: Float32Array.from(c.input.data), shape: c.input.shape };
        const y = model.predict(x);
        assert.deepEqual(y.shape, c.output.shape);
        const diff = maxDiff(y.data, c.output.data);
        assert.ok(diff < 1e-5, `max |predict - onnxruntime| = ${diff}`);
      } finally {
        model.dispose();
      }
    });
  }

  it('the PyTorch classifier becomes Embedding -> Bidirectional (seq) -> Bidirectional -> Dense', async () => {
    const model = await loadOnnxModel(read(path.join(DIR, 'torch-legacy-classifier.onnx')), {
      backend,
    });
    try {
      assert.deepEqual(
        model.layers.map((l) => l.className),
        ['Embedding', 'Bidirectional', 'Bidirectional', 'Dense'],
      );
      // nn.Embedding(20, 6) + 2-layer bidirectional nn.GRU(6, 5) + nn.Linear(10, 3)
      const gru = (i: number, h: number) => 2 * (3 * h * (i + h) + 6 * h);
      assert.equal(model.countParams(), 20 * 6 + gru(6, 5) + gru(10, 5) + 10 * 3 + 3);
    } finally {
      model.dispose();
    }
  });

  for (const [file, c] of Object.entries(burn.cases)) {
    const needsState = file.includes('initial_state');
    it(`burn-onnx ${file}: ${needsState ? 'initial_h as a graph input is refused' : "Y's and Y_h's sums as upstream"}`, async () => {
      const bytes = read(path.join(BURN, file));
      if (needsState) {
        const e = await formatError(bytes, backend);
        assert.match(e.message, /initial_h/);
        return;
      }
      for (const [output, expected] of [
        ['Y', c.Y_sum],
        ['Y_h', c.Y_h_sum],
      ] as const) {
        const model = await loadOnnxModel(bytes, { backend, output });
        try {
          const y = model.predict(burnInput());
          // Upstream's sums come from the unrounded input, the 4-decimal one here: its tolerance.
          assert.ok(
            Math.abs(sum(y.data) - expected) < c.tolerance,
            `${output}: sum ${sum(y.data)}, expected ${expected}`,
          );
        } finally {
          model.dispose();
        }
      }
    });
  }

  it('gtcrn (PyTorch 1.11, 415 nodes): one ERR_GRU_FORMAT listing the other operators and counts', async () => {
    const e = await formatError(read(GTCRN), backend);
    for (const op of [
      'Conv (',
      'ConvTranspose (',
      'BatchNormalization (',
      'PRelu (',
      'ScatterND (',
    ])
      assert.ok(e.message.includes(op), `${op} in ${e.message}`);
    assert.match(e.message, /Supported: GRU/);
    assert.doesNotMatch(e.message, /[:,] GRU \(/); // GRU itself is not listed as unsupported
  });

  it('initializers as float_data / int64_data load as raw_data does; external data is refused, naming the file', async () => {
    const file = 'torch-legacy-tagger.onnx';
    const c = fixture.cases[file]!;
    const m = onnx.ModelProto.decode(read(path.join(DIR, file)));
    const graph = m.graph as { initializer: P.TensorProto[]; node: P.NodeProto[] };
    const inits = graph.initializer;
    // The Constant nodes' tensors (INT64 shapes and axes) too.
    const constants = graph.node.flatMap((n) =>
      n.opType === 'Constant'
        ? n.attribute.flatMap((a) => (a.t ? [a.t as P.TensorProto] : []))
        : [],
    );
    assert.ok(constants.some((t) => t.dataType === ONNX_DTYPE.INT64));
    for (const t of [...inits, ...constants]) {
      if (t.rawData.length === 0) continue;
      const raw = t.rawData;
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      if (t.dataType === ONNX_DTYPE.FLOAT)
        t.floatData = Array.from({ length: raw.length / 4 }, (_, i) =>
          view.getFloat32(i * 4, true),
        );
      else if (t.dataType === ONNX_DTYPE.INT64)
        t.int64Data = Array.from({ length: raw.length / 8 }, (_, i) =>
          Number(view.getBigInt64(i * 8, true)),
        );
      t.rawData = new Uint8Array(0);
    }
    const converted = onnx.ModelProto.encode(m).finish();
    const model = await loadOnnxModel(converted, { backend });
    try {
      const y = model.predict({ data: Float32Array.from(c.input.data), shape: c.input.shape });
      assert.ok(maxDiff(y.data, c.output.data) < 1e-5);
    } finally {
      model.dispose();
    }
    inits[0]!.dataLocation = 1;
    inits[0]!.externalData = [{ key: 'location', value: 'weights.bin' }];
    const e = await formatError(onnx.ModelProto.encode(m).finish(), backend);
    assert.match(e.message, /external file \("weights\.bin"\)/);
  });

  it("Keras 3's export (the GRU unrolled into MatMul / Sigmoid / Tanh steps) is refused, saying so", async () => {
    const e = await formatError(read(path.join(DIR, 'keras-torch-unrolled-gru.onnx')), backend);
    assert.match(e.message, /no GRU operator/);
    assert.match(e.message, /unrolled/);
  });

  it('unsupported GRU features and graph shapes are refused, naming them', async () => {
    const base = (gruInputs: string[], attrs: ModelToEncode['nodes'][0]['attributes'] = {}) => {
      const H = 2;
      const I = 3;
      return encodeOnnx({
        graphName: 'g',
        producerName: 'test',
        opset: 17,
        inputs: [{ name: 'x', dtype: ONNX_DTYPE.FLOAT, dims: ['steps', 'batch', I] }],
        outputs: [{ name: 'y', dtype: ONNX_DTYPE.FLOAT, dims: [] }],
        initializers: [
          { name: 'W', dims: [1, 3 * H, I], data: new Float32Array(3 * H * I) },
          { name: 'R', dims: [1, 3 * H, H], data: new Float32Array(3 * H * H) },
          { name: 'L', dims: [1], data: Int32Array.of(2) },
          { name: 'h0', dims: [1, 1, H], data: Float32Array.of(1, 0) },
        ],
        nodes: [
          {
            op: 'GRU',
            inputs: ['x', 'W', 'R', ...gruInputs],
            outputs: ['y'],
            attributes: { hidden_size: H, ...attrs },
          },
        ],
      });
    };
    assert.match((await formatError(base(['', 'L']), backend)).message, /sequence_lens/);
    assert.match(
      (await formatError(base(['', '', 'h0']), backend)).message,
      /initial_h must be zeros/,
    );
    assert.match((await formatError(base([], { clip: { f: 3 } }), backend)).message, /clip/);
    assert.match(
      (await formatError(base([], { activations: { strings: ['Sigmoid', 'Softsign'] } }), backend))
        .message,
      /Softsign/,
    );
    assert.match(
      (await formatError(base([], { hidden_size: 5 }), backend)).message,
      /hidden_size 5/,
    );
    // Loads with the defaults: the helper makes a valid graph.
    const ok = await loadOnnxModel(base([]), { backend });
    assert.deepEqual(
      ok.layers.map((l) => l.className),
      ['GRU'],
    );
    ok.dispose();
    await assertRejectsCode(
      () => loadOnnxModel(base([]), { output: 'nope', backend }),
      'ERR_GRU_FORMAT',
    );
    await assertRejectsCode(() => loadOnnxModel(base([]), { colour: 1 } as never), 'ERR_GRU_ARG');
    await assertRejectsCode(() => loadOnnxModel(42 as never, { backend }), 'ERR_GRU_ARG');
  });
});

describe('describeOnnx', () => {
  it('summarises gtcrn without building: operators, GRU nodes, inputs, parameters', async () => {
    const d = await describeOnnx(read(GTCRN));
    assert.equal(d.operators.GRU, 14);
    assert.equal(d.gruNodes.length, 14);
    assert.equal(d.gruNodes.filter((g) => g.directions === 2).length, 4);
    assert.deepEqual(
      [...new Set(d.gruNodes.map((g) => g.hiddenSize))].sort((a, b) => a! - b!),
      [4, 8, 16],
    );
    assert.ok(d.gruNodes.every((g) => g.linearBeforeReset));
    assert.deepEqual(
      d.inputs.map((i) => i.name),
      ['mix', 'conv_cache', 'tra_cache', 'inter_cache'],
    );
    assert.deepEqual(d.inputs[0]!.shape, [1, 257, 1, 2]);
    assert.equal(d.producer, 'pytorch 1.11.0');
    assert.equal(d.opsets[''], 11);
    assert.ok((d.unsupportedOperators.Conv ?? 0) > 0);
    assert.equal(d.unsupportedOperators.GRU, undefined);
    assert.ok(d.parameterCount > 40000, String(d.parameterCount));
  });

  it('counts the parameters of a PyTorch export as PyTorch does', async () => {
    const d = await describeOnnx(read(path.join(DIR, 'torch-legacy-tagger.onnx')));
    // nn.GRU(4, 6) + nn.Linear(6, 2)
    assert.equal(d.parameterCount, 3 * 6 * (4 + 6) + 6 * 6 + 6 * 2 + 2);
    assert.deepEqual(d.gruNodes, [
      {
        name: d.gruNodes[0]!.name,
        form: 'GRU',
        hiddenSize: 6,
        inputSize: 4,
        direction: 'forward',
        directions: 1,
        linearBeforeReset: true,
      },
    ]);
    assert.deepEqual(d.unsupportedOperators, {});
  });
});
