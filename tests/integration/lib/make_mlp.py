"""Writes a random MLP classifier as ONNX, shaped like torch.onnx.export of
nn.Sequential(Flatten, Linear, act, ..., Linear): Gemm(transB=1) layers with
FLOAT raw_data initializers, input "input" [N, d0], output "logits" [N, dL].
Weights follow nn.Linear's default init (uniform +-1/sqrt(fan_in)).

  /usr/bin/python3 make_mlp.py OUT.onnx --widths 3072,128,128,10 [--seed 0]
        [--activation Relu|Tanh|Sigmoid|LeakyRelu] [--opset 13]
"""
import argparse

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--widths", required=True)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--activation", default="Relu")
p.add_argument("--opset", type=int, default=13)
a = p.parse_args()

widths = [int(w) for w in a.widths.split(",")]
rng = np.random.default_rng(a.seed)
nodes, inits = [], []
x = "input"
for l in range(len(widths) - 1):
    fan_in, fan_out = widths[l], widths[l + 1]
    bound = 1.0 / np.sqrt(fan_in)
    w = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)
    b = rng.uniform(-bound, bound, (fan_out,)).astype(np.float32)
    inits += [numpy_helper.from_array(w, f"{l}.weight"), numpy_helper.from_array(b, f"{l}.bias")]
    last = l == len(widths) - 2
    y = "logits" if last else f"gemm{l}"
    nodes.append(helper.make_node("Gemm", [x, f"{l}.weight", f"{l}.bias"], [y], name=f"Gemm_{l}",
                                  alpha=1.0, beta=1.0, transB=1))
    x = y
    if not last:
        y = f"act{l}"
        nodes.append(helper.make_node(a.activation, [x], [y], name=f"{a.activation}_{l}"))
        x = y
graph = helper.make_graph(
    nodes, "main_graph",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", widths[0]])],
    [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", widths[-1]])],
    inits)
model = helper.make_model(graph, producer_name="dwsnet-tests", opset_imports=[helper.make_opsetid("", a.opset)])
model.ir_version = 7
onnx.checker.check_model(model)
onnx.save(model, a.out)
