#!/usr/bin/env bash
# dwsnetd and slow clients: a slow upload never holds the only worker, an idle or
# stalled connection is closed after --timeout, and a body that trickles in for longer
# than --request-timeout is cut off.
source "$(dirname "$0")/lib/daemon.bash"
need "$PY" timeout

mkdir -p "$T/models"
make_model adapter slow-adapter 48 10 3 "$T/models/adapter.dws"
make_classifiers 6 "$T/mlp.onnx=48,16,16,10"
start_daemon main "$T/models" --workers 1 --timeout 2 --request-timeout 4

# A client uploading at 1 KB/s (about 5 s for this body) ...
curl -s -m 30 "${ONNX[@]}" --data-binary @"$T/mlp.onnx" --limit-rate 1K -o /dev/null \
  -w '%{http_code}' "$URL/adapt" >"$T/slow.status" &
slow=$!
sleep 0.5
# ... does not stop the only worker from serving others at once.
start=$(date +%s%N)
req POST /adapt "${ONNX[@]}" --data-binary @"$T/mlp.onnx"
took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "fast request during a slow upload: 200" [ "$STATUS" = 200 ]
check "fast request during a slow upload: not held up (${took_ms} ms)" [ "$took_ms" -lt $((2000 * SLOW)) ]
wait_until 30 bash -c "! kill -0 $slow 2>/dev/null"
check "the slow upload (5 s, never idle 2 s) is cut at --request-timeout 4 s" \
  [ "$(cat "$T/slow.status")" = 000 ]

# Stalled headers: the connection is closed after --timeout seconds of silence.
$PY - "$PORT" <<'PYEOF' >"$T/stalled"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /adapt HTTP/1.1\r\nHost: x\r\n")   # and then nothing
s.settimeout(15)
t0 = time.time()
try:
    data = s.recv(1)
    print("closed" if data == b"" else "data", round(time.time() - t0, 1))
except socket.timeout:
    print("open", round(time.time() - t0, 1))
PYEOF
read -r state after <"$T/stalled"
check "stalled headers: connection closed (${state} after ${after} s)" [ "$state" = closed ]
check "stalled headers: after about --timeout" $PY -c "import sys; sys.exit(not 1.5 <= $after <= 8)"

req GET /healthz
check "still healthy" [ "$STATUS" = 200 ]
stop_daemon TERM
check "exit 0" [ "$EXIT" = 0 ]
finish
