#!/usr/bin/env bash
# dwsnetd and non-finite numbers: a NaN, +Inf or -Inf anywhere in the weights (raw
# FLOAT, float_data, FLOAT16, DOUBLE; a DOUBLE too large for a float) is a 400
# bad_data naming the tensor and the index, on /adapt and /embed; FLOAT16 models
# with weights up to 65504 are adapted to finite FLOAT16 weights or refused with
# 422 (not_representable, or incompatible_model: weights far outside those the
# adapter was trained on), and embedded to finite numbers only.
source "$(dirname "$0")/lib/daemon.bash"
need "$PY"

test_models "$T/models"
make_classifiers 8 "$T/mlp.onnx=48,16,16,10"
$PY "$(dirname "$0")/lib/nonfinite_models.py" "$T/mlp.onnx" "$T/gen" "${DWSNET_NONFINITE_SEED:-19}" ||
  die "nonfinite_models.py failed"
start_daemon main "$T/models"

while read -r name tensor index; do
  for ep in /adapt /embed; do
    req POST $ep "${ONNX[@]}" --data-binary @"$T/gen/$name.onnx"
    detail=$(json 'd.get("detail", "")' 2>/dev/null)
    check "$ep $name: 400 bad_data naming '$tensor' index $index" \
      bash -c "[ '$STATUS' = 400 ] && [[ \"\$1\" == *\"'$tensor'\"*\"at index $index\"* ]]" _ "$detail"
  done
done <"$T/gen/bad.list"

# Finite but large: the answer is finite, or a 422 that says so.
finite_onnx() {
  $PY - "$1" <<'PYEOF'
import sys, numpy as np, onnx
from onnx import numpy_helper
m = onnx.load(sys.argv[1])
bad = sum(int((~np.isfinite(numpy_helper.to_array(t).astype(np.float64))).sum()) for t in m.graph.initializer)
assert bad == 0, "%d non-finite weights" % bad
assert all(t.data_type == onnx.TensorProto.FLOAT16 for t in m.graph.initializer), "storage type changed"
PYEOF
}
refused=0
for f in "$T"/gen/big-*.onnx; do
  name=$(basename "$f" .onnx)
  req POST /adapt "${ONNX[@]}" --data-binary @"$f"
  if [ "$STATUS" = 200 ]; then
    cp "$T/body" "$T/$name.adapted.onnx"
    check "/adapt $name: 200 with every weight a finite FLOAT16" finite_onnx "$T/$name.adapted.onnx"
  else
    refused=$((refused + 1))
    code=$(json 'd.get("code", "")' 2>/dev/null)
    [ "$code" = incompatible_model ] || code=not_representable
    check "/adapt $name: 422 $code" is_problem 422 "$code"
  fi
  req POST /embed "${ONNX[@]}" --data-binary @"$f"
  if [ "$STATUS" = 200 ]; then
    check "/embed $name: every number finite" bash -c "[ \"\$($PY -c 'import json,sys,math; d=json.load(open(sys.argv[1])); print(all(isinstance(x,(int,float)) and math.isfinite(x) for x in d[\"embedding\"]))' '$T/body')\" = True ]"
  else
    check "/embed $name: 422 not_representable" is_problem 422 not_representable
  fi
done
check "weights at 65504 do not all fit after adaptation: some /adapt refused ($refused)" [ "$refused" -ge 1 ]
req GET /healthz
check "still serving" [ "$STATUS" = 200 ]
stop_daemon TERM
check "exit 0" [ "$EXIT" = 0 ]
finish
