#!/usr/bin/env bash
# The embedder pipeline at toy size, through the CLI: inr-zoo -> train-embedder
# (curves, checkpoint, bit-exact resume after --stop-after) -> eval-embedder
# (probe report, plots, invariance, --write-card); and the error lines.
set -euo pipefail
BIN=${BIN:-bin}
D=$BIN/dwsnet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "$*"; exit 1; }

"$D" inr-zoo --count 40 --steps 30 --points 32 --jobs 2 --out "$tmp/zoo" > "$tmp/zoo.json" 2>/dev/null
# Each network comes from its own random stream: one job writes the same bits as two.
"$D" inr-zoo --count 40 --steps 30 --points 32 --jobs 1 --out "$tmp/zoo1" > /dev/null 2>&1
diff -r "$tmp/zoo" "$tmp/zoo1" > /dev/null || fail "inr-zoo --jobs 1 and --jobs 2 differ"
rm -rf "$tmp/zoo1"
[ "$(wc -l < "$tmp/zoo/index.jsonl")" -eq 40 ] || fail "inr-zoo wrote $(wc -l < "$tmp/zoo/index.jsonl") records"
[ "$(ls "$tmp/zoo/models" | wc -l)" -eq 40 ] || fail "inr-zoo wrote the wrong number of models"
"$D" inspect --json "$tmp/zoo/models/000007.onnx" | tr -d ' \t\n' | grep -q '"widths":\[1,32,32,1\]' ||
  fail "INR is not a 1-32-32-1 MLP"
grep -q '"split":"train"' "$tmp/zoo/index.jsonl" && grep -q '"split":"test"' "$tmp/zoo/index.jsonl" ||
  fail "INR zoo lacks splits"

# Probe features and the projection head on, so that resume covers their tensors too.
T=(--zoo "$tmp/zoo" --steps 12 --warmup 2 --groups 2 --group-size 4 --channels 4 --layers 2 --dim 8
   --mlp-hidden 16 --threads 1 --checkpoint-every 5 --probes 4 --probe-range -3.14,3.14 --projection 8)
"$D" train-embedder "${T[@]}" --out "$tmp/full.dws" > "$tmp/full.json" 2> "$tmp/full.log"
grep -q '"steps":12' "$tmp/full.json" || fail "train-embedder summary: $(cat "$tmp/full.json")"
grep -q '"probes":4,"probe_scale":' "$tmp/full.dws" && grep -q '"projection_hidden":8' "$tmp/full.dws" ||
  fail "the card does not record probes and projection"
grep -q 'step 10/12' "$tmp/full.log" || fail "no progress line"
[ "$(wc -l < "$tmp/full.curves.csv")" -eq 13 ] || fail "curves file should have a header and 12 rows"
[ -s "$tmp/full.ckpt" ] || fail "no checkpoint"

"$D" train-embedder "${T[@]}" --out "$tmp/part.dws" --id full --stop-after 7 > /dev/null 2>&1
"$D" train-embedder "${T[@]}" --out "$tmp/part.dws" --id full --resume > /dev/null 2>&1
for i in 000003 000011; do   # the card differs (run times); the parameters must not
  "$D" embed "$tmp/zoo/models/$i.onnx" --model "$tmp/full.dws" > "$tmp/e1"
  "$D" embed "$tmp/zoo/models/$i.onnx" --model "$tmp/part.dws" > "$tmp/e2"
  cmp -s "$tmp/e1" "$tmp/e2" || fail "a stopped and resumed run differs from the uninterrupted one"
done
[ "$(wc -l < "$tmp/part.curves.csv")" -eq 13 ] || fail "resumed curves file should continue the first one"
if "$D" train-embedder "${T[@]}" --out "$tmp/part.dws" --lr 0.5 --resume 2> "$tmp/err"; then fail "resumed with other settings"; fi
grep -q '^dwsnet train-embedder: incompatible_model: ' "$tmp/err" || fail "resume mismatch: $(cat "$tmp/err")"

"$D" embed "$tmp/zoo/models/000003.onnx" --model "$tmp/full.dws" | grep -q '"model":"full"' || fail "embed"
out=$("$D" eval-embedder --zoo "$tmp/zoo" --model "$tmp/full.dws" --out "$tmp/eval" --threads 1 2>/dev/null)
for f in probe.md probe.json embedding-a.svg embedding-b.svg; do [ -s "$tmp/eval/$f" ] || fail "eval-embedder wrote no $f"; done
grep -q '| a | ' "$tmp/eval/probe.md" || fail "probe table lacks property a"
echo "$out" | grep -q '"invariance_1e-5":true' || fail "embeddings not invariant: $out"
echo "$out" | grep -q '"embedding":{"val_r2":' && echo "$out" | grep -q '"weight_stats":{' &&
  echo "$out" | grep -q '"flat_pca":{' || fail "eval-embedder output lacks a feature set: $out"
# `dwsnet eval` given an encoder runs the same probes.
[ "$("$D" eval --zoo "$tmp/zoo" --model "$tmp/full.dws" --threads 1 2>/dev/null)" = "$out" ] ||
  fail "dwsnet eval on an encoder differs from eval-embedder"
"$D" eval-embedder --zoo "$tmp/zoo" --model "$tmp/full.dws" --write-card --threads 1 > /dev/null 2>&1
grep -q '"probe":{' "$tmp/full.dws" || fail "--write-card stored no probe results"
"$D" embed "$tmp/zoo/models/000003.onnx" --model "$tmp/full.dws" > /dev/null || fail "card update broke the model"

expect_error() {   # expect_error CODE CMD ARGS...: fails with the `dwsnet CMD: CODE:` line
  local code=$1; shift
  if "$D" "$@" > /dev/null 2> "$tmp/err"; then fail "dwsnet $* succeeded"; fi
  grep -q "^dwsnet $1: $code: " "$tmp/err" || fail "dwsnet $*: $(cat "$tmp/err")"
}
expect_error invalid_argument train-embedder --out "$tmp/x.dws"
expect_error io_error train-embedder --zoo "$tmp/none" --out "$tmp/x.dws"
expect_error invalid_argument train-embedder --zoo "$tmp/zoo" --out "$tmp/x.dws" --groups 0
expect_error invalid_argument train-embedder --zoo "$tmp/zoo" --out "$tmp/x.dws" --probes 2 --probe-range 1,0
expect_error io_error train-embedder --zoo "$tmp/zoo" --out "$tmp/x.dws" --probes 2 --probe-data "$tmp/none"
expect_error invalid_argument eval-embedder --model "$tmp/full.dws"
expect_error bad_data eval-embedder --zoo "$tmp/zoo" --model "$tmp/full.dws" --properties a,nope
"$D" init-model --kind adapter --d0 1 --dL 1 --image none -o "$tmp/ad.dws" > /dev/null
expect_error invalid_argument eval-embedder --zoo "$tmp/zoo" --model "$tmp/ad.dws"
expect_error invalid_argument inr-zoo --out "$tmp/z2"
mkdir -p "$tmp/z3/models/000002.onnx"   # a network that cannot be written: the error, and no index
expect_error io_error inr-zoo --count 5 --steps 5 --jobs 2 --out "$tmp/z3"
[ ! -e "$tmp/z3/index.jsonl" ] || fail "inr-zoo wrote an index after a failure"
mkdir "$tmp/bad"; echo '{"id":1}' > "$tmp/bad/index.jsonl"
expect_error bad_data train-embedder --zoo "$tmp/bad" --out "$tmp/x.dws"
echo "embedder CLI ok"
