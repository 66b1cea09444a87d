#!/usr/bin/env bash
# dwsnetd under load: 32 concurrent clients are all answered 200 or 503 (with
# Retry-After) -- no reset connection, no other status; SIGTERM during load loses
# no accepted request and exits 0.
source "$(dirname "$0")/lib/daemon.bash"
need "$PY"

mkdir -p "$T/models"
make_model adapter load-adapter 3072 10 3 "$T/models/adapter.dws"
make_classifiers 4 "$T/mlp.onnx=3072,64,64,10"

# parallel N PATH [CURL ARGS]: N simultaneous POSTs from one curl; one line per
# transfer in $T/parallel: "STATUS CURL_EXIT RETRY_AFTER".
parallel() {
  local n=$1 path=$2; shift 2
  curl -s --no-progress-meter -Z --parallel-immediate --parallel-max "$n" -m $((120 * SLOW)) "${ONNX[@]}" \
    --data-binary @"$T/mlp.onnx" "$@" -o "$T/out_#1" \
    -w '%{http_code} %{exitcode} %header{retry-after}\n' "$URL$path?n=[1-$n]" >"$T/parallel"
}

# 1. Enough queue for everyone: 32 concurrent clients, all 200.
start_daemon roomy "$T/models"
parallel 32 /adapt
check "32 clients, default queue: 32 answers" [ "$(wc -l <"$T/parallel")" = 32 ]
check "32 clients, default queue: all 200, no transport error" \
  [ "$(grep -c '^200 0 ' "$T/parallel")" = 32 ]
check "all 32 answers are the same model" bash -c "[ \$(md5sum '$T'/out_* | cut -d' ' -f1 | sort -u | wc -l) = 1 ]"
stop_daemon TERM
check "exit 0" [ "$EXIT" = 0 ]

# 2. One worker, one queue place: most of 32 simultaneous clients are refused.
start_daemon tight "$T/models" --workers 1 --queue-length 1
parallel 32 /adapt
sort "$T/parallel" | uniq -c | sed 's/^/  /'
check "tight: 32 answers" [ "$(wc -l <"$T/parallel")" = 32 ]
check "tight: every answer is 200 or 503, no transport error" \
  bash -c "! grep -Ev '^(200 0 |503 0 [0-9]+)' '$T/parallel'"
check "tight: some 200" grep -q '^200 0' "$T/parallel"
check "tight: some 503 with Retry-After" grep -Eq '^503 0 [0-9]+$' "$T/parallel"
req POST /adapt "${ONNX[@]}" --data-binary @"$T/mlp.onnx"
check "tight: serves again once the burst is over" [ "$STATUS" = 200 ]
overloaded=$(metric 'dwsnetd_requests_total{endpoint="/adapt",status="503"}')
check "tight: metrics count the 503s ($overloaded)" [ "${overloaded:-0}" -ge 1 ]
stop_daemon TERM

# 3. --max-inflight: while 2 slow uploads are in flight a third request is refused at
# once, before its body is stored; GET endpoints are not counted.
start_daemon inflight "$T/models" --max-inflight 2
size=$(stat -c %s "$T/mlp.onnx")
parallel 2 /adapt --limit-rate $((size / 2)) &
clients=$!
check "inflight: 2 slow uploads admitted" \
  wait_until 20 bash -c "[ \"\$(curl -s -m 5 '$URL/metrics' | awk '\$1 == \"dwsnetd_inflight_requests\" {print \$2}')\" = 2 ]"
req POST /adapt "${ONNX[@]}" --data-binary @"$T/mlp.onnx"
check "inflight: a third request gets 503 overloaded" is_problem 503 overloaded
check "inflight: with Retry-After" grep -Eq '^[0-9]+$' <<<"$(header Retry-After)"
req GET /readyz
check "inflight: GET endpoints still answer" [ "$STATUS" = 200 ]
wait_until 30 bash -c "! kill -0 $clients 2>/dev/null"
check "inflight: the 2 slow uploads got 200" [ "$(grep -c '^200 0 ' "$T/parallel")" = 2 ]
req POST /adapt "${ONNX[@]}" --data-binary @"$T/mlp.onnx"
check "inflight: admitted again afterwards" [ "$STATUS" = 200 ]
stop_daemon TERM

# 4. SIGTERM while 8 clients are still uploading (slowly) and queued: all answered.
start_daemon drain "$T/models" --workers 1 --queue-length 64
rate=$((size / 2))   # each upload takes about 2 s
parallel 8 /adapt --limit-rate "$rate" &
clients=$!
check "drain: 8 requests in flight before SIGTERM" \
  wait_until 20 bash -c "[ \"\$(curl -s -m 5 '$URL/metrics' | awk '\$1 == \"dwsnetd_inflight_requests\" {print \$2}')\" = 8 ]"
kill -TERM "$PID"
sleep 0.3
curl -s -m 5 -o /dev/null "$URL/healthz"
check "drain: new connections are refused after SIGTERM" [ $? = 7 ]
wait_until 60 bash -c "! kill -0 $clients 2>/dev/null" || bad "drain: clients did not finish"
sort "$T/parallel" | uniq -c | sed 's/^/  /'
check "drain: all 8 accepted requests answered 200" [ "$(grep -c '^200 0 ' "$T/parallel")" = 8 ]
await_daemon
check "drain: exits by itself, status 0" [ "$EXIT" = 0 ]
check "drain: logged the drain" grep -q 'SIGTERM: draining' "$T/drain.err"
finish
