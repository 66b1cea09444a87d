#!/usr/bin/env bash
# dwsnetd resource ceilings: hostile request bodies (unbacked dims, a huge initializer,
# long and cyclic graphs, deep protobuf nesting, multipart tricks, oversized headers)
# get a 4xx and never a crash or a 5xx, concurrent near-limit uploads past
# --max-inflight are shed with 503, slow uploaders holding every slot are cut off at
# --request-timeout and the daemon serves at once after that; through all of it the
# daemon's peak RSS (VmHWM) stays under a bound derived from its configuration.
source "$(dirname "$0")/lib/daemon.bash"
need "$PY" timeout

BODY_LIMIT=$((2 * 1024 * 1024))
INFLIGHT=6
WORKERS=2
mkdir -p "$T/models"
make_model adapter ceil-adapter 48 10 3 "$T/models/adapter.dws"
make_classifiers 4 "$T/mlp.onnx=48,16,16,10"
$PY "$(dirname "$0")/lib/hostile_inputs.py" "$T/mlp.onnx" "$T/hostile" "$BODY_LIMIT" ||
  die "hostile_inputs.py failed"
start_daemon main "$T/models" --body-limit "$BODY_LIMIT" --max-inflight "$INFLIGHT" \
  --workers "$WORKERS" --queue-length 2 --timeout 3 --request-timeout 5

hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$PID/status"; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$PID/status"; }
alive() { kill -0 "$PID" 2>/dev/null; }

req POST /adapt "${ONNX[@]}" --data-binary @"$T/mlp.onnx"
check "a valid model first: 200" [ "$STATUS" = 200 ]
base_kb=$(rss_kb)
model_kb=$(( $(stat -c %s "$T/models/adapter.dws") / 1024 ))

# client_error: 4xx with a problem body, daemon still up.
client_error() {
  [[ "$STATUS" =~ ^4[0-9][0-9]$ ]] || { echo "  status $STATUS: $(head -c 300 "$T/body")"; return 1; }
  alive || { echo "  the daemon died"; return 1; }
}
for f in "$T"/hostile/*.onnx; do
  name=$(basename "$f" .onnx)
  req POST /adapt "${ONNX[@]}" --data-binary @"$f"
  if [ "$name" = huge_initializer ]; then   # a valid model with an unused tensor, within the limit
    check "$name: adapted ($STATUS)" [ "$STATUS" = 200 ]
  else
    check "$name: 4xx ($STATUS $(json 'd.get("code")' 2>/dev/null))" client_error
  fi
done
for f in "$T"/hostile/*.multipart; do
  name=$(basename "$f" .multipart)
  req POST /adapt -H "Content-Type: multipart/form-data; boundary=$(cat "${f%.multipart}.boundary")" \
    --data-binary @"$f"
  check "$name: 4xx or the model adapted ($STATUS), never 5xx" \
    bash -c "[[ '$STATUS' =~ ^(4..|200)$ ]] && kill -0 $PID"
done
# Headers: one huge header line, and very many headers.
req POST /adapt "${ONNX[@]}" -H "X-Big: $(head -c 100000 /dev/zero | tr '\0' a)" \
  --data-binary @"$T/mlp.onnx"
check "a 100 KB header line: 4xx ($STATUS)" client_error
many=(); for i in $(seq 3000); do many+=(-H "X-H$i: v"); done
req POST /adapt "${ONNX[@]}" "${many[@]}" --data-binary @"$T/mlp.onnx"
check "3000 headers: 4xx ($STATUS)" client_error
req POST "/adapt?model=$(head -c 100000 /dev/zero | tr '\0' m)" "${ONNX[@]}" --data-binary @"$T/mlp.onnx"
check "a 100 KB query string: 4xx ($STATUS)" client_error
req POST /adapt "${ONNX[@]}" -H "Content-Length: $((BODY_LIMIT + 1))" --data-binary @"$T/mlp.onnx"
check "Content-Length over the limit: 413" [ "$STATUS" = 413 ]

# Twice --max-inflight near-limit uploads at once: the extra ones are shed with 503.
head -c $((BODY_LIMIT - 4096)) /dev/urandom >"$T/near_limit.bin"
clients=()
for i in $(seq $((2 * INFLIGHT))); do
  curl -s -m 60 "${ONNX[@]}" --data-binary @"$T/near_limit.bin" --limit-rate 1M -o /dev/null \
    -w '%{http_code}\n' "$URL/adapt" >"$T/burst.$i" &
  clients+=($!)
done
wait "${clients[@]}"   # (a plain wait would wait for the daemon too)
codes=$(cat "$T"/burst.* | sort | uniq -c | tr -s ' \n' ' ')
check "near-limit burst: only 400 and 503 ($codes)" \
  bash -c "! cat $T/burst.* | grep -qvE '^(400|503)$'"
check "near-limit burst: some shed with 503 ($codes)" grep -q 503 "$T"/burst.*

# Slow uploaders fill every slot: new requests are shed with 503 + Retry-After, and
# once --request-timeout cuts the uploaders off the daemon serves at once.
clients=()
for i in $(seq "$INFLIGHT"); do
  curl -s -m 30 "${ONNX[@]}" --data-binary @"$T/mlp.onnx" --limit-rate 500 -o /dev/null \
    "$URL/adapt" &
  clients+=($!)
done
sleep 1
req POST /adapt "${ONNX[@]}" --data-binary @"$T/mlp.onnx"
check "every slot held by a slow uploader: 503" [ "$STATUS" = 503 ]
check "... with Retry-After" [ -n "$(header Retry-After)" ]
wait "${clients[@]}"
req POST /adapt "${ONNX[@]}" --data-binary @"$T/mlp.onnx"
check "the slow uploaders were cut off: the next request gets 200" [ "$STATUS" = 200 ]

# Peak memory: what the admitted bodies may hold, plus each worker's decode budget
# (the codec charges protobuf-c at most 4x the input + 16 MiB) and its output, plus
# the model and a fixed allowance for threads and libraries.
hwm=$(hwm_kb)
limit_kb=$((BODY_LIMIT / 1024))
bound_kb=$((base_kb + model_kb + INFLIGHT * limit_kb + WORKERS * (6 * limit_kb + 16 * 1024) + 64 * 1024))
[ -n "${DWSNET_SANITIZED:-}" ] && bound_kb=$((bound_kb * 3))   # ASan's shadow and quarantine
echo "VmHWM ${hwm} kB (start ${base_kb} kB), bound ${bound_kb} kB"
check "peak RSS ${hwm} kB <= bound ${bound_kb} kB" [ "$hwm" -le "$bound_kb" ]
req GET /healthz
check "still healthy" [ "$STATUS" = 200 ]
stop_daemon TERM
check "exit 0" [ "$EXIT" = 0 ]
finish
