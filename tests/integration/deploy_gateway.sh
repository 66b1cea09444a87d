#!/usr/bin/env bash
# The gateway configuration, run by real nginx on loopback in front of two real
# dwsnetd daemons: pass-through of /adapt and /embed, request ids, spreading over
# both replicas, failover when one is killed mid-run, 413 and 429 at the gateway
# in dwsnetd's problem+json shape, and 502 when no replica is left.
set -euo pipefail
BIN=${BIN:-bin}
PY=/usr/bin/python3
# Sanitized daemons start and answer several times slower.
slow=1; [ -n "${DWSNET_SANITIZED:-}" ] && slow=4

if [ ! -x "$BIN/dwsnetd" ] || ! "$BIN/dwsnet" init-model --help >/dev/null 2>&1; then
  echo "skipped: dwsnetd not built"
  exit 77
fi
command -v nginx >/dev/null || { echo "FAIL: nginx is not installed (scripts/install-deps)"; exit 1; }

tmp=$(mktemp -d)
pids=()
cleanup() {
  # TERM first: a SIGKILLed nginx master leaves its workers serving.
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 50); do
    alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in "$tmp"/*.log "$tmp"/gw/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 15 "$f"; }; done
  exit 1
}

free_port() {
  $PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_http() {  # url: bounded wait for a 200
  for _ in $(seq $((100 * slow))); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1")" = 200 ] && return 0
    sleep 0.1
  done
  fail "$1 did not answer 200 within $((10 * slow)) s"
}
# The model set the daemons serve and a classifier they accept (the classifier
# is written by dwsnetd's own test helper).
mkdir -p "$tmp/models"
for kind in adapter encoder; do
  "$BIN/dwsnet" init-model --kind $kind --id test-$kind --d0 48 --dL 10 --depth 3 \
    -o "$tmp/models/$kind.dws" > /dev/null
done
classifier=$tmp/classifier.onnx
$PY tests/integration/lib/make_mlp.py --seed 7 "$classifier=48,16,16,10" ||
  fail "could not write the test classifier"

# Two daemons, each with its own access log (stdout) and event log (stderr).
ports=()
for name in a b; do
  port=$(free_port)
  "$BIN/dwsnetd" --listen "127.0.0.1:$port" --models "$tmp/models" --workers 1 --drain-timeout 2 \
    > "$tmp/daemon-$name.log" 2> "$tmp/daemon-$name.err.log" &
  pids+=($!)
  ports+=("$port")
done
pid_b=${pids[1]}
for port in "${ports[@]}"; do wait_http "http://127.0.0.1:$port/readyz"; done

# The gateway, rendered from the shipped template with loopback addresses.
gw_port=$(free_port)
gw=http://127.0.0.1:$gw_port
mkdir -p "$tmp/gw"
# Run as root, nginx's workers are nobody: they need to reach their temp dirs.
chmod 755 "$tmp" "$tmp/gw"
deploy/gateway/render --listen "127.0.0.1:$gw_port" \
  --upstream "127.0.0.1:${ports[0]}" --upstream "127.0.0.1:${ports[1]}" \
  --state-dir "$tmp/gw" --access-log "$tmp/gw/access.log" > "$tmp/gw/nginx.conf"
nginx -p "$tmp/gw" -c "$tmp/gw/nginx.conf" -e "$tmp/gw/error.log" -g 'daemon off;' \
  2> "$tmp/gw/stderr.log" &
pids+=($!)
wait_http "$gw/gateway/healthz"

# The rate limit is per client address; each phase below speaks from its own
# loopback address so that only the rate-limit phase ever exceeds it.
post() {  # source-address path body-file out-file [curl args...]: prints the status (000: none)
  local src=$1 path=$2 body=$3 out=$4; shift 4
  curl -s --interface "$src" --max-time $((30 * slow)) -o "$out" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/octet-stream' --data-binary @"$body" "$@" "$gw$path" || true
}
json_field() {  # file field
  $PY -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

echo "== pass-through"
status=$(post 127.0.0.2 /adapt "$classifier" "$tmp/adapted.onnx" -H 'X-Request-Id: deploy-adapt-1' \
  -D "$tmp/adapt.headers")
[ "$status" = 200 ] || fail "/adapt through the gateway: $status $(cat "$tmp/adapted.onnx")"
grep -qi '^X-Request-Id: deploy-adapt-1' "$tmp/adapt.headers" || fail "X-Request-Id not passed back"
[ "$(grep -ci '^X-Request-Id:' "$tmp/adapt.headers")" = 1 ] || fail "X-Request-Id sent twice"
curl -s --max-time 30 -o "$tmp/direct.onnx" -X POST -H 'Content-Type: application/octet-stream' \
  --data-binary @"$classifier" "http://127.0.0.1:${ports[0]}/adapt"
cmp -s "$tmp/adapted.onnx" "$tmp/direct.onnx" || fail "/adapt via the gateway differs from direct"
status=$(post 127.0.0.2 /embed "$classifier" "$tmp/embed.json" -D "$tmp/embed.headers")
[ "$status" = 200 ] || fail "/embed through the gateway: $status"
dim=$(json_field "$tmp/embed.json" dim)
[ "$dim" -gt 0 ] || fail "/embed answered dim $dim"
# A generated id (none was sent) reaches exactly one daemon's access log.
rid=$(sed -n 's/^X-Request-Id: *\([^[:space:]]*\).*/\1/Ip' "$tmp/embed.headers")
[[ $rid =~ ^[0-9a-f]{32}$ ]] || fail "gateway did not generate a request id: '$rid'"
# A client id dwsnetd would not accept is replaced, not echoed.
curl -s --interface 127.0.0.2 --max-time 10 -D "$tmp/bad-id.headers" -o /dev/null -H 'X-Request-Id: a"b' \
  "$gw/v1/models"
grep -qi '^X-Request-Id: [0-9a-f]\{32\}' "$tmp/bad-id.headers" || fail "unsafe X-Request-Id echoed"

echo "== spread over both daemons"
for i in $(seq 20); do
  status=$(post 127.0.0.3 /embed "$classifier" /dev/null -H "X-Request-Id: spread-$i")
  [ "$status" = 200 ] || fail "spread request $i: $status"
done
sleep 0.2  # access logs are written after the response
seen_a=$(grep -c '"spread-' "$tmp/daemon-a.log" || true)
seen_b=$(grep -c '"spread-' "$tmp/daemon-b.log" || true)
echo "daemon a served $seen_a, daemon b served $seen_b of 20"
[ $((seen_a + seen_b)) = 20 ] || fail "daemons logged $((seen_a + seen_b)) of 20 requests"
[ "$seen_a" -ge 5 ] && [ "$seen_b" -ge 5 ] || fail "requests not spread: $seen_a / $seen_b"
[ "$(grep -c "\"$rid\"" "$tmp/daemon-a.log" "$tmp/daemon-b.log" | awk -F: '{s += $2} END {print s}')" = 1 ] ||
  fail "generated request id $rid not in exactly one daemon log"

echo "== 413 at the gateway"
truncate -s $((64 * 1024 * 1024 + 1)) "$tmp/big.bin"
status=$(post 127.0.0.4 /adapt "$tmp/big.bin" "$tmp/413.json" -H 'X-Request-Id: too-big-1' \
  -D "$tmp/413.headers")
[ "$status" = 413 ] || fail "oversized body: $status"
grep -qi '^Content-Type: application/problem+json' "$tmp/413.headers" || fail "413 not problem+json"
grep -q 'too-big-1' "$tmp/daemon-a.log" "$tmp/daemon-b.log" && fail "oversized body reached a daemon"
# Same fields as a problem dwsnetd writes itself (a body that is not ONNX).
# 2 MiB, so nginx buffers it in a temp file (client_body_buffer_size is 1m).
{ printf 'not an onnx model'; head -c $((2 * 1024 * 1024)) /dev/zero; } > "$tmp/junk.bin"
status=$(post 127.0.0.4 /adapt "$tmp/junk.bin" "$tmp/400.json")
[ "$status" = 400 ] || fail "junk body: expected dwsnetd's 400, got $status"
$PY - "$tmp/413.json" "$tmp/400.json" <<'EOF' || fail "gateway 413 is not in dwsnetd's problem shape"
import json, sys
gw, daemon = (json.load(open(p)) for p in sys.argv[1:])
assert set(gw) == set(daemon), (sorted(gw), sorted(daemon))
assert gw["status"] == 413 and gw["code"] == "body_too_large", gw
assert gw["request_id"] == "too-big-1" and gw["type"].endswith(gw["code"]), gw
assert daemon["type"].rsplit(":", 1)[0] == gw["type"].rsplit(":", 1)[0], (gw, daemon)
EOF

echo "== 429 from the rate limit"
mkdir -p "$tmp/rate"
seq 60 | xargs -P 30 -I{} curl -s --interface 127.0.0.5 --max-time 10 -o "$tmp/rate/{}.body" \
  -D "$tmp/rate/{}.headers" -w '%{http_code}\n' "$gw/v1/models" > "$tmp/rate.codes"
n200=$(grep -c '^200$' "$tmp/rate.codes" || true)
n429=$(grep -c '^429$' "$tmp/rate.codes" || true)
echo "burst of 60: $n200 x 200, $n429 x 429"
[ $((n200 + n429)) = 60 ] || fail "burst answered other statuses: $(sort "$tmp/rate.codes" | uniq -c)"
[ "$n429" -ge 1 ] && [ "$n200" -ge 1 ] || fail "rate limit did not engage"
limited=$(grep -li '^HTTP/1.1 429' "$tmp"/rate/*.headers | head -n 1)
grep -qi '^Retry-After:' "$limited" || fail "429 without Retry-After"
grep -qi '^Content-Type: application/problem+json' "$limited" || fail "429 not problem+json"
[ "$(json_field "${limited%.headers}.body" code)" = rate_limited ] ||
  fail "429 body: $(cat "${limited%.headers}.body")"

echo "== malformed requests stop at the gateway"
# Framing, floods, NUL, control bytes (lib/http_edges.py), then random malformed
# requests: every answer is a 4xx (or 505) in problem+json, never an HTML page, and
# nothing reaches a daemon that libmicrohttpd would have to refuse itself.
mhd_before=$(cat "$tmp"/daemon-*.err.log | grep -c 'libmicrohttpd' || true)
$PY tests/integration/lib/http_edges.py gateway "$gw_port" > "$tmp/edges.log" 2>&1 ||
  fail "edge cases through the gateway: $(grep '^FAIL' "$tmp/edges.log")"
$PY tests/integration/lib/http_edges.py random "$gw_port" 200 23 gateway > "$tmp/random.log" 2>&1 ||
  fail "random requests through the gateway: $(grep '^FAIL' "$tmp/random.log" | head -n 5)"
mhd_after=$(cat "$tmp"/daemon-*.err.log | grep -c 'libmicrohttpd' || true)
[ "$mhd_after" = "$mhd_before" ] ||
  fail "libmicrohttpd had to refuse requests behind the gateway: $(grep -h libmicrohttpd "$tmp"/daemon-*.err.log | tail -n 3)"
echo "$(grep -c '^ok' "$tmp/edges.log") edge cases and 200 random requests: problem+json from the gateway or the daemon"

echo "== one daemon killed mid-run"
# 4 clients, each with at most one request in flight, paced under the rate limit.
# Daemon b is first frozen (SIGSTOP), so that requests sent to it stay in flight
# without an answer begun, then killed: nginx must replay exactly those on
# daemon a (POST needs `non_idempotent`), and route everything after to a.
clients=4 per_client=25 client_pids=()
for c in $(seq $clients); do
  (
    for i in $(seq $per_client); do
      s=$(post "127.0.0.$((10 + c))" /adapt "$classifier" /dev/null -H "X-Request-Id: kill-$c-$i")
      echo "$s kill-$c-$i"
      sleep 0.1
    done > "$tmp/kill-$c.codes"
  ) &
  client_pids+=($!)
done
pids+=("${client_pids[@]}")
sleep 1
kill -STOP "$pid_b"
sleep 0.5
kill -KILL "$pid_b"
{ wait "$pid_b"; } 2>/dev/null || true
deadline=$((SECONDS + 120 * slow))
for p in "${client_pids[@]}"; do
  while kill -0 "$p" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || fail "clients did not finish within 120 s"
    sleep 0.2
  done
done
[ "$(cat "$tmp"/kill-*.codes | wc -l)" = $((clients * per_client)) ] || fail "a client lost requests"
failed=$(cat "$tmp"/kill-*.codes | grep -vc '^200 ' || true)
served_b=$(grep -c '"kill-' "$tmp/daemon-b.log" || true)
# Replayed requests list both daemons in $upstream_addr. A refused connection
# to the dead daemon takes 0.000 s; one that waited on the frozen daemon shows a
# longer first time in $upstream_response_time.
replayed=$(grep -c "\"upstream\":\"127.0.0.1:${ports[1]}, " "$tmp/gw/access.log" || true)
stuck=$(grep "\"upstream\":\"127.0.0.1:${ports[1]}, " "$tmp/gw/access.log" |
  grep -vc '"upstream_time":"0\.000,' || true)
echo "daemon b served $served_b before it froze; the gateway replayed $replayed requests" \
  "on daemon a, $stuck of them in flight on b; $failed of $((clients * per_client)) failed"
[ "$served_b" -ge 1 ] || fail "daemon b served no request before it was killed"
[ "$failed" = 0 ] || fail "$failed requests failed: $(grep -hv '^200 ' "$tmp"/kill-*.codes)"
[ "$stuck" -ge 1 ] || fail "no request was in flight on daemon b when it was killed"

echo "== 502 when no daemon is left"
kill -KILL "${pids[0]}"
{ wait "${pids[0]}"; } 2>/dev/null || true
status=$(post 127.0.0.6 /embed "$classifier" "$tmp/502.json" -D "$tmp/502.headers")
[ "$status" = 502 ] || fail "no daemons: expected 502, got $status"
grep -qi '^Content-Type: application/problem+json' "$tmp/502.headers" || fail "502 not problem+json"
[ "$(json_field "$tmp/502.json" code)" = upstream_unavailable ] || fail "502 body: $(cat "$tmp/502.json")"

echo "gateway OK"
