#!/usr/bin/env bash
# Overload: measures the sustainable /adapt rate of one bin/dwsnetd (closed loop), then
# offers half of it (baseline), four times it (overload) and half again (recovery),
# open loop. Fails unless under overload the daemon sheds with 503 + Retry-After and
# nothing else fails, the p99 latency of accepted requests stays within what the
# queue allows, and right after the overload no request is shed and p99 is back near
# the baseline.
#   bench/overload.sh        (not part of make test or make bench)
# Environment: D0=3072 WORKERS=2 QUEUE=8 PHASE_S=15 OUT=bench/out/overload.json
set -uo pipefail
cd "$(dirname "$0")/.."
D0=${D0:-3072}
WORKERS=${WORKERS:-2}
QUEUE=${QUEUE:-8}
PHASE_S=${PHASE_S:-15}
OUT=${OUT:-bench/out/overload.json}
NAME=overload
. bench/lib/daemon.sh

init_model adapter load-adapter
$PY tests/integration/lib/make_mlp.py --seed 12 "$T/a.onnx=$D0,32,32,10" || die "make_mlp.py failed"
"$BIN/dwsnet" adapt "$T/a.onnx" --model "$T/models/adapter.dws" -o "$T/a.adapted.onnx" >/dev/null \
  || die "dwsnet adapt failed"
cat >"$T/cases.json" <<JSON
[{"name": "adapt", "path": "/adapt", "body": "$T/a.onnx", "type": "application/octet-stream",
  "sha256": "$(sha256sum "$T/a.adapted.onnx" | cut -d' ' -f1)"}]
JSON

start_daemon --workers "$WORKERS" --queue-length "$QUEUE"
drive() { $PY bench/soak_driver.py "$@" || die "the driver failed"; }

echo "overload: capacity (closed loop, concurrency $((2 * WORKERS)))"
drive soak "$URL" "$DPID" "$T/cases.json" 300 $((2 * WORKERS)) >"$T/capacity.json"
capacity=$($PY -c 'import json,sys; r=json.load(open(sys.argv[1])); print(round(r["requests"] / r["seconds"], 2))' "$T/capacity.json")
low=$($PY -c "print($capacity * 0.5)")
high=$($PY -c "print($capacity * 4)")
echo "overload: sustainable ~$capacity req/s; baseline $low, overload $high, recovery $low req/s, $PHASE_S s each"
drive rate "$URL" "$DPID" "$T/cases.json" "$low" "$PHASE_S" 64 >"$T/baseline.json"
drive rate "$URL" "$DPID" "$T/cases.json" "$high" "$PHASE_S" 128 >"$T/overload.json"
drive rate "$URL" "$DPID" "$T/cases.json" "$low" "$PHASE_S" 64 >"$T/recovery.json"
alive=1; kill -0 "$DPID" 2>/dev/null || alive=0
kill -TERM "$DPID"; wait "$DPID"; rc=$?; DPID=

$PY - "$T" "$OUT" "$capacity" "$WORKERS" "$QUEUE" "$alive" "$rc" <<'PYEOF'
import json, sys
t, out = sys.argv[1], sys.argv[2]
capacity, workers, queue = float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
r = {p: json.load(open("%s/%s.json" % (t, p))) for p in ("capacity", "baseline", "overload", "recovery")}
r["sustainable_rps"] = capacity
r["config"] = {"workers": workers, "queue_length": queue}
# An accepted request waits at most for the full queue ahead of it, served `workers`
# at a time, then for its own run: (queue + workers) / capacity seconds. Allow 2x.
bound_ms = max(2e3 * (queue + workers) / capacity, 2 * r["baseline"]["p99_ms"])
r["overload_p99_bound_ms"] = round(bound_ms, 1)
ov, rec, base = r["overload"], r["recovery"], r["baseline"]
checks = {
    "no crash": sys.argv[6] == "1" and sys.argv[7] == "0",
    "baseline: nothing shed": base["shed_503"] == 0 and base["other"] == 0,
    "overload: sheds with 503": ov["shed_503"] > 0,
    "overload: every 503 has Retry-After": ov["shed_without_retry_after"] == 0,
    "overload: nothing but 200 and 503": ov["other"] == 0,
    "overload: accepted p99 within bound": ov["p99_ms"] is not None and ov["p99_ms"] <= bound_ms,
    "overload: still serving near capacity": ov["accepted_rps"] >= 0.5 * capacity,
    "recovery: nothing shed": rec["shed_503"] == 0 and rec["other"] == 0,
    "recovery: p99 back near baseline": rec["p99_ms"] <= 2 * base["p99_ms"] + 50,
}
r["checks"] = checks
json.dump(r, open(out, "w"), indent=1)
for p in ("baseline", "overload", "recovery"):
    x = r[p]
    print("%-9s offered %6.1f/s  accepted %6.1f/s  shed %5d  other %d  p50 %s ms  p99 %s ms  max %s ms  Retry-After %s"
          % (p, x["offered_rps"], x["accepted_rps"], x["shed_503"], x["other"], x["p50_ms"], x["p99_ms"],
             x["max_ms"], ",".join(x["retry_after"]) or "-"))
print("overload p99 bound %.0f ms" % bound_ms)
for k, v in checks.items():
    print(("ok   " if v else "FAIL ") + k)
sys.exit(0 if all(checks.values()) else 1)
PYEOF
