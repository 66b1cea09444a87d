# Sourced by the daemon load scripts (bench/overload.sh, bench/soak.sh): a scratch
# folder, a die() that names the script, untrained models, and one bin/dwsnetd on a
# free port, killed with the folder on exit whatever happens.
#   NAME=soak OUT=... D0=...; . bench/lib/daemon.sh
#   init_model adapter ID; start_daemon [dwsnetd options]
# Sets T (the scratch folder, with T/models), and after start_daemon DPID and URL;
# creates OUT's folder.
BIN=${BIN:-bin}
PY=/usr/bin/python3
T=$(mktemp -d "/tmp/dwsnetd-$NAME.XXXXXX")
DPID=
cleanup() { [ -n "$DPID" ] && kill -KILL "$DPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
die() { echo "$NAME: $*" >&2; exit 1; }
mkdir -p "$T/models" "$(dirname "$OUT")"

# An untrained KIND (adapter or encoder) model named ID for D0-input, 10-class,
# depth-3 classifiers in T/models/KIND.dws; the adapter's alpha makes it move weights.
init_model() {
  local alpha=()
  [ "$1" = adapter ] && alpha=(--alpha 0.05)
  "$BIN/dwsnet" init-model --kind "$1" --id "$2" --d0 "$D0" --dL 10 --depth 3 "${alpha[@]}" \
    -o "$T/models/$1.dws" >/dev/null || die "init-model $1 failed"
}

# Starts dwsnetd on 127.0.0.1 (port 0: the kernel picks one) serving T/models, with
# the access log in T/access and stderr in T/err, and waits until it listens.
start_daemon() {
  "$BIN/dwsnetd" --listen 127.0.0.1:0 --models "$T/models" "$@" >"$T/access" 2>"$T/err" &
  DPID=$!
  local port=
  for _ in $(seq 200); do
    port=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$T/err" | grep -o '[0-9]*$')
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || die "dwsnetd did not start: $(cat "$T/err")"
  URL=http://127.0.0.1:$port
}
