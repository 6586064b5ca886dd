#!/usr/bin/env python3
"""Writes the optimizer fixtures: 20 steps of each optimizer configuration in the framework whose
formula it reproduces, so that the suite checks gru-simd against them without Python.

    /work/pyref/bin/python scripts/gen-optim-fixtures.py torch
        -> test/fixtures/optim-torch.json: torch.optim.SGD, Adam, AdamW, RMSprop, Adagrad
           (ts/optim.ts's classes), each option, 20 steps over a fixed gradient sequence.
    KERAS_BACKEND=jax python3 scripts/gen-optim-fixtures.py keras
        -> test/fixtures/optim-keras.json: keras.optimizers.SGD, Adam, AdamW, RMSprop, Adagrad
           (compile()'s, ts/models/optimizers.ts) with schedules and clipping: 20 steps of
           optimizer.apply over the same fixed gradients; and a Sequential GRU -> Dense fit for
           20 steps with each optimizer name (weights in gru-simd's layout).

(The local pip mirror has both frameworks, see TOOLCHAIN.md: a venv with torch numpy, one with
keras jax jaxlib numpy.) The fixed sequence: three parameter tensors (sizes 7, 5, 3), uniform in
[-1, 1], and per step one gradient per tensor, uniform in [-1, 1] times a per-tensor scale
(3, 0.5, 1: norms above and below the clipping thresholds). numpy's RandomState makes the same
numbers in both environments. Options are written with gru-simd's names (camelCase, learningRate
a number or a schedule in Keras's serialized form); each framework gets them under its own.
"""
import json
import os
import sys

import numpy as np

STEPS = 20
SIZES = [7, 5, 3]
SCALES = [3.0, 0.5, 1.0]


def flat(a):
    # The shortest decimal that rounds back to the same float32 (Float32Array.from restores it).
    return [float(str(v)) for v in np.asarray(a, dtype=np.float32).ravel()]


def sequence():
    rng = np.random.RandomState(10)
    init = [rng.uniform(-1, 1, n).astype(np.float32) for n in SIZES]
    grads = [[(rng.uniform(-1, 1, n) * s).astype(np.float32) for n, s in zip(SIZES, SCALES)]
             for _ in range(STEPS)]
    return init, grads


# ---- PyTorch ------------------------------------------------------------------------------

TORCH_CASES = [
    ("sgd", {"lr": 0.1}),
    ("sgd", {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weightDecay": 0.01}),
    ("sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("adam", {}),
    ("adam", {"lr": 0.01, "betas": [0.8, 0.99], "eps": 1e-3, "weightDecay": 0.1, "amsgrad": True}),
    ("adamw", {"lr": 0.01}),
    ("rmsprop", {}),
    ("rmsprop", {"lr": 0.005, "alpha": 0.9, "eps": 1e-6}),
    ("rmsprop", {"lr": 0.005, "momentum": 0.9}),
    ("rmsprop", {"lr": 0.005, "centered": True}),
    ("rmsprop", {"lr": 0.002, "centered": True, "momentum": 0.5, "weightDecay": 0.01}),
    ("rmsprop", {"lr": 0.005, "maximize": True}),
    ("adagrad", {}),
    ("adagrad", {"lr": 0.05, "lrDecay": 0.01}),
    ("adagrad", {"lr": 0.05, "initialAccumulatorValue": 0.1, "eps": 1e-6, "weightDecay": 0.01,
                 "maximize": True}),
]

TORCH_NAMES = {"weightDecay": "weight_decay", "lrDecay": "lr_decay",
               "initialAccumulatorValue": "initial_accumulator_value"}


def torch_main():
    import torch
    init, grads = sequence()
    cases = []
    for kind, options in TORCH_CASES:
        params = [torch.nn.Parameter(torch.tensor(p)) for p in init]
        kwargs = {TORCH_NAMES.get(k, k): (tuple(v) if k == "betas" else v)
                  for k, v in options.items()}
        cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
               "rmsprop": torch.optim.RMSprop, "adagrad": torch.optim.Adagrad}[kind]
        if kind == "sgd":
            kwargs.setdefault("lr", 0.01)
        opt = cls(params, **kwargs)
        for step in grads:
            for p, g in zip(params, step):
                p.grad = torch.tensor(g)
            opt.step()
        cases.append({"optimizer": kind, "options": options,
                      "expected": [flat(p.detach().numpy()) for p in params]})
    return {"generator": "scripts/gen-optim-fixtures.py torch", "torch": torch.__version__,
            "init": [flat(p) for p in init], "grads": [[flat(g) for g in s] for s in grads],
            "cases": cases}


# ---- Keras --------------------------------------------------------------------------------

def exponential(lr0, steps, rate, staircase=False):
    return {"className": "ExponentialDecay",
            "config": {"initialLearningRate": lr0, "decaySteps": steps, "decayRate": rate,
                       "staircase": staircase}}


def inverse_time(lr0, steps, rate, staircase=False):
    return {"className": "InverseTimeDecay",
            "config": {"initialLearningRate": lr0, "decaySteps": steps, "decayRate": rate,
                       "staircase": staircase}}


def piecewise(boundaries, values):
    return {"className": "PiecewiseConstantDecay",
            "config": {"boundaries": boundaries, "values": values}}


def cosine(lr0, steps, alpha=0.0, warmup_target=None, warmup_steps=0):
    config = {"initialLearningRate": lr0, "decaySteps": steps, "alpha": alpha}
    if warmup_target is not None:
        config.update({"warmupTarget": warmup_target, "warmupSteps": warmup_steps})
    return {"className": "CosineDecay", "config": config}


KERAS_CASES = [
    ("sgd", {}),
    ("sgd", {"learningRate": 0.05, "momentum": 0.9}),
    ("sgd", {"learningRate": 0.05, "momentum": 0.9, "nesterov": True, "weightDecay": 0.05}),
    ("sgd", {"learningRate": exponential(0.1, 5, 0.5), "momentum": 0.8}),
    ("sgd", {"learningRate": 0.1, "clipnorm": 0.5}),
    ("adam", {}),
    ("adam", {"learningRate": 0.01, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-3,
              "amsgrad": True}),
    ("adam", {"learningRate": 0.01, "weightDecay": 0.1}),
    ("adam", {"learningRate": cosine(0.02, 15, alpha=0.1), "globalClipnorm": 1.0}),
    ("adam", {"learningRate": cosine(0.001, 10, warmup_target=0.02, warmup_steps=5)}),
    ("adamw", {"learningRate": 0.01}),
    ("adamw", {"learningRate": 0.01, "weightDecay": 0.05, "clipvalue": 0.3}),
    ("rmsprop", {}),
    ("rmsprop", {"learningRate": 0.005, "rho": 0.8, "epsilon": 1e-4}),
    ("rmsprop", {"learningRate": 0.005, "momentum": 0.9}),
    ("rmsprop", {"learningRate": 0.005, "centered": True}),
    ("rmsprop", {"learningRate": 0.002, "centered": True, "momentum": 0.5, "weightDecay": 0.01,
                 "clipnorm": 0.8}),
    ("rmsprop", {"learningRate": piecewise([4, 12], [0.01, 0.005, 0.001]), "clipvalue": 0.2}),
    ("adagrad", {}),
    ("adagrad", {"learningRate": 0.05, "initialAccumulatorValue": 0.5, "epsilon": 1e-5}),
    ("adagrad", {"learningRate": inverse_time(0.1, 4, 0.5, staircase=True), "weightDecay": 0.01,
                 "globalClipnorm": 2.0}),
    ("adagrad", {"learningRate": exponential(0.1, 3, 0.7, staircase=True)}),
]

KERAS_NAMES = {"learningRate": "learning_rate", "beta1": "beta_1", "beta2": "beta_2",
               "weightDecay": "weight_decay", "globalClipnorm": "global_clipnorm",
               "initialAccumulatorValue": "initial_accumulator_value",
               "initialLearningRate": "initial_learning_rate", "decaySteps": "decay_steps",
               "decayRate": "decay_rate", "warmupTarget": "warmup_target",
               "warmupSteps": "warmup_steps"}


def keras_optimizer(kind, options):
    import keras
    kwargs = {}
    for k, v in options.items():
        if isinstance(v, dict):
            cls = getattr(keras.optimizers.schedules, v["className"])
            v = cls(**{KERAS_NAMES.get(a, a): b for a, b in v["config"].items()})
        kwargs[KERAS_NAMES.get(k, k)] = v
    cls = {"sgd": keras.optimizers.SGD, "adam": keras.optimizers.Adam,
           "adamw": keras.optimizers.AdamW, "rmsprop": keras.optimizers.RMSprop,
           "adagrad": keras.optimizers.Adagrad}[kind]
    return cls(**kwargs)


# The model-level check: GRU(units) -> Dense(2), mse, fit 20 steps (batch 4 of 8, 10 epochs,
# no shuffling) with each optimizer name.
MODEL_CASES = [
    ("sgd", {"learningRate": 0.1, "momentum": 0.9}),
    ("adam", {"learningRate": 0.01}),
    ("adamw", {"learningRate": 0.01, "weightDecay": 0.01}),
    ("rmsprop", {"learningRate": 0.005, "momentum": 0.5, "centered": True}),
    ("adagrad", {"learningRate": exponential(0.1, 4, 0.8), "clipnorm": 0.5}),
    ("adam", {"learningRate": 0.01, "globalClipnorm": 0.2}),
]
N, T, F, UNITS, OUT = 8, 5, 3, 4, 2


def gru_to_torch(kernel, recurrent, bias):
    """Keras's GRU weights (gates z, r, h in columns) as the core's (rows r, z, n)."""
    def reorder(m):  # columns [z | r | h] -> rows [r; z; h]
        z, r, h = np.split(m, 3, axis=-1)
        return np.concatenate([r, z, h], axis=-1).T
    return [reorder(kernel), reorder(recurrent), reorder(bias[0]), reorder(bias[1])]


def model_case(kind, options, rng):
    import keras
    model = keras.Sequential([keras.Input((T, F)), keras.layers.GRU(UNITS),
                              keras.layers.Dense(OUT)])
    for layer in model.layers:
        layer.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype(np.float32)
                           for w in layer.get_weights()])

    def weights():
        gru, dense = model.layers
        return [flat(w) for w in gru_to_torch(*gru.get_weights())] + \
            [flat(dense.get_weights()[0].T), flat(dense.get_weights()[1])]

    before = weights()
    x = rng.uniform(-1, 1, (N, T, F)).astype(np.float32)
    y = rng.uniform(-1, 1, (N, OUT)).astype(np.float32)
    model.compile(optimizer=keras_optimizer(kind, options), loss="mse")
    history = model.fit(x, y, batch_size=4, epochs=10, shuffle=False, verbose=0)
    return {"optimizer": kind, "options": options, "weights": before, "x": flat(x),
            "y": flat(y), "loss": [float(v) for v in history.history["loss"]],
            "weightsAfter": weights()}


def keras_main():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import jax
    import keras
    init, grads = sequence()
    cases = []
    for kind, options in KERAS_CASES:
        variables = [keras.Variable(p) for p in init]
        opt = keras_optimizer(kind, options)
        for step in grads:
            opt.apply([np.array(g) for g in step], variables)
        cases.append({"optimizer": kind, "options": options,
                      "expected": [flat(v.numpy()) for v in variables]})
    rng = np.random.RandomState(30)
    models = [model_case(kind, options, rng) for kind, options in MODEL_CASES]
    return {"generator": "scripts/gen-optim-fixtures.py keras", "keras": keras.__version__,
            "jax": jax.__version__, "backend": keras.backend.backend(),
            "init": [flat(p) for p in init], "grads": [[flat(g) for g in s] for s in grads],
            "cases": cases,
            "model": {"samples": N, "steps": T, "features": F, "units": UNITS, "outputs": OUT,
                      "batchSize": 4, "epochs": 10, "cases": models}}


def main():
    which = sys.argv[1] if len(sys.argv) > 1 else ""
    if which not in ("torch", "keras"):
        sys.exit("usage: gen-optim-fixtures.py torch|keras")
    doc = torch_main() if which == "torch" else keras_main()
    out = f"test/fixtures/optim-{which}.json"
    with open(out, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {out}: {len(doc['cases'])} optimizer cases")


if __name__ == "__main__":
    main()
