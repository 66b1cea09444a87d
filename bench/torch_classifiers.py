#!/usr/bin/python3
"""Trains a few CIFAR-10 MLP classifiers 3072-h1-h2-10 with PyTorch, the way a user
would, and exports them with torch.onnx.export in different styles, to check that
the adapter works on classifiers from outside the zoo (`dwsnet eval --extra DIR`).

Styles: nn.Sequential with nn.Flatten (opset 13), a module whose forward calls
x.view(n, -1) (opset 17), and one exported with a dynamic batch axis; optimisers
Adam and SGD with momentum; hidden widths from the zoo's {32, 64, 128} and unseen
ones (48, 100). Input convention: x = pixel / 255, CHW, no normalisation.

usage: /usr/bin/python3 bench/torch_classifiers.py DATA_DIR OUT_DIR [--small]
(--small: only the three smallest, the committed test fixtures)
"""
import gzip
import os
import sys

import numpy as np
import torch
from torch import nn

torch.set_num_threads(1)


def load(path):
    raw = gzip.open(path).read() if path.endswith(".gz") else open(path, "rb").read()
    a = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3073)
    return torch.tensor(a[:, 1:], dtype=torch.float32) / 255.0, torch.tensor(a[:, 0], dtype=torch.long)


def find(data, name):
    for ext in (".bin.gz", ".bin"):
        if os.path.exists(os.path.join(data, name + ext)):
            return os.path.join(data, name + ext)
    sys.exit(f"no {name}.bin[.gz] in {data}")


class ViewMLP(nn.Module):
    def __init__(self, h1, h2):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(3072, h1), nn.Linear(h1, h2), nn.Linear(h2, 10)

    def forward(self, x):
        x = x.view(x.shape[0], -1)
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


def sequential(h1, h2):
    return nn.Sequential(nn.Flatten(), nn.Linear(3072, h1), nn.ReLU(), nn.Linear(h1, h2), nn.ReLU(), nn.Linear(h2, 10))


# name, widths, style, optimiser, lr, epochs, training images, seed
RECIPES = [
    ("torch-seq-32-32-adam", (32, 32), "seq13", "adam", 1e-3, 2, 25000, 1),
    ("torch-view-48-48-sgd", (48, 48), "view17", "sgd", 0.01, 3, 25000, 2),
    ("torch-seq-64-32-adam", (64, 32), "dynamic", "adam", 1e-3, 3, 50000, 3),
    ("torch-view-128-64-adam", (128, 64), "view17", "adam", 5e-4, 4, 50000, 4),
    ("torch-seq-100-50-sgd", (100, 50), "seq13", "sgd", 0.02, 4, 50000, 5),
]


def train(name, widths, style, opt_name, lr, epochs, n_train, seed, x, y, out):
    torch.manual_seed(seed)
    model = ViewMLP(*widths) if style == "view17" else sequential(*widths)
    opt = torch.optim.Adam(model.parameters(), lr=lr) if opt_name == "adam" else \
        torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    g = torch.Generator().manual_seed(seed)
    images = x[:n_train].view(-1, 3, 32, 32)
    for _ in range(epochs):
        perm = torch.randperm(n_train, generator=g)
        for i in range(0, n_train, 128):
            idx = perm[i:i + 128]
            loss = nn.functional.cross_entropy(model(images[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    dummy = torch.zeros(1, 3, 32, 32)
    kw = dict(input_names=["image"], output_names=["logits"], opset_version=17 if style == "view17" else 13)
    if style == "dynamic":
        kw["dynamic_axes"] = {"image": {0: "batch"}, "logits": {0: "batch"}}
    torch.onnx.export(model, dummy, os.path.join(out, name + ".onnx"), **kw)
    return model


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    data, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    xs, ys = zip(*(load(find(data, f"data_batch_{i}")) for i in range(1, 6)))
    x, y = torch.cat(xs), torch.cat(ys)
    tx, ty = load(find(data, "test_batch"))
    recipes = RECIPES[:3] if "--small" in sys.argv else RECIPES
    for r in recipes:
        m = train(*r, x, y, out)
        with torch.no_grad():
            acc = (m(tx.view(-1, 3, 32, 32)).argmax(1) == ty).float().mean().item()
        print(f"{r[0]}: clean test accuracy {acc:.4f}")


if __name__ == "__main__":
    main()
