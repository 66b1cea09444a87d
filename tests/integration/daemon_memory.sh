#!/usr/bin/env bash
# dwsnetd's memory: the ceiling arithmetic (--check-memory: body memory + workers x
# work memory + models + base; a limit it exceeds refuses to start; --work-memory 0
# shares out the limit), requests refused with 413 before allocating what they
# would need (the need and the limit in the detail, the largest widths in
# /v1/models), admission by body bytes (--body-memory: 503), and the peak RSS under
# two concurrent requests as large as the work memory allows staying within the
# budget.
source "$(dirname "$0")/lib/daemon.bash"
need "$PY"

mkdir -p "$T/models"
make_model encoder inr-encoder 1 1 3 "$T/models/encoder.dws"
make_model adapter wide-adapter 48 10 3 "$T/models/adapter.dws"

# The arithmetic.
plan() { "$BIN/dwsnetd" --models "$T/models" --check-memory "$@" 2>"$T/plan.err"; }
out=$(plan --workers 3 --body-memory 100M --work-memory 200M)
check "--check-memory: exit 0 without a limit" [ $? = 0 ]
check "--check-memory: ceiling = body + workers x work + models + base ($out)" $PY -c '
import json, sys
p = json.loads(sys.argv[1])
assert p["ceiling"] == p["body_memory"] + p["workers"] * p["work_memory"] + p["models"] + p["base"], p
assert (p["body_memory"], p["workers"], p["work_memory"]) == (100 << 20, 3, 200 << 20), p
assert p["models"] > 0 and p["base"] > 0 and p["fits"], p' "$out"
out=$(plan --workers 3 --body-memory 100M --work-memory 200M --memory-limit 700M)
check "--check-memory: a limit the settings exceed: exit 2" [ $? = 2 ]
check "... saying the sum" grep -q 'need up to .* more than the --memory-limit limit' "$T/plan.err"
out=$(plan --workers 2 --body-memory 100M --memory-limit 1G)
check "--work-memory 0 with a limit: the rest, shared by the workers ($out)" $PY -c '
import json, sys
p = json.loads(sys.argv[1])
rest = (1 << 30) - p["body_memory"] - p["models"] - p["base"]
assert p["work_memory_from"] == "the limit" and rest // 2 - (1 << 20) < p["work_memory"] <= rest // 2, p
assert p["ceiling"] <= 1 << 30 and p["fits"], p' "$out"
"$BIN/dwsnetd" --models "$T/models" --listen 127.0.0.1:0 --workers 4 --work-memory 300M --memory-limit 1G \
  >/dev/null 2>"$T/refused.err"
check "a daemon whose settings exceed its limit does not start (exit 2)" [ $? = 2 ]

WORK=$((96 << 20))
start_daemon main "$T/models" --workers 2 --job-threads 1 --work-memory 96M --body-memory 24M \
  --body-limit 8M --max-inflight 16
req GET /v1/models
W=$(json '[m for m in d["models"] if m["id"] == "inr-encoder"][0]["limits"]["max_hidden_width"]')
check "/v1/models: the encoder's largest hidden width within 96M ($W)" [ "$W" -gt 100 ]
check "/v1/models: work memory stated" [ "$(json 'd["models"][0]["limits"]["work_memory"]')" = $WORK ]
$PY - "$T" "$W" <<'PYEOF'
import sys
import numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto
def mlp(widths, out, dtype=np.float32):
    rng = np.random.default_rng(1)
    nodes, inits, x = [], [], "input"
    for l in range(len(widths) - 1):
        w = (rng.standard_normal((widths[l + 1], widths[l])) * 0.05).astype(dtype)
        inits += [numpy_helper.from_array(w, "w%d" % l), numpy_helper.from_array(np.zeros(widths[l + 1], dtype), "b%d" % l)]
        y = "logits" if l == len(widths) - 2 else "g%d" % l
        nodes.append(helper.make_node("Gemm", [x, "w%d" % l, "b%d" % l], [y], transB=1))
        x = y
        if l < len(widths) - 2:
            nodes.append(helper.make_node("Relu", [x], ["r%d" % l])); x = "r%d" % l
    t = TensorProto.FLOAT16 if dtype == np.float16 else TensorProto.FLOAT
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("input", t, ["N", widths[0]])],
                          [helper.make_tensor_value_info("logits", t, ["N", widths[-1]])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]); m.ir_version = 7
    onnx.save(m, out)
T, W = sys.argv[1], int(sys.argv[2])
mlp([1, W, W, 1], T + "/fits.onnx")
mlp([1, W + W // 2, W + W // 2, 1], T + "/over.onnx")
mlp([1, 300000, 1, 1], T + "/wide.onnx", np.float16)
mlp([1, 8, 8, 1], T + "/small.onnx")
PYEOF

req POST /embed "${ONNX[@]}" --data-binary @"$T/small.onnx"
check "a small request: 200" [ "$STATUS" = 200 ]
base_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$PID/status")
for what in over wide; do
  req POST /embed "${ONNX[@]}" --data-binary @"$T/$what.onnx"
  check "$what: 413 too_large" is_problem 413 too_large
  check "$what: the detail gives the need and the limit" \
    bash -c "[[ \"\$1\" =~ needs\ [0-9]+\ bytes.*the\ limit\ is\ $WORK ]]" _ "$(json 'd["detail"]')"
done
# Two requests as large as the budget allows, at once, three times over.
for round in 1 2 3; do
  for k in 1 2; do
    curl -s -m 120 "${ONNX[@]}" --data-binary @"$T/fits.onnx" -o /dev/null -w '%{http_code}\n' \
      "$URL/embed" >"$T/pair.$round.$k" &
  done
  wait_until 120 bash -c "[ \$(cat '$T'/pair.$round.* 2>/dev/null | wc -l) = 2 ]"
done
check "six requests at the budget: all 200 ($(cat "$T"/pair.* | sort | uniq -c | tr -s ' \n' ' '))" \
  bash -c "! grep -qv '^200$' '$T'/pair.*"
hwm_kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$PID/status")
bound_kb=$((base_kb + 2 * WORK / 1024 + 24 * 1024 + 32 * 1024))
[ -n "${DWSNET_SANITIZED:-}" ] && bound_kb=$((bound_kb * 3))
echo "VmHWM $hwm_kb kB, start $base_kb kB, bound start + 2 x work + body memory + 32 MiB = $bound_kb kB"
check "peak RSS $hwm_kb kB within 2 x work memory ($bound_kb kB)" [ "$hwm_kb" -le "$bound_kb" ]

# Admission by bytes: four 7 MB uploads at once do not fit 24 MB of body memory.
head -c $((7 << 20)) /dev/urandom >"$T/seven.bin"
for k in 1 2 3 4; do
  curl -s -m 60 "${ONNX[@]}" --data-binary @"$T/seven.bin" --limit-rate 3M -o "$T/up.$k.json" \
    -w '%{http_code}\n' "$URL/adapt" >"$T/up.$k" &
done
wait_until 60 bash -c "[ \$(cat '$T'/up.? 2>/dev/null | wc -l) = 4 ]"
codes=$(cat "$T"/up.? | sort | tr '\n' ' ')
check "body memory: 3 admitted (400: not ONNX), 1 shed with 503 ($codes)" [ "$codes" = "400 400 400 503 " ]
check "... the 503 names --body-memory" grep -q -- '--body-memory' "$T"/up.*.json
ceiling=$(metric dwsnetd_memory_ceiling_bytes) work_total=$(metric dwsnetd_work_memory_bytes)
body_used=$(metric dwsnetd_body_memory_used_bytes)
check "metrics: ceiling $ceiling, work memory $work_total = 2 x $WORK, body memory used $body_used" \
  bash -c "[ -n '$ceiling' ] && [ '$work_total' = $((2 * WORK)) ] && [ '$body_used' = 0 ]"
stop_daemon TERM
check "exit 0" [ "$EXIT" = 0 ]
finish
