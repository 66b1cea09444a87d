#!/usr/bin/python3
"""Writes copies of ONNX models with every Dropout's training_mode input removed
(so it defaults to false), for onnxruntime to compare models that were exported
in training mode: with training_mode true a runtime may drop units at random
(onnxruntime does unless its graph optimizer removes the Dropout), while dwsnet
reads a Dropout as the identity. Nothing else changes.

    dropout_off.py IN.onnx OUT.onnx [IN.onnx OUT.onnx ...]
"""
import sys

import onnx


def main():
    args = sys.argv[1:]
    for src, dst in zip(args[::2], args[1::2]):
        model = onnx.load(src)
        for node in model.graph.node:
            if node.op_type == 'Dropout' and len(node.input) > 2:
                del node.input[2:]
        onnx.save(model, dst)


if __name__ == '__main__':
    main()
