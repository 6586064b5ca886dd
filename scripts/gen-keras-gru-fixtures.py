#!/usr/bin/env python3
"""Writes test/fixtures/keras-gru.json: what Keras 3's GRU layer (JAX backend) outputs with each
pair of activation (tanh, relu) and recurrent_activation (sigmoid, hard_sigmoid, and Keras 2's
hard sigmoid), reset_after true and false. test/keras-gru.test.ts gives the core GRU (and
layers.gru) the same weights and compares, so the suite needs no Python.

Run from the repository root (the local pip mirror has Keras 3 and JAX, see TOOLCHAIN.md):
    KERAS_BACKEND=jax python3 scripts/gen-keras-gru-fixtures.py

Keras 3 has no Keras 2 hard sigmoid (its 'hard_sigmoid' is relu6(x + 3) / 6); Keras 2's
clip(0.2 x + 0.5, 0, 1) is passed to the layer as a callable, and the script checks Keras's
output against a float64 NumPy GRU with the same equations (within 1e-5), so each case's
reference is Keras's computation and an independent one agrees with it.

Per case: the options, x [batch, steps, features], the weights in the core's (PyTorch's) layout
(gates r, z, n; Keras's are z, r, h: weight_ih = kernel^T with its blocks reordered, weight_hh
the same from recurrent_kernel, bias_ih and bias_hh from Keras's bias [2, 3 units] when
reset_after, else bias_ih = its bias [3 units] and bias_hh = 0), and Keras's output sequence
[batch, steps, units] (return_sequences=True) and final state [batch, units].
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

OUT = "test/fixtures/keras-gru.json"
rng = np.random.RandomState(10)
BATCH, STEPS, FEATURES, UNITS = 3, 6, 5, 7


def flat(a):
    # The shortest decimal that rounds back to the same float32 (Float32Array.from restores it).
    return [float(str(v)) for v in np.asarray(a, dtype=np.float32).ravel()]


def hard_sigmoid_keras2(x):
    return ops.clip(0.2 * x + 0.5, 0.0, 1.0)


ACTIVATIONS = {"tanh": np.tanh, "relu": lambda a: np.maximum(a, 0.0)}
RECURRENT = {
    "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a)),
    "hard_sigmoid": lambda a: np.clip(a + 3.0, 0.0, 6.0) / 6.0,
    "hard_sigmoid_keras2": lambda a: np.clip(0.2 * a + 0.5, 0.0, 1.0),
}


def reorder(m):
    """Keras's gate blocks (z, r, h) along the last axis -> the core's (r, z, n)."""
    z, r, h = np.split(m, 3, axis=-1)
    return np.concatenate([r, z, h], axis=-1)


def numpy_gru(x, kernel, recurrent, bias, reset_after, act, rec):
    """Keras's GRU equations in float64 (keras/src/layers/rnn/gru.py, GRUCell.call)."""
    x, kernel, recurrent = (np.asarray(a, np.float64) for a in (x, kernel, recurrent))
    units = recurrent.shape[0]
    b_in, b_rec = (bias[0], bias[1]) if reset_after else (bias, np.zeros(3 * units))
    h = np.zeros((x.shape[0], units))
    outs = []
    for t in range(x.shape[1]):
        xz, xr, xh = np.split(x[:, t] @ kernel + b_in, 3, axis=-1)
        if reset_after:
            rz, rr, rh = np.split(h @ recurrent + b_rec, 3, axis=-1)
            z, r = rec(xz + rz), rec(xr + rr)
            hh = act(xh + r * rh)
        else:
            rz, rr = np.split(h @ recurrent[:, : 2 * units], 2, axis=-1)
            z, r = rec(xz + rz), rec(xr + rr)
            hh = act(xh + (r * h) @ recurrent[:, 2 * units:])
        h = z * h + (1 - z) * hh
        outs.append(h)
    return np.stack(outs, axis=1), h


cases = []
for reset_after in (True, False):
    for act in ("tanh", "relu"):
        for rec in ("sigmoid", "hard_sigmoid", "hard_sigmoid_keras2"):
            rec_arg = hard_sigmoid_keras2 if rec == "hard_sigmoid_keras2" else rec
            layer = keras.layers.GRU(UNITS, activation=act, recurrent_activation=rec_arg,
                                     reset_after=reset_after, return_sequences=True,
                                     return_state=True)
            x = rng.uniform(-2, 2, (BATCH, STEPS, FEATURES)).astype(np.float32)
            layer.build((BATCH, STEPS, FEATURES))
            # Weights of order 1: pre-activations reach past the hard sigmoids' kinks (+-2.5, +-3)
            # and below relu's (0), so clipped units are part of every case.
            kernel = rng.uniform(-1, 1, (FEATURES, 3 * UNITS)).astype(np.float32)
            recurrent = rng.uniform(-0.6, 0.6, (UNITS, 3 * UNITS)).astype(np.float32)
            bias = rng.uniform(-0.5, 0.5, layer.cell.bias.shape).astype(np.float32)
            layer.set_weights([kernel, recurrent, bias])
            seq, state = (np.asarray(v) for v in layer(x))
            ref_seq, ref_state = numpy_gru(x, kernel, recurrent, bias, reset_after,
                                           ACTIVATIONS[act], RECURRENT[rec])
            err = max(np.abs(seq - ref_seq).max(), np.abs(state - ref_state).max())
            assert err < 1e-5, f"{act}/{rec}/reset_after={reset_after}: Keras vs NumPy {err}"
            if reset_after:
                b_ih, b_hh = reorder(bias[0]), reorder(bias[1])
            else:
                b_ih, b_hh = reorder(bias), np.zeros(3 * UNITS, np.float32)
            cases.append({
                "activation": act,
                "recurrentActivation": rec,
                "resetAfter": reset_after,
                "x": flat(x),
                "weight_ih_l0": flat(reorder(kernel).T),
                "weight_hh_l0": flat(reorder(recurrent).T),
                "bias_ih_l0": flat(b_ih),
                "bias_hh_l0": flat(b_hh),
                "output": flat(seq),
                "state": flat(state),
                "numpyMaxError": float(err),
            })

with open(OUT, "w") as f:
    json.dump({"keras": keras.__version__, "backend": keras.backend.backend(), "batch": BATCH,
               "steps": STEPS, "features": FEATURES, "units": UNITS, "cases": cases}, f)
    f.write("\n")
print(f"wrote {OUT}: {len(cases)} cases")
