#!/usr/bin/env python3
"""Writes test/fixtures/keras-auc.json: what Keras 3's AUC metric (JAX backend) gives over two
batches, for each curve and summation method, with and without sample weights and logits.
test/metrics-auc.test.ts compares every backend against it, so the test suite needs no Python.

Run from the repository root (Keras 3 and JAX from the local pip mirror, see TOOLCHAIN.md):
    KERAS_BACKEND=jax python3 scripts/gen-keras-auc-fixtures.py

Predictions are float32 from a fixed seed, with values on thresholds (0, 1, i / (T - 1)) and
outside [0, 1] (Keras clips them); targets are 0/1 with a few other non-zero values (Keras
counts any non-zero target as a positive).
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = "test/fixtures/keras-auc.json"
rng = np.random.RandomState(20)


def flat(a):
    # The shortest decimal that rounds back to the same float32 (Float32Array.from restores it).
    return [float(str(v)) for v in np.asarray(a, dtype=np.float32).ravel()]


def batch(rows, cols, logits, weighted):
    if logits:
        pred = rng.normal(0, 2, (rows, cols))
    else:
        pred = rng.uniform(0, 1, (rows, cols))
        special = [0.0, 1.0, 0.5, 1 / 199, 100 / 199, -0.25, 1.5, 1 / 6]
        pred.ravel()[: len(special)] = special
    # Positives more likely where the prediction is high, so the curve is not a diagonal.
    p = 1 / (1 + np.exp(-pred)) if logits else np.clip(pred, 0, 1)
    true = (rng.uniform(0, 1, (rows, cols)) < 0.2 + 0.6 * p).astype(np.float32)
    true.ravel()[1] = 2.0 if true.ravel()[1] else 0.0
    weight = rng.uniform(0, 2, (rows,)).astype(np.float32) if weighted else None
    return np.float32(pred), true, weight


cases = []
for curve in ["ROC", "PR"]:
    for summation in ["interpolation", "minoring", "majoring"]:
        for thresholds, logits, weighted, cols in [
            (200, False, False, 1),
            (7, False, True, 1),
            (50, True, False, 3),
            (200, False, True, 2),
        ]:
            m = keras.metrics.AUC(
                num_thresholds=thresholds,
                curve=curve,
                summation_method=summation,
                from_logits=logits,
            )
            batches = []
            for rows in [37, 20]:
                pred, true, weight = batch(rows, cols, logits, weighted)
                m.update_state(true, pred, sample_weight=weight)
                batches.append({"rows": rows, "cols": cols, "yTrue": flat(true),
                                "yPred": flat(pred),
                                "sampleWeight": None if weight is None else flat(weight)})
            cases.append({
                "curve": curve, "summationMethod": summation, "numThresholds": thresholds,
                "fromLogits": logits, "batches": batches, "result": float(m.result()),
                "truePositives": flat(m.true_positives.value),
                "falsePositives": flat(m.false_positives.value),
            })

with open(OUT, "w") as f:
    json.dump({"keras": keras.__version__, "backend": keras.backend.backend(), "cases": cases}, f)
print(f"wrote {OUT}: {len(cases)} cases")
