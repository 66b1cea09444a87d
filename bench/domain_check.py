#!/usr/bin/python3
"""Cross-checks `dwsnet corrupt` against an independent NumPy implementation of the
target domain of docs/task.md section 3, using a PyTorch-trained classifier (not run by make test).

  1. trains the reference MLP (3072-128-128-10, Adam lr 1e-3, batch 128, 10 epochs) in
     PyTorch on the clean training images, timing it (or loads --model FILE.pt);
  2. corrupts the test images with NumPy: per image and channel m = mean,
     x = (x - m) * 0.3 + m, then x + N(0, 0.06^2), clip to [0, 1];
  3. runs `dwsnet corrupt --split test` (default domain) and reads its bytes;
  4. reports the classifier's accuracy on clean, NumPy-corrupted (float and rounded to
     bytes) and dwsnet-corrupted test images, plus the residual noise statistics of
     the dwsnet output, and fails if the two corrupted accuracies differ by more than
     1.5 points (the issue's criterion).

usage: /usr/bin/python3 bench/domain_check.py [--data DIR] [--bin bin/dwsnet] [--epochs 10]
       [--model FILE.pt] [--save-model FILE.pt] [--threads 2] [--seed 0]
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

RECORD = 3073


def read_cifar(paths):
    raw = b"".join((gzip.open if p.endswith(".gz") else open)(p, "rb").read() for p in paths)
    arr = np.frombuffer(raw, dtype=np.uint8).reshape(-1, RECORD)
    return arr[:, 1:].copy(), arr[:, 0].astype(np.int64)


def split_files(data, split):
    names = sorted(os.listdir(data))
    stem = "data_batch_" if split == "train" else "test_batch"
    files = [os.path.join(data, n) for n in names if n.startswith(stem) and (n.endswith(".bin") or n.endswith(".bin.gz"))]
    return sorted(files, key=lambda p: int(os.path.basename(p).split("_")[-1].split(".")[0]) if split == "train" else 0)


def numpy_domain(x, seed):
    """docs/task.md section 3: contrast severity 4 (c = 0.3), then Gaussian noise severity 2 (std 0.06), clip."""
    x = x.reshape(-1, 3, 1024).astype(np.float64)
    m = x.mean(axis=2, keepdims=True)
    x = (x - m) * 0.3 + m
    x = x + np.random.default_rng(seed).normal(0.0, 0.06, size=x.shape)
    return np.clip(x, 0.0, 1.0).reshape(-1, 3072).astype(np.float32)


def mlp():
    return torch.nn.Sequential(torch.nn.Linear(3072, 128), torch.nn.ReLU(), torch.nn.Linear(128, 128),
                               torch.nn.ReLU(), torch.nn.Linear(128, 10))


def train(xtr, ytr, epochs, seed):
    torch.manual_seed(seed)
    model = mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    ds = torch.utils.data.TensorDataset(torch.from_numpy(xtr), torch.from_numpy(ytr))
    loader = torch.utils.data.DataLoader(ds, batch_size=128, shuffle=True)
    t0, c0 = time.time(), time.process_time()
    for _ in range(epochs):
        for xb, yb in loader:
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(xb), yb).backward()
            opt.step()
    return model, time.time() - t0, time.process_time() - c0


def accuracy(model, x, y):
    with torch.no_grad():
        return float((model(torch.from_numpy(x)).argmax(1).numpy() == y).mean())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.environ.get("DWSNET_DATA", "../shared/data/cifar10"))
    ap.add_argument("--bin", default="bin/dwsnet")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--model")
    ap.add_argument("--save-model")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)

    xte_b, yte = read_cifar(split_files(a.data, "test"))
    xte = xte_b.astype(np.float32) / 255.0
    out = {}
    if a.model:
        model = mlp()
        model.load_state_dict(torch.load(a.model))
    else:
        xtr_b, ytr = read_cifar(split_files(a.data, "train"))
        model, secs, cpu = train(xtr_b.astype(np.float32) / 255.0, ytr, a.epochs, a.seed)
        out.update(torch_epochs=a.epochs, torch_threads=a.threads, torch_train_seconds=round(secs, 1),
                   torch_train_cpu_seconds=round(cpu, 1))
        if a.save_model:
            torch.save(model.state_dict(), a.save_model)
    model.eval()

    ours = numpy_domain(xte, a.seed)
    ours_bytes = np.round(ours * 255.0).astype(np.uint8).astype(np.float32) / 255.0
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "test_corrupted.bin")
        subprocess.run([a.bin, "corrupt", "--data", a.data, "--split", "test", "--seed", str(a.seed), "--out", path],
                       check=True, stdout=subprocess.DEVNULL)
        theirs_b, theirs_y = read_cifar([path])
    assert theirs_b.shape == xte_b.shape, "dwsnet corrupt wrote a different number of images"
    assert np.array_equal(theirs_y, yte), "dwsnet corrupt changed the labels or their order"
    theirs = theirs_b.astype(np.float32) / 255.0

    # Residual of the dwsnet output around the deterministic contrast step, where no clipping can happen.
    x = xte.reshape(-1, 3, 1024).astype(np.float64)
    m = x.mean(axis=2, keepdims=True)
    contrast = ((x - m) * 0.3 + m).reshape(-1, 3072)
    safe = (contrast > 0.3) & (contrast < 0.7)
    resid = (theirs.astype(np.float64) - contrast)[safe]

    out.update(
        clean_acc=accuracy(model, xte, yte),
        numpy_domain_acc=accuracy(model, ours, yte),
        numpy_domain_bytes_acc=accuracy(model, ours_bytes, yte),
        dwsnet_corrupt_acc=accuracy(model, theirs, yte),
        dwsnet_residual_mean=float(resid.mean()),
        dwsnet_residual_std=float(resid.std()),
        nominal_std=0.06,
    )
    out["difference_points"] = round(100 * abs(out["dwsnet_corrupt_acc"] - out["numpy_domain_acc"]), 2)
    out["within_1_5_points"] = out["difference_points"] <= 1.5
    print(json.dumps(out))
    return 0 if out["within_1_5_points"] else 1


if __name__ == "__main__":
    sys.exit(main())
