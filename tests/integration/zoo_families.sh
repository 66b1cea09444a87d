#!/usr/bin/env bash
# A tiny any-mlp zoo on real CIFAR-10 (issue 18): `dwsnet zoo --family any-mlp` writes
# entries of 1 to 4 hidden layers with relu, leaky_relu (slope 0.01), gelu and tanh,
# records depth and activation, keeps its lists in zoo.json; every entry passes
# onnx.checker (full_check) and onnxruntime computes what dwsnet's forward computes;
# `inspect` reads each depth and activation back. Entries 0-7 of seed 0 cover every
# depth and every activation (what is drawn does not depend on --epochs/--subsets).
set -euo pipefail
BIN=${BIN:-bin}
D=$BIN/dwsnet
py=/usr/bin/python3
. tests/integration/lib/needs.bash
need_cifar
need_python onnx numpy
need_ort
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$D" zoo --family any-mlp --out "$tmp/zoo" --data "$data" --count 8 --epochs 1 --subsets 500 --jobs 2 \
  > "$tmp/run.json" 2> /dev/null
grep -q '"built":8' "$tmp/run.json" || fail "zoo run: $(cat "$tmp/run.json")"
# A rerun with no flags keeps the zoo's own settings; another family is refused.
"$D" zoo --out "$tmp/zoo" --data "$data" > /dev/null 2>&1 || fail "a rerun without flags was refused"
! "$D" zoo --out "$tmp/zoo" --data "$data" --family default 2> "$tmp/err" > /dev/null ||
  fail "another family was accepted"
grep -q "'hidden_layers'" "$tmp/err" || fail "refusal does not name hidden_layers: $(cat "$tmp/err")"

# Records, zoo.json and onnx.checker; 4 input rows; one line per entry: file depth activation.
$py - "$tmp/zoo" "$tmp/x.f32" > "$tmp/entries.txt" <<'PY'
import json, sys
import numpy as np
import onnx
zoo, xpath = sys.argv[1:3]
spec = json.load(open(f"{zoo}/zoo.json"))
assert spec["hidden_layers"] == [1, 2, 3, 4], spec
assert spec["activations"] == ["relu", "leaky_relu", "gelu", "tanh"], spec
assert spec["leaky_relu_slope"] == 0.01, spec
depths, acts = set(), set()
for line in open(f"{zoo}/index.jsonl"):
    e = json.loads(line)
    assert e["depth"] == len(e["widths"]) - 1, e
    assert e["recipe"].get("activation", "relu") == e["activation"], e
    m = onnx.load(f"{zoo}/{e['file']}")
    onnx.checker.check_model(m, full_check=True)
    assert [o.version for o in m.opset_import] == [13] and m.ir_version == 7
    meta = {p.key: p.value for p in m.metadata_props}
    assert json.loads(meta["dwsnet.recipe"]) == e["recipe"], (meta, e)
    if e["activation"] == "leaky_relu":
        alphas = [a.f for n in m.graph.node if n.op_type == "LeakyRelu" for a in n.attribute if a.name == "alpha"]
        assert len(alphas) == e["depth"] - 1 and all(abs(a - 0.01) < 1e-9 for a in alphas), alphas
    depths.add(e["depth"]); acts.add(e["activation"])
    print(e["file"], e["depth"], e["activation"])
assert depths == {2, 3, 4, 5}, depths
assert acts == {"relu", "leaky_relu", "gelu", "tanh"}, acts
np.random.default_rng(3).integers(0, 256, (4, 3072)).astype(np.float32).__truediv__(255).tofile(xpath)
PY
[ "$(wc -l < "$tmp/entries.txt")" = 8 ] || fail "index: $(cat "$tmp/entries.txt")"

while read -r file depth act; do
  name=$(basename "$file" .onnx)
  "$D" inspect "$tmp/zoo/$file" > "$tmp/inspect.txt"
  want="activations: " shown=$act
  [ "$act" = leaky_relu ] && shown="leaky_relu(0.01)"
  for _ in $(seq 2 "$depth"); do want="$want $shown,"; done
  grep -qx "$want identity" "$tmp/inspect.txt" ||
    fail "$file: inspect says $(grep activations "$tmp/inspect.txt"), not '$want identity'"
  "$D" forward "$tmp/zoo/$file" --input "$tmp/x.f32" -o "$tmp/$name.c.f32"
  printf '{"model": "%s", "close": "%s", "rtol": 1e-5, "input": "%s", "shape": [4, 3072], "type": "float"}\n' \
    "$tmp/zoo/$file" "$tmp/$name.c.f32" "$tmp/x.f32" >> "$tmp/jobs.jsonl"
done < "$tmp/entries.txt"
node tests/node/run_ort.js --jobs "$tmp/jobs.jsonl"
echo "8 any-mlp entries (depths 2-5; relu, leaky_relu, gelu, tanh): checker and onnxruntime agree"
