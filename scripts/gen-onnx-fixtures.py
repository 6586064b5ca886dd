#!/usr/bin/env python3
"""Writes test/fixtures/onnx/: small GRU models exported to ONNX by PyTorch (torch.onnx.export,
the TorchScript-based exporter and, where it produces a GRU node, the dynamo one), with an
input and what onnxruntime predicts for it, for test/onnx-import.test.ts (loadOnnxModel).

Run from the repository root with PyTorch, onnx and onnxruntime (TOOLCHAIN.md; here /work/pyref):
    /work/pyref/bin/python scripts/gen-onnx-fixtures.py

The modules:
  classifier: Embedding(20, 6) -> GRU(6, 5, 2 layers, bidirectional, batch_first)
              -> cat(h_n[-2], h_n[-1]) -> Linear(10, 3): the usual PyTorch GRU classifier
  tagger:     GRU(4, 6, batch_first) -> ReLU -> Linear(6, 2), on every step
  last_step:  GRU(3, 4, 2 layers, batch_first) -> out[:, -1, :] -> Linear(4, 1) -> Sigmoid
And Keras 3's own export of GRU(4) -> Dense(2) (model.export(format='onnx'), torch backend),
recorded under "refused": it has no GRU operator (the steps are unrolled).
Each PyTorch module is exported with dynamic batch and steps; the record holds the onnxruntime outputs (the
reference), and PyTorch's own as a check of the export.
"""
import json
import os

import numpy as np
import onnx
import onnxruntime as ort
import torch

OUT = "test/fixtures/onnx"
BATCH, SEQ = 3, 5


class Classifier(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(20, 6)
        self.gru = torch.nn.GRU(6, 5, num_layers=2, bidirectional=True, batch_first=True)
        self.head = torch.nn.Linear(10, 3)

    def forward(self, ids):
        _, h = self.gru(self.emb(ids))
        return self.head(torch.cat([h[-2], h[-1]], dim=1))


class Tagger(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = torch.nn.GRU(4, 6, batch_first=True)
        self.head = torch.nn.Linear(6, 2)

    def forward(self, x):
        return self.head(torch.relu(self.gru(x)[0]))


class LastStep(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = torch.nn.GRU(3, 4, num_layers=2, batch_first=True)
        self.head = torch.nn.Linear(4, 1)

    def forward(self, x):
        return torch.sigmoid(self.head(self.gru(x)[0][:, -1, :]))


def export(module, example, path, dynamo):
    kwargs = dict(input_names=["input"], output_names=["output"], opset_version=17)
    if dynamo:
        batch, steps = torch.export.Dim("batch"), torch.export.Dim("steps")
        torch.onnx.export(module, (example,), path, dynamo=True, external_data=False,
                          dynamic_shapes=({0: batch, 1: steps},), **kwargs)
    else:
        torch.onnx.export(module, (example,), path, dynamo=False,
                          dynamic_axes={"input": {0: "batch", 1: "steps"}}, **kwargs)


def keras_export():
    """Keras 3's model.export(format='onnx') (torch backend; tf2onnx, which the JAX and
    TensorFlow backends need, is not on the local mirror): it unrolls the GRU into MatMul /
    Sigmoid / Tanh per step, which loadOnnxModel refuses with a message saying so."""
    try:
        os.environ["KERAS_BACKEND"] = "torch"
        import keras
    except ImportError:
        print("keras not installed: no Keras export")
        return {}
    keras.utils.set_random_seed(7)
    model = keras.Sequential([keras.Input((SEQ, 3)), keras.layers.GRU(4), keras.layers.Dense(2)])
    model(np.zeros((1, SEQ, 3), "float32"))
    file = "keras-torch-unrolled-gru.onnx"
    model.export(os.path.join(OUT, file), format="onnx", verbose=False)
    ops = sorted({n.op_type for n in onnx.load(os.path.join(OUT, file)).graph.node})
    print(file, ops)
    return {file: {"exporter": "keras %s model.export(format='onnx'), torch backend" % keras.__version__,
                   "operators": ops, "hasGru": "GRU" in ops}}


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(7)
    rng = np.random.default_rng(7)
    cases = {}
    modules = {
        "classifier": (Classifier(), torch.tensor(rng.integers(0, 20, (BATCH, SEQ)), dtype=torch.int64)),
        "tagger": (Tagger(), torch.tensor(rng.standard_normal((BATCH, SEQ, 4)), dtype=torch.float32)),
        "last_step": (LastStep(), torch.tensor(rng.standard_normal((BATCH, SEQ, 3)), dtype=torch.float32)),
    }
    for name, (module, x) in modules.items():
        module.eval()
        with torch.no_grad():
            expected = module(x).numpy()
        for dynamo in (False, True):
            file = f"torch-{'dynamo' if dynamo else 'legacy'}-{name}.onnx"
            path = os.path.join(OUT, file)
            try:
                export(module, x, path, dynamo)
            except Exception as e:  # recorded: the test says which exports exist
                print(f"{file}: export failed: {type(e).__name__}: {e}"[:300])
                continue
            model = onnx.load(path)
            ops = sorted({n.op_type for n in model.graph.node})
            session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
            (out,) = session.run(None, {"input": x.numpy()})
            cases[file] = {
                "exporter": "torch.onnx.export(dynamo=%s), torch %s" % (dynamo, torch.__version__),
                "operators": ops,
                "hasGru": "GRU" in ops,
                "input": {"shape": list(x.shape), "dtype": str(x.dtype).replace("torch.", ""),
                          "data": x.flatten().tolist()},
                "output": {"shape": list(out.shape), "data": out.flatten().astype(float).tolist()},
                "torchMaxAbsDiff": float(np.abs(out - expected).max()),
            }
            print(file, ops, "max |ort - torch|", cases[file]["torchMaxAbsDiff"])
    refused = keras_export()
    with open(os.path.join(OUT, "predictions.json"), "w") as f:
        json.dump({"generator": "scripts/gen-onnx-fixtures.py", "onnxruntime": ort.__version__,
                   "onnx": onnx.__version__, "cases": cases,
                   "refused": refused}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
