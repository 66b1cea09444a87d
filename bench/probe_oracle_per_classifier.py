#!/usr/bin/env python3
"""Where the oracle's gain on a mild corruption comes from, classifier by classifier: the
grid's first 18 test classifiers, each unadapted, adapted (ADAPTED: the same zoo after
`dwsnet adapt --domain D` of every file, index.jsonl copied) and fine-tuned as the oracle
does (1 epoch of Adam 5e-4, batch 128, on the domain's corrupted training images; in
PyTorch, so the mean is close to the grid's oracle column but not bit-equal), scored on
the first 5,000 corrupted test images. docs/adapter.md section 2.2 has what it printed.

  bin/dwsnet corrupt --split train --domain gaussian_noise:1 -o DIR/gn-1-train   (and --split test)
  /usr/bin/python3 bench/probe_oracle_per_classifier.py DIR gn-1 ZOO ADAPTED      (about 3 minutes)
"""
import json
import sys

import torch

from probe_zoo import accuracy, classifiers, forward, images

DIR, DOMAIN, ZOO, ADAPTED = sys.argv[1:5]
torch.set_num_threads(2)
x_train, y_train = images(open(f"{DIR}/{DOMAIN}-train", "rb").read())
x_test, y_test = images(open(f"{DIR}/{DOMAIN}-test", "rb").read(), 5000)
entries = [json.loads(line) for line in open(f"{ZOO}/index.jsonl")]
recipes = [e["recipe"] for e in entries if e["split"] == "test"][:18]
g = torch.Generator().manual_seed(0)
for net, adapted, recipe in zip(classifiers(ZOO, "test", 18), classifiers(ADAPTED, "test", 18), recipes):
    params = [t.clone().requires_grad_(True) for ts in net for t in ts]
    opt = torch.optim.Adam(params, lr=5e-4)
    order = torch.randperm(len(x_train), generator=g)
    depth = len(net[0])
    for start in range(0, len(x_train), 128):
        rows = order[start:start + 128]
        loss = torch.nn.functional.cross_entropy(forward(params[:depth], params[depth:], x_train[rows]), y_train[rows])
        opt.zero_grad()
        loss.backward()
        opt.step()
    tuned = ([t.detach() for t in params[:depth]], [t.detach() for t in params[depth:]])
    before = 100 * accuracy(net, x_test, y_test)
    print(f"{'-'.join(str(w.shape[0]) for w in net[0])} {recipe['optimizer']} lr {recipe['lr']} "
          f"{recipe['epochs']} epochs on {recipe['subset']}: {before:.1f}%, adapter "
          f"{100 * accuracy(adapted, x_test, y_test) - before:+.1f}, oracle {100 * accuracy(tuned, x_test, y_test) - before:+.1f}",
          flush=True)
