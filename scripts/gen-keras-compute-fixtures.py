#!/usr/bin/env python3
"""Writes test/fixtures/keras-compute.json: what Keras 3 (JAX backend) computes for the
activations, Dense layers with an activation, losses (with sample weights) and metrics that
gru-simd's core implements. test/keras-compute.test.ts compares every backend against it, so
the test suite needs no Python.

Run from the repository root (the local pip mirror has Keras 3 and JAX, see TOOLCHAIN.md):
    python3 -m venv build-venv && . build-venv/bin/activate
    pip install keras jax jaxlib numpy
    KERAS_BACKEND=jax python3 scripts/gen-keras-compute-fixtures.py

Inputs are float32 from a fixed seed; outputs are Keras's float32 results. Gradients are JAX's
autodiff through Keras's own code (loss objects, keras.activations, Dense.stateless_call), so
the conventions at kinks and clips are Keras 3's. hard_sigmoid_keras2 is not in Keras 3: it is
Keras 2's formula, clip(0.2 x + 0.5, 0, 1), evaluated in JAX.
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = "test/fixtures/keras-compute.json"
rng = np.random.RandomState(10)


def f32(a):
    return np.asarray(a, dtype=np.float32)


def flat(a):
    # The shortest decimal that rounds back to the same float32 (Float32Array.from restores it).
    return [float(str(v)) for v in np.asarray(a, dtype=np.float32).ravel()]


ACTIVATIONS = {
    "linear": keras.activations.linear,
    "relu": keras.activations.relu,
    "sigmoid": keras.activations.sigmoid,
    "tanh": keras.activations.tanh,
    "softmax": keras.activations.softmax,
    "gelu": lambda x: keras.activations.gelu(x, approximate=False),
    "geluTanh": lambda x: keras.activations.gelu(x, approximate=True),
    "elu": keras.activations.elu,
    "selu": keras.activations.selu,
    "softplus": keras.activations.softplus,
    "hardSigmoid": keras.activations.hard_sigmoid,
    "hardSigmoidKeras2": lambda x: jnp.clip(0.2 * x + 0.5, 0.0, 1.0),
}

# Special values and kinks first, then random ones; 8 columns (softmax normalizes rows).
SPECIAL = [0.0, -0.0, 1e-30, -1e-30, 1e-4, -1e-4, 0.5, -0.5, 1, -1, 2.5, -2.5, 3, -3, 5, -5,
           10, -10, 20, -20, 40, -40, 80, -80]
x_act = f32(SPECIAL + list(rng.uniform(-8, 8, 64))).reshape(11, 8)
x_act[10] = f32([1000, 0, -1000, 3, 3, 3, -50, 50])  # softmax: a huge spread in one row
dy_act = f32(rng.uniform(-1, 1, x_act.shape))


def activation_cases():
    cases = []
    for name, fn in ACTIVATIONS.items():
        y, vjp = jax.vjp(lambda x: fn(x), jnp.asarray(x_act))
        (dx,) = vjp(jnp.asarray(dy_act))
        cases.append({"activation": name, "cols": 8, "x": flat(x_act), "y": flat(y),
                      "dy": flat(dy_act), "dx": flat(dx)})
    return cases


def dense_cases():
    cases = []
    x = f32(rng.uniform(-1.5, 1.5, (5, 6)))
    kernel = f32(rng.uniform(-0.8, 0.8, (6, 7)))  # Keras's kernel [in, out] = PyTorch's W^T
    bias = f32(rng.uniform(-0.5, 0.5, (7,)))
    dy = f32(rng.uniform(-1, 1, (5, 7)))
    keras_names = {"geluTanh": None, "hardSigmoidKeras2": None, "hardSigmoid": "hard_sigmoid"}
    for name in ACTIVATIONS:
        kname = keras_names.get(name, name)
        if kname is None:
            continue  # not a Keras 3 activation string
        layer = keras.layers.Dense(7, activation=kname)
        layer.build((None, 6))
        layer.set_weights([kernel, bias])

        def call(xv, k, b, layer=layer):
            return layer.stateless_call([k, b], [], xv)[0]

        y, vjp = jax.vjp(call, jnp.asarray(x), jnp.asarray(kernel), jnp.asarray(bias))
        dx, dk, db = vjp(jnp.asarray(dy))
        cases.append({"activation": name, "in": 6, "out": 7, "x": flat(x),
                      "weight": flat(kernel.T), "bias": flat(bias), "y": flat(y),
                      "dy": flat(dy), "dx": flat(dx), "dweight": flat(np.asarray(dk).T),
                      "db": flat(db)})
    return cases


def softmax_rows(a):
    e = np.exp(a - a.max(-1, keepdims=True))
    return f32(e / e.sum(-1, keepdims=True))


def loss_cases():
    cases = []

    def add(name, loss, y_true, y_pred, weight=None, sparse=False, **options):
        yp = jnp.asarray(f32(y_pred))
        yt = jnp.asarray(np.asarray(y_true, dtype=np.int32 if sparse else np.float32))
        sw = None if weight is None else jnp.asarray(f32(weight))
        value, grad = jax.value_and_grad(lambda p: loss(yt, p, sample_weight=sw))(yp)
        cases.append({"loss": name, "options": options, "shape": list(np.shape(y_pred)),
                      "yTrue": [int(v) for v in np.ravel(y_true)] if sparse else flat(y_true),
                      "yPred": flat(y_pred),
                      "sampleWeight": None if weight is None else flat(weight),
                      "loss_value": float(value), "grad": flat(grad)})

    C = 5
    labels = rng.randint(0, C, 8)
    onehot = np.eye(C, dtype=np.float32)[labels]
    soft = f32(rng.dirichlet(np.ones(C), 8))
    logits = f32(rng.uniform(-4, 4, (8, C)))
    probs = softmax_rows(logits)
    # Rows with exact 0 and 1 (clipped to [1e-7, 1 - 1e-7]), and one not summing to 1.
    probs[0] = f32([0, 1, 0, 0, 0])
    probs[1] = f32([0, 0, 1, 0, 0])
    probs[2] = f32([0.2, 0.3, 0.1, 0.6, 0.4])
    onehot[0] = np.eye(C)[1]
    onehot[1] = np.eye(C)[3]
    labels[0], labels[1] = 1, 3
    w8 = f32(rng.uniform(0, 2, 8))
    cce = keras.losses.CategoricalCrossentropy()
    cce_l = keras.losses.CategoricalCrossentropy(from_logits=True)
    scce = keras.losses.SparseCategoricalCrossentropy()
    scce_l = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    for w in (None, w8):
        add("categoricalCrossentropy", cce, onehot, probs, w, classes=C)
        add("categoricalCrossentropy", cce, soft, probs, w, classes=C)
        add("categoricalCrossentropy", cce_l, soft, logits, w, classes=C, fromLogits=True)
        add("sparseCategoricalCrossentropy", scce, labels, probs, w, sparse=True, classes=C)
        add("sparseCategoricalCrossentropy", scce_l, labels, logits, w, sparse=True, classes=C,
            fromLogits=True)
    # A sequence [batch 2, T 3, classes 5]. Keras 3's losses take weights shaped like the
    # per-step losses, [2, 3]: one weight per sequence, repeated over T, is what gru-simd's
    # blocks of rows (weights [2]) mean, and the test checks both forms against these.
    seq_logits = f32(rng.uniform(-3, 3, (2, 3, C)))
    seq_labels = rng.randint(0, C, (2, 3))
    add("sparseCategoricalCrossentropy", scce_l, seq_labels, seq_logits,
        np.repeat(f32([[0.5], [2]]), 3, axis=1), sparse=True, classes=C, fromLogits=True)
    add("categoricalCrossentropy", cce, np.eye(C, dtype=np.float32)[seq_labels],
        softmax_rows(seq_logits), np.repeat(f32([[1.5], [0.25]]), 3, axis=1), classes=C)

    bt = f32(rng.randint(0, 2, (6, 3)))
    bt[0, 0] = 0.3  # soft targets are allowed
    bp = f32(rng.uniform(0, 1, (6, 3)))
    bp[0] = f32([0, 1, 1])
    bp[1] = f32([1, 0, 0.5])
    bl = f32(rng.uniform(-6, 6, (6, 3)))
    w6 = f32(rng.uniform(0, 2, 6))
    yr = f32(rng.uniform(-2, 2, (6, 3)))
    pr = f32(yr + rng.uniform(-2.5, 2.5, (6, 3)))
    pr[0, 0] = yr[0, 0]  # e = 0: mae's and huber's kink
    for w in (None, w6):
        add("binaryCrossentropy", keras.losses.BinaryCrossentropy(), bt, bp, w)
        add("binaryCrossentropy", keras.losses.BinaryCrossentropy(from_logits=True), bt, bl, w,
            fromLogits=True)
        add("meanSquaredError", keras.losses.MeanSquaredError(), yr, pr, w)
        add("meanAbsoluteError", keras.losses.MeanAbsoluteError(), yr, pr, w)
        add("huber", keras.losses.Huber(), yr, pr, w)
        add("huber", keras.losses.Huber(delta=0.4), yr, pr, w, delta=0.4)
    # [batch 2, T 3, units 3] with weights [2, 3] (one per sequence, repeated over T).
    add("binaryCrossentropy", keras.losses.BinaryCrossentropy(), bt.reshape(2, 3, 3),
        bp.reshape(2, 3, 3), np.repeat(f32([[0.2], [1.7]]), 3, axis=1))
    add("meanSquaredError", keras.losses.MeanSquaredError(), yr.reshape(2, 3, 3),
        pr.reshape(2, 3, 3), np.repeat(f32([[3], [0.5]]), 3, axis=1))
    return cases


def metric_cases():
    cases = []

    def add(name, metric, batches, sparse=False, **options):
        m = metric
        for yt, yp, w in batches:
            m.update_state(np.asarray(yt), f32(yp), sample_weight=None if w is None else f32(w))
        cases.append({"metric": name, "options": options, "result": float(m.result()),
                      "batches": [{"yTrue": [int(v) for v in np.ravel(yt)] if sparse
                                   else flat(yt), "yPred": flat(yp),
                                   "sampleWeight": None if w is None else flat(w)}
                                  for yt, yp, w in batches]})

    C = 4

    def cat_batch(rows, weighted):
        labels = rng.randint(0, C, rows)
        pred = softmax_rows(f32(rng.uniform(-2, 2, (rows, C))))
        pred[0] = f32([0.25, 0.25, 0.25, 0.25])  # a tie: the first index wins
        w = f32(rng.uniform(0, 2, rows)) if weighted else None
        return labels, pred, w

    for weighted in (False, True):
        batches = [cat_batch(9, weighted), cat_batch(5, weighted)]
        add("sparseCategoricalAccuracy", keras.metrics.SparseCategoricalAccuracy(), batches,
            sparse=True, classes=C)
        onehot = [(np.eye(C, dtype=np.float32)[t], p, w) for t, p, w in batches]
        add("categoricalAccuracy", keras.metrics.CategoricalAccuracy(), onehot, classes=C)

        def bin_batch(rows):
            t = f32(rng.randint(0, 2, (rows, 2)))
            p = f32(rng.uniform(0, 1, (rows, 2)))
            p[0, 0] = 0.5  # exactly the threshold: not positive (p > threshold)
            return t, p, (f32(rng.uniform(0, 2, rows)) if weighted else None)

        bb = [bin_batch(7), bin_batch(4)]
        add("binaryAccuracy", keras.metrics.BinaryAccuracy(), bb)
        add("binaryAccuracy", keras.metrics.BinaryAccuracy(threshold=0.3), bb, threshold=0.3)
        add("precision", keras.metrics.Precision(), bb)
        add("recall", keras.metrics.Recall(), bb)
        add("precision", keras.metrics.Precision(thresholds=0.7), bb, threshold=0.7)

        def reg_batch(rows):
            t = f32(rng.uniform(-2, 2, (rows, 3)))
            return t, f32(t + rng.uniform(-1, 1, (rows, 3))), (
                f32(rng.uniform(0, 2, rows)) if weighted else None)

        rb = [reg_batch(6), reg_batch(3)]
        add("meanAbsoluteError", keras.metrics.MeanAbsoluteError(), rb)
        add("meanSquaredError", keras.metrics.MeanSquaredError(), rb)
    return cases


def main():
    doc = {
        "generator": "scripts/gen-keras-compute-fixtures.py",
        "keras": keras.__version__,
        "jax": jax.__version__,
        "backend": keras.backend.backend(),
        "activations": activation_cases(),
        "dense": dense_cases(),
        "losses": loss_cases(),
        "metrics": metric_cases(),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}: {len(doc['activations'])} activations, {len(doc['dense'])} dense, "
          f"{len(doc['losses'])} losses, {len(doc['metrics'])} metrics")


if __name__ == "__main__":
    main()
