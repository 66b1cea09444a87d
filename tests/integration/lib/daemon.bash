# Shared by tests/integration/daemon_*.sh: start bin/dwsnetd on a free loopback
# port, talk to it with curl, and always clean up (daemons, temp files), with
# every wait bounded.
set -uo pipefail

BIN=${BIN:-bin}
BUILD=${BUILD:-build}
PY=/usr/bin/python3
# Sanitized builds start and run several times slower.
SLOW=1; [ -n "${DWSNET_SANITIZED:-}" ] && SLOW=4

T=$(mktemp -d /tmp/dwsnetd-test.XXXXXX)
DAEMON_PIDS=()
FAILS=0

cleanup() {
  local pid
  for pid in "${DAEMON_PIDS[@]}"; do
    kill -KILL "$pid" 2>/dev/null
  done
  rm -rf "$T"
}
trap cleanup EXIT

skip() { echo "skipped: $*"; exit 77; }
die() { echo "FATAL: $*"; exit 1; }
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; FAILS=$((FAILS + 1)); }
check() {  # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}
finish() {
  if [ "$FAILS" -gt 0 ]; then echo "$FAILS check(s) failed"; exit 1; fi
  echo "all checks passed"; exit 0
}

need() {
  local t
  for t in "$@"; do command -v "$t" >/dev/null 2>&1 || skip "$t is not installed"; done
}
need curl
[ -x "$BIN/dwsnetd" ] || die "$BIN/dwsnetd is not built"
[ -x "$BIN/dwsnet" ] || die "$BIN/dwsnet is not built"

# start_daemon NAME MODELS_DIR [FLAGS...]: sets PORT, PID, URL; logs in $T/NAME.{out,err}.
start_daemon() {
  local name=$1 dir=$2; shift 2
  "$BIN/dwsnetd" --listen 127.0.0.1:0 --models "$dir" "$@" >"$T/$name.out" 2>"$T/$name.err" &
  PID=$!
  DAEMON_PIDS+=("$PID")
  local i line
  for ((i = 0; i < 200 * SLOW; i++)); do
    line=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$T/$name.err" 2>/dev/null)
    if [ -n "$line" ]; then
      PORT=${line##*:}
      URL=http://127.0.0.1:$PORT
      return 0
    fi
    kill -0 "$PID" 2>/dev/null || { cat "$T/$name.err"; die "dwsnetd $name exited at start-up"; }
    sleep 0.05
  done
  cat "$T/$name.err"
  die "dwsnetd $name did not start listening"
}

# stop_daemon [SIGNAL]: signals $PID and waits (bounded); sets EXIT to its status.
stop_daemon() {
  kill -"${1:-TERM}" "$PID" 2>/dev/null
  await_daemon
}

# await_daemon: waits (bounded) for $PID to exit by itself; sets EXIT to its status
# ("timeout" when it had to be killed).
await_daemon() {
  local i
  EXIT=
  for ((i = 0; i < 300 * SLOW; i++)); do
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$PID" 2>/dev/null; then
    kill -KILL "$PID"
    EXIT=timeout
  fi
  wait "$PID" 2>/dev/null
  local rc=$?
  [ "${EXIT:-}" = timeout ] || EXIT=$rc
}

# req METHOD PATH [CURL ARGS...]: sets STATUS; body in $T/body, headers in $T/headers.
req() {
  local method=$1 path=$2; shift 2
  STATUS=$(curl -s -m $((30 * SLOW)) -X "$method" -o "$T/body" -D "$T/headers" -w '%{http_code}' \
    "$@" "$URL$path")
  CURL_RC=$?
}

# header NAME: value of a response header of the last req (case-insensitive name).
header() {
  grep -i "^$1:" "$T/headers" | head -n 1 | cut -d: -f2- | sed 's/^ *//; s/\r$//'
}

# json EXPR: evaluates a Python expression on the last body parsed as JSON (as `d`).
json() {
  $PY -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$T/body"
}

# is_problem STATUS CODE: the last response is problem+json with that status and code.
is_problem() {
  [ "$STATUS" = "$1" ] || { echo "  status $STATUS, expected $1: $(head -c 400 "$T/body")"; return 1; }
  case "$(header Content-Type)" in application/problem+json*) ;; *)
    echo "  content type $(header Content-Type)"; return 1 ;; esac
  local rid; rid=$(header X-Request-Id)
  $PY - "$T/body" "$1" "$2" "$rid" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
status, code, rid = int(sys.argv[2]), sys.argv[3], sys.argv[4]
problems = []
for k in ("type", "title", "status", "detail", "code", "request_id"):
    if k not in d: problems.append("no " + k)
if d.get("status") != status: problems.append("status %r" % d.get("status"))
if d.get("code") != code: problems.append("code %r, expected %r" % (d.get("code"), code))
if d.get("request_id") != rid: problems.append("request_id %r vs header %r" % (d.get("request_id"), rid))
if problems:
    print("  " + "; ".join(problems) + ": " + json.dumps(d)[:300]); sys.exit(1)
PYEOF
}

ONNX=(-H 'Content-Type: application/octet-stream')

# make_model KIND ID D0 CLASSES DEPTH OUT: a freshly initialised DWSNet model. Adapters
# get a nonzero residual scale, so adapting really changes the weights.
make_model() {
  local alpha=(); [ "$1" = adapter ] && alpha=(--alpha 0.05)
  "$BIN/dwsnet" init-model --kind "$1" --id "$2" --d0 "$3" --dL "$4" --depth "$5" "${alpha[@]}" \
    -o "$6" >"$T/init-model.log" 2>&1 || { cat "$T/init-model.log"; die "dwsnet init-model failed"; }
}

# test_models DIR: the usual pair, adapter test-adapter and encoder test-encoder,
# reading 48-...-10 MLPs of 3 layers.
test_models() {
  mkdir -p "$1"
  make_model adapter test-adapter 48 10 3 "$1/adapter.dws"
  make_model encoder test-encoder 48 10 3 "$1/encoder.dws"
}

# make_classifiers SEED OUT=WIDTHS[:Act]... [--cnn OUT]: random ONNX MLPs (lib/make_mlp.py).
make_classifiers() {
  local seed=$1; shift
  $PY "$(dirname "${BASH_SOURCE[0]}")/make_mlp.py" --seed "$seed" "$@" || die "make_mlp.py failed"
}

# metric NAME_WITH_LABELS: its value from /metrics (empty when absent).
metric() {
  curl -s -m 10 "$URL/metrics" | awk -v k="$1" '$1 == k {print $2}'
}

# wait_until SECONDS COMMAND...: polls COMMAND every 50 ms until it succeeds.
wait_until() {
  local limit=$1 i; shift
  for ((i = 0; i < limit * 20 * SLOW; i++)); do
    "$@" && return 0
    sleep 0.05
  done
  return 1
}
