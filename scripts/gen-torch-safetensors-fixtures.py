#!/usr/bin/env python3
"""Writes test/fixtures/torch-state-dict/: PyTorch state dicts saved as safetensors and what
PyTorch predicts with them, for test/torch-state-dict.test.ts (loadTorchStateDict), and the
record of the reverse direction (files written by gru-simd's saveTorchStateDict loaded into the
same PyTorch modules with load_state_dict(strict=True)).

Run from the repository root with PyTorch and safetensors (TOOLCHAIN.md; here /work/pyref):
    /work/pyref/bin/python scripts/gen-torch-safetensors-fixtures.py
It calls `npx tsx scripts/write-torch-state-dict.ts DIR` for the reverse direction.

The modules (their JS twins in test/torch-state-dict-models.ts):
  A: Embedding(10, 6) -> GRU(6, 5, 2 layers, bidirectional, batch_first) -> LayerNorm(10)
     -> Linear(10, 3), on every step
  B: GRU(3, 4, bias=False, batch_first) -> last state -> BatchNorm1d(4) -> Linear(4, 2), in eval
     mode after three training forwards (running statistics moved, num_batches_tracked 3)
"""
import json
import os
import subprocess
import tempfile

import numpy as np
import torch
from safetensors.torch import load_file, save_file

OUT = "test/fixtures/torch-state-dict"
BATCH, SEQ = 2, 4


class ModuleA(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(10, 6)
        self.gru = torch.nn.GRU(6, 5, num_layers=2, bidirectional=True, batch_first=True)
        self.norm = torch.nn.LayerNorm(10)
        self.head = torch.nn.Linear(10, 3)

    def forward(self, ids):
        return self.head(self.norm(self.gru(self.emb(ids))[0]))


class ModuleB(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = torch.nn.GRU(3, 4, bias=False, batch_first=True)
        self.bn = torch.nn.BatchNorm1d(4)
        self.head = torch.nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.bn(self.gru(x)[1][-1]))


def flat(t):
    # The shortest decimal that rounds back to the same float32 (Float32Array.from restores it).
    return [float(str(v)) for v in np.asarray(t.detach().numpy(), dtype=np.float32).ravel()]


def main():
    torch.manual_seed(11)
    os.makedirs(OUT, exist_ok=True)
    ids = torch.randint(0, 10, (BATCH, SEQ))
    x = torch.randn(BATCH, SEQ, 3)
    a, b = ModuleA(), ModuleB()
    with torch.no_grad():
        for p in a.norm.parameters():  # LayerNorm starts at 1 and 0: make them count
            p.uniform_(-1, 1)
        b.train()
        for _ in range(3):
            b.bn(torch.randn(6, 4) * 2 + 1)
    a.eval()
    b.eval()
    save_file(a.state_dict(), os.path.join(OUT, "a.safetensors"))
    save_file(b.state_dict(), os.path.join(OUT, "b.safetensors"))
    # The same state dict as torch.save writes it (zip), and as before PyTorch 1.6 (a pickle):
    # loadTorchStateDict refuses both with the line above.
    torch.save(b.state_dict(), os.path.join(OUT, "b.pt"))
    torch.save(b.state_dict(), os.path.join(OUT, "b-legacy.pth"), _use_new_zipfile_serialization=False)
    with torch.no_grad():
        pred_a, pred_b = a(ids), b(x)

    # The reverse direction: gru-simd writes its own weights; PyTorch loads them strictly.
    reverse = {}
    with tempfile.TemporaryDirectory() as tmp:
        inputs = {"ids": ids.ravel().tolist(), "x": flat(x), "batch": BATCH}
        with open(os.path.join(tmp, "inputs.json"), "w") as f:
            json.dump(inputs, f)
        subprocess.run(["npx", "tsx", "scripts/write-torch-state-dict.ts", tmp], check=True)
        with open(os.path.join(tmp, "predictions.json")) as f:
            theirs = json.load(f)
        for name, module, inp in (("a", ModuleA(), ids), ("b", ModuleB(), x)):
            state = load_file(os.path.join(tmp, name + ".safetensors"))
            result = module.load_state_dict(state, strict=True)
            module.eval()
            with torch.no_grad():
                ours = module(inp).numpy().ravel()
            diff = float(np.max(np.abs(ours - np.asarray(theirs[name], dtype=np.float32))))
            reverse[name] = {
                "strictLoad": not result.missing_keys and not result.unexpected_keys,
                "maxAbsDiff": diff,
                "match": diff <= 1e-5,
                "dtypes": {k: str(v.dtype) for k, v in state.items() if v.dtype != torch.float32},
            }
            if name == "b":
                reverse[name]["numBatchesTracked"] = int(module.bn.num_batches_tracked)
    fixture = {
        "batch": BATCH,
        "seq": SEQ,
        "ids": ids.ravel().tolist(),
        "x": flat(x),
        "predictionsA": flat(pred_a),
        "predictionsB": flat(pred_b),
        "numBatchesTracked": int(b.bn.num_batches_tracked),
        "reverse": reverse,
        "torch": torch.__version__,
    }
    with open(os.path.join(OUT, "predictions.json"), "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print(json.dumps(reverse, indent=1))


if __name__ == "__main__":
    main()
