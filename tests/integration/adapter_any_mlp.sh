#!/usr/bin/env bash
# The shipped adapter reads the MLPs users write (issue 18; docs/design.md sections 16
# and 17): the PyTorch-exported styles of tests/fixtures/torch_styles (normalisation
# inside the graph and outside it, channels-last flatten, GELU spelt with Erf at opsets
# 13 and 17, 1 and 4 hidden layers) go through `dwsnet adapt` and POST /adapt alike (byte
# for byte); the result passes onnx.checker, runs in onnxruntime as our forward computes
# it and differs from the input; adapting a hidden-permuted copy computes the same
# function at every depth; /v1/models names the depths, activations and the frame of
# normalised inputs; what it does not read is refused saying why (sigmoid hidden layers,
# 5 hidden layers), and pixel-frame weights far from the zoo's by the weight guard.
source "$(dirname "$0")/lib/daemon.bash"
need "$PY"
F=tests/fixtures/torch_styles
model=${ADAPTER:-models/cifar10c-adapter.dws}
[ -f "$model" ] || skip "$model is absent (make pretrained builds it)"
$PY -c 'import onnx, numpy' 2>/dev/null || skip "$PY cannot import onnx and numpy"
max_depth=$($PY -c '
import sys; sys.path.insert(0, "scripts")
from dws_card import read_card
print(read_card(sys.argv[1])["signature"].get("max_depth", 0))' "$model")
[ "$max_depth" -ge 5 ] || skip "the shipped adapter reads one depth (make pretrained builds the any-MLP one)"

mkdir -p "$T/models"
cp "$model" "$T/models/"
start_daemon main "$T/models"
req GET /v1/models
check "/v1/models: depth range 2..5 and four activations" $PY - "$T/body" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
m = [e for e in d["models"] if e["id"] == "cifar10c-adapter"][0]["signature"]
assert m["depth_range"] == [2, 5], m
assert m["activations"] == ["relu", "leaky_relu", "gelu", "tanh"], m
e = [e for e in d["models"] if e["id"] == "cifar10c-adapter"][0]
assert e["normalised_inputs_read_in"] == "standardized", e
PY
# Normalisation outside the model (style d): its side file, as flags and as a query.
read -r mean std <<< "$($PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(",".join(map(str, d["input_mean"])), ",".join(map(str, d["input_std"])))' "$F/d_norm_outside.json")"

# ort_jobs MODEL SAME_AS DIFFER_FROM INPUT BATCHED: onnxruntime jobs, 4 rows at once or
# row by row for a model exported with a fixed batch of 1.
ort_jobs() {
  local model=$1 same=$2 differ=$3 x=$4 batched=$5 r
  if [ "$batched" = 1 ]; then
    printf '{"model": "%s", "same": "%s", "differ": "%s", "input": "%s", "shape": [4, 3, 32, 32], "type": "float"}\n' \
      "$model" "$same" "$differ" "$x" >> "$T/jobs.jsonl"
    return
  fi
  for r in 0 1 2 3; do
    dd if="$x" of="$T/x$r.f32" bs=12288 skip=$r count=1 status=none
    dd if="$differ" of="$T/$(basename "$model").y$r.f32" bs=40 skip=$r count=1 status=none
    printf '{"model": "%s", "same": "%s", "differ": "%s", "input": "%s", "shape": [1, 3, 32, 32], "type": "float"}\n' \
      "$model" "$same" "$T/$(basename "$model").y$r.f32" "$T/x$r.f32" >> "$T/jobs.jsonl"
  done
}

: > "$T/jobs.jsonl"
: > "$T/checked.txt"
for name in a_norm_inside b_channels_last c_gelu_opset13 c_gelu_opset17 d_norm_outside e_depth1 e_depth4; do
  src=$F/$name.onnx
  args=(); query=""; x=$F/x.f32
  if [ $name = d_norm_outside ]; then
    args=(--input-mean "$mean" --input-std "$std"); query="?input_mean=$mean&input_std=$std"; x=$F/$name.x.f32
  fi
  "$BIN/dwsnet" adapt "$src" -o "$T/$name.offline.onnx" --model "$model" "${args[@]}" > "$T/adapt.json" \
    2> "$T/adapt.err" || { bad "$name: dwsnet adapt: $(cat "$T/adapt.err")"; continue; }
  req POST "/adapt$query" -F "model=@$src"
  cp "$T/body" "$T/$name.served.onnx"
  check "$name: /adapt 200" [ "$STATUS" = 200 ]
  check "$name: /adapt equals dwsnet adapt byte for byte" cmp -s "$T/$name.served.onnx" "$T/$name.offline.onnx"
  echo "$T/$name.served.onnx" >> "$T/checked.txt"
  "$BIN/dwsnet" forward "$T/$name.offline.onnx" --input "$x" -o "$T/$name.a.f32"
  batched=0
  "$BIN/dwsnet" inspect "$src" | grep -q '^input: .*\[?, ' && batched=1
  ort_jobs "$T/$name.served.onnx" "$T/$name.offline.onnx" "$F/$name.output.f32" "$x" "$batched"
  # Equivariance end to end: a hidden-permuted copy adapts to the same function.
  $PY tests/integration/permute_hidden.py "$src" "$T/$name.perm.onnx"
  "$BIN/dwsnet" adapt "$T/$name.perm.onnx" -o "$T/$name.perm.adapted.onnx" --model "$model" "${args[@]}" > /dev/null
  "$BIN/dwsnet" forward "$T/$name.perm.adapted.onnx" --input "$x" -o "$T/$name.ap.f32"
  check "$name: a hidden-permuted copy adapts to the same function" $PY - "$T/$name.a.f32" "$T/$name.ap.f32" \
    "$F/$name.output.f32" <<'PY'
import sys
import numpy as np
a, ap, o = (np.fromfile(p, dtype="<f4") for p in sys.argv[1:4])
err = np.abs(a - ap).max() / np.abs(a).max()
assert err <= 1e-4, f"relative difference {err:.3g}"
assert np.abs(a - o).max() > 1e-3, "the adapter left the classifier unchanged"
PY
done
check "every adapted style passes onnx.checker" $PY -c '
import onnx, sys
for path in open(sys.argv[1]).read().split():
    onnx.checker.check_model(onnx.load(path), full_check=True)' "$T/checked.txt"
if [ -d tests/node/node_modules/onnxruntime-node ] && command -v node > /dev/null; then
  check "every adapted style runs in onnxruntime as offline, unlike the original" \
    node tests/node/run_ort.js --jobs "$T/jobs.jsonl"
else
  echo "onnxruntime part skipped: no node or tests/node/node_modules/onnxruntime-node"
fi

# Refusals that say why.
$PY - "$T" <<'PY'
import sys
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto
rng = np.random.default_rng(0)
def mlp(path, widths, act):
    nodes, inits, x = [], [], "x"
    for l in range(len(widths) - 1):
        w = (rng.standard_normal((widths[l + 1], widths[l])) * 0.02).astype(np.float32)
        b = np.zeros(widths[l + 1], np.float32)
        inits += [numpy_helper.from_array(w, f"W{l}"), numpy_helper.from_array(b, f"b{l}")]
        y = f"h{l}" if l + 2 < len(widths) else "y"
        nodes.append(helper.make_node("Gemm", [x, f"W{l}", f"b{l}"], [y if l + 2 == len(widths) else f"z{l}"], transB=1))
        if l + 2 < len(widths):
            nodes.append(helper.make_node(act, [f"z{l}"], [y]))
        x = y
    g = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, widths[0]])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, widths[-1]])], inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)
mlp(sys.argv[1] + "/sigmoid.onnx", [3072, 32, 32, 10], "Sigmoid")
mlp(sys.argv[1] + "/deep.onnx", [3072, 16, 16, 16, 16, 16, 10], "Relu")
PY
for c in "sigmoid|activation.*sigmoid" "deep|depth.*2 to 5" ; do
  IFS='|' read -r name pattern <<< "$c"
  if "$BIN/dwsnet" adapt "$T/$name.onnx" -o "$T/$name.out.onnx" --model "$model" 2> "$T/$name.err"; then
    bad "$name: adapted"
  else
    check "$name: incompatible_model saying why" grep -q "incompatible_model.*$pattern" "$T/$name.err"
  fi
  req POST /adapt -F "model=@$T/$name.onnx"
  check "$name: /adapt 422 incompatible_model" is_problem 422 incompatible_model
done
# Weights far from the zoo's in the frame the adapter reads them in: a pixel-frame MLP
# whose b_1 is 4 everywhere (the zoo's b_1 spread is about 0.02), as the pixel-frame twin
# of a normalised-input classifier would be.
$PY - "$T/far.onnx" <<'PY'
import sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
rng = np.random.default_rng(3)
widths = [3072, 32, 32, 10]
nodes, inits, x = [], [], "x"
for l in range(3):
    w = (rng.standard_normal((widths[l + 1], widths[l])) * 0.02).astype(np.float32)
    b = np.full(widths[l + 1], 4.0 if l == 0 else 0.0, dtype=np.float32)
    inits += [numpy_helper.from_array(w, f"W{l}"), numpy_helper.from_array(b, f"b{l}")]
    nodes.append(helper.make_node("Gemm", [x, f"W{l}", f"b{l}"], [f"h{l}"], transB=1))
    x = f"h{l}"
    if l < 2:
        nodes.append(helper.make_node("Relu", [x], [f"r{l}"]))
        x = f"r{l}"
g = helper.make_graph(nodes, "far", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3072])],
                      [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, 10])], inits)
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), sys.argv[1])
PY
if "$BIN/dwsnet" adapt "$T/far.onnx" -o "$T/n.onnx" --model "$model" 2> "$T/n.err"; then
  bad "pixel-frame weights far from the zoo's were adapted"
else
  check "pixel-frame weights far out: refused by the weight guard" grep -q 'incompatible_model.*(weights)' "$T/n.err"
fi
finish
