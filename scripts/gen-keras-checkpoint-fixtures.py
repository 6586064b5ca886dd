#!/usr/bin/env python3
"""Writes test/fixtures/keras-checkpoint.json: the files Keras 3's ModelCheckpoint writes for
chosen sequences of a monitored value. As scripts/gen-keras-callbacks-fixtures.py does, a tiny
Dense model is fit with a first callback that puts the chosen value of each epoch in the logs;
the checkpoint's filepath carries the epoch (and batch) and a formatted value, so the names of
the files written say when it saved and what it formatted. test/models/model-checkpoint.test.ts
runs callbacks.modelCheckpoint with the same options and compares the file names.

Run from the repository root (Keras 3 and JAX from the local pip mirror, see TOOLCHAIN.md):
    KERAS_BACKEND=jax python3 scripts/gen-keras-checkpoint-fixtures.py
"""
import json
import os
import tempfile

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = "test/fixtures/keras-checkpoint.json"
rng = np.random.RandomState(30)
X = rng.uniform(-1, 1, (8, 3)).astype(np.float32)
Y = rng.uniform(-1, 1, (8, 1)).astype(np.float32)
KERAS_NAMES = {"saveBestOnly": "save_best_only", "saveWeightsOnly": "save_weights_only",
               "saveFreq": "save_freq", "initialValueThreshold": "initial_value_threshold"}


class Feed(keras.callbacks.Callback):
    """Sets logs[monitor] to the chosen value of each epoch."""

    def __init__(self, monitor, values):
        super().__init__()
        self.monitor, self.values = monitor, values

    def on_epoch_end(self, epoch, logs=None):
        logs[self.monitor] = self.values[epoch]


cases = []


def case(filepath, options, monitor, values):
    """filepath without its extension: Keras wants .keras (or .weights.h5 for weights only)."""
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse",
                  metrics=["mae"])
    ext = ".weights.h5" if options.get("saveWeightsOnly") else ".keras"
    with tempfile.TemporaryDirectory() as d:
        checkpoint = keras.callbacks.ModelCheckpoint(
            os.path.join(d, filepath + ext), monitor=monitor,
            **{KERAS_NAMES.get(k, k): v for k, v in options.items()})
        model.fit(X, Y, epochs=len(values), batch_size=4, shuffle=False, verbose=0,
                  callbacks=[Feed(monitor, values), checkpoint])
        written = sorted(f[: -len(ext)] for f in os.listdir(d))
    cases.append({"filepath": filepath, "options": {"monitor": monitor, **options},
                  "values": values, "written": written})


down = [1.0, 0.9, 0.95, 0.85, 0.86, 0.87, 0.84, 0.9]
case("e{epoch:02d}", {}, "val_loss", down)
case("e{epoch:02d}-{val_loss:.3f}", {"saveBestOnly": True}, "val_loss", down)
case("e{epoch}-{val_mae:.2f}", {"saveBestOnly": True, "mode": "max"}, "val_mae",
     [0.1, 0.3, 0.2, 0.25, 0.4, 0.35, 0.3, 0.2])
case("e{epoch:03d}", {"saveBestOnly": True, "initialValueThreshold": 0.86}, "val_loss", down)
case("w{epoch}-{loss:.1e}", {"saveWeightsOnly": True, "saveBestOnly": True, "mode": "min"},
     "loss", [3.0, 2.0e-3, 2.5e-3, 1.0e-4])
case("b{epoch}-{batch}", {"saveFreq": 3}, "val_loss", down[:4])

with open(OUT, "w") as f:
    json.dump({"keras": keras.__version__, "cases": cases}, f, indent=1)
print(f"wrote {OUT}: {len(cases)} cases")
