#!/usr/bin/env bash
# dwsnetd reloads never block and never die on what else a models directory holds:
# a FIFO named *.dws (opening it would wait for a writer forever), a directory, a
# socket, a dangling symlink and a symlink to a FIFO are skipped with a log line;
# a symlink to a regular model file loads. SIGTERM right after SIGHUP still drains
# and exits 0 at once, at start-up as on reload.
source "$(dirname "$0")/lib/daemon.bash"
need "$PY" mkfifo timeout

mkdir -p "$T/models" "$T/elsewhere"
make_model adapter real-adapter 48 10 3 "$T/models/adapter.dws"
make_model encoder linked-encoder 48 10 3 "$T/elsewhere/encoder.dws"
make_classifiers 6 "$T/mlp.onnx=48,16,16,10"

# A FIFO at start-up: skipped, the daemon serves the rest.
mkfifo "$T/models/a-fifo.dws"
start_daemon main "$T/models" --drain-timeout 5
check "start-up: the FIFO is skipped and logged" grep -q 'skipping .*a-fifo.dws: a FIFO' "$T/main.err"
req GET /readyz
check "start-up with a FIFO: ready" [ "$STATUS" = 200 ]

# Everything at once on reload.
mkdir "$T/models/a-directory.dws"
ln -s "$T/elsewhere/encoder.dws" "$T/models/linked.dws"
ln -s "$T/nowhere.dws" "$T/models/dangling.dws"
ln -s "$T/models/a-fifo.dws" "$T/models/fifo-link.dws"
$PY -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/models/a-socket.dws"
kill -HUP "$PID"
check "reload finishes" wait_until 10 grep -q 'reloaded: 2 model(s)' "$T/main.err"
for what in 'a-directory.dws: a directory' 'dangling.dws: No such file' 'fifo-link.dws: a FIFO' \
            'a-socket.dws: a socket'; do
  check "reload skips and logs ${what%%:*}" grep -q "skipping .*$what" "$T/main.err"
done
req GET /v1/models
check "the symlinked model loaded" grep -q linked-encoder "$T/body"
req POST /embed "${ONNX[@]}" --data-binary @"$T/mlp.onnx"
check "the symlinked encoder serves" [ "$STATUS" = 200 ]

# SIGHUP then SIGTERM at once: the reload cannot hold the signal up.
kill -HUP "$PID"; kill -TERM "$PID"
start=$SECONDS
await_daemon
check "SIGHUP + SIGTERM: exit 0 ($EXIT)" [ "$EXIT" = 0 ]
check "SIGHUP + SIGTERM: exits within 3 s ($((SECONDS - start)) s)" [ $((SECONDS - start)) -le $((3 * SLOW)) ]
finish
