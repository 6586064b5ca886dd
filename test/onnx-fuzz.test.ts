/**
 * A seeded fuzz of the ONNX reader (decodeOnnx, importGraph, describeOnnx: ts/formats/onnx-*.ts)
 * over real files (burn-onnx's, PyTorch's exports, our own): truncations, bit flips, and
 * structural damage made through the schema (huge declared dims and raw_data lengths, wrong
 * data types, cycles, unknown operators, missing inputs, external data). Every outcome is a
 * model or a GruError ERR_GRU_FORMAT with a message, never another exception; each case takes
 * under 1 s; and what reading retains stays under twice the file's size (tensor values are
 * charged to a ByteBudget of 2x the file before they are allocated).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type * as P from '../ts/formats/onnx-messages.js';
import { onnx } from '../ts/formats/onnx-proto.js';
import { GruError, loadBackend } from '../ts/index.js';
import { describeOnnxBytes } from '../ts/formats/onnx-describe.js';
import { importOnnxBytes, sequentialFromGraph } from '../ts/formats/onnx.js';
import { onnxModelBytes } from '../ts/formats/onnx-export.js';
import { layers, sequential } from '../ts/models/index.js';
import { rng } from './util.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const backend = await loadBackend('wasm');

function sources(): { name: string; bytes: Uint8Array }[] {
  const file = (p: string) => ({
    name: p.split('/').pop()!,
    bytes: new Uint8Array(readFileSync(p)),
  });
  const own = sequential({
    backend,
    layers: [
      layers.embedding({ inputDim: 12, outputDim: 4, maskZero: true, inputShape: [null] }),
      layers.bidirectional({ layer: layers.gru({ units: 3, returnSequences: true }) }),
      layers.gru({ units: 3 }),
      layers.dense({ units: 2, activation: 'softmax' }),
    ],
  });
  const ownBytes = onnxModelBytes(own);
  own.dispose();
  return [
    file('test/fixtures/real-models/onnx/burn-onnx-gru/gru.onnx'),
    file('test/fixtures/real-models/onnx/burn-onnx-gru/gru_bidirectional.onnx'),
    file('test/fixtures/onnx/torch-legacy-classifier.onnx'),
    file('test/fixtures/onnx/torch-dynamo-last_step.onnx'),
    { name: 'own-export', bytes: ownBytes },
  ];
}

type Mutation = (bytes: Uint8Array, r: () => number) => Uint8Array;

const int = (r: () => number, n: number) => Math.floor(r() * n);

/** The decoded model's parts the mutations change (protobufjs fills repeated fields). */
interface Decoded {
  graph: { initializer: P.TensorProto[]; node: P.NodeProto[]; input: P.ValueInfoProto[] };
}

/** Changes the decoded model through the schema, then encodes it again. */
function structural(change: (m: Decoded, r: () => number) => void): Mutation {
  return (bytes, r) => {
    const m = onnx.ModelProto.decode(bytes);
    change(m as unknown as Decoded, r);
    return onnx.ModelProto.encode(m).finish();
  };
}

const pick = <T>(a: T[], r: () => number): T | undefined =>
  a.length ? a[int(r, a.length)] : undefined;

const MUTATIONS: Record<string, Mutation> = {
  truncation: (b, r) => b.subarray(0, int(r, b.length)),
  'bit flips': (b, r) => {
    const c = b.slice();
    for (let k = 1 + int(r, 8); k > 0; k--) c[int(r, c.length)]! ^= 1 << int(r, 8);
    return c;
  },
  'huge dims': structural((m, r) => {
    const t = pick(m.graph.initializer, r)!;
    t.dims = t.dims.map(() => [2 ** 31, 2 ** 40, 2 ** 52, 1e15][int(r, 4)]!);
  }),
  'raw_data shorter than declared': structural((m, r) => {
    const t = pick(
      m.graph.initializer.filter((i) => i.rawData?.length),
      r,
    );
    if (t) t.rawData = t.rawData.subarray(0, int(r, t.rawData.length));
    else m.graph.initializer[0]!.dims.push(1000);
  }),
  'wrong data type': structural((m, r) => {
    const t = pick(m.graph.initializer, r)!;
    t.dataType = [0, 2, 7, 8, 10, 16, 99][int(r, 7)]!;
  }),
  'wrong input type': structural((m, r) => {
    const i = m.graph.input[0]!;
    if (i.type?.tensorType) i.type.tensorType.elemType = [8, 10, 11, 9][int(r, 4)]!;
  }),
  cycle: structural((m, r) => {
    const nodes = m.graph.node;
    const a = nodes[int(r, nodes.length)]!;
    const b = nodes[nodes.length - 1]!;
    a.input = [...a.input];
    a.input[0] = b.output[0]!;
  }),
  'unknown operator': structural((m, r) => {
    const n = pick(m.graph.node, r)!;
    if (r() < 0.5) n.opType = 'FancyOp';
    else n.domain = 'com.example';
  }),
  'missing input': structural((m, r) => {
    const n = pick(
      m.graph.node.filter((x) => x.input.length),
      r,
    )!;
    n.input = [...n.input];
    n.input[int(r, n.input.length)] = 'nowhere';
  }),
  'external data': structural((m, r) => {
    const t = pick(m.graph.initializer, r)!;
    t.dataLocation = 1;
    t.externalData = [{ key: 'location', value: 'weights.bin' }];
  }),
  'GRU attributes': structural((m, r) => {
    const n = m.graph.node.find((x) => x.opType === 'GRU')!;
    const a = pick(n.attribute, r);
    if (a) {
      a.i = [-1, 0, 2 ** 40, 7][int(r, 4)]!;
      a.type = [1, 2, 3, 7][int(r, 4)]!;
    }
  }),
};

function outcome(bytes: Uint8Array): 'model' | 'refused' {
  try {
    describeOnnxBytes(bytes);
    const graph = importOnnxBytes(bytes);
    sequentialFromGraph(graph, backend).dispose();
    return 'model';
  } catch (e) {
    if (!(e instanceof GruError)) throw new Error(`not a GruError: ${String(e)}`, { cause: e });
    if (e.code !== 'ERR_GRU_FORMAT' && e.code !== 'ERR_GRU_ARG')
      throw new Error(`code ${e.code}: ${e.message}`, { cause: e });
    assert.ok(e.message.length > 10, e.message);
    return 'refused';
  }
}

/** Heap and ArrayBuffer bytes the reading of `bytes` retains (what it returns kept alive). */
function retained(bytes: Uint8Array): number {
  gc();
  const before = process.memoryUsage();
  let kept: unknown;
  try {
    kept = importOnnxBytes(bytes);
  } catch {
    kept = undefined;
  }
  gc(); // what is garbage by now was not retained
  const after = process.memoryUsage();
  if (kept === after) return NaN; // keeps `kept` alive up to here
  return after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
}

describe('ONNX reader fuzz (seeded)', () => {
  const files = sources();
  for (const [kind, mutate] of Object.entries(MUTATIONS)) {
    it(`${kind}: a model or one ERR_GRU_FORMAT, each under 1 s`, () => {
      const r = rng(0x0bb0 + kind.length);
      const counts = { model: 0, refused: 0 };
      for (let i = 0; i < 40; i++) {
        const source = files[i % files.length]!;
        const bytes = mutate(source.bytes, r);
        const start = performance.now();
        counts[outcome(bytes)]++;
        const ms = performance.now() - start;
        assert.ok(ms < 1000, `${kind} of ${source.name} (case ${i}) took ${ms.toFixed(0)} ms`);
      }
      if (kind !== 'bit flips' && kind !== 'GRU attributes') assert.ok(counts.refused > 0);
    });
  }

  it('huge declared sizes are refused before allocation; retained memory < 2x file + 256 KiB', () => {
    const r = rng(99);
    const gtcrn = new Uint8Array(readFileSync('test/fixtures/real-models/onnx/gtcrn_simple.onnx'));
    for (const source of [...files, { name: 'gtcrn_simple.onnx', bytes: gtcrn }]) {
      for (const kind of [
        'huge dims',
        'raw_data shorter than declared',
        'bit flips',
        'truncation',
      ]) {
        const bytes = MUTATIONS[kind]!(source.bytes, r);
        const grew = retained(bytes);
        assert.ok(
          grew < 2 * bytes.length + 262144,
          `${kind} of ${source.name}: retained ${grew} bytes for a file of ${bytes.length}`,
        );
      }
    }
  });

  it('the budget: tensors declaring more values than the file holds are refused, naming the tensor', () => {
    const m = onnx.ModelProto.decode(files[0]!.bytes);
    const t = (m as unknown as Decoded).graph.initializer[0]!;
    t.dims = [2 ** 20, 2 ** 10];
    assert.throws(
      () => importOnnxBytes(onnx.ModelProto.encode(m).finish()),
      (e: unknown) =>
        e instanceof GruError &&
        e.code === 'ERR_GRU_FORMAT' &&
        e.message.includes(JSON.stringify(t.name)),
    );
  });
});
