#!/usr/bin/env bash
# Soak: N (default 10,000) /adapt and /embed requests, valid and invalid mixed, at
# concurrency 16 against one bin/dwsnetd. Fails unless: the daemon never crashes,
# answers nothing 5xx but 503, every valid /adapt answer is byte for byte what
# `dwsnet adapt` writes offline, every /embed answer equals the first one (which
# matches `dwsnet embed` within print precision), every invalid request gets a 4xx,
# and VmRSS grows less than 10% from warm-up (the first 10%) to the end.
#   bench/soak.sh            (not part of make test or make bench: minutes of load)
# Environment: N=10000 CONCURRENCY=16 D0=256 OUT=bench/out/soak.json
set -uo pipefail
cd "$(dirname "$0")/.."
N=${N:-10000}
CONCURRENCY=${CONCURRENCY:-16}
D0=${D0:-256}
OUT=${OUT:-bench/out/soak.json}
NAME=soak
. bench/lib/daemon.sh

init_model adapter soak-adapter
init_model encoder soak-encoder
$PY tests/integration/lib/make_mlp.py --seed 11 "$T/a.onnx=$D0,32,32,10" "$T/b.onnx=$D0,16,24,10" \
  "$T/wrong.onnx=48,16,16,10" --cnn "$T/cnn.onnx" || die "make_mlp.py failed"
head -c 4000 /dev/urandom >"$T/junk.bin"
head -c 700 "$T/a.onnx" >"$T/truncated.onnx"
: >"$T/empty.bin"
for m in a b; do
  "$BIN/dwsnet" adapt "$T/$m.onnx" --model "$T/models/adapter.dws" -o "$T/$m.adapted.onnx" >/dev/null \
    || die "dwsnet adapt $m failed"
done
"$BIN/dwsnet" embed "$T/a.onnx" --model "$T/models/encoder.dws" >"$T/a.embed.json" || die "dwsnet embed failed"

start_daemon

# The /embed reference: one daemon answer, checked against the offline embedding.
curl -s -m 60 -H 'Content-Type: application/octet-stream' --data-binary @"$T/a.onnx" \
  "$URL/embed" >"$T/a.embed.daemon.json"
$PY - "$T/a.embed.daemon.json" "$T/a.embed.json" <<'PYEOF' || die "/embed differs from dwsnet embed"
import json, sys
d, off = json.load(open(sys.argv[1]))["embedding"], json.load(open(sys.argv[2]))["embedding"]
assert len(d) == len(off) and all(abs(a - b) <= 1e-6 * max(1.0, abs(b)) for a, b in zip(d, off))
PYEOF

sha() { sha256sum "$1" | cut -d' ' -f1; }
oct=application/octet-stream
cat >"$T/cases.json" <<JSON
[
 {"name": "adapt a", "path": "/adapt", "body": "$T/a.onnx", "type": "$oct", "sha256": "$(sha "$T/a.adapted.onnx")"},
 {"name": "embed a", "path": "/embed", "body": "$T/a.onnx", "type": "$oct", "sha256": "$(sha "$T/a.embed.daemon.json")"},
 {"name": "adapt junk", "path": "/adapt", "body": "$T/junk.bin", "type": "$oct", "status": 400},
 {"name": "adapt b", "path": "/adapt?model=soak-adapter", "body": "$T/b.onnx", "type": "$oct", "sha256": "$(sha "$T/b.adapted.onnx")"},
 {"name": "embed wrong shape", "path": "/embed", "body": "$T/wrong.onnx", "type": "$oct", "status": 422},
 {"name": "adapt truncated", "path": "/adapt", "body": "$T/truncated.onnx", "type": "$oct", "status": 400},
 {"name": "adapt a again", "path": "/adapt", "body": "$T/a.onnx", "type": "$oct", "sha256": "$(sha "$T/a.adapted.onnx")"},
 {"name": "embed cnn", "path": "/embed", "body": "$T/cnn.onnx", "type": "$oct", "status": 422},
 {"name": "adapt unknown model", "path": "/adapt?model=nope", "body": "$T/a.onnx", "type": "$oct", "status": 404},
 {"name": "adapt json", "path": "/adapt", "body": "$T/a.onnx", "type": "application/json", "status": 415},
 {"name": "embed empty", "path": "/embed", "body": "$T/empty.bin", "type": "$oct", "status": 400}
]
JSON

echo "soak: $N requests at concurrency $CONCURRENCY against dwsnetd pid $DPID (d0 $D0) ..."
$PY bench/soak_driver.py soak "$URL" "$DPID" "$T/cases.json" "$N" "$CONCURRENCY" >"$T/result.json" \
  || die "the driver failed"
alive=1; kill -0 "$DPID" 2>/dev/null || alive=0
kill -TERM "$DPID"; wait "$DPID"; rc=$?; DPID=
$PY - "$T/result.json" "$OUT" "$alive" "$rc" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
r["daemon_alive_at_end"] = sys.argv[3] == "1"
r["daemon_exit_after_sigterm"] = int(sys.argv[4])
bad_5xx = {s: n for s, n in r["statuses"].items() if s.startswith("5") and s != "503"}
checks = {
    "no crash": r["daemon_alive_at_end"] and r["daemon_exit_after_sigterm"] == 0,
    "no 5xx but 503": not bad_5xx,
    "no connection failures": r["statuses"].get("0", 0) == 0,
    "every answer as expected": set(r["verdicts"]) <= {"ok", "shed"},
    "RSS growth < 10% after warm-up": r["rss_growth_pct"] is not None and r["rss_growth_pct"] < 10,
}
r["checks"] = checks
json.dump(r, open(sys.argv[2], "w"), indent=1)
print(json.dumps(r, indent=1))
sys.exit(0 if all(checks.values()) else 1)
PYEOF
