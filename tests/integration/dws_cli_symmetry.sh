#!/usr/bin/env bash
# End to end through ONNX: permuting a classifier's hidden neurons (python3-onnx)
# leaves its function unchanged, so
#  - `dwsnet embed` gives the same embedding (invariance), and
#  - `dwsnet adapt` gives classifiers that compute the same outputs (equivariance:
#    adapt(g.v) = g.adapt(v), and g does not change the function).
set -euo pipefail
BIN=${BIN:-bin}
D=$BIN/dwsnet
py=/usr/bin/python3
fx=tests/fixtures/cifar_mlp.onnx
x=tests/fixtures/cifar_mlp.input.f32
if ! $py -c 'import onnx, numpy' 2>/dev/null; then echo "skipped: /usr/bin/python3 cannot import onnx and numpy"; exit 77; fi
[ -f "$fx" ] || { echo "skipped: no $fx"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Permute every hidden layer of a Gemm (transB = 1) MLP: rows of W_l and b_l, columns of W_{l+1}.
$py - "$fx" "$tmp/perm.onnx" <<'PY'
import sys
import numpy as np
import onnx
from onnx import numpy_helper
m = onnx.load(sys.argv[1])
inits = {t.name: t for t in m.graph.initializer}
gemms = [n for n in m.graph.node if n.op_type == "Gemm"]
W = [numpy_helper.to_array(inits[n.input[1]]).copy() for n in gemms]
b = [numpy_helper.to_array(inits[n.input[2]]).copy() for n in gemms]
rng = np.random.default_rng(7)
for l in range(len(gemms) - 1):
    p = rng.permutation(W[l].shape[0])
    assert (p != np.arange(len(p))).any()
    W[l], b[l], W[l + 1] = W[l][p], b[l][p], W[l + 1][:, p]
for n, w, c in zip(gemms, W, b):
    inits[n.input[1]].CopyFrom(numpy_helper.from_array(w, n.input[1]))
    inits[n.input[2]].CopyFrom(numpy_helper.from_array(c, n.input[2]))
onnx.save(m, sys.argv[2])
PY

close() {   # file a, file b, relative tolerance, what
  $py - "$1" "$2" "$3" "$4" <<'PY'
import json, sys
import numpy as np
def load(p):
    t = open(p).read()
    return np.array(json.loads(t)["embedding"] if t.startswith("{") else t.split(), dtype=float)
a, b = load(sys.argv[1]), load(sys.argv[2])
err = np.abs(a - b).max() / max(np.abs(b).max(), 1e-30)
if not (a.shape == b.shape and err <= float(sys.argv[3])):
    sys.exit(f"{sys.argv[4]}: relative difference {err:.3g}")
PY
}

"$D" forward "$fx" --input "$x" > "$tmp/f_orig.txt"
"$D" forward "$tmp/perm.onnx" --input "$x" > "$tmp/f_perm.txt"
close "$tmp/f_orig.txt" "$tmp/f_perm.txt" 1e-5 "the permuted classifier computes something else"
cmp -s "$fx" "$tmp/perm.onnx" && { echo "the permutation changed nothing"; exit 1; }

"$D" init-model --kind encoder --channels 8 --layers 3 --seed 3 -o "$tmp/enc.dws" >/dev/null
"$D" embed "$fx" --model "$tmp/enc.dws" > "$tmp/e_orig.json"
"$D" embed "$tmp/perm.onnx" --model "$tmp/enc.dws" > "$tmp/e_perm.json"
close "$tmp/e_orig.json" "$tmp/e_perm.json" 1e-5 "embedding not invariant"

"$D" init-model --kind adapter --channels 8 --layers 3 --seed 4 --alpha 0.01 -o "$tmp/ad.dws" >/dev/null
"$D" adapt "$fx" -o "$tmp/a_orig.onnx" --model "$tmp/ad.dws" >/dev/null
"$D" adapt "$tmp/perm.onnx" -o "$tmp/a_perm.onnx" --model "$tmp/ad.dws" >/dev/null
"$D" forward "$tmp/a_orig.onnx" --input "$x" > "$tmp/fa_orig.txt"
"$D" forward "$tmp/a_perm.onnx" --input "$x" > "$tmp/fa_perm.txt"
close "$tmp/fa_orig.txt" "$tmp/fa_perm.txt" 1e-4 "adapted classifiers differ"
cmp -s "$tmp/f_orig.txt" "$tmp/fa_orig.txt" && { echo "the adapter changed nothing"; exit 1; }
$py -c "import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]))" "$tmp/a_perm.onnx"
echo ok
