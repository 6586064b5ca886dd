/**
 * The ONNX protobuf codec: bytes <-> plain descriptions of a model (nodes, initializers, graph
 * inputs and outputs), through protobufjs's reflection over the ONNX schema (onnx.proto as a
 * JSON descriptor: onnx-schema.generated.ts, from scripts/gen-onnx-schema.mjs). Nothing here
 * knows about layers: onnx-export.ts writes descriptions,
 * onnx-import.ts and onnx-describe.ts read them.
 *
 * Reading is hostile-file safe: protobufjs checks every length prefix against the bytes it has
 * (a message or field that runs past the end is an error, not an allocation), and a tensor's
 * values are materialised only on request, after its declared dims are checked against the
 * bytes that hold them and charged to a byte budget (ByteBudget: the importer gives 2x the
 * file's size). int64 fields come back as numbers (exact up to 2^53; a size beyond that is
 * refused before anything is made of it). External data (weights in a side file) is refused.
 *
 * Over 400 lines: the decoder and the encoder of one schema, kept together so that what is
 * written is what is read.
 */
import protobuf from 'protobufjs';
import { GruError } from '../errors.js';
import type * as P from './onnx-messages.js';
import { chargeDecodedSize } from './onnx-size.js';
import { ONNX_SCHEMA } from './onnx-schema.generated.js';

/** The schema's message types and the enum values used here, made once from the descriptor. */
const root = protobuf.Root.fromJSON(ONNX_SCHEMA as protobuf.INamespace);
const enumValues = (name: string) => root.lookupEnum(name).values;
/** @internal The message types, for tests that forge files. */
export const onnx = {
  ModelProto: root.lookupType('onnx.ModelProto'),
  TensorProto: { DataLocation: enumValues('onnx.TensorProto.DataLocation') },
  AttributeProto: { AttributeType: enumValues('onnx.AttributeProto.AttributeType') },
};

/** TensorProto.DataType values used here (onnx.proto). */
export const ONNX_DTYPE = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
} as const;

const DTYPE_NAMES: Record<number, string> = {
  0: 'UNDEFINED',
  1: 'FLOAT',
  2: 'UINT8',
  3: 'INT8',
  4: 'UINT16',
  5: 'INT16',
  6: 'INT32',
  7: 'INT64',
  8: 'STRING',
  9: 'BOOL',
  10: 'FLOAT16',
  11: 'DOUBLE',
  12: 'UINT32',
  13: 'UINT64',
  14: 'COMPLEX64',
  15: 'COMPLEX128',
  16: 'BFLOAT16',
};

/** The ONNX name of a data type ('FLOAT', 'INT64', ...). */
export function dtypeName(dtype: number): string {
  return DTYPE_NAMES[dtype] ?? `data type ${dtype}`;
}

/** Bytes per element in raw_data of the types read here. */
const RAW_SIZE: Record<number, number> = { 1: 4, 2: 1, 3: 1, 5: 2, 6: 4, 7: 8, 9: 1, 11: 8 };

export function formatError(message: string): never {
  throw new GruError('ERR_GRU_FORMAT', message);
}

/**
 * What reading a file may allocate (the objects its decoding makes, then its tensor values): an
 * ERR_GRU_FORMAT past the limit.
 */
export class ByteBudget {
  #left: number;
  constructor(readonly limit: number) {
    this.#left = limit;
  }
  take(bytes: number, what: string): void {
    if (!(bytes <= this.#left))
      formatError(
        `${what} would need ${bytes} more bytes, beyond what a file of this size may take (${this.#left} of ${this.limit} bytes left)`,
      );
    this.#left -= bytes;
  }
}

// ---------------------------------------------------------------------------------------------
// Decoded form
// ---------------------------------------------------------------------------------------------

/** A tensor of the file (an initializer, a Constant's value): dims checked, values on request. */
export interface OnnxTensor {
  name: string;
  /** TensorProto.DataType. */
  dtype: number;
  dims: number[];
  /** The product of dims. */
  count: number;
  /** The values as float32 (FLOAT or DOUBLE tensors); charged to the budget. */
  floats(budget: ByteBudget): Float32Array;
  /** The values as numbers (integer and bool tensors, and floats), for small glue tensors. */
  numbers(budget: ByteBudget): number[];
}

export type OnnxAttribute =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: OnnxTensor }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: number[] }
  | { type: 'strings'; value: string[] }
  /** A subgraph (a Loop's body). */
  | { type: 'graph'; value: OnnxGraph }
  | { type: 'graphs' | 'other'; value: null };

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, OnnxAttribute>;
}

export interface OnnxValueInfo {
  name: string;
  /** TensorProto.DataType of a tensor value (0 when not a tensor type). */
  dtype: number;
  /** Each dim: a number, a symbolic name, or null (unknown); null when the rank is unknown. */
  dims: (number | string | null)[] | null;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  /** Graph inputs that no initializer gives a value (the model's real inputs). */
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxModel {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  /** Opset version by domain ('' is ai.onnx). */
  opsets: Map<string, number>;
  graph: OnnxGraph;
  metadata: Map<string, string>;
}

type Long = { low: number; high: number; unsigned?: boolean };

/** A protobuf int64 (a number, or a Long where protobufjs found long.js) as an exact number. */
function int64(value: unknown, what: string): number {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'object' && value !== null && 'low' in value && 'high' in value) {
    const l = value as Long;
    n = l.unsigned ? (l.high >>> 0) * 2 ** 32 + (l.low >>> 0) : l.high * 2 ** 32 + (l.low >>> 0);
  } else return formatError(`${what} is not an integer`);
  if (!Number.isSafeInteger(n)) formatError(`${what} (${n}) is beyond 2^53`);
  return n;
}

/**
 * An int64 value of a tensor or attribute, where exporters write INT64_MAX / INT64_MIN for
 * "to the end" (Slice): clamped to +-(2^53 - 1), which means the same to every use here.
 */
function clampedInt64(value: unknown, what: string): number {
  if (typeof value === 'bigint') {
    const max = BigInt(Number.MAX_SAFE_INTEGER);
    return Number(value > max ? max : value < -max ? -max : value);
  }
  if (typeof value === 'object' && value !== null && 'low' in value && 'high' in value) {
    const l = value as Long;
    if (!l.unsigned) return clampedInt64(BigInt(l.high) * 2n ** 32n + BigInt(l.low >>> 0), what);
  }
  if (typeof value === 'number' && Number.isFinite(value))
    return Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, value));
  return int64(value, what);
}

/** A dimension: a non-negative integer. */
function dim(value: unknown, what: string): number {
  const n = int64(value, what);
  if (n < 0) formatError(`${what} is negative (${n})`);
  return n;
}

const MAX_ELEMENTS = 2 ** 31; // more than any typed array here may hold

function decodeTensor(t: P.ITensorProto, where: string): OnnxTensor {
  const name = t.name ?? '';
  const what = `${where} tensor ${JSON.stringify(name)}`;
  const dims = (t.dims ?? []).map((d, i) => dim(d, `${what}: dims[${i}]`));
  let count = 1;
  for (const d of dims) {
    count *= d;
    if (count > MAX_ELEMENTS) formatError(`${what} declares ${dims.join('x')} values: too many`);
  }
  const dtype = t.dataType ?? 0;
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL || (t.externalData ?? []).length) {
    const file = (t.externalData ?? []).find((e) => e.key === 'location')?.value ?? '?';
    formatError(
      `${what} keeps its data in an external file (${JSON.stringify(file)}): gru-simd reads self-contained .onnx files (onnx.save(model, path, save_as_external_data=False))`,
    );
  }
  if (t.segment) formatError(`${what} is a segment of a larger tensor: not supported`);
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  const elemSize = RAW_SIZE[dtype];
  if (elemSize === undefined)
    formatError(
      `${what} has data type ${dtypeName(dtype)}: gru-simd reads FLOAT, DOUBLE and integer tensors`,
    );
  if (raw !== null && raw.length !== count * elemSize)
    formatError(
      `${what} declares ${dims.length ? dims.join('x') : 'a scalar'} ${dtypeName(dtype)} values (${count * elemSize} bytes) but its raw_data holds ${raw.length} bytes`,
    );
  const typed = (): ArrayLike<unknown> => {
    switch (dtype) {
      case ONNX_DTYPE.FLOAT:
        return t.floatData ?? [];
      case ONNX_DTYPE.DOUBLE:
        return t.doubleData ?? [];
      case ONNX_DTYPE.INT64:
        return t.int64Data ?? [];
      default:
        return t.int32Data ?? [];
    }
  };
  if (raw === null && typed().length !== count)
    formatError(`${what} declares ${count} ${dtypeName(dtype)} values but holds ${typed().length}`);
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  const at = (i: number): number => {
    if (view === null) {
      const v = typed()[i];
      return dtype === ONNX_DTYPE.INT64 ? clampedInt64(v, `${what}[${i}]`) : (v as number);
    }
    switch (dtype) {
      case ONNX_DTYPE.FLOAT:
        return view.getFloat32(i * 4, true);
      case ONNX_DTYPE.DOUBLE:
        return view.getFloat64(i * 8, true);
      case ONNX_DTYPE.INT64:
        return clampedInt64(view.getBigInt64(i * 8, true), what);
      case ONNX_DTYPE.INT32:
        return view.getInt32(i * 4, true);
      case ONNX_DTYPE.INT16:
        return view.getInt16(i * 2, true);
      case ONNX_DTYPE.INT8:
        return view.getInt8(i);
      default:
        return view.getUint8(i); // UINT8, BOOL
    }
  };
  return {
    name,
    dtype,
    dims,
    count,
    floats(budget) {
      if (dtype !== ONNX_DTYPE.FLOAT && dtype !== ONNX_DTYPE.DOUBLE)
        formatError(`${what} has data type ${dtypeName(dtype)} where FLOAT weights are expected`);
      budget.take(count * 4, what);
      const out = new Float32Array(count);
      if (view !== null && dtype === ONNX_DTYPE.FLOAT && raw!.byteOffset % 4 === 0)
        out.set(new Float32Array(raw!.buffer, raw!.byteOffset, count));
      else for (let i = 0; i < count; i++) out[i] = at(i);
      return out;
    },
    numbers(budget) {
      budget.take(count * 8, what);
      const out = new Array<number>(count);
      for (let i = 0; i < count; i++) out[i] = at(i);
      return out;
    },
  };
}

function decodeAttribute(a: P.IAttributeProto, where: string): OnnxAttribute {
  const T = onnx.AttributeProto.AttributeType;
  const what = `${where} attribute ${JSON.stringify(a.name ?? '')}`;
  // An absent bytes field decodes to protobufjs's default, an empty array, not a Uint8Array.
  const text = (b: Uint8Array | null | undefined) =>
    b instanceof Uint8Array ? new TextDecoder().decode(b) : '';
  switch (a.type) {
    case T.FLOAT:
      return { type: 'float', value: a.f ?? 0 };
    case T.INT:
      return { type: 'int', value: clampedInt64(a.i ?? 0, what) };
    case T.STRING:
      return { type: 'string', value: text(a.s) };
    case T.TENSOR:
      if (!a.t) return formatError(`${what} is a TENSOR without a tensor`);
      return { type: 'tensor', value: decodeTensor(a.t, what) };
    case T.FLOATS:
      return { type: 'floats', value: [...(a.floats ?? [])] };
    case T.INTS:
      return { type: 'ints', value: (a.ints ?? []).map((v) => clampedInt64(v, what)) };
    case T.STRINGS:
      return { type: 'strings', value: (a.strings ?? []).map(text) };
    case T.GRAPH:
      if (!a.g) return formatError(`${what} is a GRAPH without a graph`);
      return { type: 'graph', value: decodeGraph(a.g) };
    case T.GRAPHS:
      return { type: 'graphs', value: null };
    default:
      return { type: 'other', value: null };
  }
}

function decodeValueInfo(v: P.IValueInfoProto): OnnxValueInfo {
  const tensorType = v.type?.tensorType;
  const dims = tensorType?.shape
    ? (tensorType.shape.dim ?? []).map((d) =>
        d.dimParam
          ? d.dimParam
          : d.dimValue !== undefined && d.dimValue !== null
            ? dim(d.dimValue, `value ${JSON.stringify(v.name)}: a dim`)
            : null,
      )
    : null;
  return { name: v.name ?? '', dtype: tensorType?.elemType ?? 0, dims };
}

/**
 * What reading an ONNX file may allocate (its decoded objects, then its tensor values): twice
 * its size plus READING_ALLOWANCE. The allowance is there because protobufjs's objects are
 * large next to their wire bytes (a node: ~1 KB decoded for 50-100 bytes): the real exports of
 * test/fixtures decode to 10-30x their size when small (the 23 KB unrolled PyTorch GRU: 360 KB
 * retained by protobufjs alone; the 2.7 KB legacy tagger: 43 KB) and to ~3x for a 535 KB
 * graph of 415 nodes (gtcrn: 1.2-1.6 MB), whose estimates (onnx-size.ts) are 665 KB and
 * 2.0 MB. A file of weights (raw_data) stays near 1x for its structure plus 1x for its values.
 */
export function readingBudget(bytes: Uint8Array): ByteBudget {
  return new ByteBudget(2 * bytes.length + READING_ALLOWANCE);
}
export const READING_ALLOWANCE = 2 * 1024 * 1024;

/**
 * Decodes an ONNX ModelProto; ERR_GRU_FORMAT for bytes that are not one, or whose decoding would
 * take more than `budget` allows (charged before protobufjs decodes: onnx-size.ts).
 */
export function decodeOnnx(bytes: Uint8Array, budget: ByteBudget): OnnxModel {
  chargeDecodedSize(bytes, budget, onnx.ModelProto);
  let m: P.ModelProto;
  try {
    m = onnx.ModelProto.decode(bytes) as P.ModelProto;
  } catch (e) {
    return formatError(
      `not a valid ONNX file: the protobuf does not decode (${(e as Error).message})`,
    );
  }
  const g = m.graph;
  if (!g || ((g.node ?? []).length === 0 && (g.output ?? []).length === 0))
    formatError('not an ONNX model: no graph (is this an .onnx file?)');
  const opsets = new Map<string, number>();
  for (const o of m.opsetImport ?? [])
    opsets.set(o.domain ?? '', int64(o.version ?? 0, `opset of ${JSON.stringify(o.domain)}`));
  if (opsets.size === 0) opsets.set('', 1);
  const metadata = new Map<string, string>();
  for (const p of m.metadataProps ?? []) metadata.set(p.key ?? '', p.value ?? '');
  return {
    irVersion: int64(m.irVersion ?? 0, 'ir_version'),
    producerName: m.producerName ?? '',
    producerVersion: m.producerVersion ?? '',
    opsets,
    metadata,
    graph: decodeGraph(g),
  };
}

/** A graph: the model's, or a subgraph (a Loop's body, which may read the outer graph's values). */
function decodeGraph(g: P.IGraphProto): OnnxGraph {
  const initializers = new Map<string, OnnxTensor>();
  for (const t of g.initializer ?? [])
    initializers.set(t.name ?? '', decodeTensor(t, 'initializer'));
  if ((g.sparseInitializer ?? []).length)
    formatError('the graph has sparse initializers: not supported');
  const nodes: OnnxNode[] = (g.node ?? []).map((n, index) => {
    const where = `node ${JSON.stringify(n.name || `#${index}`)} (${n.opType ?? '?'})`;
    const attributes = new Map<string, OnnxAttribute>();
    for (const a of n.attribute ?? []) attributes.set(a.name ?? '', decodeAttribute(a, where));
    return {
      name: n.name || `#${index}`,
      opType: n.opType ?? '',
      domain: n.domain ?? '',
      inputs: [...(n.input ?? [])],
      outputs: [...(n.output ?? [])],
      attributes,
    };
  });
  return {
    name: g.name ?? '',
    nodes,
    initializers,
    inputs: (g.input ?? []).map(decodeValueInfo).filter((v) => !initializers.has(v.name)),
    outputs: (g.output ?? []).map(decodeValueInfo),
  };
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/** A tensor to write: float32 weights, or int64 / int32 glue (shapes, indices). */
export interface TensorToEncode {
  name: string;
  dims: number[];
  data: Float32Array | Int32Array | number[];
  /** Default: FLOAT for a Float32Array, INT32 for an Int32Array, INT64 for number[]. */
  dtype?: number;
}

/** An attribute: a number is an INT, a string a STRING; the wrappers say the rest. */
export type AttributeToEncode =
  | number
  | string
  | { f: number }
  | { ints: number[] }
  | { floats: number[] }
  | { strings: string[] }
  | { tensor: TensorToEncode };

export interface NodeToEncode {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attributes?: Record<string, AttributeToEncode>;
}

export interface ValueToEncode {
  name: string;
  dtype: number;
  /** A number, or a name for a dynamic dimension ('batch', 'steps'). */
  dims: (number | string)[];
}

export interface ModelToEncode {
  graphName: string;
  nodes: NodeToEncode[];
  initializers: TensorToEncode[];
  inputs: ValueToEncode[];
  outputs: ValueToEncode[];
  opset: number;
  producerName: string;
  producerVersion?: string;
  docString?: string;
  metadata?: Record<string, string>;
}

function encodeTensor(t: TensorToEncode): P.ITensorProto {
  const dtype =
    t.dtype ??
    (t.data instanceof Float32Array
      ? ONNX_DTYPE.FLOAT
      : t.data instanceof Int32Array
        ? ONNX_DTYPE.INT32
        : ONNX_DTYPE.INT64);
  const proto: P.ITensorProto = { name: t.name, dims: t.dims, dataType: dtype };
  if (dtype === ONNX_DTYPE.FLOAT) {
    // raw_data: little-endian float32, as every engine that runs this library stores it.
    const f = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
    proto.rawData = new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
  } else if (dtype === ONNX_DTYPE.INT64) proto.int64Data = [...t.data];
  else proto.int32Data = [...t.data];
  return proto;
}

function encodeAttribute(name: string, a: AttributeToEncode): P.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof a === 'number') return { name, type: T.INT, i: a };
  if (typeof a === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(a) };
  if ('f' in a) return { name, type: T.FLOAT, f: a.f };
  if ('ints' in a) return { name, type: T.INTS, ints: a.ints };
  if ('floats' in a) return { name, type: T.FLOATS, floats: a.floats };
  if ('strings' in a)
    return { name, type: T.STRINGS, strings: a.strings.map((s) => new TextEncoder().encode(s)) };
  return { name, type: T.TENSOR, t: encodeTensor(a.tensor) };
}

function encodeValue(v: ValueToEncode): P.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: v.dtype,
        shape: {
          dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
        },
      },
    },
  };
}

/** The ModelProto bytes of a model description (IR version 8: initializers need not be inputs). */
export function encodeOnnx(model: ModelToEncode): Uint8Array {
  const proto: P.IModelProto = {
    irVersion: 8,
    producerName: model.producerName,
    producerVersion: model.producerVersion ?? '',
    docString: model.docString ?? '',
    opsetImport: [{ domain: '', version: model.opset }],
    metadataProps: Object.entries(model.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: model.graphName,
      node: model.nodes.map((n, i) => ({
        name: n.name ?? `${n.op}_${i}`,
        opType: n.op,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attributes ?? {}).map(([k, a]) => encodeAttribute(k, a)),
      })),
      initializer: model.initializers.map(encodeTensor),
      input: model.inputs.map(encodeValue),
      output: model.outputs.map(encodeValue),
    },
  };
  const bytes = onnx.ModelProto.encode(onnx.ModelProto.fromObject(proto)).finish();
  // In Node protobufjs gives a Buffer (whose slice() is a view): a plain Uint8Array over it.
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
