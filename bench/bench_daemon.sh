#!/usr/bin/env bash
# Drives POST /adapt of a running bin/dwsnetd with wrk at several concurrencies and
# writes bench/daemon-report.md (p50/p99 latency, throughput, peak RSS).
#   bench/bench_daemon.sh                  (what `make bench` runs)
# Environment:
#   MODEL=FILE.dws      adapter to serve (default models/cifar10c-adapter.dws when it
#                       exists, else a fresh `dwsnet init-model` adapter)
#   DURATION=SECONDS    per run (default 10)
#   REPORT=FILE         default bench/daemon-report.md
#   DAEMON_FLAGS=...    extra dwsnetd flags (e.g. "--workers 2 --job-threads 1", "--batch 8")
#   CONCURRENCIES="..." the rows to run (default "1 4 8 16")
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
DURATION=${DURATION:-10}
REPORT=${REPORT:-bench/daemon-report.md}
PY=/usr/bin/python3
command -v wrk >/dev/null || { echo "bench_daemon: wrk is not installed (scripts/install-deps)" >&2; exit 1; }

T=$(mktemp -d /tmp/dwsnetd-bench.XXXXXX)
DPID=
cleanup() { [ -n "$DPID" ] && kill -KILL "$DPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

mkdir -p "$T/models"
if [ -n "${MODEL:-}" ]; then
  cp "$MODEL" "$T/models/"
  model_desc="$MODEL"
elif [ -f models/cifar10c-adapter.dws ]; then
  cp models/cifar10c-adapter.dws "$T/models/"
  model_desc="models/cifar10c-adapter.dws (shipped)"
else
  "$BIN/dwsnet" init-model --kind adapter --id bench-adapter --d0 3072 --dL 10 --depth 3 --alpha 0.05 \
    -o "$T/models/bench-adapter.dws" >/dev/null
  model_desc="fresh \`dwsnet init-model --kind adapter --d0 3072 --dL 10 --depth 3 --alpha 0.05\` (default channels: an untrained adapter of the shipped size)"
fi

# The two classifier sizes the issue sets goals for.
CLASSIFIERS=(3072,128,128,10 3072,64,64,10)
for w in "${CLASSIFIERS[@]}"; do
  $PY tests/integration/lib/make_mlp.py --seed 1 "$T/mlp-$w.onnx=$w"
done

start_daemon() {
  rm -f "$T/err" "$T/access"   # else the wait below can read the last daemon's port
  # shellcheck disable=SC2086
  "$BIN/dwsnetd" --listen 127.0.0.1:0 --models "$T/models" ${DAEMON_FLAGS:-} >"$T/access" 2>"$T/err" &
  DPID=$!
  for _ in $(seq 200); do
    PORT=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$T/err" 2>/dev/null | grep -o '[0-9]*$' || true)
    [ -n "$PORT" ] && return 0
    sleep 0.05
  done
  cat "$T/err" >&2; echo "bench_daemon: dwsnetd did not start" >&2; exit 1
}
stop_daemon() { kill -TERM "$DPID"; wait "$DPID" || true; DPID=; }
# The daemon's CPU time so far (user + system, clock ticks): CPU per request does not
# grow with other work on the machine the way latency and throughput do.
cpu_ticks() { awk '{print $14 + $15}' /proc/"$1"/stat; }
TICK_MS=$(awk -v t="$(getconf CLK_TCK)" 'BEGIN {print 1000 / t}')

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
rows=()
for w in "${CLASSIFIERS[@]}"; do
  for c in ${CONCURRENCIES:-1 4 8 16}; do
    start_daemon
    rss0_kb=$(awk '/^VmRSS/ {print $2}' /proc/"$DPID"/status)   # models loaded, no request yet
    # Warm-up: one request, which must succeed.
    code=$(curl -sS -m 60 -o "$T/out.onnx" -w '%{http_code}' -H 'Content-Type: application/octet-stream' \
      --data-binary @"$T/mlp-$w.onnx" "http://127.0.0.1:$PORT/adapt") || true
    [ "$code" = 200 ] || { echo "bench_daemon: warm-up /adapt answered $code: $(head -c 300 "$T/out.onnx")" >&2; exit 1; }
    threads=$((c < 2 ? 1 : 2))
    cpu0=$(cpu_ticks "$DPID")
    BODY_FILE="$T/mlp-$w.onnx" wrk -t"$threads" -c"$c" -d"${DURATION}s" --timeout 30s \
      -s bench/daemon.lua "http://127.0.0.1:$PORT/adapt" >"$T/wrk.txt"
    line=$(grep '^RESULT' "$T/wrk.txt") || { cat "$T/wrk.txt" "$T/err" >&2; echo "bench_daemon: wrk failed" >&2; exit 1; }
    cpu1=$(cpu_ticks "$DPID")
    rss_kb=$(awk '/^VmHWM/ {print $2}' /proc/"$DPID"/status)
    stop_daemon
    # From the access log: median time on the worker (decode, adapt, encode), median
    # time spent in the daemon outside the worker and the queue, and the mean number
    # of requests per forward (batched serving; 1 without it).
    read -r work_ms http_ms per_forward < <($PY -c '
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rows = [r for r in rows if r.get("status") == 200 and "work_ms" in r]
forwards = sum(1.0 / r.get("batch", 1) for r in rows)
print("%.1f %.1f %.2f" % (statistics.median(r["work_ms"] for r in rows),
                          statistics.median(r["latency_ms"] - r["queue_ms"] - r["work_ms"] for r in rows),
                          len(rows) / forwards))
' "$T/access")
    eval "${line#RESULT }"   # requests=.. duration_s=.. p50_ms=.. ...
    rps=$(awk -v n="$requests" -v d="$duration_s" 'BEGIN {printf "%.1f", n / d}')
    cpu_ms=$(awk -v a="$cpu0" -v b="$cpu1" -v t="$TICK_MS" -v n="$requests" 'BEGIN {printf "%.1f", (b - a) * t / n}')
    per_req=$(awk -v h="$rss_kb" -v z="$rss0_kb" -v c="$c" 'BEGIN {printf "%.1f", (h - z) / 1024 / c}')
    rows+=("| ${w//,/-} | $c | $p50_ms | $p99_ms | $rps | $cpu_ms | $work_ms | $http_ms | $per_forward | $((rss_kb / 1024)) | $per_req | $socket_errors | $non_2xx |")
    echo "classifier ${w//,/-} concurrency $c: p50 ${p50_ms} ms, p99 ${p99_ms} ms, ${rps} req/s," \
      "daemon CPU ${cpu_ms} ms per request, work ${work_ms} ms, http ${http_ms} ms, ${per_forward} requests per forward," \
      "peak RSS $((rss_kb / 1024)) MiB ($per_req MiB per request in flight)," \
      "socket errors $socket_errors, non-2xx $non_2xx"
  done
done

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
{
  echo "# dwsnetd /adapt benchmark"
  echo
  echo "Made by bench/bench_daemon.sh (part of \`make bench\`; alone: \`bench/run-all daemon\`) on $(date -u +%Y-%m-%d), $(nproc) CPUs"
  echo "($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')),"
  echo "dwsnetd $("$BIN/dwsnetd" --version | cut -d' ' -f2), flags: ${DAEMON_FLAGS:-none (defaults)}."
  echo "Model: $model_desc. Load: wrk, ${DURATION} s per row, keep-alive connections each posting a"
  echo "random classifier made by tests/integration/lib/make_mlp.py (ONNX, torch-export layout)."
  echo "Latency is per request as wrk sees it (upload, queue, decode, adapt, encode, download)."
  echo "From the daemon's access log: \"work\" is the time on a worker (decode + adapter + encode),"
  echo "\"HTTP\" the time in the daemon outside the worker and the queue (parsing, body copy, response);"
  echo "\"per forward\": requests per model forward (1 unless batched serving, \`--batch\`, joins them);"
  echo "\"CPU ms\": the daemon's CPU time (user + system) over the row per request answered."
  echo "Peak RSS is the daemon's VmHWM over the row (a fresh daemon per row); per request in flight:"
  echo "(VmHWM - VmRSS of the fresh daemon, models loaded, before any request) / concurrency."
  echo "Load average when the run started: $load_before, at the end: $load_after (other work on the machine"
  echo "inflates latency and lowers throughput; the CPU time per request depends on it far less)."
  echo
  echo "| classifier | concurrency | p50 ms | p99 ms | adaptations/s | CPU ms | work p50 ms | HTTP p50 ms | per forward | peak RSS MiB | RSS per request in flight MiB | socket errors | non-2xx |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Goals (issue 21, on 2 cores): p50 <= 20 ms for 3072-128-128-10 at concurrency 1; at concurrency 8 at"
  echo "least 1.5x the 52 (3072-128-128-10) and 102 (3072-64-64-10) adaptations/s of before; peak RSS per"
  echo "3072-128-128-10 request in flight no higher than before. (Issue 7: p50 <= 60 ms; >= 30/s for"
  echo "3072-64-64-10 at concurrency 8.)"
} >"$REPORT"
echo "wrote $REPORT"
