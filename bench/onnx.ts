/**
 * A one-node ONNX model holding a GRU operator, for onnxruntime: written by the library's own
 * ONNX encoder (ts/formats/onnx-proto.ts: protobufjs with the ONNX schema), the one ONNX writer
 * of the project.
 */
import { encodeOnnx, ONNX_DTYPE } from '../ts/formats/onnx-proto.js';

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
  const FLOAT = ONNX_DTYPE.FLOAT;
  return encodeOnnx({
    graphName: 'gru_bench',
    producerName: 'gru-simd bench',
    opset: 14,
    nodes: [
      {
        op: 'GRU',
        name: 'gru',
        inputs: ['X', 'W', 'R', 'B', ...(withInitialH ? ['', 'initial_h'] : [])],
        outputs: ['Y', 'Y_h'],
        attributes: { hidden_size: H, linear_before_reset: 1 },
      },
    ],
    initializers: [
      { name: 'W', dims: [1, 3 * H, I], data: w.W },
      { name: 'R', dims: [1, 3 * H, H], data: w.R },
      { name: 'B', dims: [1, 6 * H], data: w.B },
    ],
    inputs: [
      { name: 'X', dtype: FLOAT, dims: [T, B, I] },
      ...(withInitialH ? [{ name: 'initial_h', dtype: FLOAT, dims: [1, B, H] }] : []),
    ],
    outputs: [
      { name: 'Y', dtype: FLOAT, dims: [T, 1, B, H] },
      { name: 'Y_h', dtype: FLOAT, dims: [1, B, H] },
    ],
  });
}
