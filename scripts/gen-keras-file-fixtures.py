#!/usr/bin/env python3
"""Writes test/fixtures/keras-files/ (small Keras files) and test/fixtures/keras-files.json (what
Keras 3 predicts with them), read by test/keras-files.test.ts, so the suite needs no Python.

Run from the repository root (the local pip mirror has Keras 3, JAX and h5py, see TOOLCHAIN.md):
    node --import tsx scripts/write-keras-files.ts      # gru-simd's own .keras files (part 3)
    KERAS_BACKEND=jax python3 scripts/gen-keras-file-fixtures.py

1. Keras -> gru-simd: small Sequential models covering every layer of the model API that Keras
   has (GRU reset_after true and false, activations, go_backwards; Bidirectional with each merge
   mode and a backward_layer; Dense with activations; Embedding with mask_zero; Dropout;
   BatchNormalization; LayerNormalization; Masking; GlobalAveragePooling1D / GlobalMaxPooling1D;
   Activation), random weights (moving statistics included), each saved as
     <name>.keras             Keras 3's zip (config.json, metadata.json, model.weights.h5)
     <name>.h5                the legacy HDF5 model file (model_config + model_weights)
     <name>.weights.h5        Keras 3's weights-only file
     <name>.legacy-weights.h5 Keras 2's weights-only layout (layer_names at the root), written
                              by Keras 3's own legacy writer
   with an input and Keras's predict on it. Each file is loaded back by Keras and must predict
   the same (checked here).
2. The real files of test/fixtures/real-models/{keras,h5} (SOURCES.md there): Keras's predict on
   a seeded input, by keras.saving.load_model where Keras 3 loads the file, else by the same
   architecture rebuilt in Keras 3 with the file's weights read by h5py (Keras 2.1.3's GRU:
   reset_after False and Keras 2's hard_sigmoid, clip(0.2 x + 0.5, 0, 1), given to Keras as a
   function; the tf.keras 2.15 file saved on Windows, whose HDF5 names hold backslashes).
   Their layers (class, output shape, parameters) as Keras reports them.
3. gru-simd -> Keras: test/fixtures/keras-files/ours/*.keras, written by
   scripts/write-keras-files.ts with gru-simd's predictions in ours.json, loaded by
   keras.saving.load_model; Keras's predictions and their largest difference from gru-simd's
   are recorded (test/keras-files.test.ts writes the same models again and compares).
"""
import json
import os
import shutil

os.environ.setdefault("KERAS_BACKEND", "jax")

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras.src.legacy.saving import legacy_h5_format  # noqa: E402

DIR = "test/fixtures/keras-files"
OUT = "test/fixtures/keras-files.json"
REAL = "test/fixtures/real-models"
rng = np.random.RandomState(11)
L = keras.layers


def flat(a):
    # The shortest decimal that rounds back to the same float32 (Float32Array.from restores it).
    return [float(str(v)) for v in np.asarray(a, dtype=np.float32).ravel()]


def uniform(lo, hi, *shape):
    return rng.uniform(lo, hi, shape).astype(np.float32)


def randomize(model):
    """Random weights, moving statistics included (a variance > 0), so none is at its default."""
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            ws = []
            for w in layer.weights:
                lo, hi = (0.5, 2.0) if "variance" in w.path else (-0.5, 0.5)
                ws.append(uniform(lo, hi, *w.shape))
            layer.set_weights(ws)
        else:
            layer.set_weights([uniform(-0.6, 0.6, *w.shape) for w in layer.get_weights()])


def ids(n, steps, vocab, pad=True):
    x = rng.randint(1, vocab, size=(n, steps)).astype(np.int32)
    if pad:  # right padding of different lengths: mask_zero masks them
        for i in range(n):
            x[i, steps - (i % steps):] = 0
    return x


def keras_cases():
    """(name, input shape, int ids, layers)"""
    return [
        ("gru-reset-after", (5, 3), False, [
            L.GRU(4, return_sequences=True),
            L.GRU(3, reset_after=False),
            L.Dense(2, activation="softmax"),
        ]),
        ("gru-options", (6, 2), False, [
            L.GRU(4, return_sequences=True, go_backwards=True, activation="relu",
                  recurrent_activation="hard_sigmoid"),
            L.GRU(3, use_bias=False, reset_after=False, recurrent_activation="sigmoid"),
            L.Dense(3, activation="gelu"),
            L.Dense(2, activation="selu", use_bias=False),
        ]),
        *[(f"bidirectional-{m}", (4, 3), False, [
            L.Bidirectional(L.GRU(3, return_sequences=True), merge_mode=m),
            L.GlobalAveragePooling1D(),
            L.Dense(2, activation="elu"),
        ]) for m in ("concat", "sum", "ave", "mul")],
        ("bidirectional-backward-layer", (5, 2), False, [
            L.Bidirectional(L.GRU(3), backward_layer=L.GRU(3, go_backwards=True)),
            L.Dense(1, activation="sigmoid"),
        ]),
        ("embedding-mask-zero", (6,), True, [
            L.Embedding(12, 4, mask_zero=True),
            L.GRU(5, return_sequences=True),
            L.Bidirectional(L.GRU(2), merge_mode="sum"),
            L.Dense(3, activation="softplus"),
        ]),
        ("norms-pooling-masking", (5, 3), False, [
            L.Masking(mask_value=0.0),
            L.GRU(4, return_sequences=True),
            L.BatchNormalization(momentum=0.9, epsilon=0.01),
            L.LayerNormalization(epsilon=1e-4),
            L.Dropout(0.3),
            L.GlobalMaxPooling1D(),
            L.Dense(3, activation="tanh"),
            L.Activation("softmax"),
        ]),
        ("dense-2d", (4,), False, [
            L.Dense(5, activation="relu"),
            L.BatchNormalization(center=False, scale=False),
            L.Dense(4, activation="hard_sigmoid"),
            L.Dense(3, activation="linear"),
            L.Activation("sigmoid"),
        ]),
    ]


def close(a, b, what):
    err = float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
    assert err <= 1e-6, f"{what}: Keras differs from itself by {err}"


def part_keras_files():
    cases = []
    for name, shape, int_ids, layers in keras_cases():
        model = keras.Sequential([keras.Input(shape, dtype="int32" if int_ids else "float32"),
                                  *layers], name=name.replace("-", "_"))
        randomize(model)
        n = 3
        x = ids(n, shape[0], 12) if int_ids else uniform(-2, 2, n, *shape)
        if name == "norms-pooling-masking":
            x[0, 3:] = 0.0  # padded steps for Masking
            x[1, :2] = 0.0
        predict = model.predict(x, verbose=0)
        base = f"{DIR}/{name}"
        model.save(base + ".keras")
        model.save(base + ".h5")  # legacy HDF5 (Keras 3 warns that it is legacy)
        model.save_weights(base + ".weights.h5")
        with h5py.File(base + ".legacy-weights.h5", "w") as f:
            legacy_h5_format.save_weights_to_hdf5_group(f, model)
        close(keras.saving.load_model(base + ".keras").predict(x, verbose=0), predict, name)
        close(keras.saving.load_model(base + ".h5").predict(x, verbose=0), predict, name + " h5")
        fresh = keras.saving.load_model(base + ".keras")
        randomize(fresh)
        fresh.load_weights(base + ".weights.h5")
        close(fresh.predict(x, verbose=0), predict, name + " weights")
        randomize(fresh)
        with h5py.File(base + ".legacy-weights.h5", "r") as f:
            legacy_h5_format.load_weights_from_hdf5_group(f, fresh)
        close(fresh.predict(x, verbose=0), predict, name + " legacy weights")
        cases.append({
            "name": name,
            "files": [f"{name}{e}" for e in (".keras", ".h5", ".weights.h5",
                                              ".legacy-weights.h5")],
            "inputShape": list(shape),
            "xInt": bool(int_ids),
            "x": [int(v) for v in x.ravel()] if int_ids else flat(x),
            "predict": flat(predict),
            "outputShape": list(predict.shape[1:]),
            "params": model.count_params(),
            "layers": describe(model),
        })
    return cases


def describe(model):
    return [{"className": layer.__class__.__name__, "name": layer.name,
             "outputShape": list(layer.output.shape[1:]), "params": layer.count_params()}
            for layer in model.layers]


def keras2_hard_sigmoid(x):
    return keras.ops.clip(0.2 * x + 0.5, 0.0, 1.0)


def h5_weights(group, names):
    return [np.asarray(group[n]) for n in names]


def set_legacy_weights(model, path, names):
    """Each layer's weights from a legacy .h5 file's model_weights/<name> (weight_names order)."""
    with h5py.File(path, "r") as f:
        mw = f["model_weights"]
        for layer, name in zip(model.layers, names):
            if name is None:
                continue
            g = mw[name]
            wn = [n.decode() if isinstance(n, bytes) else n for n in g.attrs["weight_names"]]
            layer.set_weights(h5_weights(g, wn))


def real_tfkeras210_gru():
    """tf.keras 2.10's file: its GRU config has time_major, which Keras 3 refuses: rebuilt."""
    path = f"{REAL}/h5/tfkeras2.10-gru2-resetafter-btc.h5"
    model = keras.Sequential([
        keras.Input((10, 193)),
        L.GRU(100, return_sequences=True),
        L.Dropout(0.2),
        L.GRU(50),
        L.Dropout(0.2),
        L.Dense(25, activation="relu"),
        L.Dense(1),
    ])
    set_legacy_weights(model, path, ["gru", None, "gru_1", None, "dense_2", "dense_3"])
    return path, model, uniform(-1, 1, 2, 10, 193)


def real_keras2_embedding_gru():
    """Keras 2.1.3's file: rebuilt in Keras 3 (reset_after False, Keras 2's hard_sigmoid)."""
    path = f"{REAL}/h5/keras2.1.3-embedding-gru2-hardsigmoid.h5"
    model = keras.Sequential([
        keras.Input((100,), dtype="int32"),
        L.Embedding(10000, 32),
        L.GRU(32, return_sequences=True, reset_after=False,
              recurrent_activation=keras2_hard_sigmoid),
        L.GRU(32, activation="relu", reset_after=False,
              recurrent_activation=keras2_hard_sigmoid),
        L.Dense(23, activation="softmax"),
    ])
    set_legacy_weights(model, path, ["embedding_4", "gru_7", "gru_8", "dense_4"])
    x = rng.randint(0, 10000, size=(2, 100)).astype(np.int32)
    return path, model, x


def real_tfkeras_windows():
    """tf.keras 2.15's .keras saved on Windows: rebuilt, weights read through the backslashes."""
    import zipfile
    import io
    path = f"{REAL}/keras/tfkeras2.15-gru3-relu-weather-cloud.keras"
    model = keras.Sequential([
        keras.Input((9, 1)),
        L.GRU(16, return_sequences=True, activation="relu"),
        L.GRU(8, return_sequences=True, activation="relu"),
        L.GRU(4, return_sequences=True, activation="relu"),
        L.Dense(1, activation="sigmoid"),
    ])
    with zipfile.ZipFile(path) as z, h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") as f:
        for layer, name in zip(model.layers, ["gru", "gru_1", "gru_2", "dense"]):
            key = f"layers\\{name}\\cell" if name.startswith("gru") else f"layers\\{name}"
            vars_ = f[key]["vars"]
            layer.set_weights([np.asarray(vars_[str(i)]) for i in range(len(vars_))])
    x = uniform(-1, 1, 2, 9, 1)
    return path, model, x


def part_real_files():
    out = []
    loads = [
        (f"{REAL}/keras/keras3-bigru-gru-quantvision.keras", (2, 100, 15)),
        (f"{REAL}/keras/keras3-gru4-batchnorm-predictive-maintenance.keras", (2, 50, 17)),
    ]
    made = [(p, keras.saving.load_model(p, compile=False), uniform(-1, 1, *s)) for p, s in loads]
    made += [real_tfkeras210_gru(), real_keras2_embedding_gru(), real_tfkeras_windows()]
    for path, model, x in made:
        predict = model.predict(x, verbose=0)
        rebuilt = path.endswith(("hardsigmoid.h5", "weather-cloud.keras", "resetafter-btc.h5"))
        out.append({
            "file": os.path.relpath(path, "test/fixtures"),
            "how": "rebuilt in Keras 3 with the file's weights" if rebuilt
                   else "keras.saving.load_model",
            "xInt": x.dtype == np.int32,
            "xShape": list(x.shape),
            "x": [int(v) for v in x.ravel()] if x.dtype == np.int32 else flat(x),
            "predict": flat(predict),
            "outputShape": list(predict.shape[1:]),
            "params": model.count_params(),
            "layers": describe(model),
        })
    return out


def part_ours():
    spec_path = f"{DIR}/ours/ours.json"
    if not os.path.exists(spec_path):
        # test/keras-files.test.ts fails while this part is empty.
        print(f"WARNING: {spec_path} is missing: run node --import tsx scripts/write-keras-files.ts")
        return []
    with open(spec_path) as f:
        ours = json.load(f)
    out = []
    for c in ours["cases"]:
        model = keras.saving.load_model(f"{DIR}/ours/{c['file']}")
        x = np.asarray(c["x"], dtype=np.int32 if c["xInt"] else np.float32).reshape(c["xShape"])
        predict = model.predict(x, verbose=0)
        err = float(np.max(np.abs(predict.ravel() - np.asarray(c["gruSimdPredict"]))))
        out.append({"file": c["file"], "kerasPredict": flat(predict), "maxAbsDiff": err,
                    "match": err <= 1e-5, "params": model.count_params(),
                    "layers": describe(model)})
        print(f"ours {c['file']}: Keras vs gru-simd max |diff| {err:.3g}")
    return out


def main():
    os.makedirs(DIR, exist_ok=True)
    for f in os.listdir(DIR):
        if f != "ours":
            os.remove(os.path.join(DIR, f))
    fixtures = {
        "keras": keras.__version__,
        "cases": part_keras_files(),
        "real": part_real_files(),
        "ours": part_ours(),
    }
    with open(OUT, "w") as f:
        json.dump(fixtures, f, indent=1)
        f.write("\n")
    print(f"wrote {OUT}: {len(fixtures['cases'])} cases, {len(fixtures['real'])} real files, "
          f"{len(fixtures['ours'])} of gru-simd's files")


if __name__ == "__main__":
    main()
