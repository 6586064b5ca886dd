#!/usr/bin/env python3
"""Writes test/fixtures/tfjs-files/keras-reset-after/: a TensorFlow.js LayersModel file as the
tensorflowjs converter writes one for a tf.keras 2 model (model.json with a Keras 2
Sequential topology, InputLayer first, GRUs with reset_after true and a bias of shape
(2, 3 * units); weight names 'gru/gru_cell/kernel' ...; one shard 'group1-shard1of1.bin'),
and expected.json: the input and Keras's predict. tfjs itself cannot run such a file (it refuses
reset_after); test/formats/tfjs-files.test.ts checks that gru-simd does, within 1e-5.

The tensorflowjs converter needs TensorFlow, which is not installed here: model.json is written
by this script from the Keras 3 model's weights, in the converter's layout (a Keras weight is
the same tensor in both; only the names differ).

Run from the repository root (Keras 3 + JAX, see TOOLCHAIN.md):
    KERAS_BACKEND=jax python3 scripts/gen-tfjs-keras-fixture.py
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = "test/fixtures/tfjs-files/keras-reset-after"
rng = np.random.RandomState(7)
T, F = 6, 4

model = keras.Sequential(
    [
        keras.Input(shape=(T, F)),
        keras.layers.GRU(5, return_sequences=True, reset_after=True, name="gru"),
        keras.layers.Bidirectional(
            keras.layers.GRU(3, reset_after=True, name="gru_1"), name="bidirectional"
        ),
        keras.layers.Dense(2, activation="sigmoid", name="dense"),
    ],
    name="sequential",
)
for layer in model.layers:
    layer.set_weights([rng.uniform(-0.6, 0.6, w.shape).astype(np.float32) for w in layer.get_weights()])
x = rng.uniform(-2, 2, (3, T, F)).astype(np.float32)
y = np.asarray(model.predict(x, verbose=0))


def initializer(name, **config):
    return {"class_name": name, "config": {**config, "seed": None} if name != "Zeros" else {}}


def gru_config(name, units, return_sequences, go_backwards=False):
    # tf.keras 2.15's GRU.get_config(), as the converter copies it.
    return {
        "name": name,
        "trainable": True,
        "dtype": "float32",
        "return_sequences": return_sequences,
        "return_state": False,
        "go_backwards": go_backwards,
        "stateful": False,
        "unroll": False,
        "time_major": False,
        "units": units,
        "activation": "tanh",
        "recurrent_activation": "sigmoid",
        "use_bias": True,
        "kernel_initializer": initializer("GlorotUniform"),
        "recurrent_initializer": initializer("Orthogonal", gain=1.0),
        "bias_initializer": initializer("Zeros"),
        "kernel_regularizer": None,
        "recurrent_regularizer": None,
        "bias_regularizer": None,
        "activity_regularizer": None,
        "kernel_constraint": None,
        "recurrent_constraint": None,
        "bias_constraint": None,
        "dropout": 0.0,
        "recurrent_dropout": 0.0,
        "implementation": 2,
        "reset_after": True,
    }


topology = {
    "class_name": "Sequential",
    "config": {
        "name": "sequential",
        "layers": [
            {
                "class_name": "InputLayer",
                "config": {
                    "batch_input_shape": [None, T, F],
                    "dtype": "float32",
                    "sparse": False,
                    "ragged": False,
                    "name": "gru_input",
                },
            },
            {"class_name": "GRU", "config": gru_config("gru", 5, True)},
            {
                "class_name": "Bidirectional",
                "config": {
                    "name": "bidirectional",
                    "trainable": True,
                    "dtype": "float32",
                    "layer": {"class_name": "GRU", "config": gru_config("gru_1", 3, False)},
                    "merge_mode": "concat",
                },
            },
            {
                "class_name": "Dense",
                "config": {
                    "name": "dense",
                    "trainable": True,
                    "dtype": "float32",
                    "units": 2,
                    "activation": "sigmoid",
                    "use_bias": True,
                    "kernel_initializer": initializer("GlorotUniform"),
                    "bias_initializer": initializer("Zeros"),
                    "kernel_regularizer": None,
                    "bias_regularizer": None,
                    "activity_regularizer": None,
                    "kernel_constraint": None,
                    "bias_constraint": None,
                },
            },
        ],
    },
    "keras_version": "2.15.0",
    "backend": "tensorflow",
}

# The converter's weight names: tf.keras 2's variable names without ':0'.
names = {
    "gru": ["gru/gru_cell/kernel", "gru/gru_cell/recurrent_kernel", "gru/gru_cell/bias"],
    "bidirectional": [
        f"bidirectional/{d}_gru_1/gru_cell_{i}/{w}"
        for d, i in (("forward", 1), ("backward", 2))
        for w in ("kernel", "recurrent_kernel", "bias")
    ],
    "dense": ["dense/kernel", "dense/bias"],
}
specs, data = [], []
for layer in model.layers:
    for name, w in zip(names[layer.name], layer.get_weights()):
        specs.append({"name": name, "shape": list(w.shape), "dtype": "float32"})
        data.append(np.asarray(w, dtype="<f4").tobytes())

os.makedirs(OUT, exist_ok=True)
with open(f"{OUT}/group1-shard1of1.bin", "wb") as f:
    f.write(b"".join(data))
with open(f"{OUT}/model.json", "w") as f:
    json.dump(
        {
            "format": "layers-model",
            "generatedBy": "keras v2.15.0",
            "convertedBy": "TensorFlow.js Converter v4.22.0",
            "modelTopology": topology,
            "weightsManifest": [{"paths": ["group1-shard1of1.bin"], "weights": specs}],
        },
        f,
    )
with open(f"{OUT}/expected.json", "w") as f:
    json.dump(
        {
            "what": "InputLayer -> GRU reset_after (returnSequences) -> Bidirectional GRU reset_after -> Dense sigmoid, as the tensorflowjs converter writes a tf.keras 2 model",
            "generatedBy": f"scripts/gen-tfjs-keras-fixture.py, Keras {keras.__version__} ({keras.backend.backend()})",
            "input": {"shape": list(x.shape), "dtype": "float32", "data": [float(v) for v in x.ravel()]},
            "output": {"shape": list(y.shape), "data": [float(v) for v in y.ravel()]},
        },
        f,
        indent=1,
    )
    f.write("\n")
print(f"{OUT}: Keras {keras.__version__}, output {y.shape}")
