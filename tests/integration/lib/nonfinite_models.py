"""Writes MLPs with non-finite or extreme weights for daemon_nonfinite.sh, from a
valid classifier (make_mlp.py's output):

  /usr/bin/python3 nonfinite_models.py VALID.onnx OUTDIR SEED

OUTDIR/bad-*.onnx hold one NaN, +Inf or -Inf at a random place of a random weight
or bias tensor, stored as raw FLOAT, float_data, raw FLOAT16 or raw DOUBLE (a
DOUBLE 1e300 too, finite in the file but not as a float); OUTDIR/bad.list has one
line per file: NAME TENSOR INDEX. OUTDIR/big-*.onnx are valid FLOAT16 models whose
weights are scaled towards 65504, the largest FLOAT16.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper


def retype(model, storage):
    """Every weight and bias stored as `storage`: float_raw, float_data, half_raw, double_raw."""
    for t in model.graph.initializer:
        a = numpy_helper.to_array(t).astype(np.float32)
        if storage == "float_data":
            t.ClearField("raw_data")
            t.data_type = TensorProto.FLOAT
            t.float_data[:] = a.ravel().tolist()
            continue
        dtype = {"float_raw": np.float32, "half_raw": np.float16, "double_raw": np.float64}[storage]
        t.CopyFrom(numpy_helper.from_array(a.astype(dtype), t.name))
    for io in list(model.graph.input) + list(model.graph.output):
        io.type.tensor_type.elem_type = {"float_raw": TensorProto.FLOAT, "float_data": TensorProto.FLOAT,
                                         "half_raw": TensorProto.FLOAT16, "double_raw": TensorProto.DOUBLE}[storage]


def poke(t, index, value):
    if t.float_data:
        t.float_data[index] = value
        return
    a = numpy_helper.to_array(t).copy()
    a.reshape(-1)[index] = value
    t.CopyFrom(numpy_helper.from_array(a, t.name))


def main():
    valid, out, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rng = np.random.default_rng(seed)
    os.makedirs(out, exist_ok=True)
    lines = []
    n = 0
    for storage in ("float_raw", "float_data", "half_raw", "double_raw"):
        values = [np.nan, np.inf, -np.inf] + ([1e300] if storage == "double_raw" else [])
        for value in values:
            m = onnx.load(valid)
            retype(m, storage)
            t = m.graph.initializer[int(rng.integers(len(m.graph.initializer)))]
            index = int(rng.integers(int(np.prod(t.dims))))
            poke(t, index, value)
            name = "bad-%d-%s-%s" % (n, storage, str(value).replace("-", "neg"))
            onnx.save(m, os.path.join(out, name + ".onnx"))
            lines.append("%s %s %d" % (name, t.name, index))
            n += 1
    with open(os.path.join(out, "bad.list"), "w") as f:
        f.write("\n".join(lines) + "\n")
    for target in (1.0, 1000.0, 30000.0, 65504.0):
        m = onnx.load(valid)
        retype(m, "half_raw")
        for t in m.graph.initializer:
            a = numpy_helper.to_array(t).astype(np.float32)
            a = np.clip(a / max(np.abs(a).max(), 1e-30) * target, -65504, 65504).astype(np.float16)
            t.CopyFrom(numpy_helper.from_array(a, t.name))
        onnx.save(m, os.path.join(out, "big-%d.onnx" % int(target)))


if __name__ == "__main__":
    main()
