#!/usr/bin/env python3
"""Writes test/fixtures/torch-batchnorm.json: what PyTorch's nn.BatchNorm1d gives, so
test/batch-norm.test.ts can check BatchNorm1d (its PyTorch-style layer, features last) against
PyTorch itself with no Python in the test suite.

Run from the repository root (the local pip mirror has PyTorch, see TOOLCHAIN.md):
    python3 -m venv .venv && . .venv/bin/activate && pip install torch numpy
    python3 scripts/gen-torch-batchnorm-fixtures.py

Per case (affine or not, a momentum, an eps): the weight and bias set, two training forwards on
x [rows, features] (PyTorch's (N, C) input: features last, as BatchNorm1d takes them here) and
the backward of sum(y * dy) for the second, giving y, dx and the weight and bias gradients; the
state dict after both (running_var PyTorch's unbiased variance, num_batches_tracked 2); then an
eval forward with the running statistics.
"""
import json
import os

import numpy as np
import torch

OUT = "test/fixtures/torch-batchnorm.json"
rng = np.random.RandomState(41)


def flat(a):
    # The shortest decimal that rounds back to the same float32 (Float32Array.from restores it).
    return [float(str(v)) for v in np.asarray(a, dtype=np.float32).ravel()]


def tensor(*shape, lo=-2.0, hi=2.0):
    return torch.tensor(rng.uniform(lo, hi, shape).astype(np.float32))


def case(features, rows, affine, momentum, eps):
    bn = torch.nn.BatchNorm1d(features, eps=eps, momentum=momentum, affine=affine)
    weights = {}
    if affine:
        with torch.no_grad():
            bn.weight.copy_(tensor(features, lo=0.5, hi=1.5))
            bn.bias.copy_(tensor(features, lo=-0.5, hi=0.5))
        weights = {"weight": flat(bn.weight.detach()), "bias": flat(bn.bias.detach())}
    bn.train()
    x1 = tensor(rows, features, lo=-1.0, hi=3.0)
    bn(x1)
    x2 = tensor(rows + 1, features).requires_grad_(True)
    dy = tensor(rows + 1, features, lo=-1.0, hi=1.0)
    y2 = bn(x2)
    (y2 * dy).sum().backward()
    state = {k: flat(v.detach().float()) for k, v in bn.state_dict().items()}
    bn.eval()
    x3 = tensor(rows, features)
    with torch.no_grad():
        y3 = bn(x3)
    return {
        "features": features,
        "affine": affine,
        "momentum": momentum,
        "eps": eps,
        "weights": weights,
        "x1": flat(x1),
        "x2": flat(x2.detach()),
        "dy": flat(dy),
        "y2": flat(y2.detach()),
        "dx": flat(x2.grad),
        "grads": {"weight": flat(bn.weight.grad), "bias": flat(bn.bias.grad)} if affine else {},
        "state": state,
        "x3": flat(x3),
        "y3": flat(y3),
    }


def main():
    doc = {
        "generator": "scripts/gen-torch-batchnorm-fixtures.py",
        "torch": torch.__version__,
        "cases": [case(5, 4, True, 0.1, 1e-5), case(3, 2, False, 0.3, 1e-3),
                  case(17, 9, True, 0.05, 1e-4)],
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}: {len(doc['cases'])} cases")


if __name__ == "__main__":
    main()
