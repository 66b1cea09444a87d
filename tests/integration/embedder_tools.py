"""Helpers for the embedder integration tests (python3-onnx, numpy):
  card FILE.dws                  print the model card (JSON) of a .dws file
  permute IN.onnx OUT.onnx SEED  permute every hidden layer of a Gemm (transB = 1) MLP
  close A.json B.json TOL        exit 1 unless the two `dwsnet embed` outputs' embeddings
                                 agree to TOL relative (max |a - b| / max |a|)
"""
import json
import struct
import sys


def card(path):
    with open(path, "rb") as f:
        head = f.read(16)
        assert head[:8] == b"DWSNET\0\1", "not a .dws file"
        (n,) = struct.unpack("<I", head[12:16])
        print(f.read(n).decode())


def permute(src, dst, seed):
    import numpy as np
    import onnx
    from onnx import numpy_helper
    m = onnx.load(src)
    inits = {t.name: t for t in m.graph.initializer}
    gemms = [n for n in m.graph.node if n.op_type == "Gemm"]
    W = [numpy_helper.to_array(inits[n.input[1]]).copy() for n in gemms]
    b = [numpy_helper.to_array(inits[n.input[2]]).copy() for n in gemms]
    rng = np.random.default_rng(int(seed))
    for l in range(len(gemms) - 1):
        p = rng.permutation(W[l].shape[0])
        W[l], b[l], W[l + 1] = W[l][p], b[l][p], W[l + 1][:, p]
    for n, w, bb in zip(gemms, W, b):
        inits[n.input[1]].CopyFrom(numpy_helper.from_array(w, n.input[1]))
        inits[n.input[2]].CopyFrom(numpy_helper.from_array(bb, n.input[2]))
    onnx.save(m, dst)


def close(a, b, tol):
    ea = json.load(open(a))["embedding"]
    eb = json.load(open(b))["embedding"]
    scale = max(abs(v) for v in ea) or 1e-30
    rel = max(abs(x - y) for x, y in zip(ea, eb)) / scale
    print(f"relative change {rel:.3g}")
    sys.exit(0 if len(ea) == len(eb) and rel <= float(tol) else 1)


if __name__ == "__main__":
    {"card": card, "permute": permute, "close": close}[sys.argv[1]](*sys.argv[2:])
