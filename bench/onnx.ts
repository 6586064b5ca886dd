/**
 * A one-node ONNX model holding a GRU operator, encoded by hand: no Python or onnx package
 * here, and the few messages needed (ModelProto, GraphProto, NodeProto, AttributeProto,
 * TensorProto, ValueInfoProto) are a handful of protobuf fields each. Field numbers are from
 * onnx/onnx.proto (proto2).
 */

/** Protobuf writer: varints and length-delimited fields, nothing else is needed. */
class Writer {
  /** Finished pieces; large payloads (weights) are kept as they are, not copied byte by byte. */
  #chunks: Uint8Array[] = [];
  #pending: number[] = [];
  #length = 0;

  varint(value: number | bigint): this {
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.#pending.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.#pending.push(Number(v));
    return this;
  }

  /** A varint field (wire type 0). */
  int(field: number, value: number): this {
    return this.varint(field << 3).varint(value);
  }

  /** A length-delimited field (wire type 2): bytes, a string or a nested message. */
  bytes(field: number, data: Uint8Array | string | Writer): this {
    const b =
      typeof data === 'string'
        ? new TextEncoder().encode(data)
        : data instanceof Writer
          ? data.finish()
          : data;
    this.varint((field << 3) | 2).varint(b.length);
    this.#flush();
    this.#chunks.push(b);
    this.#length += b.length;
    return this;
  }

  #flush(): void {
    if (this.#pending.length) {
      this.#chunks.push(Uint8Array.from(this.#pending));
      this.#length += this.#pending.length;
      this.#pending = [];
    }
  }

  finish(): Uint8Array {
    this.#flush();
    const out = new Uint8Array(this.#length);
    let at = 0;
    for (const c of this.#chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

const FLOAT = 1; // TensorProto.DataType.FLOAT
const ATTR_INT = 2; // AttributeProto.AttributeType.INT

function tensor(name: string, dims: number[], data: Float32Array): Writer {
  const t = new Writer();
  for (const d of dims) t.int(1, d); // dims
  t.int(2, FLOAT); // data_type
  t.bytes(8, name); // name
  // raw_data: little-endian float32 (every platform Node runs on here is little-endian).
  return t.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

function valueInfo(name: string, dims: number[]): Writer {
  const shape = new Writer();
  for (const d of dims) shape.bytes(1, new Writer().int(1, d)); // dim { dim_value }
  const tensorType = new Writer().int(1, FLOAT).bytes(2, shape); // elem_type, shape
  return new Writer().bytes(1, name).bytes(2, new Writer().bytes(1, tensorType)); // name, type { tensor_type }
}

function intAttr(name: string, value: number): Writer {
  return new Writer().bytes(1, name).int(3, value).int(20, ATTR_INT); // name, i, type
}

export interface OnnxGruWeights {
  /** [1, 3H, I], gate blocks z, r, h (ONNX's order). */
  W: Float32Array;
  /** [1, 3H, H], gate blocks z, r, h. */
  R: Float32Array;
  /** [1, 6H]: Wb_z, Wb_r, Wb_h, Rb_z, Rb_r, Rb_h. */
  B: Float32Array;
}

/**
 * ModelProto bytes of Y, Y_h = GRU(X, W, R, B[, initial_h]) with linear_before_reset=1 (the
 * reset-after equation of PyTorch and gru-simd), opset 14, fixed shapes X [T, B, I],
 * Y [T, 1, B, H], Y_h [1, B, H]. withInitialH adds a graph input initial_h [1, B, H]
 * (streaming: the state is fed back each call).
 */
export function gruModel(
  shape: { seqLen: number; batch: number; inputSize: number; hiddenSize: number },
  w: OnnxGruWeights,
  withInitialH = false,
): Uint8Array {
  const { seqLen: T, batch: B, inputSize: I, hiddenSize: H } = shape;
  const node = new Writer();
  for (const input of ['X', 'W', 'R', 'B', ...(withInitialH ? ['', 'initial_h'] : [])])
    node.bytes(1, input);
  node.bytes(2, 'Y').bytes(2, 'Y_h').bytes(3, 'gru').bytes(4, 'GRU');
  node.bytes(5, intAttr('hidden_size', H)).bytes(5, intAttr('linear_before_reset', 1));

  const graph = new Writer().bytes(1, node).bytes(2, 'gru_bench');
  graph.bytes(5, tensor('W', [1, 3 * H, I], w.W));
  graph.bytes(5, tensor('R', [1, 3 * H, H], w.R));
  graph.bytes(5, tensor('B', [1, 6 * H], w.B));
  graph.bytes(11, valueInfo('X', [T, B, I]));
  if (withInitialH) graph.bytes(11, valueInfo('initial_h', [1, B, H]));
  graph.bytes(12, valueInfo('Y', [T, 1, B, H]));
  graph.bytes(12, valueInfo('Y_h', [1, B, H]));

  const opset = new Writer().bytes(1, '').int(2, 14); // domain "" (ai.onnx), version 14
  return new Writer()
    .int(1, 8) // ir_version 8: initializers need not be graph inputs
    .bytes(2, 'gru-simd bench') // producer_name
    .bytes(7, graph)
    .bytes(8, opset)
    .finish();
}
