#!/usr/bin/env python3
"""Writes test/fixtures/keras-callbacks.json: what Keras 3's EarlyStopping, ReduceLROnPlateau
and LearningRateScheduler do for given sequences of monitored values. A tiny Dense model is fit
with a first callback that overwrites the monitored value in each epoch's logs (so the sequence
is chosen, not trained), then the callback under test. Recorded: the epochs run, the epoch whose
weights EarlyStopping restored, and the learning rate of every epoch (History's learning_rate).
test/models/callbacks.test.ts drives gru-simd's callbacks with the same sequences.

Run from the repository root (Keras 3 and JAX from the local pip mirror, see TOOLCHAIN.md):
    KERAS_BACKEND=jax python3 scripts/gen-keras-callbacks-fixtures.py
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = "test/fixtures/keras-callbacks.json"
rng = np.random.RandomState(30)
X = rng.uniform(-1, 1, (8, 3)).astype(np.float32)
Y = rng.uniform(-1, 1, (8, 1)).astype(np.float32)


class Feed(keras.callbacks.Callback):
    """Sets logs[monitor] to the chosen value of the epoch; keeps each epoch's weights."""

    def __init__(self, monitor, values):
        super().__init__()
        self.monitor, self.values, self.weights = monitor, values, []

    def on_epoch_end(self, epoch, logs=None):
        logs[self.monitor] = self.values[epoch]
        self.weights.append([w.copy() for w in self.model.get_weights()])


def run(monitor, values, callback, epochs=None, lr=0.1):
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr), loss="mse",
                  metrics=["mae"])
    feed = Feed(monitor, values)
    h = model.fit(X, Y, epochs=epochs or len(values), batch_size=4, shuffle=False, verbose=0,
                  callbacks=[feed, callback])
    final = model.get_weights()
    # The epoch whose end-of-epoch weights the model holds at the end.
    held = [i for i, w in enumerate(feed.weights)
            if all(np.array_equal(a, b) for a, b in zip(w, final))]
    return {"epochs": len(h.epoch), "heldEpoch": held[-1] if held else None,
            "learningRate": [float(v) for v in h.history.get("learning_rate", [])]}


cases = []


def early(options, monitor, values, **kw):
    keras_options = {
        {"minDelta": "min_delta", "restoreBestWeights": "restore_best_weights",
         "startFromEpoch": "start_from_epoch"}.get(k, k): v for k, v in options.items()}
    r = run(monitor, values, keras.callbacks.EarlyStopping(monitor=monitor, **keras_options), **kw)
    cases.append({"callback": "earlyStopping", "options": {"monitor": monitor, **options},
                  "values": values, **r})


def plateau(options, monitor, values, lr=0.1):
    keras_options = {{"minDelta": "min_delta", "minLr": "min_lr"}.get(k, k): v
                     for k, v in options.items()}
    r = run(monitor, values, keras.callbacks.ReduceLROnPlateau(monitor=monitor, **keras_options),
            lr=lr)
    cases.append({"callback": "reduceLROnPlateau", "options": {"monitor": monitor, **options},
                  "values": values, **r})


down = [1.0, 0.9, 0.95, 0.85, 0.86, 0.87, 0.84, 0.9, 0.91, 0.92]
early({}, "val_loss", down)
early({"patience": 2}, "val_loss", down)
early({"patience": 1, "minDelta": 0.02}, "val_loss", down)
early({"patience": 2, "mode": "max"}, "val_mae", [0.1, 0.3, 0.2, 0.25, 0.4, 0.35, 0.3, 0.2])
early({"patience": 1, "mode": "min"}, "loss", down)
early({"patience": 3, "baseline": 0.8}, "val_loss", down)
early({"patience": 2, "restoreBestWeights": True}, "val_loss", down)
early({"patience": 5, "restoreBestWeights": True}, "val_loss", down[:6])
early({"patience": 1, "startFromEpoch": 3}, "val_loss", [1.0, 2.0, 3.0, 4.0, 3.9, 4.5, 5, 6])
early({"patience": 0, "minDelta": -0.1}, "val_loss", down)

plateau({"patience": 1}, "val_loss", down)
plateau({"patience": 1, "factor": 0.5, "cooldown": 2, "minLr": 0.02}, "val_loss", down)
plateau({"patience": 2, "factor": 0.2, "mode": "max", "minDelta": 0.01}, "val_mae",
        [0.1, 0.3, 0.2, 0.25, 0.4, 0.35, 0.3, 0.2, 0.1, 0.5])
plateau({"patience": 0, "factor": 0.5, "minLr": 0.03}, "loss", [1.0] * 8)

r = run("unused", [0.0] * 6,
        keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch >= 2 else lr))
cases.append({"callback": "learningRateScheduler", "schedule": "halveFrom2",
              "values": [0.0] * 6, **r})
r = run("unused", [0.0] * 5,
        keras.callbacks.LearningRateScheduler(lambda epoch, lr: 0.05 / (epoch + 1)))
cases.append({"callback": "learningRateScheduler", "schedule": "inverse", "values": [0.0] * 5,
              **r})

with open(OUT, "w") as f:
    json.dump({"keras": keras.__version__, "cases": cases}, f, indent=1)
print(f"wrote {OUT}: {len(cases)} cases")
