"""Helpers for the embedder integration tests (python3-onnx, numpy):
  card FILE.dws                  print the model card (JSON) of a .dws file
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


def close(a, b, tol):
    ea = json.load(open(a))["embedding"]
    eb = json.load(open(b))["embedding"]
    scale = max(abs(v) for v in ea) or 1e-30
    rel = max(abs(x - y) for x, y in zip(ea, eb)) / scale
    print(f"relative change {rel:.3g}")
    sys.exit(0 if len(ea) == len(eb) and rel <= float(tol) else 1)


if __name__ == "__main__":
    {"card": card, "close": close}[sys.argv[1]](*sys.argv[2:])
