"""Writes a copy of an ONNX MLP of Gemm layers (transB = 1, as torch exports
nn.Linear) whose hidden neurons are randomly permuted: rows of W_l and b_l, columns
of W_{l+1}. The function it computes is unchanged.
usage: /usr/bin/python3 permute_hidden.py IN.onnx OUT.onnx [SEED]"""
import sys

import numpy as np
import onnx
from onnx import numpy_helper

m = onnx.load(sys.argv[1])
inits = {t.name: t for t in m.graph.initializer}
gemms = [n for n in m.graph.node if n.op_type == "Gemm"]
W = [numpy_helper.to_array(inits[n.input[1]]).copy() for n in gemms]
b = [numpy_helper.to_array(inits[n.input[2]]).copy() for n in gemms]
rng = np.random.default_rng(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
for l in range(len(gemms) - 1):
    p = rng.permutation(W[l].shape[0])
    assert (p != np.arange(len(p))).any()
    W[l], b[l], W[l + 1] = W[l][p], b[l][p], W[l + 1][:, p]
for n, w, c in zip(gemms, W, b):
    inits[n.input[1]].CopyFrom(numpy_helper.from_array(w, n.input[1]))
    inits[n.input[2]].CopyFrom(numpy_helper.from_array(c, n.input[2]))
onnx.save(m, sys.argv[2])
