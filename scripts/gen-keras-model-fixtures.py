#!/usr/bin/env python3
"""Writes test/fixtures/keras-models.json: what Keras 3 (JAX backend) gives for small compiled
models whose every name the model API resolves (ts/models/names.ts): Dense layers with
activations, each loss by its Keras name, metrics by name ('accuracy' chosen by Keras), and
evaluate / train_on_batch with sample_weight and class_weight. test/models/keras.test.ts builds
the same models in gru-simd with the same weights and compares, so the suite needs no Python.

Run from the repository root (the local pip mirror has Keras 3 and JAX, see TOOLCHAIN.md):
    python3 -m venv build-venv && . build-venv/bin/activate
    pip install keras jax jaxlib numpy
    KERAS_BACKEND=jax python3 scripts/gen-keras-model-fixtures.py

Per case: the layers (units, activation), their weights in gru-simd's layout (Dense weight
[out, in] = Keras's kernel transposed, bias), x, y, a sample weight per sample; Keras's
evaluate(batch_size=4) without and with the sample weights ([loss, *metrics]); then one
train_on_batch with SGD(learning_rate=0.1) and the sample (or class) weights: its returned
[loss, *metrics] (from the outputs before the step) and every weight after the step.
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = "test/fixtures/keras-models.json"
rng = np.random.RandomState(20)
N, F, K = 10, 4, 3


def flat(a):
    # The shortest decimal that rounds back to the same float32 (Float32Array.from restores it).
    return [float(str(v)) for v in np.asarray(a, dtype=np.float32).ravel()]


def one_hot(n, k):
    return np.eye(k, dtype=np.float32)[rng.randint(0, k, n)]


def bits(*shape):
    return (rng.uniform(0, 1, shape) < 0.5).astype(np.float32)


# (title, [(units, activation)], loss, metrics, y, y shape, class_weight or None)
CASES = [
    ("softmax, categorical_crossentropy", [(K, "softmax")], "categorical_crossentropy",
     ["accuracy", "precision", "recall", "mae"], one_hot(N, K), [K], None),
    ("gelu hidden, softmax, categorical_crossentropy", [(6, "gelu"), (K, "softmax")],
     "categorical_crossentropy", ["acc", "categorical_accuracy"], one_hot(N, K), [K], None),
    ("softmax, sparse_categorical_crossentropy", [(K, "softmax")],
     "sparse_categorical_crossentropy", ["accuracy"], rng.randint(0, K, N).astype(np.int32),
     [], None),
    ("sigmoid multi-label, binary_crossentropy", [(K, "sigmoid")], "binary_crossentropy",
     ["accuracy", "binary_accuracy", "mse"], bits(N, K), [K], None),
    ("relu hidden, sigmoid, binary_crossentropy, class_weight", [(5, "relu"), (1, "sigmoid")],
     "binary_crossentropy", ["accuracy", "precision", "recall"], bits(N, 1), [1],
     {0: 0.5, 1: 3.0}),
    ("tanh, mean_squared_error", [(K, "tanh")], "mean_squared_error", ["mae"],
     rng.uniform(-1, 1, (N, K)).astype(np.float32), [K], None),
    ("elu, mean_absolute_error", [(K, "elu")], "mean_absolute_error", ["mse"],
     rng.uniform(-1, 1, (N, K)).astype(np.float32), [K], None),
    ("selu, huber", [(K, "selu")], "huber", [], rng.uniform(-2, 2, (N, K)).astype(np.float32),
     [K], None),
    ("softplus, hard_sigmoid, binary_crossentropy", [(6, "softplus"), (K, "hard_sigmoid")],
     "binary_crossentropy", ["binary_accuracy"], bits(N, K), [K], None),
]


def build(layers):
    model = keras.Sequential([keras.Input((F,))] +
                             [keras.layers.Dense(u, activation=a) for u, a in layers])
    for layer in model.layers:
        layer.set_weights([rng.uniform(-1, 1, layer.kernel.shape).astype(np.float32),
                           rng.uniform(-1, 1, layer.bias.shape).astype(np.float32)])
    return model


def weights_of(model):
    return [[flat(layer.kernel.numpy().T), flat(layer.bias.numpy())] for layer in model.layers]


def as_list(v):
    return [float(x) for x in (v if isinstance(v, list) else [v])]


def case(title, layers, loss, metrics, y, y_shape, class_weight):
    model = build(layers)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss=loss, metrics=metrics)
    x = rng.uniform(-2, 2, (N, F)).astype(np.float32)
    w = rng.uniform(0, 2, N).astype(np.float32)
    before = weights_of(model)
    plain = as_list(model.evaluate(x, y, batch_size=4, verbose=0))
    weighted = as_list(model.evaluate(x, y, sample_weight=w, batch_size=4, verbose=0))
    if class_weight is None:
        step = as_list(model.train_on_batch(x, y, sample_weight=w))
    else:
        step = as_list(model.train_on_batch(x, y, class_weight=class_weight))
    return {
        "title": title,
        "layers": [{"units": u, "activation": a} for u, a in layers],
        "loss": loss,
        "metrics": metrics,
        "metricsNames": ["loss"] + metrics,
        "x": flat(x),
        "y": [int(v) for v in y.ravel()] if y.dtype == np.int32 else flat(y),
        "yShape": y_shape,
        "sampleWeight": flat(w),
        "classWeight": None if class_weight is None else {str(k): v for k, v in class_weight.items()},
        "weights": before,
        "evaluate": plain,
        "evaluateWeighted": weighted,
        "trainOnBatch": step,
        "weightsAfter": weights_of(model),
    }


def main():
    doc = {
        "generator": "scripts/gen-keras-model-fixtures.py",
        "keras": keras.__version__,
        "jax": jax.__version__,
        "backend": keras.backend.backend(),
        "features": F,
        "cases": [case(*c) for c in CASES],
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}: {len(doc['cases'])} models")


if __name__ == "__main__":
    main()
