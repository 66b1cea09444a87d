#!/usr/bin/python3
"""Checks models written by `dwsnet roundtrip` with Debian's python3-onnx.

    codec_checker.py LIST    each line: KIND ORIGINAL.onnx WRITTEN.onnx
KIND same:      everything but the dwsnet.* metadata is identical to the original
     perturbed: everything but the weight numbers and that metadata is identical,
                every weight keeps its storage field, and the numbers did change;
                except that a bias-free layer may have been given a bias, in the one
                form dws_onnx_encode documents (listed in dwsnet.added_bias)
     adapted:   as perturbed, but only the layers' weights must change (constants of
                input preprocessing before layer 1 keep their numbers)
     rebuilt:   a fresh model (only the checks below)
Every written model must pass onnx.checker.check_model (skipped, with a note, when
its opset is newer than the installed onnx knows) and carry dwsnet.version and
dwsnet.operation (dwsnet.adapter for `dwsnet adapt`) in metadata_props. Exit 1 on the first failure.
"""
import re
import sys

import onnx
from onnx import numpy_helper

DATA_FIELDS = ('raw_data', 'float_data', 'double_data', 'int32_data', 'int64_data')


def fail(msg):
    print('FAIL: ' + msg)
    sys.exit(1)


def default_opset(model):
    return max((o.version for o in model.opset_import if o.domain in ('', 'ai.onnx')), default=0)


def weight_tensors(model):
    """Initializers and Constant-node values that could be weights (float arrays), by name."""
    tensors = {t.name: t for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == 'Constant':
            for a in node.attribute:
                if a.name == 'value':
                    tensors[node.output[0]] = a.t
    floats = (onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16, onnx.TensorProto.BFLOAT16)
    return {name: t for name, t in tensors.items() if t.data_type in floats and len(t.dims) > 0}


def undo_added_biases(model, orig):
    """Takes out every bias tensor dwsnet added (and the Add node or Gemm input C
    that reads it), checking each has the documented form; returns their names."""
    props = {p.key: p.value for p in model.metadata_props}
    names = re.findall(r"bias '([^']*)'", props.get('dwsnet.added_bias', ''))
    g = model.graph
    for name in names:
        inits = [t for t in g.initializer if t.name == name]
        readers = [n for n in g.node if name in n.input]
        listed = [i for i in g.input if i.name == name]
        if len(inits) != 1 or len(readers) != 1 or len(listed) != (1 if model.ir_version < 4 else 0):
            fail('added bias %s: %d initializers, %d readers, %d graph inputs' % (name, len(inits), len(readers), len(listed)))
        g.initializer.remove(inits[0])
        for i in listed:
            g.input.remove(i)
        node = readers[0]
        if node.op_type == 'Add':   # right after its MatMul, which wrote the Add's output before
            at = list(g.node).index(node)
            matmul = g.node[at - 1]
            if matmul.op_type != 'MatMul' or list(node.input) != [matmul.output[0], name]:
                fail('added bias %s: Add node %s does not directly follow its MatMul' % (name, node.name))
            matmul.output[0] = node.output[0]
            g.node.remove(node)
        elif node.op_type != 'Gemm' or len(node.input) != 3 or node.input[2] != name:
            fail('added bias %s: read by %s node %s' % (name, node.op_type, node.name))
    for node, before in zip(g.node, orig.graph.node):   # the Gemms given a C had two inputs or an empty third
        if node.op_type == 'Gemm' and node.input[2:] and node.input[2] in names:
            if list(before.input) not in (list(node.input[:2]), list(node.input[:2]) + ['']):
                fail('added bias %s: Gemm %s had inputs %s' % (node.input[2], node.name, list(before.input)))
            del node.input[:]
            node.input.extend(before.input)
    return names


def strip_provenance(model):
    keep = [p for p in model.metadata_props if not p.key.startswith('dwsnet.')]
    del model.metadata_props[:]
    model.metadata_props.extend(keep)


def blank_weights(model):
    """Clears the numbers of every weight tensor; returns {name: (field used, values)}."""
    seen = {}
    for name, t in weight_tensors(model).items():
        fields = [f for f in DATA_FIELDS if len(getattr(t, f))]
        seen[name] = (fields, numpy_helper.to_array(t).tobytes())
        for f in DATA_FIELDS:
            t.ClearField(f)
    return seen


def check_written(path):
    model = onnx.load(path)
    if default_opset(model) <= onnx.defs.onnx_opset_version():
        onnx.checker.check_model(model)
        note = 'onnx.checker ok'
    else:
        note = 'onnx.checker skipped: opset %d is newer than onnx %s knows' % (default_opset(model), onnx.__version__)
    props = {p.key: p.value for p in model.metadata_props}
    if 'dwsnet.version' not in props or ('dwsnet.operation' not in props and 'dwsnet.adapter' not in props):
        fail('%s: no dwsnet provenance in metadata_props' % path)
    return model, note


def layer_operands(model):
    """Tensors read by Gemm, MatMul and Add nodes: the layers' weights and biases."""
    return {i for n in model.graph.node if n.op_type in ('Gemm', 'MatMul', 'Add') for i in n.input}


def main():
    lines = [l.split() for l in open(sys.argv[1]) if l.strip()]
    for kind, original, written in lines:
        model, note = check_written(written)
        orig = onnx.load(original)
        added = undo_added_biases(model, orig) if kind in ('perturbed', 'adapted') else []
        strip_provenance(model)
        if kind in ('perturbed', 'adapted'):
            before, after = blank_weights(orig), blank_weights(model)
            if before.keys() != after.keys():
                fail('%s: weight tensors %s became %s' % (written, sorted(before), sorted(after)))
            for name in before:
                if before[name][0] != after[name][0]:
                    fail('%s: tensor %s moved from %s to %s' % (written, name, before[name][0], after[name][0]))
                if before[name][1] == after[name][1] and (kind == 'perturbed' or name in layer_operands(orig)):
                    fail('%s: tensor %s kept its old numbers' % (written, name))
        if kind in ('same', 'perturbed', 'adapted') and model.SerializeToString() != orig.SerializeToString():
            fail('%s: differs from %s beyond the %s' % (written, original,
                 'weights and provenance' if kind in ('perturbed', 'adapted') else 'provenance'))
        print('%-9s %s: %s%s%s' % (kind, written, note, '' if kind == 'rebuilt' else ', rest of the model unchanged',
                                   ', biases added: ' + ' '.join(added) if added else ''))


if __name__ == '__main__':
    main()
