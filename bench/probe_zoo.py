"""What the probes of the adapter (bench/probe_*.py) share: CIFAR-10 records as tensors
and the zoo's ReLU classifiers as weight lists, run in PyTorch."""
import json

import numpy as np
import onnx
import torch
from onnx import numpy_helper


def images(raw, n=None):
    """Records of the CIFAR-10 binary layout (bytes): pixel/255 CHW rows and labels."""
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3073)[:n]
    return torch.tensor(rows[:, 1:].astype(np.float32) / 255), torch.tensor(rows[:, 0].astype(np.int64))


def classifiers(zoo, split, limit=None):
    """The zoo's classifiers of one split, in index order: (weights, biases) each."""
    entries = [json.loads(line) for line in open(f"{zoo}/index.jsonl")]
    out = []
    for e in [e for e in entries if e["split"] == split][:limit]:
        graph = onnx.load(f"{zoo}/{e['file']}").graph
        w = {t.name: torch.tensor(numpy_helper.to_array(t)) for t in graph.initializer}
        names = sorted(w, key=lambda k: (int(k.split(".")[0]), k))
        out.append(([w[k] for k in names if k.endswith("weight")], [w[k] for k in names if k.endswith("bias")]))
    return out


def forward(Ws, bs, x):
    for i, (W, b) in enumerate(zip(Ws, bs)):
        x = x @ W.T + b
        if i < len(Ws) - 1:
            x = torch.relu(x)
    return x


def accuracy(net, x, y):
    with torch.no_grad():
        return (forward(*net, x).argmax(1) == y).float().mean().item()


def domain_probe(data_dir, domain, zoo):
    """A probe's data for one domain: the corrupted training records (DIR/DOMAIN-train),
    the first 5,000 corrupted test records, the zoo's training classifiers and its first 18
    test classifiers (the grid's setting) and their mean test accuracy (%), printed."""
    x_train, y_train = images(open(f"{data_dir}/{domain}-train", "rb").read())
    x_test, y_test = images(open(f"{data_dir}/{domain}-test", "rb").read(), 5000)
    train, test = classifiers(zoo, "train"), classifiers(zoo, "test", 18)
    before = 100 * sum(accuracy(n, x_test, y_test) for n in test) / len(test)
    print(f"{domain} ({zoo}): {len(test)} test classifiers {before:.2f}%", flush=True)
    return x_train, y_train, x_test, y_test, train, test, before
