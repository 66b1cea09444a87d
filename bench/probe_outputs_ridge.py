#!/usr/bin/python3
"""How much a zoo's classifiers reveal through their outputs on a few inputs.

Runs every classifier of ZOO on K CIFAR-10 training images (no labels read), and
fits the same ridge probe as `dwsnet eval-embedder` (standardised features,
penalty picked on the val split, R^2 on test) from the raw outputs (centred
logits and softmax, K x 20 features) to each property. This is context for the
encoder's probe features, not a method of the service: it is supervised on
thousands of features, where the embedding has 32 learned without labels.

usage: bench/probe_outputs_ridge.py ZOO DATA_DIR [K]   (python3-onnx, numpy)
"""
import gzip
import json
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def load_mlp(path):
    init = {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}
    ws = [v for v in init.values() if v.ndim == 2]
    bs = [v for v in init.values() if v.ndim == 1]
    return ws, bs


def outputs(ws, bs, x):
    h = x
    for i, (w, b) in enumerate(zip(ws, bs)):
        h = h @ w.T + b
        if i + 1 < len(ws):
            h = np.maximum(h, 0)
    h = h - h.mean(1, keepdims=True)
    p = np.exp(h - h.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    return np.concatenate([h.ravel(), p.ravel()])


def ridge_r2(f, y, split):
    tr, va, te = split == "train", split == "val", split == "test"
    z = (f - f[tr].mean(0)) / (f[tr].std(0) + 1e-9)
    best = None
    for e in range(-14, 9):
        lam = 10 ** (e / 2)
        w = np.linalg.solve(z[tr].T @ z[tr] + tr.sum() * lam * np.eye(z.shape[1]), z[tr].T @ (y[tr] - y[tr].mean()))
        pred = z @ w + y[tr].mean()

        def r2(s):
            return 1 - ((y[s] - pred[s]) ** 2).sum() / ((y[s] - y[s].mean()) ** 2).sum()

        if best is None or r2(va) > best[0]:
            best = (r2(va), r2(te))
    return best[1]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    zoo, data = sys.argv[1], sys.argv[2]
    k = int(sys.argv[3]) if len(sys.argv) > 3 else 64
    raw = np.frombuffer(gzip.open(data + "/data_batch_1.bin.gz").read(), np.uint8).reshape(-1, 3073)
    x = raw[:k, 1:].astype(np.float32) / 255
    recs = [json.loads(line) for line in open(zoo + "/index.jsonl")]
    feats = np.array([outputs(*load_mlp(zoo + "/" + r["file"]), x) for r in recs])
    split = np.array([r["split"] for r in recs])
    for prop in ("clean_test_acc", "target_test_acc"):
        y = np.array([r[prop] for r in recs])
        print(f"{prop}: test R^2 {ridge_r2(feats, y, split):.3f} from the outputs on {k} images")


if __name__ == "__main__":
    main()
