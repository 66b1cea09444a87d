#!/usr/bin/env bash
# Checks zoo ONNX files the way outsiders read them (not run by make test):
# onnx.checker (python3-onnx) on each, and clean test accuracy in onnxruntime-node
# against the accuracy the zoo recorded from dwsnet's own forward pass.
#   bench/zoo_check.sh ZOO [MAX_ENTRIES]   (needs scripts/install-deps for tests/node)
set -euo pipefail
zoo=$1 max=${2:-20}
data=${DWSNET_DATA:-../shared/data/cifar10}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# The test split as float32 x = pixel/255 (CHW) and its labels.
/usr/bin/python3 - "$data" "$tmp" <<'PY'
import gzip, os, sys
import numpy as np
data, tmp = sys.argv[1:3]
p = os.path.join(data, "test_batch.bin")
raw = open(p, "rb").read() if os.path.exists(p) else gzip.open(p + ".gz").read()
a = np.frombuffer(raw, np.uint8).reshape(-1, 3073)
(a[:, 1:].astype(np.float32) / 255).tofile(os.path.join(tmp, "x.f32"))
a[:, 0].tofile(os.path.join(tmp, "y.u8"))
PY
head -n "$max" "$zoo/index.jsonl" > "$tmp/index.jsonl"
/usr/bin/python3 - "$zoo" "$tmp/index.jsonl" <<'PY'
import json, sys, onnx
zoo, index = sys.argv[1:3]
for line in open(index):
    e = json.loads(line)
    m = onnx.load(f"{zoo}/{e['file']}")
    onnx.checker.check_model(m, full_check=True)
print("onnx.checker: every file valid")
PY
node "$(dirname "$0")/zoo_ort_accuracy.js" "$zoo" "$tmp/index.jsonl" "$tmp/x.f32" "$tmp/y.u8"
