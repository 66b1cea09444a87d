#!/usr/bin/env python3
"""Can a data-free edit shaped like a gradient step give zoo classifiers the gain an
extra epoch of fine-tuning gives where a corruption costs nothing?

The gradient of the loss with respect to W_1 is E[delta_1 x^T] with delta_1 =
D_1 W_2^T ... D_{L-1} W_L^T (p - y). Without the ReLU masks and the data, that is
B_1 M with B_1 = W_2^T ... W_L^T (h_1 x 10, equivariant) and M a fixed 10 x 3072
matrix. This fits M (from zero) on the zoo's training classifiers, clean training
images, and reports the held-out classifiers' clean test accuracy before and after
the edit W_1 += B_1 M / |B_1|. docs/adapter.md section 2.2 quotes the result.

  /usr/bin/python3 bench/probe_gradient_template.py [ZOO] [DATA]   (about 2 minutes)
"""
import gzip
import sys

import numpy as np
import torch

from probe_zoo import accuracy, classifiers, forward, images

ZOO = sys.argv[1] if len(sys.argv) > 1 else "zoo"
DATA = sys.argv[2] if len(sys.argv) > 2 else "../shared/data/cifar10"
torch.set_num_threads(2)


def batch(name):
    return images(gzip.open(f"{DATA}/{name}.bin.gz").read())


def edited(Ws, bs, M):
    B = Ws[-1].T
    for W in reversed(Ws[1:-1]):
        B = W.T @ B
    return [Ws[0] + B @ M / (B.norm() + 1e-8)] + Ws[1:], bs


parts = [batch(f"data_batch_{i}") for i in range(1, 6)]
x_train, y_train = torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])
x_test, y_test = batch("test_batch")
x_test, y_test = x_test[:5000], y_test[:5000]
train = classifiers(ZOO, "train")
test = classifiers(ZOO, "test", 20)
M = torch.zeros(10, 3072, requires_grad=True)
opt = torch.optim.Adam([M], lr=3e-4)
g = torch.Generator().manual_seed(0)
before = 100 * np.mean([accuracy(n, x_test, y_test) for n in test])
for step in range(1, 1501):
    rows = torch.randint(0, 45000, (256,), generator=g)
    loss = sum(torch.nn.functional.cross_entropy(forward(*edited(*train[j], M), x_train[rows]), y_train[rows])
               for j in torch.randint(0, len(train), (4,), generator=g))
    opt.zero_grad()
    (loss / 4).backward()
    opt.step()
    if step % 100 == 0:
        after = 100 * np.mean([accuracy(edited(*n, M.detach()), x_test, y_test) for n in test])
        print(f"step {step}: {len(test)} held-out classifiers, clean test accuracy {before:.2f} -> {after:.2f}",
              flush=True)
