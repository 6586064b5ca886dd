#!/usr/bin/env python3
"""Writes test/fixtures/keras-layers.json: what Keras 3 (JAX backend) gives for small Sequential
models built around the layers of the model API beyond Dense (BatchNormalization, Activation,
GlobalAveragePooling1D, GlobalMaxPooling1D, Masking and Embedding's mask_zero, Bidirectional), so
test/models/keras-layers.test.ts can build the same models in gru-simd with the same weights
and compare, with no Python in the test suite.

Run from the repository root (the local pip mirror has Keras 3 and JAX, see TOOLCHAIN.md):
    python3 -m venv build-venv && . build-venv/bin/activate
    pip install keras jax jaxlib numpy
    KERAS_BACKEND=jax python3 scripts/gen-keras-layers-fixtures.py

Per case: the layers as gru-simd's factories take them ({type, args}) with their weights in
the core layers' PyTorch names and layouts (below), x, y and the loss; then Keras's predict
(inference: BatchNormalization's moving statistics), one train_on_batch with
SGD(learning_rate=0.1) (training: batch statistics, the moving ones updated) and its loss, every
weight after that step, and predict again.

Weights, Keras -> gru-simd's core layers:
  Dense               kernel [in, out] -> weight [out, in] (transposed); bias -> bias
  Embedding           embeddings [input_dim, output_dim] -> weight (the same layout)
  LayerNormalization  gamma -> weight, beta -> bias
  BatchNormalization  gamma -> weight, beta -> bias, moving_mean -> running_mean,
                      moving_variance -> running_var (both biased variances)
  GRU (reset_after)   kernel [in, 3H], gates (z, r, h) -> weight_ih_l0 [3H, in], gates (r, z, n);
                      recurrent_kernel [H, 3H] -> weight_hh_l0 [3H, H]; bias [2, 3H] -> bias_ih_l0
                      (row 0) and bias_hh_l0 (row 1), gates reordered the same way; with
                      reset_after=False one bias [3H] -> bias_ih_l0, and bias_hh_l0 zeros
  Bidirectional       forward_layer -> the *_l0 tensors, backward_layer -> *_l0_reverse
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = "test/fixtures/keras-layers.json"
rng = np.random.RandomState(31)


def flat(a):
    # The shortest decimal that rounds back to the same float32 (Float32Array.from restores it).
    return [float(str(v)) for v in np.asarray(a, dtype=np.float32).ravel()]


def uniform(lo, hi, *shape):
    return rng.uniform(lo, hi, shape).astype(np.float32)


def gates_zrh_to_rzn(a, units):
    """Keras's gate blocks (z, r, h) on the last axis -> PyTorch's (r, z, n)."""
    z, r, h = a[..., :units], a[..., units:2 * units], a[..., 2 * units:]
    return np.concatenate([r, z, h], axis=-1)


def core_weights(layer):
    """A Keras layer's weights in gru-simd's core layer names and layouts (see the header)."""
    if isinstance(layer, keras.layers.Dense):
        return {"weight": flat(layer.kernel.numpy().T), "bias": flat(layer.bias.numpy())}
    if isinstance(layer, keras.layers.LayerNormalization):
        return {"weight": flat(layer.gamma.numpy()), "bias": flat(layer.beta.numpy())}
    if isinstance(layer, keras.layers.Embedding):
        return {"weight": flat(layer.embeddings.numpy())}
    if isinstance(layer, keras.layers.BatchNormalization):
        w = {"running_mean": flat(layer.moving_mean.numpy()),
             "running_var": flat(layer.moving_variance.numpy())}
        if layer.scale:
            w["weight"] = flat(layer.gamma.numpy())
            w["bias"] = flat(layer.beta.numpy())
        return w
    if isinstance(layer, keras.layers.Bidirectional):
        fwd = core_weights(layer.forward_layer)
        bwd = core_weights(layer.backward_layer)
        return {**fwd, **{k + "_reverse": v for k, v in bwd.items()}}
    if isinstance(layer, keras.layers.GRU):
        cell = layer.cell
        u = cell.units
        bias = cell.bias.numpy()
        if bias.ndim == 1:  # reset_after=False: one bias; PyTorch's second is zero
            bias = np.stack([bias, np.zeros_like(bias)])
        return {
            "weight_ih_l0": flat(gates_zrh_to_rzn(cell.kernel.numpy(), u).T),
            "weight_hh_l0": flat(gates_zrh_to_rzn(cell.recurrent_kernel.numpy(), u).T),
            "bias_ih_l0": flat(gates_zrh_to_rzn(bias[0], u)),
            "bias_hh_l0": flat(gates_zrh_to_rzn(bias[1], u)),
        }
    return {}


def randomize(model):
    """Random weights, moving statistics included (a variance > 0), so none is at its default."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            f = layer.moving_mean.shape[0]
            ws = [uniform(0.5, 1.5, f), uniform(-0.5, 0.5, f)] if layer.scale else []
            layer.set_weights(ws + [uniform(-0.5, 0.5, f), uniform(0.5, 2.0, f)])
        else:
            layer.set_weights([uniform(-0.6, 0.6, *w.shape) for w in layer.get_weights()])


def case(title, input_shape, spec, loss, y_shape, samples=6, x=None, fixed_batch=False):
    """spec: [(type, gru-simd args, Keras layer)]; x: the samples (default uniform floats);
    fixed_batch: the batch size in the model's input (a stateful layer needs it)."""
    ids = x is not None and x.dtype == np.int32
    n = x.shape[0] if x is not None else samples
    model = keras.Sequential([keras.Input(input_shape, dtype="int32" if ids else "float32",
                                          batch_size=n if fixed_batch else None)] +
                             [k for _, _, k in spec])
    randomize(model)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss=loss)
    if x is None:
        x = uniform(-2, 2, samples, *input_shape)
    samples = x.shape[0]
    y = uniform(-1, 1, samples, *y_shape)
    before = [core_weights(layer) for layer in model.layers]
    predict = model.predict(x, batch_size=samples, verbose=0)
    step = float(model.train_on_batch(x, y))
    after = [core_weights(layer) for layer in model.layers]
    return {
        "title": title,
        "inputShape": list(input_shape),
        "layers": [{"type": t, "args": a, "weights": w} for (t, a, _), w in zip(spec, before)],
        "loss": loss,
        "x": [int(v) for v in x.ravel()] if ids else flat(x),
        "xInt": bool(ids),
        "y": flat(y),
        "yShape": list(y_shape),
        "predict": flat(predict),
        "trainOnBatch": step,
        "weightsAfter": after,
        "predictAfter": flat(model.predict(x, batch_size=samples, verbose=0)),
        "params": model.count_params(),
        "nonTrainableParams": int(sum(np.prod(w.shape) for w in model.non_trainable_weights)),
    }


def batch_norm_cases():
    BN = keras.layers.BatchNormalization
    return [
        case("Dense, BatchNormalization, Dense on 2-D input", (4,), [
            ("dense", {"units": 5}, keras.layers.Dense(5)),
            ("batchNormalization", {}, BN()),
            ("dense", {"units": 2}, keras.layers.Dense(2)),
        ], "mean_squared_error", (2,)),
        case("BatchNormalization (momentum 0.8, epsilon 0.01) first, on 3-D input, Dense per step",
             (5, 3), [
                 ("batchNormalization", {"momentum": 0.8, "epsilon": 0.01},
                  BN(momentum=0.8, epsilon=0.01)),
                 ("dense", {"units": 2}, keras.layers.Dense(2)),
             ], "mean_squared_error", (5, 2)),
        case("BatchNormalization without center and scale, then a GRU", (4, 3), [
            ("batchNormalization", {"center": False, "scale": False},
             BN(center=False, scale=False)),
            ("gru", {"units": 3}, keras.layers.GRU(3)),
            ("dense", {"units": 1}, keras.layers.Dense(1)),
        ], "mean_squared_error", (1,)),
        case("GRU sequences, BatchNormalization, GRU (issue 10's model 3 without its Embedding)", (4, 2), [
            ("gru", {"units": 3, "returnSequences": True},
             keras.layers.GRU(3, return_sequences=True)),
            ("batchNormalization", {}, BN()),
            ("gru", {"units": 2}, keras.layers.GRU(2)),
        ], "mean_absolute_error", (2,)),
    ]


def activation_pooling_cases():
    L = keras.layers
    return [
        case("GRU sequences, GlobalAveragePooling1D, Dense", (5, 3), [
            ("gru", {"units": 4, "returnSequences": True}, L.GRU(4, return_sequences=True)),
            ("globalAveragePooling1d", {}, L.GlobalAveragePooling1D()),
            ("dense", {"units": 2}, L.Dense(2)),
        ], "mean_squared_error", (2,)),
        case("GRU sequences, GlobalMaxPooling1D, Dense, Activation softmax", (5, 3), [
            ("gru", {"units": 4, "returnSequences": True}, L.GRU(4, return_sequences=True)),
            ("globalMaxPooling1d", {}, L.GlobalMaxPooling1D()),
            ("dense", {"units": 3}, L.Dense(3)),
            ("activation", {"activation": "softmax"}, L.Activation("softmax")),
        ], "mean_squared_error", (3,)),
        case("Activation gelu and tanh per step on 3-D input, GlobalMaxPooling1D", (4, 3), [
            ("dense", {"units": 5}, L.Dense(5)),
            ("activation", {"activation": "gelu"}, L.Activation("gelu")),
            ("dense", {"units": 2}, L.Dense(2)),
            ("activation", {"activation": "tanh"}, L.Activation("tanh")),
            ("globalMaxPooling1d", {}, L.GlobalMaxPooling1D()),
        ], "mean_absolute_error", (2,)),
        case("Activation softmax over the last axis of 3-D input, GlobalAveragePooling1D", (4, 3), [
            ("activation", {"activation": "softmax"}, L.Activation("softmax")),
            ("globalAveragePooling1d", {}, L.GlobalAveragePooling1D()),
            ("dense", {"units": 1}, L.Dense(1)),
        ], "mean_squared_error", (1,)),
    ]


# Valid steps per sample: every step, right padding, left padding (pad_sequences' default), a
# run in the middle, one step, none.
RUNS = [(0, 6), (0, 4), (2, 6), (1, 4), (5, 6), (0, 0)]


def padded(features, runs=RUNS, steps=6, value=0.0):
    """Float samples whose steps outside each run are all `value` (Masking's padding)."""
    x = uniform(-2, 2, len(runs), steps, features)
    for b, (start, end) in enumerate(runs):
        x[b, :start] = value
        x[b, end:] = value
    return x


def mask_cases():
    L = keras.layers
    ids = rng.randint(1, 9, (6, 6)).astype(np.int32)
    for b, (start, end) in enumerate(RUNS):
        ids[b, :start] = 0
        ids[b, end:] = 0
    return [
        case("Masking, GRU sequences, Dense per step: right, left and middle padding, a sample "
             "all padding; the loss over the valid steps only", (6, 3), [
                 ("masking", {}, L.Masking()),
                 ("gru", {"units": 4, "returnSequences": True},
                  L.GRU(4, return_sequences=True)),
                 ("dense", {"units": 2}, L.Dense(2)),
             ], "mean_squared_error", (6, 2), x=padded(3)),
        case("Masking (maskValue -1), GRU, Dense", (6, 3), [
            ("masking", {"maskValue": -1}, L.Masking(mask_value=-1.0)),
            ("gru", {"units": 3}, L.GRU(3)),
            ("dense", {"units": 2}, L.Dense(2)),
        ], "mean_squared_error", (2,), x=padded(3, value=-1.0)),
        case("Embedding maskZero (left and right padded ids), GRU, Dense", (6,), [
            ("embedding", {"inputDim": 9, "outputDim": 3, "maskZero": True},
             L.Embedding(9, 3, mask_zero=True)),
            ("gru", {"units": 4}, L.GRU(4)),
            ("dense", {"units": 1}, L.Dense(1)),
        ], "mean_squared_error", (1,), x=ids),
        case("Masking, GRU sequences, GlobalAveragePooling1D over the valid steps, Dense", (6, 3), [
            ("masking", {}, L.Masking()),
            ("gru", {"units": 4, "returnSequences": True}, L.GRU(4, return_sequences=True)),
            ("globalAveragePooling1d", {}, L.GlobalAveragePooling1D()),
            ("dense", {"units": 2}, L.Dense(2)),
        ], "mean_squared_error", (2,), x=padded(3, RUNS[:5] + [(3, 5)])),
        case("Masking, GRU goBackwards, Dense, Activation sigmoid", (6, 2), [
            ("masking", {}, L.Masking()),
            ("gru", {"units": 3, "goBackwards": True}, L.GRU(3, go_backwards=True)),
            ("dense", {"units": 1}, L.Dense(1)),
            ("activation", {"activation": "sigmoid"}, L.Activation("sigmoid")),
        ], "mean_squared_error", (1,), x=padded(2)),
        case("Embedding maskZero, BatchNormalization (masked moments), GRU, Dense", (6,), [
            ("embedding", {"inputDim": 9, "outputDim": 3, "maskZero": True},
             L.Embedding(9, 3, mask_zero=True)),
            ("batchNormalization", {}, L.BatchNormalization()),
            ("gru", {"units": 4}, L.GRU(4)),
            ("dense", {"units": 1}, L.Dense(1)),
        ], "mean_squared_error", (1,), x=ids),
        case("Masking, GRU sequences, BatchNormalization (masked moments), Dense per step", (6, 3), [
            ("masking", {}, L.Masking()),
            ("gru", {"units": 4, "returnSequences": True}, L.GRU(4, return_sequences=True)),
            ("batchNormalization", {"momentum": 0.7}, L.BatchNormalization(momentum=0.7)),
            ("dense", {"units": 2}, L.Dense(2)),
        ], "mean_squared_error", (6, 2), x=padded(3)),
        case("Masking, GRU sequences, LayerNormalization and Dense tanh per step, GRU", (6, 3), [
            ("masking", {}, L.Masking()),
            ("gru", {"units": 4, "returnSequences": True}, L.GRU(4, return_sequences=True)),
            ("layerNormalization", {}, L.LayerNormalization()),
            ("dense", {"units": 3, "activation": "tanh"}, L.Dense(3, activation="tanh")),
            ("gru", {"units": 2}, L.GRU(2)),
        ], "mean_squared_error", (2,), x=padded(3)),
    ]


def bidirectional_cases():
    L = keras.layers

    def bi(units, merge, **gru):
        args = {"layer": {"units": units, **{to_camel(k): v for k, v in gru.items()}},
                "mergeMode": merge}
        return ("bidirectional", args, L.Bidirectional(L.GRU(units, **gru), merge_mode=merge))

    return [
        case("Bidirectional GRU sequences, concat, Dense per step", (5, 3), [
            bi(3, "concat", return_sequences=True),
            ("dense", {"units": 2}, L.Dense(2)),
        ], "mean_squared_error", (5, 2)),
        case("Bidirectional GRU, sum, Dense", (5, 3), [
            bi(3, "sum"),
            ("dense", {"units": 2}, L.Dense(2)),
        ], "mean_squared_error", (2,)),
        case("Bidirectional GRU sequences, ave, GlobalAveragePooling1D, Dense", (5, 3), [
            bi(4, "ave", return_sequences=True),
            ("globalAveragePooling1d", {}, L.GlobalAveragePooling1D()),
            ("dense", {"units": 1}, L.Dense(1)),
        ], "mean_squared_error", (1,)),
        case("Bidirectional GRU resetAfter false, mul, Dense", (5, 3), [
            bi(3, "mul", reset_after=False),
            ("dense", {"units": 2}, L.Dense(2)),
        ], "mean_absolute_error", (2,)),
        case("Masking, Bidirectional GRU sequences, mul, Dense per step (zeros at padding)",
             (6, 3), [
                 ("masking", {}, L.Masking()),
                 bi(3, "mul", return_sequences=True),
                 ("dense", {"units": 2}, L.Dense(2)),
             ], "mean_squared_error", (6, 2), x=padded(3)),
        case("Masking, Bidirectional GRU, concat, Dense", (6, 3), [
            ("masking", {}, L.Masking()),
            bi(3, "concat"),
            ("dense", {"units": 2}, L.Dense(2)),
        ], "mean_squared_error", (2,), x=padded(3)),
    ]


# Keras 3's masked loop (keras/src/backend/jax/rnn.py) beyond one run per sample: holes between
# valid steps, go_backwards with return_sequences, zero_output_for_mask, all-masked samples.
HOLES = ["111111", "111100", "001111", "101101", "010010", "000000", "110011"]


def holes(features, value=0.0):
    """Float samples with the steps marked 0 in HOLES all `value` (Masking's padding)."""
    x = uniform(-2, 2, len(HOLES), 6, features)
    for b, m in enumerate(HOLES):
        for t, v in enumerate(m):
            if v == "0":
                x[b, t] = value
    return x


def mask_semantics_cases():
    L = keras.layers

    def gru(units, **kw):
        return ("gru", {"units": units, **{to_camel(k): v for k, v in kw.items()}},
                L.GRU(units, **kw))

    def bi(units, merge, **kw):
        args = {"layer": {"units": units, **{to_camel(k): v for k, v in kw.items()}},
                "mergeMode": merge}
        return ("bidirectional", args, L.Bidirectional(L.GRU(units, **kw), merge_mode=merge))

    ids = rng.randint(1, 9, (len(HOLES), 6)).astype(np.int32)
    for b, m in enumerate(HOLES):
        for t, v in enumerate(m):
            if v == "0":
                ids[b, t] = 0
    def masking():
        return ("masking", {}, L.Masking())

    def dense2():
        return ("dense", {"units": 2}, L.Dense(2))

    mse = "mean_squared_error"
    return [
        case("holes: Masking, GRU sequences (carried state at masked steps), Dense per step",
             (6, 3), [masking(), gru(4, return_sequences=True), dense2()], mse, (6, 2), x=holes(3)),
        case("holes: Masking, GRU sequences goBackwards (outputs in processing order), Dense",
             (6, 3), [masking(), gru(4, return_sequences=True, go_backwards=True), dense2()], mse,
             (6, 2), x=holes(3)),
        case("holes: Masking, GRU sequences zeroOutputForMask, Dense per step", (6, 3),
             [masking(), gru(4, return_sequences=True, zero_output_for_mask=True), dense2()], mse,
             (6, 2), x=holes(3)),
        case("holes: Masking, GRU sequences goBackwards zeroOutputForMask, Dense per step",
             (6, 3), [masking(), gru(3, return_sequences=True, go_backwards=True,
                                   zero_output_for_mask=True), dense2()], mse, (6, 2),
             x=holes(3)),
        case("holes: Masking, GRU zeroOutputForMask (last output 0 where the last step is "
             "masked), Dense", (6, 3), [masking(), gru(3, zero_output_for_mask=True), dense2()], mse,
             (2,), x=holes(3)),
        case("holes: Masking, GRU goBackwards, Dense", (6, 3),
             [masking(), gru(3, go_backwards=True), dense2()], mse, (2,), x=holes(3)),
        case("holes: Masking, GRU sequences resetAfter false, GRU, Dense", (6, 3),
             [masking(), gru(3, return_sequences=True, reset_after=False), gru(2), dense2()], mse,
             (2,), x=holes(3)),
        case("holes: Embedding maskZero, GRU sequences, GRU goBackwards sequences, Dense", (6,), [
            ("embedding", {"inputDim": 9, "outputDim": 3, "maskZero": True},
             L.Embedding(9, 3, mask_zero=True)),
            gru(4, return_sequences=True),
            gru(3, return_sequences=True, go_backwards=True),
            dense2(),
        ], mse, (6, 2), x=ids),
        case("holes: Masking, Bidirectional GRU sequences concat (zeros at masked steps), Dense",
             (6, 3), [masking(), bi(3, "concat", return_sequences=True), dense2()], mse, (6, 2),
             x=holes(3)),
        case("holes: Masking, Bidirectional GRU, sum, Dense", (6, 3),
             [masking(), bi(3, "sum"), dense2()], mse, (2,), x=holes(3)),
    ]


def bidirectional_option_cases():
    """Bidirectional with the inner GRU's options: activations, resetAfter false, stateful, a
    backward_layer, masks."""
    L = keras.layers

    def bi(units, merge, backward=None, **kw):
        args = {"layer": {"units": units, **{to_camel(k): v for k, v in kw.items()}},
                "mergeMode": merge}
        keras_args = {}
        if backward is not None:
            args["backwardLayer"] = {"units": units, "goBackwards": True,
                                     **{to_camel(k): v for k, v in backward.items()}}
            keras_args["backward_layer"] = L.GRU(units, go_backwards=True, **backward)
        return ("bidirectional", args,
                L.Bidirectional(L.GRU(units, **kw), merge_mode=merge, **keras_args))

    def dense2():
        return ("dense", {"units": 2}, L.Dense(2))

    mse = "mean_squared_error"
    return [
        case("Bidirectional GRU relu / hard_sigmoid sequences, concat, Dense per step", (5, 3),
             [bi(3, "concat", activation="relu", recurrent_activation="hard_sigmoid",
                 return_sequences=True), dense2()], mse, (5, 2)),
        case("Bidirectional GRU resetAfter false, tanh / sigmoid, ave, Dense", (5, 3),
             [bi(3, "ave", reset_after=False, recurrent_activation="sigmoid"), dense2()], mse,
             (2,)),
        # Keras 3.15 on JAX writes no state back between calls: each call starts from zeros.
        case("Bidirectional GRU stateful sequences, sum, Dense per step", (4, 3),
             [bi(3, "sum", stateful=True, return_sequences=True), dense2()], mse, (4, 2),
             x=uniform(-2, 2, 5, 4, 3), fixed_batch=True),
        case("Bidirectional GRU with a backward_layer (goBackwards, other initializers), mul, "
             "Dense", (5, 3),
             [bi(3, "mul", backward={"kernel_initializer": "he_uniform"}), dense2()], mse, (2,)),
        case("holes: Masking, Bidirectional GRU relu sequences, concat, Dense per step", (6, 3),
             [("masking", {}, L.Masking()),
              bi(3, "concat", activation="relu", return_sequences=True), dense2()], mse,
             (6, 2), x=holes(3)),
    ]


def to_camel(name):
    head, *rest = name.split("_")
    return head + "".join(w.title() for w in rest)


def main():
    doc = {
        "generator": "scripts/gen-keras-layers-fixtures.py",
        "keras": keras.__version__,
        "jax": jax.__version__,
        "backend": keras.backend.backend(),
        "cases": (batch_norm_cases() + activation_pooling_cases() + mask_cases() +
                  bidirectional_cases() + mask_semantics_cases() +
                  bidirectional_option_cases()),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}: {len(doc['cases'])} models")


if __name__ == "__main__":
    main()
