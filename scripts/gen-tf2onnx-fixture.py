#!/usr/bin/env python3
"""Writes test/fixtures/real-models/onnx/tf2onnx/gru-classifier.onnx: a Keras GRU classifier
(GRU(8) on [steps 5, features 4] -> Dense(3, softmax), seeded weights) converted by tf2onnx,
the converter the issue names, so that test/onnx-import.test.ts reads what tf2onnx really emits.

tf2onnx is not on the local pip mirror; tensorflow-cpu is. tf2onnx is pure Python: this runs
its own source, a checkout of github.com/onnx/tensorflow-onnx (Apache-2.0) named by
TF2ONNX_SRC, unmodified (its setup.py writes tf2onnx/version.py, written here the same way):
    python3.11 -m venv tfvenv && tfvenv/bin/pip install tensorflow-cpu==2.21.0 onnx==1.23.1
    git clone https://github.com/onnx/tensorflow-onnx && git -C tensorflow-onnx checkout 6537fcb2
    TF2ONNX_SRC=tensorflow-onnx tfvenv/bin/python scripts/gen-tf2onnx-fixture.py
The Keras model is traced as a tf.function (tf2onnx.convert.from_function: Keras 3's models
are not tf.keras models, which from_keras expects), opset 14.
"""
import os
import sys

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
SRC = os.environ["TF2ONNX_SRC"]
version_py = os.path.join(SRC, "tf2onnx", "version.py")
if not os.path.exists(version_py):
    with open(os.path.join(SRC, "VERSION_NUMBER")) as f:
        v = f.read().strip()
    with open(version_py, "w") as f:
        f.write(f"version = '{v}'\ngit_version = 'unknown'\n")
sys.path.insert(0, SRC)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf2onnx  # noqa: E402

OUT = "test/fixtures/real-models/onnx/tf2onnx/gru-classifier.onnx"
STEPS, FEATURES, UNITS, CLASSES = 5, 4, 8, 3

rng = np.random.RandomState(7)
model = keras.Sequential(
    [
        keras.Input((STEPS, FEATURES)),
        keras.layers.GRU(UNITS),  # Keras's defaults: reset_after=True, tanh / sigmoid
        keras.layers.Dense(CLASSES, activation="softmax"),
    ]
)
model.set_weights([rng.uniform(-0.6, 0.6, w.shape).astype(np.float32) for w in model.get_weights()])

spec = (tf.TensorSpec((None, STEPS, FEATURES), tf.float32, name="x"),)


@tf.function(input_signature=spec)
def classify(x):
    return model(x)


proto, _ = tf2onnx.convert.from_function(classify, input_signature=spec, opset=14)
os.makedirs(os.path.dirname(OUT), exist_ok=True)
onnx.save(proto, OUT)
print(OUT, os.path.getsize(OUT), "bytes; tf2onnx", tf2onnx.__version__)
print("operators:", sorted({n.op_type for n in proto.graph.node}))
