#!/usr/bin/env python3
"""Writes test/fixtures/keras-tutorial.json: Keras 3's (JAX backend) predictions for GRU layers of
every option the model API offers, and for three of the four tutorial models of issue 10 at
their full sizes. test/models/keras-gru.test.ts builds the same models in gru-simd and compares.

Run from the repository root (the local pip mirror has Keras 3 and JAX, see TOOLCHAIN.md):
    python3 -m venv build-venv && . build-venv/bin/activate
    pip install keras jax jaxlib numpy
    KERAS_BACKEND=jax python3 scripts/gen-keras-tutorial-fixtures.py

The weights and inputs are not stored: they are a formula both sides compute (wave() below and
in the test), in Keras's layouts (GRU kernel [in, 3 units], recurrent kernel [units, 3 units],
gate blocks z, r, h; bias [2, 3 units] with reset_after, [3 units] without; Dense kernel
[in, out]), so a fixture of a model with 300,000 weights stays a few numbers. The test converts
them to gru-simd's layout (PyTorch's: gate rows r, z, n, weight [out, in]).
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = "test/fixtures/keras-tutorial.json"


def wave(n, seed, scale):
    """n float32 values scale * sin(0.9137 i + 1.31 seed + 0.5): the test computes the same."""
    i = np.arange(n, dtype=np.float64)
    return (scale * np.sin(0.9137 * i + 1.31 * seed + 0.5)).astype(np.float32)


def set_wave_weights(model):
    """Every weight of every layer from wave(), tensor p of the model with seed p, scaled by
    1 / sqrt(its first dimension) (the fan-in of kernels; biases get 1 / sqrt(their length))."""
    p = 0
    for layer in model.layers:
        values = []
        for w in layer.get_weights():
            scale = 1.0 / np.sqrt(w.shape[0])
            values.append(wave(w.size, p, scale).reshape(w.shape))
            p += 1
        layer.set_weights(values)


def flat(a):
    # The shortest decimal that rounds back to the same float32 (Float32Array.from restores it).
    return [float(str(v)) for v in np.asarray(a, dtype=np.float32).ravel()]


def spec_layers(spec):
    out = []
    for l in spec:
        kind = l["kind"]
        if kind == "gru":
            out.append(keras.layers.GRU(
                l["units"], return_sequences=l.get("returnSequences", False),
                go_backwards=l.get("goBackwards", False), reset_after=l.get("resetAfter", True),
                use_bias=l.get("useBias", True)))
        elif kind == "dense":
            out.append(keras.layers.Dense(l["units"], activation=l.get("activation")))
        else:
            raise ValueError(kind)
    return out


def case(title, spec, batch, steps, features):
    model = keras.Sequential([keras.Input((steps, features))] + spec_layers(spec))
    set_wave_weights(model)
    x = wave(batch * steps * features, 1000, 1.0).reshape(batch, steps, features)
    y = model.predict(x, verbose=0)
    return {"title": title, "layers": spec, "batch": batch, "steps": steps,
            "features": features, "params": int(model.count_params()),
            "outputShape": list(y.shape), "predict": flat(y)}


CASES = []
for reset_after in (True, False):
    for use_bias in (True, False):
        for return_sequences in (False, True):
            for go_backwards in (False, True):
                spec = [{"kind": "gru", "units": 6, "resetAfter": reset_after,
                         "useBias": use_bias, "returnSequences": return_sequences,
                         "goBackwards": go_backwards}]
                title = (f"GRU(6) resetAfter {str(reset_after).lower()}, useBias "
                         f"{str(use_bias).lower()}, returnSequences "
                         f"{str(return_sequences).lower()}, goBackwards "
                         f"{str(go_backwards).lower()}")
                CASES.append(case(title, spec, 3, 5, 4))

# The tutorial models of issue 10 (model 3 needs BatchNormalization and GRU dropout).
CASES.append(case("model 1: GRU(64, returnSequences) -> GRU(32) -> Dense(5, softmax)", [
    {"kind": "gru", "units": 64, "returnSequences": True},
    {"kind": "gru", "units": 32},
    {"kind": "dense", "units": 5, "activation": "softmax"},
], 4, 20, 8))
CASES.append(case("model 2: 3 x GRU(128) -> Dense 64, 32, 16 relu -> Dense(1, sigmoid)", [
    {"kind": "gru", "units": 128, "returnSequences": True},
    {"kind": "gru", "units": 128, "returnSequences": True},
    {"kind": "gru", "units": 128},
    {"kind": "dense", "units": 64, "activation": "relu"},
    {"kind": "dense", "units": 32, "activation": "relu"},
    {"kind": "dense", "units": 16, "activation": "relu"},
    {"kind": "dense", "units": 1, "activation": "sigmoid"},
], 2, 100, 64))
CASES.append(case("model 4: GRU(128) -> Dense(10, softmax) on (100, 300)", [
    {"kind": "gru", "units": 128},
    {"kind": "dense", "units": 10, "activation": "softmax"},
], 2, 100, 300))

with open(OUT, "w") as f:
    json.dump({"keras": keras.__version__, "backend": keras.backend.backend(), "cases": CASES},
              f, indent=1)
    f.write("\n")
print(f"wrote {OUT}: {len(CASES)} cases")
