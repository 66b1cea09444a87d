#!/usr/bin/python3
"""Checks models written by `dwsnet roundtrip` with Debian's python3-onnx.

    codec_checker.py LIST    each line: KIND ORIGINAL.onnx WRITTEN.onnx
KIND same:      everything but the dwsnet.* metadata is identical to the original
     perturbed: everything but the weight numbers and that metadata is identical,
                every weight keeps its storage field, and the numbers did change
     rebuilt:   a fresh model (only the checks below)
Every written model must pass onnx.checker.check_model (skipped, with a note, when
its opset is newer than the installed onnx knows) and carry dwsnet.version and
dwsnet.operation in metadata_props. Exit 1 on the first failure.
"""
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
    """Initializers and Constant-node values, by name."""
    tensors = {t.name: t for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == 'Constant':
            for a in node.attribute:
                if a.name == 'value':
                    tensors[node.output[0]] = a.t
    return tensors


def strip_provenance(model):
    keep = [p for p in model.metadata_props if not p.key.startswith('dwsnet.')]
    del model.metadata_props[:]
    model.metadata_props.extend(keep)


def blank_weights(model):
    """Clears the numbers of every weight tensor; returns {name: (field used, values)}."""
    seen = {}
    for name, t in weight_tensors(model).items():
        if t.data_type == onnx.TensorProto.INT64:
            continue   # shape constants are not weights
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
    if 'dwsnet.version' not in props or 'dwsnet.operation' not in props:
        fail('%s: no dwsnet provenance in metadata_props' % path)
    return model, note


def main():
    lines = [l.split() for l in open(sys.argv[1]) if l.strip()]
    for kind, original, written in lines:
        model, note = check_written(written)
        orig = onnx.load(original)
        strip_provenance(model)
        if kind == 'perturbed':
            before, after = blank_weights(orig), blank_weights(model)
            if before.keys() != after.keys():
                fail('%s: weight tensors %s became %s' % (written, sorted(before), sorted(after)))
            for name in before:
                if before[name][0] != after[name][0]:
                    fail('%s: tensor %s moved from %s to %s' % (written, name, before[name][0], after[name][0]))
                if before[name][1] == after[name][1]:
                    fail('%s: tensor %s kept its old numbers' % (written, name))
        if kind in ('same', 'perturbed') and model.SerializeToString() != orig.SerializeToString():
            fail('%s: differs from %s beyond the %s' % (written, original,
                 'weights and provenance' if kind == 'perturbed' else 'provenance'))
        print('%-9s %s: %s%s' % (kind, written, note, '' if kind == 'rebuilt' else ', rest of the model unchanged'))


if __name__ == '__main__':
    main()
