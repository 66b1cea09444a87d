"""Writes random MLP classifiers as ONNX, shaped like torch.onnx.export of
nn.Sequential(Flatten, Linear, act, ..., Linear): Gemm(transB=1) layers with
FLOAT raw_data initializers, input "input" [N, d0], output "logits" [N, dL],
weights from nn.Linear's default init (uniform +-1/sqrt(fan_in)). Also a small
CNN, which the daemon must refuse.

  /usr/bin/python3 make_mlp.py [--seed S] OUT.onnx=3072,128,128,10[:Tanh] ... [--cnn OUT.onnx]
"""
import argparse

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def save(nodes, inits, d0_shape, dL, out):
    graph = helper.make_graph(
        nodes, "main_graph",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch"] + d0_shape)],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", dL])], inits)
    model = helper.make_model(graph, producer_name="dwsnet-tests",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, out)


def mlp(out, widths, act, rng):
    nodes, inits, x = [], [], "input"
    for l in range(len(widths) - 1):
        bound = 1.0 / np.sqrt(widths[l])
        w = rng.uniform(-bound, bound, (widths[l + 1], widths[l])).astype(np.float32)
        b = rng.uniform(-bound, bound, (widths[l + 1],)).astype(np.float32)
        inits += [numpy_helper.from_array(w, f"{l}.weight"), numpy_helper.from_array(b, f"{l}.bias")]
        last = l == len(widths) - 2
        y = "logits" if last else f"gemm{l}"
        nodes.append(helper.make_node("Gemm", [x, f"{l}.weight", f"{l}.bias"], [y],
                                      name=f"Gemm_{l}", alpha=1.0, beta=1.0, transB=1))
        x = y
        if not last:
            nodes.append(helper.make_node(act, [x], [f"act{l}"], name=f"{act}_{l}"))
            x = f"act{l}"
    save(nodes, inits, [widths[0]], widths[-1], out)


def cnn(out, rng):
    k = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    w = rng.standard_normal((10, 4 * 8 * 8)).astype(np.float32)
    b = np.zeros(10, np.float32)
    nodes = [helper.make_node("Conv", ["input", "k"], ["c"], name="conv0", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("Flatten", ["r"], ["f"]),
             helper.make_node("Gemm", ["f", "w", "b"], ["logits"], transB=1)]
    inits = [numpy_helper.from_array(k, "k"), numpy_helper.from_array(w, "w"),
             numpy_helper.from_array(b, "b")]
    save(nodes, inits, [3, 8, 8], 10, out)


p = argparse.ArgumentParser()
p.add_argument("specs", nargs="*", help="OUT.onnx=W0,W1,...,WL[:Activation]")
p.add_argument("--seed", type=int, default=0)
p.add_argument("--cnn")
a = p.parse_args()
rng = np.random.default_rng(a.seed)
for spec in a.specs:
    out, rest = spec.split("=")
    widths, _, act = rest.partition(":")
    mlp(out, [int(w) for w in widths.split(",")], act or "Relu", rng)
if a.cnn:
    cnn(a.cnn, rng)
