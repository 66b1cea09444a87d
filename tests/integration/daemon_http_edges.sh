#!/usr/bin/env bash
# dwsnetd on HTTP edge cases, straight from a raw socket (lib/http_edges.py): query
# floods get a 414 problem even where libmicrohttpd could not answer, header floods
# its 431; Transfer-Encoding other than chunked, Content-Length with
# Transfer-Encoding, repeated or invalid Content-Length get a 400 and the
# connection closed; a NUL in the target is a 400; control bytes in the method
# never reach the logs. Then random malformed requests (property: every exchange
# ends, as allowed). Through all of it every request begun is finished and logged
# exactly once, and SIGTERM exits 0 at once. A port already taken is named.
source "$(dirname "$0")/lib/daemon.bash"
need "$PY"

test_models "$T/models"
# --timeout 3: a client that half-closes in the middle of a body is noticed by
# libmicrohttpd only at the idle timeout; the random requests include such.
start_daemon main "$T/models" --timeout 3 --drain-timeout 20
$PY "$(dirname "$0")/lib/http_edges.py" daemon "$PORT" >"$T/edges.log" 2>&1
check "edge cases ($(grep -c '^ok' "$T/edges.log") passed)" [ $? = 0 ] || cat "$T/edges.log"
grep '^FAIL' "$T/edges.log"
$PY "$(dirname "$0")/lib/http_edges.py" random "$PORT" 300 "${DWSNET_HTTP_SEED:-19}" daemon >"$T/random.log" 2>&1
check "$(tail -n 1 "$T/random.log" | cut -c 6-)" [ $? = 0 ]
grep '^FAIL' "$T/random.log" | head -n 5

# Exactly once: once nothing is open but this /metrics request, every request begun
# has its one access-log line.
open_now() { [ "$(metric dwsnetd_open_requests)" = 1 ]; }
check "every request finished (open requests back to 1)" wait_until 10 open_now
started=$(metric dwsnetd_requests_started_total)
sleep 0.2
logged=$(wc -l <"$T/main.out")
check "each request logged once: $logged lines for $started begun (this one included)" \
  [ "$logged" = "$started" ]
check "the access log is valid UTF-8 JSON, methods and paths printable" $PY - "$T/main.out" <<'PYEOF'
import json, sys
for raw in open(sys.argv[1], "rb"):
    d = json.loads(raw.decode("utf-8"))
    for k in ("method", "path", "request_id"):
        assert all(" " < c < "\x7f" or c == "-" for c in d[k]), (k, d[k])
PYEOF
check "no request was left to a job" bash -c "! grep -q 'closed while its job runs' '$T/main.err'"
stop_daemon TERM
check "SIGTERM after the floods: exit 0 ($EXIT)" [ "$EXIT" = 0 ]
check "... without waiting for the drain timeout" bash -c "! grep -q 'drain timed out' '$T/main.err'"

# The text log: ESC, CR and 0xff in a method are not written.
start_daemon text "$T/models" --log-format text
printf 'GE\033[31mT\r /healthz HTTP/1.1\r\nHost: x\r\n\r\nG\377T /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
  timeout 5 $PY -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",int(sys.argv[1]))); s.sendall(sys.stdin.buffer.read()); s.shutdown(1); s.recv(65536)' "$PORT"
sleep 0.3
check "text log: two lines for the two methods" [ "$(grep -c ' /healthz 405 ' "$T/text.out")" = 2 ]
check "text log: no ESC, CR or byte 0xff" bash -c "! LC_ALL=C grep -q \$'[\\033\\r\\377]' '$T/text.out'"

# A port that is taken: the message names the address.
"$BIN/dwsnetd" --listen "127.0.0.1:$PORT" --models "$T/models" >/dev/null 2>"$T/taken.err"
rc=$?
check "port taken: exit status $rc != 0" [ $rc != 0 ]
check "port taken: names 127.0.0.1:$PORT and why" grep -q "cannot bind to 127.0.0.1:$PORT: Address already in use" "$T/taken.err"
check "port taken: no 'port 0' from libmicrohttpd" bash -c "! grep -q 'port 0' '$T/taken.err'"
stop_daemon TERM
finish
