"""Writes test/fixtures/onnx-loop/gru-reset-before-rzh.onnx: a GRU written by hand as an ONNX
Loop over its cell, spelled differently from tf2onnx's (see test/onnx-loop-import.test.ts):
units = input features = 3, so the kernel and the recurrent kernel have the same shape [3, 9];
gates in the order r, z, h; reset_before (n = tanh(x W_h + b_h + (r * h) U_h)); a bias [9]; the
update written h' = n + z * (h - n); the weights read from the outer graph (not loop-carried);
the per-step scan output returned batch-first (a sequence). Run with /work/pyref/bin/python.
"""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(11)
I = H = 3
T = 5
W = rng.uniform(-0.8, 0.8, (I, 3 * H)).astype(np.float32)
U = rng.uniform(-0.8, 0.8, (H, 3 * H)).astype(np.float32)
b = rng.uniform(-0.3, 0.3, (3 * H,)).astype(np.float32)
i64 = lambda name, v: numpy_helper.from_array(np.array(v, dtype=np.int64), name)

body = helper.make_graph(
    [
        helper.make_node("Gather", ["xt", "i"], ["x_i"], axis=0),
        helper.make_node("MatMul", ["x_i", "W"], ["xw0"]),
        helper.make_node("Add", ["xw0", "b"], ["xw"]),
        helper.make_node("Split", ["xw", "split3"], ["xr", "xz", "xh"], axis=1),
        helper.make_node("Slice", ["U", "s0", "s6", "ax1"], ["U_rz"]),
        helper.make_node("Slice", ["U", "s6", "s9", "ax1"], ["U_h"]),
        helper.make_node("MatMul", ["h", "U_rz"], ["hu"]),
        helper.make_node("Split", ["hu", "split2"], ["hr", "hz"], axis=1),
        helper.make_node("Add", ["xr", "hr"], ["r0"]),
        helper.make_node("Sigmoid", ["r0"], ["r"]),
        helper.make_node("Add", ["hz", "xz"], ["z0"]),
        helper.make_node("Sigmoid", ["z0"], ["z"]),
        helper.make_node("Mul", ["r", "h"], ["rh"]),
        helper.make_node("MatMul", ["rh", "U_h"], ["rhu"]),
        helper.make_node("Add", ["xh", "rhu"], ["n0"]),
        helper.make_node("Tanh", ["n0"], ["n"]),
        helper.make_node("Sub", ["h", "n"], ["d"]),
        helper.make_node("Mul", ["z", "d"], ["zd"]),
        helper.make_node("Add", ["n", "zd"], ["h_next"]),
        helper.make_node("Identity", ["cond"], ["cond_out"]),
        helper.make_node("Identity", ["h_next"], ["y_t"]),
    ],
    "gru_step",
    [
        helper.make_tensor_value_info("i", TensorProto.INT64, []),
        helper.make_tensor_value_info("cond", TensorProto.BOOL, []),
        helper.make_tensor_value_info("h", TensorProto.FLOAT, ["batch", H]),
    ],
    [
        helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
        helper.make_tensor_value_info("h_next", TensorProto.FLOAT, ["batch", H]),
        helper.make_tensor_value_info("y_t", TensorProto.FLOAT, ["batch", H]),
    ],
    [
        i64("split3", [H, H, H]),
        i64("split2", [H, H]),
        i64("s0", [0]),
        i64("s6", [2 * H]),
        i64("s9", [3 * H]),
        i64("ax1", [1]),
    ],
)

graph = helper.make_graph(
    [
        helper.make_node("Transpose", ["x"], ["xt"], perm=[1, 0, 2]),
        helper.make_node("Shape", ["x"], ["shape"]),
        helper.make_node("Slice", ["shape", "z0i", "one"], ["batch"]),
        helper.make_node("Concat", ["batch", "units"], ["h_shape"], axis=0),
        helper.make_node(
            "ConstantOfShape",
            ["h_shape"],
            ["h0"],
            value=numpy_helper.from_array(np.zeros(1, np.float32)),
        ),
        helper.make_node("Loop", ["trips", "", "h0"], ["h_last", "ys"], body=body),
        helper.make_node("Transpose", ["ys"], ["y"], perm=[1, 0, 2]),
    ],
    "hand_written_loop_gru",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", T, I])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", T, H])],
    [
        numpy_helper.from_array(W, "W"),
        numpy_helper.from_array(U, "U"),
        numpy_helper.from_array(b, "b"),
        i64("trips", T),
        i64("z0i", [0]),
        i64("one", [1]),
        i64("units", [H]),
    ],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
model.ir_version = 7
onnx.checker.check_model(model, full_check=True)
onnx.save(model, "test/fixtures/onnx-loop/gru-reset-before-rzh.onnx")
print("wrote test/fixtures/onnx-loop/gru-reset-before-rzh.onnx")
