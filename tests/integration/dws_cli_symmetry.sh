#!/usr/bin/env bash
# End to end through ONNX: permuting a classifier's hidden neurons (python3-onnx)
# leaves its function unchanged, so
#  - `dwsnet embed` gives the same embedding (invariance), and
#  - `dwsnet adapt` gives classifiers that compute the same outputs (equivariance:
#    adapt(g.v) = g.adapt(v), and g does not change the function), for an adapter
#    with an input map (docs/design.md section 18).
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

# Permute every hidden layer: rows of W_l and b_l, columns of W_{l+1}.
$py tests/integration/permute_hidden.py "$fx" "$tmp/perm.onnx" 7

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

"$D" init-model --kind adapter --channels 8 --layers 3 --seed 4 --alpha 0.01 --input-map 3 -o "$tmp/ad.dws" >/dev/null
"$D" adapt "$fx" -o "$tmp/a_orig.onnx" --model "$tmp/ad.dws" >/dev/null
"$D" adapt "$tmp/perm.onnx" -o "$tmp/a_perm.onnx" --model "$tmp/ad.dws" >/dev/null
"$D" forward "$tmp/a_orig.onnx" --input "$x" > "$tmp/fa_orig.txt"
"$D" forward "$tmp/a_perm.onnx" --input "$x" > "$tmp/fa_perm.txt"
close "$tmp/fa_orig.txt" "$tmp/fa_perm.txt" 1e-4 "adapted classifiers differ"
cmp -s "$tmp/f_orig.txt" "$tmp/fa_orig.txt" && { echo "the adapter changed nothing"; exit 1; }
$py -c "import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]))" "$tmp/a_perm.onnx"
echo ok
