#!/usr/bin/env bash
# dwsnetd under valgrind memcheck: valid and invalid requests of every endpoint, then
# SIGTERM. Passes with zero memcheck errors and zero definitely lost bytes. Skipped in
# sanitized builds (ASan and valgrind do not mix); `make test` runs it.
source "$(dirname "$0")/lib/daemon.bash"
[ -n "${DWSNET_SANITIZED:-}" ] && skip "valgrind cannot run an ASan build"
need "$PY" valgrind

mkdir -p "$T/models"
make_model adapter vg-adapter 48 10 3 "$T/models/adapter.dws"
make_model encoder vg-encoder 48 10 3 "$T/models/encoder.dws"
make_classifiers 9 "$T/mlp.onnx=48,16,16,10" "$T/wide.onnx=32,16,10"
head -c 3000 /dev/urandom >"$T/junk.bin"

# Under valgrind everything is ~30x slower: a long start-up wait, small models.
VG_LOG=$T/valgrind.log
real_bin=$BIN
mkdir -p "$T/vgbin"
cat >"$T/vgbin/dwsnetd" <<SH
#!/bin/sh
exec valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
  --show-leak-kinds=definite --num-callers=30 --log-file="$VG_LOG" "$PWD/$real_bin/dwsnetd" "\$@"
SH
chmod +x "$T/vgbin/dwsnetd"
ln -s "$PWD/$real_bin/dwsnet" "$T/vgbin/dwsnet"
BIN=$T/vgbin SLOW=20 start_daemon vg "$T/models" --workers 2 --timeout 20
SLOW=20

expect() {  # expect STATUS DESCRIPTION
  check "$2: $1" [ "$STATUS" = "$1" ]
}
req GET /healthz;                  expect 200 "healthz"
req GET /readyz;                   expect 200 "readyz"
req GET /v1/models;                expect 200 "models"
req HEAD /v1/models -I;            expect 200 "HEAD models"
req GET /metrics;                  expect 200 "metrics"
req GET /nowhere;                  expect 404 "unknown path"
req DELETE /adapt;                 expect 405 "wrong method"
req POST /adapt "${ONNX[@]}" --data-binary @"$T/mlp.onnx";                     expect 200 "adapt octet-stream"
req POST '/adapt?model=vg-adapter' -F "model=@$T/mlp.onnx";                    expect 200 "adapt multipart"
req POST /adapt "${ONNX[@]}" --data-binary @"$T/junk.bin";                     expect 400 "adapt junk"
req POST /adapt "${ONNX[@]}" --data-binary @"$T/wide.onnx";                    expect 422 "adapt wrong shape"
req POST '/adapt?model=nope' "${ONNX[@]}" --data-binary @"$T/mlp.onnx";        expect 404 "adapt unknown model"
req POST /adapt -H 'Content-Type: application/json' --data-binary '{}';        expect 415 "adapt json"
req POST /adapt -H 'Content-Type: multipart/form-data; boundary=zz' --data-binary $'--zz\r\nbroken'
check "adapt broken multipart: 4xx" [ "${STATUS:0:1}" = 4 ]
req POST /adapt "${ONNX[@]}";                                                  expect 400 "adapt empty"
req POST /embed "${ONNX[@]}" --data-binary @"$T/mlp.onnx";                     expect 200 "embed"
req POST /embed -F "model=@$T/junk.bin";                                       expect 400 "embed junk"
req POST /embed "${ONNX[@]}" -H 'Content-Length: 99999999999' --data-binary @"$T/mlp.onnx"
expect 413 "embed oversized Content-Length"
# A client that goes away mid-upload.
$PY - "$PORT" <<'PYEOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /adapt HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
          b"Content-Length: 100000\r\n\r\n" + b"x" * 5000)
s.close()
PYEOF
kill -HUP "$PID"   # reload while serving
req GET /readyz;                   expect 200 "readyz after reload"

stop_daemon TERM
check "daemon exits 0 under valgrind (99 = memcheck errors)" [ "$EXIT" = 0 ]
errors=$(grep -o 'ERROR SUMMARY: [0-9]*' "$VG_LOG" | tail -n 1 | awk '{print $3}')
check "memcheck: 0 errors (${errors:-no summary})" [ "${errors:-x}" = 0 ]
lost=$(awk '/definitely lost:/ {gsub(",", "", $4); print $4}' "$VG_LOG" | tail -n 1)
check "memcheck: 0 bytes definitely lost (${lost:-none reported})" [ "${lost:-0}" = 0 ]
[ "$FAILS" -gt 0 ] && sed -n '1,80p' "$VG_LOG"
finish
