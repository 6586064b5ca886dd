/**
 * A seeded fuzz of the ONNX reader (decodeOnnx, importGraph, describeOnnx: ts/formats/onnx-*.ts)
 * over real files (burn-onnx's, PyTorch's exports, our own): truncations, bit flips, and
 * structural damage made through the schema (huge declared dims and raw_data lengths, wrong
 * data types, cycles, unknown operators, missing inputs, external data). Every outcome is a
 * model or a GruError ERR_GRU_FORMAT with a message, never another exception; each case takes
 * under 1 s; and what reading retains stays under twice the file's size (tensor values are
 * charged to a ByteBudget of 2x the file before they are allocated). The decoding budget
 * (onnx-size.ts): files dense in tiny messages, or nested too deep, are refused before protobufjs
 * decodes them, and the estimate covers what decoding really allocates on the fuzz corpus.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type * as P from '../ts/formats/onnx-messages.js';
import { ByteBudget, decodeOnnx, onnx, readingBudget } from '../ts/formats/onnx-proto.js';
import { chargeDecodedSize, MAX_DEPTH } from '../ts/formats/onnx-size.js';
import { GruError, loadBackend } from '../ts/index.js';
import { describeOnnxBytes } from '../ts/formats/onnx-describe.js';
import { importOnnxBytes, sequentialFromGraph } from '../ts/formats/onnx.js';
import { onnxModelBytes } from '../ts/formats/onnx-export.js';
import { layers, sequential } from '../ts/models/index.js';
import { rng } from './util.js';

setFlagsFromString('--expose-gc');
/** What a measurement keeps alive. */
const held: { value: unknown } = { value: null };
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
    file('test/fixtures/real-models/onnx/tf2onnx/gru-classifier.onnx'), // a Loop-form GRU
    file('test/fixtures/onnx-loop/gru-reset-before-rzh.onnx'),
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
    const n = m.graph.node.find((x) => x.opType === 'GRU' || x.opType === 'Loop')!; // Loop: its body
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
  try {
    // kept in a module variable: a local the optimiser can prove unused is collected early
    held.value = importOnnxBytes(bytes);
  } catch {
    held.value = null;
  }
  gc(); // what is garbage by now was not retained
  const after = process.memoryUsage();
  held.value = null;
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

/** The estimator's charge for `bytes` (what decoding them would allocate). */
function estimate(bytes: Uint8Array): number {
  let charged = 0;
  chargeDecodedSize(bytes, { take: (n) => void (charged += n) }, onnx.ModelProto);
  return charged;
}

/** Bytes of a ModelProto written through the schema. */
const encode = (m: object) =>
  new Uint8Array(onnx.ModelProto.encode(onnx.ModelProto.fromObject(m)).finish());

/** protobufjs's decode of ModelProto, watched: the trees it made since the last reset. */
const modelType = onnx.ModelProto as unknown as { decode: (b: Uint8Array) => unknown };
const decodeOriginal = modelType.decode.bind(modelType);
let decoded: unknown[] = [];

/**
 * What decodeOnnx allocates at its peak: the protobufjs tree (kept alive by the watch) and the
 * description it returns, after a first run has compiled the code paths; the median of three
 * measurements (a collection may still find unrelated garbage, or code compiled meanwhile).
 */
function decodingPeak(bytes: Uint8Array): number {
  const run = () => {
    try {
      return decodeOnnx(bytes, new ByteBudget(2 ** 40));
    } catch {
      return null;
    }
  };
  run();
  const measured: number[] = [];
  for (let k = 0; k < 3; k++) {
    decoded = [];
    gc();
    gc();
    const before = process.memoryUsage();
    // kept in a module variable: a local the optimiser can prove unused is collected early
    held.value = run();
    gc();
    gc();
    const after = process.memoryUsage();
    held.value = null;
    measured.push(after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers));
  }
  decoded = [];
  return measured.sort((x, y) => x - y)[1]!;
}

/** A graph of `n` Relu nodes in a chain: ~15 bytes a node on the wire, ~1 KB decoded. */
function denseNodes(n: number): Uint8Array {
  return encode({
    irVersion: 8,
    opsetImport: [{ version: 14 }],
    graph: {
      node: Array.from({ length: n }, (_, i) => ({
        opType: 'Relu',
        input: [`${i}`],
        output: [`${i + 1}`],
      })),
      input: [
        { name: '0', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }] } } } },
      ],
      output: [{ name: `${n}`, type: { tensorType: { elemType: 1 } } }],
    },
  });
}

/** A graph whose one node holds a subgraph attribute, `levels` deep. */
function nestedGraphs(levels: number): Uint8Array {
  let graph: object = {
    node: [{ opType: 'Identity', input: ['x'], output: ['y'] }],
    output: [{ name: 'y' }],
  };
  for (let i = 0; i < levels; i++)
    graph = {
      node: [
        {
          opType: 'If',
          input: ['c'],
          output: ['y'],
          attribute: [{ name: 'then_branch', type: 5, g: graph }],
        },
      ],
      output: [{ name: 'y' }],
    };
  return encode({ irVersion: 8, opsetImport: [{ version: 14 }], graph });
}

describe('ONNX decoding budget (onnx-size.ts)', () => {
  beforeEach(() => {
    decoded = [];
    modelType.decode = (b) => {
      const m = decodeOriginal(b);
      decoded.push(m);
      return m;
    };
  });
  afterEach(() => {
    modelType.decode = decodeOriginal;
    decoded = [];
  });

  it('a file dense in tiny messages is refused before protobufjs decodes it, naming the field', () => {
    const dense = {
      'tiny nodes': denseNodes(40000),
      'packed int64s': encode({
        opsetImport: [{ version: 14 }],
        graph: {
          node: [
            {
              opType: 'Relu',
              input: ['x'],
              output: ['y'],
              attribute: [{ name: 'a', type: 7, ints: new Array(600000).fill(1) }],
            },
          ],
          output: [{ name: 'y' }],
        },
      }),
      'value dims': encode({
        opsetImport: [{ version: 14 }],
        graph: {
          node: [{ opType: 'Relu', input: ['x'], output: ['y'] }],
          input: [
            {
              name: 'x',
              type: { tensorType: { elemType: 1, shape: { dim: new Array(200000).fill({}) } } },
            },
          ],
          output: [{ name: 'y' }],
        },
      }),
    };
    const where: Record<string, string> = {
      'tiny nodes': 'graph.node',
      'packed int64s': 'graph.node.attribute.ints',
      'value dims': 'graph.input.type.tensorType.shape.dim',
    };
    for (const [kind, bytes] of Object.entries(dense)) {
      assert.ok(estimate(bytes) > readingBudget(bytes).limit, `${kind}: ${estimate(bytes)} bytes`);
      for (const read of [importOnnxBytes, describeOnnxBytes])
        assert.throws(
          () => read(bytes),
          (e: unknown) =>
            e instanceof GruError &&
            e.code === 'ERR_GRU_FORMAT' &&
            e.message.includes('decoding its protobuf') &&
            e.message.includes(where[kind]!),
          kind,
        );
      assert.equal(decoded.length, 0, `${kind}: protobufjs decoded the file`);
    }
  });

  it(`messages nested deeper than ${MAX_DEPTH} levels (subgraphs in attributes) are refused before decoding`, () => {
    // 11 subgraph levels: 35 messages deep, which protobufjs itself would decode (its limit: 100)
    const deep = nestedGraphs(11);
    assert.doesNotThrow(() => decodeOriginal(deep));
    assert.throws(
      () => importOnnxBytes(deep),
      (e: unknown) =>
        e instanceof GruError &&
        e.code === 'ERR_GRU_FORMAT' &&
        /nest deeper than 32 levels/.test(e.message),
    );
    assert.equal(decoded.length, 0);
    // a few levels are read (the subgraph is then refused as an operator the importer has not)
    assert.doesNotThrow(() => describeOnnxBytes(nestedGraphs(3)));
  });

  it('every real file is within its budget: gtcrn is described, the others load', () => {
    const gtcrn = new Uint8Array(readFileSync('test/fixtures/real-models/onnx/gtcrn_simple.onnx'));
    for (const { name, bytes } of [...sources(), { name: 'gtcrn', bytes: gtcrn }]) {
      assert.ok(estimate(bytes) < readingBudget(bytes).limit, name);
      assert.ok(describeOnnxBytes(bytes).operators, name);
      if (name !== 'gtcrn') sequentialFromGraph(importOnnxBytes(bytes), backend).dispose();
    }
  });

  it('the estimate covers what decoding allocates on the fuzz corpus (within 64 KiB of noise)', () => {
    const r = rng(0x5123);
    const corpus: { name: string; bytes: Uint8Array }[] = [];
    const files = sources();
    Object.entries(MUTATIONS).forEach(([kind, mutate], i) => {
      const source = files[i % files.length]!;
      corpus.push({ name: `${kind} of ${source.name}`, bytes: mutate(source.bytes, r) });
    });
    corpus.push(
      {
        name: 'gtcrn',
        bytes: new Uint8Array(readFileSync('test/fixtures/real-models/onnx/gtcrn_simple.onnx')),
      },
      { name: '1000 tiny nodes', bytes: denseNodes(1000) },
      { name: '8 nested subgraphs', bytes: nestedGraphs(8) },
    );
    for (const { name, bytes } of corpus) {
      let charged: number;
      try {
        charged = estimate(bytes);
      } catch (e) {
        // refused by the walk (a damaged protobuf): so is the reading, before decoding
        assert.ok(e instanceof GruError && e.code === 'ERR_GRU_FORMAT', name);
        decoded = [];
        assert.throws(() => importOnnxBytes(bytes), GruError);
        assert.equal(decoded.length, 0, name);
        continue;
      }
      const peak = decodingPeak(bytes);
      assert.ok(
        peak <= charged + 65536,
        `${name}: decoding took ${peak} bytes, estimated ${charged}`,
      );
      // accepted means within the budget: twice the file plus the fixed allowance
      const budget = readingBudget(bytes);
      assert.ok(charged <= budget.limit, `${name}: ${charged} > ${budget.limit}`);
    }
    // the large dense graph: the estimate alone bounds it (no noise allowance needed)
    const big = denseNodes(20000);
    assert.ok(decodingPeak(big) <= estimate(big));
  });
});
