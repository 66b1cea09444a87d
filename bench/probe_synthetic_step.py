#!/usr/bin/env python3
"""Could a data-free edit give the "extra epoch" the oracle gives on mild corruptions?
On the grid's noise and blur domains a corruption costs the zoo's classifiers almost
nothing, yet the oracle gains +4.4 to +5.6 points there, about what the same fine-tune
on clean images gains (the grid's `clean fine-tune` column): the zoo is under-trained.
The adapter gains +1.4 to +1.9. This probe tries the edit that is training by
construction: N learned synthetic images with learned soft labels, and S plain gradient
steps of every classifier on them, with a learned step size per tensor (dataset
distillation, Wang et al. 2018, from a population of classifiers rather than one init):

    W <- W - eta_W * dL(W; X_syn, softmax(Y_syn)) / dW      (S times)

X_syn, Y_syn and the step sizes are fit (Adam, 4 classifiers a step) to the loss after
the steps on the domain's corrupted training images; scored on the first 18 test
classifiers and 5,000 corrupted test images (the grid's setting). ZOO may be the zoo's
classifiers already adapted (`dwsnet adapt --domain D` of every file, index.jsonl
copied), to see what the steps add to the adapter. Gradient steps of the classifier
are equivariant, so such an edit could join the adapter; docs/adapter.md section 5 has
what it measured.

  bin/dwsnet corrupt --split train --domain gaussian_noise:1 -o DIR/gn-1-train   (and --split test)
  /usr/bin/python3 bench/probe_synthetic_step.py DIR gn-1 [ZOO] [N] [S] [ITERS]   (2-4 minutes)
"""
import sys
import time

import numpy as np
import torch

from probe_zoo import accuracy, domain_probe, forward

DIR, DOMAIN = sys.argv[1], sys.argv[2]
ZOO = sys.argv[3] if len(sys.argv) > 3 else "zoo"
N, STEPS, ITERS = (int(a) for a in (sys.argv[4:7] + ["64", "3", "600"][len(sys.argv[4:7]):]))
torch.set_num_threads(2)


x_train, y_train, x_test, y_test, train, test, before = domain_probe(DIR, DOMAIN, ZOO)
print(f"  {N} synthetic images, {STEPS} steps", flush=True)

g = torch.Generator().manual_seed(0)
start = torch.randint(0, len(x_train), (N,), generator=g)   # synthetic images start as real ones
x_syn = x_train[start].clone().requires_grad_(True)
y_syn = (3 * torch.nn.functional.one_hot(y_train[start], 10).float()).requires_grad_(True)
depth = len(train[0][0])
log_eta = torch.full((2 * depth,), float(np.log(0.01)), requires_grad=True)   # weights, then biases
opt = torch.optim.Adam([x_syn, y_syn, log_eta], lr=1e-2)


def stepped(net, keep_graph):
    Ws, bs = ([t.clone().requires_grad_(True) for t in ts] for ts in net)
    for _ in range(STEPS):
        loss = torch.nn.functional.cross_entropy(forward(Ws, bs, x_syn), torch.softmax(y_syn, 1))
        grads = torch.autograd.grad(loss, Ws + bs, create_graph=keep_graph)
        Ws = [w - log_eta[i].exp() * d for i, (w, d) in enumerate(zip(Ws, grads[:depth]))]
        bs = [b - log_eta[depth + i].exp() * d for i, (b, d) in enumerate(zip(bs, grads[depth:]))]
    return Ws, bs


t0 = time.time()
for it in range(ITERS):
    rows = torch.randint(0, len(x_train), (256,), generator=g)
    loss = sum(torch.nn.functional.cross_entropy(forward(*stepped(train[j], True), x_train[rows]), y_train[rows])
               for j in torch.randint(0, len(train), (4,), generator=g))
    opt.zero_grad()
    (loss / 4).backward()
    opt.step()
    if (it + 1) % 200 == 0 or it + 1 == ITERS:
        after = 100 * np.mean([accuracy([[t.detach() for t in ts] for ts in stepped(n, False)], x_test, y_test)
                               for n in test])
        print(f"  {it + 1} fits: {after:.2f}% ({after - before:+.2f}), step sizes "
              f"{np.round(log_eta.exp().detach().numpy(), 4).tolist()} ({time.time() - t0:.0f} s)", flush=True)
