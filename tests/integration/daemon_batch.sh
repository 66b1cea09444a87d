#!/usr/bin/env bash
# Batched serving (--batch): requests for the same model and widths that wait
# together share one forward, and each gets byte for byte the answer it gets
# alone, whatever shared its batch: /adapt and /embed, other widths, outside
# normalisation, other domains (a batch runs one), a bad body and an MLP no model
# reads in the same burst; a work
# memory that holds one request at a time gives the others back (all still
# answered alike); /metrics and the access log show the batches.
source "$(dirname "$0")/lib/daemon.bash"
need "$PY"

mkdir -p "$T/models"
# The shipped models' size (3 DWS layers x 8 channels): a worker's workspace keeps
# batches of several of these classifiers (dws_model_batch_cap).
for kind in adapter encoder; do
  alpha=(); [ $kind = adapter ] && alpha=(--alpha 0.05 --cond-dim 8)   # conditioned on the domain
  "$BIN/dwsnet" init-model --kind $kind --id batch-$kind --channels 8 --layers 3 "${alpha[@]}" \
    -o "$T/models/$kind.dws" >/dev/null || die "init-model failed"
done
make_classifiers 21 "$T/a1.onnx=3072,48,48,10" "$T/a2.onnx=3072,48,48,10" "$T/a3.onnx=3072,48,48,10" \
  "$T/b1.onnx=3072,32,16,10" "$T/b2.onnx=3072,32,16,10" "$T/c10.onnx=3072,16,16,7" \
  "$T/t1.onnx=3072,128,128,10" "$T/t2.onnx=3072,128,128,10"
printf 'not an onnx model' >"$T/bad.onnx"

# The burst: NAME ENDPOINT FILE [QUERY]. Each request carries its own request id,
# so that even an error's problem+json is the same bytes alone and in a batch.
CASES=(
  "a1 adapt a1" "a2 adapt a2" "a3 adapt a3" "a1n adapt a1 ?input_range=-1,1" "b1 adapt b1" "b2 adapt b2"
  "bad adapt bad" "c10 adapt c10" "a1again adapt a1" "a2e embed a2" "a3e embed a3" "b1e embed b1"
  "a1e embed a1" "a2again adapt a2" "b2e embed b2" "a3n adapt a3 ?input_mean=0.5&input_std=0.25"
  "t1 adapt t1" "t2 adapt t2" "t1again adapt t1" "t2e embed t2"
  "a1fog adapt a1 ?domain=fog:3" "a2fog adapt a2 ?domain=fog:3" "a3any adapt a3 ?domain=any"
  "a2none adapt a2 ?domain=none" "b1fog adapt b1 ?domain=fog:3" "a3fog2 adapt a3 ?domain=fog:3,contrast:2"
)

# post NAME ENDPOINT FILE QUERY OUTDIR: one request; writes OUTDIR/NAME.{body,status}.
post() {
  curl -s -m $((60 * SLOW)) -o "$5/$1.body" -w '%{http_code}' "${ONNX[@]}" -H "X-Request-Id: batch-$1" \
    --data-binary @"$T/$3.onnx" "$URL/$2$4" >"$5/$1.status"
}

# burst OUTDIR: every case at once (one connection each).
burst() {
  local c pids=()
  mkdir -p "$1"
  for c in "${CASES[@]}"; do
    read -r name ep file query <<<"$c"
    post "$name" "$ep" "$file" "${query:-}" "$1" &
    pids+=($!)
  done
  wait "${pids[@]}"
}

# same_as_alone DIR: every answer in DIR equals the one alone, status and bytes.
same_as_alone() {
  local c bad=0
  for c in "${CASES[@]}"; do
    read -r name _ <<<"$c"
    if ! cmp -s "$T/alone/$name.body" "$1/$name.body" || ! cmp -s "$T/alone/$name.status" "$1/$name.status"; then
      echo "  $name: $(cat "$1/$name.status") $(head -c 200 "$1/$name.body") vs alone $(cat "$T/alone/$name.status")"
      bad=1
    fi
  done
  return $bad
}

# 1. Alone: one request at a time, batching off (the default).
start_daemon alone "$T/models" --workers 1
check "default --batch is 1" [ "$(metric dwsnetd_batch_max)" = 1 ]
mkdir -p "$T/alone"
for c in "${CASES[@]}"; do
  read -r name ep file query <<<"$c"
  post "$name" "$ep" "$file" "${query:-}" "$T/alone"
done
all_200() {
  local n
  for n in "$@"; do [ "$(cat "$T/alone/$n.status")" = 200 ] || { echo "  $n: $(cat "$T/alone/$n.status")"; return 1; }; done
}
check "alone: the good requests are 200" all_200 a1 a2 a3 a1n b1 b2 a1again a2e a3e b1e a1e a2again b2e a3n t1 t2 \
  t1again t2e a1fog a2fog a3any a2none b1fog a3fog2
check "alone: the domain changes the answer" bash -c "! cmp -s '$T/alone/a1.body' '$T/alone/a1fog.body'"
check "alone: the bad body is 400" [ "$(cat "$T/alone/bad.status")" = 400 ]
check "alone: the 7-class MLP is 422" [ "$(cat "$T/alone/c10.status")" = 422 ]
check "alone: outside normalisation changes the answer" bash -c "! cmp -s '$T/alone/a1.body' '$T/alone/a1n.body'"
check "alone: every forward ran one request" \
  [ "$(metric dwsnetd_batch_size_sum)" = "$(metric dwsnetd_batch_size_count)" ]
stop_daemon TERM

# 2. Batched: one worker, so the burst waits behind the first request and is
# taken in batches of up to 8.
start_daemon batched "$T/models" --workers 1 --job-threads 1 --batch 8
check "--batch shows on /metrics" [ "$(metric dwsnetd_batch_max)" = 8 ]
for round in 1 2 3; do
  burst "$T/batched$round"
  check "batched, round $round: every answer is the one alone" same_as_alone "$T/batched$round"
done
forwards=$(metric dwsnetd_batch_size_count) requests=$(metric dwsnetd_batch_size_sum)
echo "  $requests requests in $forwards forwards"
check "batched: some forwards ran several requests" [ "${requests:-0}" -gt "${forwards:-0}" ]
check "batched: no forward above --batch" [ "$(metric 'dwsnetd_batch_size_bucket{le="8"}')" = "$forwards" ]
check "batched: other widths were given back" [ "$(metric 'dwsnetd_batch_given_back_total{reason="widths"}')" -ge 1 ]
check "batched: the access log names batches" grep -Eq '"batch":([2-8])' "$T/batched.out"
stop_daemon TERM
check "batched: exit 0" [ "$EXIT" = 0 ]

# 3. Work memory for about one 3072-128-128-10 request: candidates that do not fit
# go back to the queue, and are answered alike.
start_daemon probe "$T/models" --work-memory 16M
req POST /adapt "${ONNX[@]}" --data-binary @"$T/t1.onnx"
need_one=$(grep -o 'needs [0-9]*' "$T/body" | grep -o '[0-9]*')
stop_daemon TERM
check "probe: the need of one request is known ($need_one)" [ -n "$need_one" ]
start_daemon tight "$T/models" --workers 1 --job-threads 1 --batch 8 --work-memory $((need_one * 3 / 2))
burst "$T/tight"
check "tight: every answer is the one alone" same_as_alone "$T/tight"
check "tight: requests were given back for memory" \
  [ "$(metric 'dwsnetd_batch_given_back_total{reason="memory"}')" -ge 1 ]
stop_daemon TERM
finish
