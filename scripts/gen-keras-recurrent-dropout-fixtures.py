#!/usr/bin/env python3
"""Writes test/fixtures/keras-recurrent-dropout.json: what Keras 3 (JAX backend) computes for a
GRU layer in training with recurrent_dropout (and dropout), given gru-simd's masks.
test/keras-recurrent-dropout.test.ts compares every backend against it. Also Bidirectional(GRU)
with both directions masked, against the core's bidirectional GRU.

Keras draws its masks from its own seed generator, so to compare the two the masks must be the
same: this script computes gru-simd's masks (native/core/recurrent_dropout.cpp: the splitmix
hash of native/core/random.h, salted per family, indexed by gate, sequence and unit) and hands
them to Keras's GRUCell in place of its own (get_dropout_mask / get_recurrent_dropout_mask, the
two methods of Keras's DropoutRNNCell that GRUCell.call reads its three masks from, in the
order z, r, h). Everything else is Keras's own code: GRU.stateless_call with training=True
(implementation 1, as Keras picks whenever recurrent_dropout > 0), and JAX's autodiff through
it for the gradients of sum(output * dy) + sum(h_n * dh_n).

Run from the repository root (the local pip mirror has Keras 3 and JAX, see TOOLCHAIN.md):
    KERAS_BACKEND=jax python3 scripts/gen-keras-recurrent-dropout-fixtures.py

Weights and gradients are stored in PyTorch's layout (weight_ih_l0 [3H, I] with gate blocks r,
z, n; Keras's kernel is [I, 3H] with blocks z, r, h), which is the core GRU's.
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = "test/fixtures/keras-recurrent-dropout.json"
SEED = 0x5EED17
M64 = (1 << 64) - 1
RECURRENT_SALT = 0x52656375
GATE_INPUT_SALT = 0x496E7075


def hash_uniform(seed, index):
    """native/core/random.h hash_uniform: splitmix64 of (index, seed), 24 bits in [0, 1)."""
    z = (index * 0x9E3779B97F4A7C15 + ((seed << 32) | seed)) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    bits = ((z ^ (z >> 31)) >> 32) & 0xFFFFFFFF
    return (bits >> 8) * 2.0**-24


def keep_scale(salt, index, p):
    p32 = np.float32(p)
    scale = np.float32(1.0) / (np.float32(1.0) - p32)
    return scale if hash_uniform((SEED ^ salt) & 0xFFFFFFFF, index) >= float(p32) else np.float32(0)


def masks(salt, batch, width, p, direction=0):
    """[3][batch, width] in gru-simd's gate order r, z, n (layer 0): index
    ((direction * 3 + g) * batch + b) * width + j, as native/core/recurrent_dropout.h."""
    out = np.zeros((3, batch, width), dtype=np.float32)
    for g in range(3):
        for b in range(batch):
            for j in range(width):
                index = ((direction * 3 + g) * batch + b) * width + j
                out[g, b, j] = keep_scale(salt, index, p)
    return out


def keras_order(m):
    """gru-simd's masks r, z, n -> the list Keras's GRUCell reads: z, r, h."""
    return [jnp.asarray(m[1]), jnp.asarray(m[0]), jnp.asarray(m[2])]


def patch_masks(cell, q, m):
    """Hands gru-simd's masks to a Keras GRUCell in place of the ones it would draw."""
    assert cell.implementation == 1, "Keras uses implementation 1 with recurrent_dropout"
    if q is not None:
        cell.get_dropout_mask = lambda step_input: keras_order(q)
    cell.get_recurrent_dropout_mask = lambda step_input: keras_order(m)


def f32(a):
    return np.asarray(a, dtype=np.float32)


def flat(a):
    # The shortest decimal that rounds back to the same float32 (Float32Array.from restores it).
    return [float(str(v)) for v in np.asarray(a, dtype=np.float32).ravel()]


def torch_gates(m):
    """Keras's [.., 3H] blocks z, r, h -> PyTorch's rows r, z, n: [3H, ..]."""
    z, r, h = np.split(np.asarray(m), 3, axis=-1)
    return np.concatenate([r.T, z.T, h.T], axis=0) if m.ndim == 2 else np.concatenate([r, z, h])


CASES = [
    # name, reset_after, dropout, recurrent_dropout, T, B, I, H, h0
    ("reset_after, recurrent_dropout", True, 0.0, 0.3, 7, 4, 5, 6, False),
    ("reset_before, recurrent_dropout", False, 0.0, 0.3, 7, 4, 5, 6, False),
    ("reset_after, dropout + recurrent_dropout, h0", True, 0.25, 0.4, 6, 5, 7, 20, True),
    ("reset_before, dropout + recurrent_dropout, h0", False, 0.25, 0.4, 6, 5, 7, 20, True),
    ("reset_after, dropout + recurrent_dropout 0.5, H 33", True, 0.2, 0.5, 5, 3, 4, 33, False),
]

rng = np.random.RandomState(17)
cases = []
for name, reset_after, dropout, rec_dropout, T, B, I, H, with_h0 in CASES:
    layer = keras.layers.GRU(
        H,
        return_sequences=True,
        return_state=True,
        reset_after=reset_after,
        dropout=dropout,
        recurrent_dropout=rec_dropout,
    )
    layer.build((B, T, I))
    kernel = f32(rng.uniform(-0.5, 0.5, (I, 3 * H)))
    recurrent = f32(rng.uniform(-0.5, 0.5, (H, 3 * H)))
    bias = f32(rng.uniform(-0.3, 0.3, (2, 3 * H) if reset_after else (3 * H,)))
    x = f32(rng.uniform(-1, 1, (B, T, I)))
    h0 = f32(rng.uniform(-1, 1, (B, H))) if with_h0 else np.zeros((B, H), np.float32)
    dy = f32(rng.uniform(-1, 1, (B, T, H)))
    dhn = f32(rng.uniform(-1, 1, (B, H)))

    # gru-simd's masks in Keras's order z, r, h.
    q = masks(GATE_INPUT_SALT, B, I, dropout) if dropout > 0 else None
    m = masks(RECURRENT_SALT, B, H, rec_dropout)
    patch_masks(layer.cell, q, m)

    frozen = [v.value for v in layer.non_trainable_variables]  # the seed generator's state

    def run(kernel, recurrent, bias, x, h0, training=True):
        out, _ = layer.stateless_call([kernel, recurrent, bias], frozen, x, initial_state=[h0],
                                      training=training)
        return out

    def loss(kernel, recurrent, bias, x, h0):
        y, hn = run(kernel, recurrent, bias, x, h0)
        return jnp.sum(y * dy) + jnp.sum(hn * dhn)

    y, hn = run(kernel, recurrent, bias, x, h0)
    y_inference, _ = run(kernel, recurrent, bias, x, h0, training=False)
    gk, gr, gb, gx, gh0 = jax.grad(loss, argnums=(0, 1, 2, 3, 4))(kernel, recurrent, bias, x, h0)

    if reset_after:
        b_ih, b_hh = torch_gates(bias[0]), torch_gates(bias[1])
        g_b_ih, g_b_hh = torch_gates(np.asarray(gb)[0]), torch_gates(np.asarray(gb)[1])
    else:
        b_ih, b_hh = torch_gates(bias), np.zeros(3 * H, np.float32)
        g_b_ih, g_b_hh = torch_gates(np.asarray(gb)), None
    cases.append({
        "name": name,
        "resetAfter": reset_after,
        "dropout": dropout,
        "recurrentDropout": rec_dropout,
        "seed": SEED,
        "T": T, "B": B, "I": I, "H": H,
        # Core GRU layout: x [B, T, I] is batchFirst; h0 [1, B, H].
        "params": {
            "weight_ih_l0": flat(torch_gates(kernel)),
            "weight_hh_l0": flat(torch_gates(recurrent)),
            "bias_ih_l0": flat(b_ih),
            "bias_hh_l0": flat(b_hh),
        },
        "x": flat(x),
        "h0": flat(h0),
        "dy": flat(dy),
        "dhn": flat(dhn),
        "output": flat(y),
        "hn": flat(hn),
        "inference": flat(y_inference),
        "grads": {
            "weight_ih_l0": flat(torch_gates(np.asarray(gk))),
            "weight_hh_l0": flat(torch_gates(np.asarray(gr))),
            "bias_ih_l0": flat(g_b_ih),
            # Keras's reset_before has no recurrent bias: the core's bias_hh_l0 is held at zero
            # there (the model layer does so), and its gradient equals bias_ih_l0's.
            **({"bias_hh_l0": flat(g_b_hh)} if g_b_hh is not None else {}),
        },
        "dx": flat(gx),
        "dh0": flat(gh0),
    })
    print(f"{name}: |y| max {float(np.abs(y).max()):.3f}, "
          f"dropped recurrent {int((m == 0).sum())}/{m.size}")

# Bidirectional(GRU): Keras's two layers draw independent masks; gru-simd's bidirectional GRU
# masks direction 1 with its own (direction 1 of the index). Keras's backward layer runs the
# reversed sequence and its outputs are flipped back, as the core's reverse direction's are.
BIDI_CASES = [
    # name, reset_after, dropout, recurrent_dropout, T, B, I, H
    ("bidirectional, reset_after, dropout + recurrent_dropout", True, 0.25, 0.4, 6, 4, 5, 9),
    ("bidirectional, reset_before, recurrent_dropout", False, 0.0, 0.3, 5, 3, 4, 10),
]
bidi_cases = []
for name, reset_after, dropout, rec_dropout, T, B, I, H in BIDI_CASES:
    layer = keras.layers.Bidirectional(
        keras.layers.GRU(H, return_sequences=True, return_state=True, reset_after=reset_after,
                         dropout=dropout, recurrent_dropout=rec_dropout),
        merge_mode="concat",
    )
    layer.build((B, T, I))
    weights = []
    for _ in range(2):  # forward layer, then backward layer: kernel, recurrent, bias
        weights += [
            f32(rng.uniform(-0.5, 0.5, (I, 3 * H))),
            f32(rng.uniform(-0.5, 0.5, (H, 3 * H))),
            f32(rng.uniform(-0.3, 0.3, (2, 3 * H) if reset_after else (3 * H,))),
        ]
    assert [tuple(v.shape) for v in layer.trainable_variables] == [w.shape for w in weights]
    x = f32(rng.uniform(-1, 1, (B, T, I)))
    h0 = f32(rng.uniform(-1, 1, (2, B, H)))
    dy = f32(rng.uniform(-1, 1, (B, T, 2 * H)))
    dhn = f32(rng.uniform(-1, 1, (2, B, H)))
    for d, sub in enumerate([layer.forward_layer, layer.backward_layer]):
        q = masks(GATE_INPUT_SALT, B, I, dropout, d) if dropout > 0 else None
        patch_masks(sub.cell, q, masks(RECURRENT_SALT, B, H, rec_dropout, d))
    frozen = [v.value for v in layer.non_trainable_variables]

    def run(weights, x, h0, training=True):
        out, _ = layer.stateless_call(weights, frozen, x, initial_state=[h0[0], h0[1]],
                                      training=training)
        return out

    def loss(weights, x, h0):
        y, h_fw, h_bw = run(weights, x, h0)
        return jnp.sum(y * dy) + jnp.sum(h_fw * dhn[0]) + jnp.sum(h_bw * dhn[1])

    y, h_fw, h_bw = run(weights, x, h0)
    y_inference = run(weights, x, h0, training=False)[0]
    gw, gx, gh0 = jax.grad(loss, argnums=(0, 1, 2))(weights, x, h0)
    params, grads = {}, {}
    for d, suffix in enumerate(["_l0", "_l0_reverse"]):
        k, r, b = weights[3 * d:3 * d + 3]
        gk, gr, gb = (np.asarray(g) for g in gw[3 * d:3 * d + 3])
        params["weight_ih" + suffix] = flat(torch_gates(k))
        params["weight_hh" + suffix] = flat(torch_gates(r))
        grads["weight_ih" + suffix] = flat(torch_gates(gk))
        grads["weight_hh" + suffix] = flat(torch_gates(gr))
        if reset_after:
            params["bias_ih" + suffix] = flat(torch_gates(b[0]))
            params["bias_hh" + suffix] = flat(torch_gates(b[1]))
            grads["bias_ih" + suffix] = flat(torch_gates(gb[0]))
            grads["bias_hh" + suffix] = flat(torch_gates(gb[1]))
        else:
            params["bias_ih" + suffix] = flat(torch_gates(b))
            params["bias_hh" + suffix] = flat(np.zeros(3 * H, np.float32))
            grads["bias_ih" + suffix] = flat(torch_gates(gb))
    bidi_cases.append({
        "name": name,
        "resetAfter": reset_after,
        "dropout": dropout,
        "recurrentDropout": rec_dropout,
        "seed": SEED,
        "T": T, "B": B, "I": I, "H": H,
        "params": params,
        "x": flat(x),
        "h0": flat(h0),
        "dy": flat(dy),
        "dhn": flat(dhn),
        "output": flat(y),
        "hn": flat(np.stack([h_fw, h_bw])),
        "inference": flat(y_inference),
        "grads": grads,
        "dx": flat(gx),
        "dh0": flat(gh0),
    })
    print(f"{name}: |y| max {float(np.abs(y).max()):.3f}")

with open(OUT, "w") as fh:
    json.dump({"keras": keras.__version__, "jax": jax.__version__, "cases": cases,
               "bidirectional": bidi_cases}, fh)
    fh.write("\n")
print(f"wrote {OUT}: {len(cases)} cases")
