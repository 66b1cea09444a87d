#!/usr/bin/env bash
# dwsnetd: /healthz, /readyz, /v1/models, /metrics, HEAD, 404, 405 (+Allow),
# X-Request-Id handling and the JSON-lines access log.
source "$(dirname "$0")/lib/daemon.bash"
need "$PY"

mkdir -p "$T/models"
make_model adapter test-adapter 48 10 3 "$T/models/adapter.dws"
make_model encoder test-encoder 48 10 3 "$T/models/encoder.dws"
make_classifiers 1 "$T/mlp.onnx=48,16,16,10"
start_daemon main "$T/models"

req GET /healthz
check "healthz 200" [ "$STATUS" = 200 ]
check "healthz says ok" [ "$(json 'd["status"]')" = ok ]
check "every response has an X-Request-Id" [ -n "$(header X-Request-Id)" ]

req GET /readyz
check "readyz 200 with models loaded" [ "$STATUS" = 200 ]
check "readyz counts 2 models" [ "$(json 'd["models"]')" = 2 ]

req GET /v1/models
check "v1/models 200 json" [ "$STATUS" = 200 ]
check "v1/models content type" [ "$(header Content-Type)" = application/json ]
check "v1/models lists both models with signature and card fields" $PY - "$T/body" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
by_id = {m["id"]: m for m in d["models"]}
assert set(by_id) == {"test-adapter", "test-encoder"}, by_id.keys()
assert by_id["test-adapter"]["kind"] == "adapter" and by_id["test-encoder"]["kind"] == "encoder"
for m in by_id.values():
    s = m["signature"]
    assert (s["d0"], s["dL"], s["depth"], s["activation"]) == (48, 10, 3, "relu"), s
    assert len(s["width_range"]) == 2 and s["width_range"][0] <= s["width_range"][1], s
    for k in ("input_convention", "input_normalisation", "target_domain", "metrics", "file"):
        assert k in m, k
PYEOF

req GET /metrics
check "metrics 200" [ "$STATUS" = 200 ]
check "metrics is Prometheus text" grep -q '^text/plain; version=0.0.4' <<<"$(header Content-Type)"
check "metrics parse as exposition format" $PY - "$T/body" <<'PYEOF'
import re, sys
sample = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? -?[0-9.e+Inf]+$')
names = set()
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("#"):
        assert re.match(r"^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+", line), line
        continue
    assert sample.match(line), line
    names.add(line.split("{")[0].split(" ")[0])
need = {"dwsnetd_requests_total", "dwsnetd_request_duration_seconds_bucket",
        "dwsnetd_request_duration_seconds_sum", "dwsnetd_request_duration_seconds_count",
        "dwsnetd_inflight_requests", "dwsnetd_queued_jobs", "dwsnetd_model_info",
        "dwsnetd_build_info"}
assert need <= names, need - names
PYEOF
check "metrics count the earlier requests" [ "$(metric 'dwsnetd_requests_total{endpoint="/healthz",status="200"}')" = 1 ]
check "metrics list the adapter" grep -q 'dwsnetd_model_info{id="test-adapter",kind="adapter",d0="48",dL="10",depth="3",activation="relu"} 1' "$T/body"

STATUS=$(curl -s -m 10 -I -o "$T/headers" -w '%{http_code}' "$URL/healthz")
check "HEAD /healthz 200" [ "$STATUS" = 200 ]

req GET /nope
check "unknown path 404 problem" is_problem 404 not_found
req GET /adapt
check "GET /adapt 405" is_problem 405 method_not_allowed
check "405 carries Allow: POST" [ "$(header Allow)" = POST ]
req POST /healthz
check "POST /healthz 405" is_problem 405 method_not_allowed
check "405 carries Allow: GET, HEAD" [ "$(header Allow)" = "GET, HEAD" ]
req DELETE /v1/models
check "DELETE /v1/models 405" is_problem 405 method_not_allowed

req GET /nope -H 'X-Request-Id: trace-abc.123'
check "X-Request-Id echoed" [ "$(header X-Request-Id)" = trace-abc.123 ]
check "request id in the problem body" [ "$(json 'd["request_id"]')" = trace-abc.123 ]
req GET /healthz -H 'X-Request-Id: has spaces and "quotes"'
check "unsafe X-Request-Id replaced by a generated one" grep -Eq '^[0-9a-f]{32}$' <<<"$(header X-Request-Id)"

req POST /adapt "${ONNX[@]}" --data-binary @"$T/mlp.onnx" -H 'X-Request-Id: adapt-1'
check "adapt 200 (for the access log)" [ "$STATUS" = 200 ]
sleep 0.2
check "access log is JSON lines with the request's fields" $PY - "$T/main.out" <<'PYEOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(lines) >= 10, len(lines)
by_id = {l["request_id"]: l for l in lines}
a = by_id["adapt-1"]
assert (a["method"], a["path"], a["status"], a["model"]) == ("POST", "/adapt", 200, "test-adapter"), a
assert a["bytes"] > 0 and a["bytes_in"] > 0 and a["latency_ms"] >= 0, a
t = by_id["trace-abc.123"]
assert (t["path"], t["status"], t["code"]) == ("/nope", 404, "not_found"), t
PYEOF

stop_daemon TERM
check "SIGTERM when idle: exit 0" [ "$EXIT" = 0 ]
finish
