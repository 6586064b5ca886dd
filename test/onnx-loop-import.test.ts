/**
 * ONNX import of a GRU written as a Loop over its cell (ts/formats/onnx-walk-loop.ts), on every
 * backend: tf2onnx 1.17's export of a Keras 3 GRU classifier (scripts/gen-tf2onnx-fixture.py)
 * predicts what onnxruntime-node computes on the same input within 1e-5. Mutated bodies are
 * refused, or, where the mutation is still a GRU the model API has (a relu candidate), predict
 * what onnxruntime computes on the mutated file: never a silently wrong model. A hand-written
 * Loop (scripts/gen-onnx-loop-fixture.py) spells the cell otherwise (reset_before, gates r z h,
 * kernels of one shape, weights from the outer graph, the sequence as output) and must match
 * onnxruntime too.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import type * as P from '../ts/formats/onnx-messages.js';
import { onnx } from '../ts/formats/onnx-proto.js';
import { describeOnnx, GruError, loadOnnxModel } from '../ts/index.js';
import { forEachBackend } from './backends.js';

const TF2ONNX = 'test/fixtures/real-models/onnx/tf2onnx/gru-classifier.onnx';
const original = new Uint8Array(readFileSync(TF2ONNX));
/** scripts/gen-onnx-loop-fixture.py */
const HAND_WRITTEN = 'test/fixtures/onnx-loop/gru-reset-before-rzh.onnx';

type Node = P.NodeProto & { opType: string; input: string[]; output: string[] };

/** The file with its Loop body changed by `edit` (the body's nodes, decoded). */
function mutated(edit: (nodes: Node[]) => void): Uint8Array {
  const m = onnx.ModelProto.decode(original) as unknown as {
    graph: { node: (Node & { attribute: { name: string; g: { node: Node[] } }[] })[] };
  };
  const loop = m.graph.node.find((n) => n.opType === 'Loop')!;
  edit(loop.attribute.find((a) => a.name === 'body')!.g.node as unknown as Node[]);
  return onnx.ModelProto.encode(m as never).finish();
}

const input = Float32Array.from({ length: 3 * 5 * 4 }, (_, i) => Math.sin(0.7 * i) * 1.5);

async function onnxruntime(bytes: Uint8Array): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({ x: new ort.Tensor('float32', input, [3, 5, 4]) });
  return out['Identity:0']!.data as Float32Array;
}

async function refusal(bytes: Uint8Array, backend: unknown): Promise<string> {
  try {
    (await loadOnnxModel(bytes, { backend: backend as never })).dispose();
  } catch (e) {
    assert.ok(e instanceof GruError, String(e));
    assert.equal(e.code, 'ERR_GRU_FORMAT', e.message);
    return e.message;
  }
  return assert.fail('expected ERR_GRU_FORMAT');
}

async function maxDiffToOnnxruntime(bytes: Uint8Array, backend: unknown): Promise<number> {
  const want = await onnxruntime(bytes);
  const model = await loadOnnxModel(bytes, { backend: backend as never });
  try {
    const y = model.predict({ data: input, shape: [3, 5, 4] });
    assert.deepEqual(y.shape, [3, 3]);
    let m = 0;
    for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(y.data[i]! - want[i]!));
    return m;
  } finally {
    model.dispose();
  }
}

const byOp = (nodes: Node[], op: string) => nodes.filter((n) => n.opType === op);

forEachBackend('ONNX import of a Loop-form GRU (tf2onnx)', (backend) => {
  it("tf2onnx 1.17's Keras 3 GRU classifier predicts onnxruntime's output within 1e-5", async () => {
    const diff = await maxDiffToOnnxruntime(original, backend);
    assert.ok(diff < 1e-5, `max |predict - onnxruntime| = ${diff}`);
    const model = await loadOnnxModel(original, { backend });
    try {
      assert.deepEqual(
        model.layers.map((l) => l.className),
        ['GRU', 'Dense'],
      );
      assert.equal(model.countParams(), 3 * (4 * 8 + 8 * 8 + 2 * 8) + 8 * 3 + 3); // reset_after
    } finally {
      model.dispose();
    }
    const described = await describeOnnx(original);
    assert.equal(described.producer, 'tf2onnx 1.17.0 6537fc');
    // The Loop is listed as the GRU it computes (no GRU operator is in the file).
    assert.equal(described.operators.GRU, undefined);
    assert.deepEqual(
      described.gruNodes.map(({ name, ...rest }) => [typeof name, rest]),
      [
        [
          'string',
          {
            form: 'Loop',
            hiddenSize: 8,
            inputSize: 4,
            direction: 'forward',
            directions: 1,
            linearBeforeReset: true,
          },
        ],
      ],
    );
    assert.ok(described.operators.Loop! >= 1);
  });

  it('a gate activation changed to Relu is refused (no GRU has it)', async () => {
    const bytes = mutated((nodes) => {
      byOp(nodes, 'Sigmoid')[0]!.opType = 'Relu';
    });
    await onnxruntime(bytes); // still a valid graph
    assert.match(await refusal(bytes, backend), /not a GRU step over the time axis/);
    // describeOnnx still describes the file, listing no GRU for the Loop it cannot read as one.
    const described = await describeOnnx(bytes);
    assert.deepEqual(described.gruNodes, []);
    assert.ok(described.operators.Loop! >= 1);
  });

  it('the candidate activation changed to Relu predicts onnxruntime on the mutated file', async () => {
    const bytes = mutated((nodes) => {
      byOp(nodes, 'Tanh')[0]!.opType = 'Relu';
    });
    const diff = await maxDiffToOnnxruntime(bytes, backend);
    assert.ok(diff < 1e-5, `max |predict - onnxruntime| = ${diff}`);
  });

  it("the recurrent MatMul's operands swapped is refused", async () => {
    const bytes = mutated((nodes) => {
      const m = byOp(nodes, 'MatMul').find((n) => n.input[0]!.includes('placeholder_2'))!;
      m.input = [m.input[1]!, m.input[0]!];
    });
    assert.match(await refusal(bytes, backend), /MatMul/);
  });

  it('z and r exchanged in the update (h = r h + (1 - r) n) is refused', async () => {
    const bytes = mutated((nodes) => {
      const gates = byOp(nodes, 'Sigmoid').map((n) => n.output[0]!);
      const update = nodes.find(
        (n) =>
          n.opType === 'Mul' &&
          n.input.some((i) => i.includes('placeholder_2')) &&
          n.input.some((i) => gates.includes(i)),
      )!;
      const z = update.input.find((i) => gates.includes(i))!;
      const r = gates.find((g) => g !== z)!;
      update.input = update.input.map((i) => (i === z ? r : i));
    });
    await onnxruntime(bytes);
    assert.match(await refusal(bytes, backend), /not a GRU cell/);
  });

  it('a body reading the next step of the input is refused', async () => {
    const bytes = mutated((nodes) => {
      const g = byOp(nodes, 'Gather')[0]!;
      const add = nodes.find((n) => n.opType === 'Add' && n.input.includes(g.input[1]!))!;
      g.input = [g.input[0]!, add.output[0]!];
    });
    assert.match(await refusal(bytes, backend), /reads step 1 of the input at iteration 0/);
  });

  it('a body with an operator outside a GRU step is refused, naming it', async () => {
    const bytes = mutated((nodes) => {
      byOp(nodes, 'Tanh')[0]!.opType = 'Softsign';
    });
    await onnxruntime(bytes);
    assert.match(await refusal(bytes, backend), /Softsign is not an operator of a GRU step/);
  });

  it("a trip count other than the input's steps is refused", async () => {
    const m = onnx.ModelProto.decode(original) as unknown as {
      graph: { initializer: { name: string; rawData: Uint8Array }[] };
    };
    const trips = m.graph.initializer.find((t) => t.name === 'sequential_1/gru_1/Max:0')!;
    const raw = new Uint8Array(8);
    new DataView(raw.buffer).setBigInt64(0, 4n, true);
    trips.rawData = raw;
    const bytes = onnx.ModelProto.encode(m as never).finish();
    await onnxruntime(bytes); // runs 4 of the 5 steps
    assert.match(
      await refusal(bytes, backend),
      /trip count 4 is not the input's declared number of steps \(5\)/,
    );
  });

  it('a hand-written Loop (reset_before, gates r z h, kernel and recurrent kernel of one shape, weights read from the graph, the sequence returned) predicts onnxruntime within 1e-5', async () => {
    const bytes = new Uint8Array(readFileSync(HAND_WRITTEN));
    const x = Float32Array.from({ length: 2 * 5 * 3 }, (_, i) => Math.cos(0.9 * i) * 1.2);
    const session = await ort.InferenceSession.create(bytes);
    const want = (await session.run({ x: new ort.Tensor('float32', x, [2, 5, 3]) }))['y']!
      .data as Float32Array;
    const model = await loadOnnxModel(bytes, { backend });
    try {
      assert.deepEqual(
        model.layers.map((l) => l.className),
        ['GRU'],
      );
      const y = model.predict({ data: x, shape: [2, 5, 3] });
      assert.deepEqual(y.shape, [2, 5, 3]);
      let diff = 0;
      for (let i = 0; i < want.length; i++) diff = Math.max(diff, Math.abs(y.data[i]! - want[i]!));
      assert.ok(diff < 1e-5, `max |predict - onnxruntime| = ${diff}`);
    } finally {
      model.dispose();
    }
  });
});
