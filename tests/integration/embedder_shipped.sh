#!/usr/bin/env bash
# The shipped encoders: their cards (encoder, the architecture they read, how they
# were trained, probe results that meet the invariance target) and their
# invariance end to end: `dwsnet embed` on an ONNX classifier and on a copy with
# permuted hidden neurons (python3-onnx) gives the same embedding (1e-5 relative).
# `dwsnet embed` without --model uses the CIFAR-10 encoder.
set -euo pipefail
BIN=${BIN:-bin}
D=$BIN/dwsnet
py=/usr/bin/python3
tools=tests/integration/embedder_tools.py
cifar=models/cifar10-embedder.dws
sine=models/sine-inr-embedder.dws
[ -f "$cifar" ] || [ -f "$sine" ] || { echo "skipped: no shipped encoder ($cifar, $sine)"; exit 77; }
if ! $py -c 'import onnx, numpy' 2>/dev/null; then echo "skipped: /usr/bin/python3 cannot import onnx and numpy"; exit 77; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "$*"; exit 1; }

check_card() {   # check_card MODEL ID D0 DL
  $py $tools card "$1" > "$tmp/card.json"
  $py - "$tmp/card.json" "$2" "$3" "$4" <<'PY' || fail "card of $1 is incomplete"
import json, sys
c = json.load(open(sys.argv[1]))
assert c["id"] == sys.argv[2], c["id"]
assert c["kind"] == "encoder"
a = json.dumps(c)
assert str(int(sys.argv[3])) in a and str(int(sys.argv[4])) in a
t = c["training"]
assert t["objective"].startswith("NT-Xent") and t["train_networks"] > 0 and t["steps"] > 0
p = c["probe"]
assert p["invariance_max_relative_change"] <= 1e-5
assert p["targets"]["invariance_1e-5"] is True
for row in p["probes"]:
    for s in ("embedding", "weight_stats", "flat_pca"):
        assert "test_r2" in row[s], row
PY
}

invariant() {   # invariant MODEL ONNX
  $py tests/integration/permute_hidden.py "$2" "$tmp/perm.onnx" 11
  "$D" embed "$2" --model "$1" > "$tmp/a.json"
  "$D" embed "$tmp/perm.onnx" --model "$1" > "$tmp/b.json"
  $py $tools close "$tmp/a.json" "$tmp/b.json" 1e-5 > /dev/null || fail "$1: embedding changed under a permutation"
}

if [ -f "$cifar" ]; then
  check_card "$cifar" cifar10-embedder 3072 10
  invariant "$cifar" tests/fixtures/cifar_mlp.onnx
  "$D" embed tests/fixtures/cifar_mlp.onnx | grep -q '"model":"cifar10-embedder"' || fail "embed does not default to $cifar"
fi
if [ -f "$sine" ]; then
  check_card "$sine" sine-inr-embedder 1 1
  "$D" inr-zoo --count 1 --steps 50 --out "$tmp/inr" > /dev/null 2>&1
  invariant "$sine" "$tmp/inr/models/000000.onnx"
fi
echo "shipped encoders ok"
