#!/usr/bin/env python3
"""What could a domain's shared linear map of the input axis give, where the adapter
gained least (fog, saturate)? The DWS layers' input-axis maps keep a first-layer filter's
colour planes apart and see 3x3 neighbourhoods only (docs/design.md sections 4 and 7); this
probe is why the adapter now ends with a per-domain input map (section 18, k = 3).
This fits, for one domain, one map R shared by all classifiers, applied to every row of
W_1 seen as a 3 x 32 x 32 image, and one input shift t:

    W_1' = W_1 R,   b_1' = b_1 + W_1' t

with R = identity + a k x k convolution mixing the three colour planes (k = 1: colour
mixing only; k = 0: a per-plane scale, no mixing, no neighbourhood), fit on the zoo's
training classifiers' loss on the domain's corrupted training images, and reports the
first 18 test classifiers on the first 5,000 corrupted test images (the grid's setting,
docs/adapter.md section 2.2).

  bin/dwsnet corrupt --split train --domain fog:5 -o DIR/fog-5-train   (and --split test)
  /usr/bin/python3 bench/probe_input_map.py DIR fog-5 [ZOO]            (a few minutes)
"""
import sys

import numpy as np
import torch

from probe_zoo import accuracy, domain_probe, forward

DIR, DOMAIN = sys.argv[1], sys.argv[2]
ZOO = sys.argv[3] if len(sys.argv) > 3 else "zoo"
torch.set_num_threads(2)


class InputMap(torch.nn.Module):
    def __init__(self, k):
        super().__init__()
        self.k = k
        self.scale = torch.nn.Parameter(torch.zeros(3))
        self.conv = torch.nn.Parameter(torch.zeros(3, 3, k, k)) if k else None
        self.shift = torch.nn.Parameter(torch.zeros(3072))

    def __call__(self, Ws, bs):
        rows = Ws[0].reshape(-1, 3, 32, 32)
        out = rows * (1 + self.scale.view(1, 3, 1, 1))
        if self.k:
            out = out + torch.nn.functional.conv2d(rows, self.conv, padding=self.k // 2)
        W1 = out.reshape(Ws[0].shape)
        return [W1] + Ws[1:], [bs[0] + W1 @ self.shift] + bs[1:]


x_train, y_train, x_test, y_test, train, test, before = domain_probe(DIR, DOMAIN, ZOO)
for k in (0, 1, 3, 5, 9):
    m = InputMap(k)
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    for step in range(600):
        rows = torch.randint(0, len(x_train), (256,), generator=g)
        loss = sum(torch.nn.functional.cross_entropy(forward(*m(*train[j]), x_train[rows]), y_train[rows])
                   for j in torch.randint(0, len(train), (4,), generator=g))
        opt.zero_grad()
        (loss / 4).backward()
        opt.step()
    with torch.no_grad():
        after = 100 * np.mean([accuracy(m(*n), x_test, y_test) for n in test])
    kind = {0: "per-plane scale", 1: "1x1 colour mixing"}.get(k, f"{k}x{k} convolution mixing colours")
    print(f"  shared map, {kind} + input shift: {after:.2f}% ({after - before:+.2f})", flush=True)
