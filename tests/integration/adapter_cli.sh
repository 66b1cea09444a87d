#!/usr/bin/env bash
# train-adapter and eval end to end on a five-classifier zoo (seed 0: entries 0 and
# 2 train, 3 val, 1 test, 4 test_unseen_widths): the model, its curves and
# checkpoint are written, a resumed run continues from the checkpoint, eval writes
# the report, the per-classifier results (one row per held-out classifier, in the
# format it reads back as a baseline) and well-formed SVG plots, and bad input gets
# the documented error codes.
set -euo pipefail
BIN=${BIN:-bin}
D=$BIN/dwsnet
data=${DWSNET_DATA:-../shared/data/cifar10}
py=/usr/bin/python3
if [ ! -e "$data/test_batch.bin.gz" ] && [ ! -e "$data/test_batch.bin" ]; then
  echo "skipped: no data (set DWSNET_DATA to a CIFAR-10 binary folder)"; exit 77
fi
$py -c 'import json, xml.etree.ElementTree' 2>/dev/null || { echo "skipped: no /usr/bin/python3"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$D" zoo --out "$tmp/zoo" --data "$data" --count 5 --epochs 1 --subsets 5000 --jobs 2 > /dev/null 2>&1
small=(--channels 2 --layers 2 --batch-images 16 --val-images 100 --val-every 2 --threads 1)
"$D" train-adapter --zoo "$tmp/zoo" --data "$data" --out "$tmp/a.dws" --steps 4 "${small[@]}" > "$tmp/t.json" 2> "$tmp/t.log" \
  || fail "train-adapter: $(cat "$tmp/t.log")"
grep -q '"steps":4' "$tmp/t.json" || fail "summary: $(cat "$tmp/t.json")"
grep -q '2 training / 1 validation classifiers' "$tmp/t.log" || fail "split use: $(head -1 "$tmp/t.log")"
[ -s "$tmp/a.dws" ] && [ -s "$tmp/a.dws.ckpt" ] || fail "model or checkpoint missing"
[ "$(head -1 "$tmp/a.csv")" = "step,epoch,lr,train_loss,train_acc,val_before,val_after" ] || fail "curves header"
[ "$(grep -c ',0\.[0-9]*,0\.[0-9]*$' "$tmp/a.csv")" = 2 ] || fail "expected 2 validations in $(cat "$tmp/a.csv")"

# Resuming a finished run does no more steps; a run of another length refuses the checkpoint.
"$D" train-adapter --zoo "$tmp/zoo" --data "$data" --out "$tmp/a.dws" --steps 4 "${small[@]}" --resume > "$tmp/r.json" 2> "$tmp/r.log"
grep -q '"steps":4' "$tmp/r.json" || fail "resume: $(cat "$tmp/r.json" "$tmp/r.log")"
! grep -q '^step ' "$tmp/r.log" || fail "resume trained again: $(cat "$tmp/r.log")"
set +e
"$D" train-adapter --zoo "$tmp/zoo" --data "$data" --out "$tmp/a.dws" --steps 6 "${small[@]}" --resume > /dev/null 2> "$tmp/e.log"; rc=$?
"$D" train-adapter --zoo "$tmp/zoo" --data "$data" --out "$tmp/b.dws" --steps 4 --epochs 2 > /dev/null 2> "$tmp/e2.log"; rc2=$?
set -e
[ $rc = 1 ] && grep -q 'dwsnet train-adapter: incompatible_model:' "$tmp/e.log" || fail "other-length resume: $rc $(cat "$tmp/e.log")"
[ $rc2 = 2 ] && grep -q 'invalid_argument' "$tmp/e2.log" || fail "--steps with --epochs: $rc2 $(cat "$tmp/e2.log")"
# A checkpoint of the format before version 2 (docs/training.md) is refused by its version.
printf 'DWSCKPT1%0120d' 0 > "$tmp/old.dws.ckpt"
set +e
"$D" train-adapter --zoo "$tmp/zoo" --data "$data" --out "$tmp/old.dws" --steps 4 "${small[@]}" --resume > /dev/null 2> "$tmp/o.log"; rc=$?
set -e
[ $rc = 1 ] && grep -q 'bad_model_file: .*format version 1' "$tmp/o.log" || fail "old checkpoint: $rc $(cat "$tmp/o.log")"

"$D" eval --model "$tmp/a.dws" --zoo "$tmp/zoo" --data "$data" --limit-images 200 --out "$tmp/ev" > "$tmp/ev.md" 2> "$tmp/ev.log" \
  || fail "eval: $(cat "$tmp/ev.log")"
grep -q '^### test classifiers (1)' "$tmp/ev.md" || fail "report: $(cat "$tmp/ev.md")"
grep -q '^### test_unseen_widths classifiers (1)' "$tmp/ev.md" || fail "report: $(cat "$tmp/ev.md")"
# A fake oracle (every classifier +10 points) read back as a baseline.
$py - "$tmp/ev/dwsnet.json" "$tmp/oracle.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert [(x["id"], x["split"]) for x in r["per_classifier"]] == [("000001", "test"), ("000004", "test_unseen_widths")], r
for x in r["per_classifier"]:
    assert x["widths"][0] == 3072 and x["widths"][-1] == 10 and 0 <= x["target_after"] <= 1, x
    x["target_after"] = x["target_before"] + 0.1
r["method"] = "fine-tuning oracle"
json.dump(r, open(sys.argv[2], "w"))
PY
"$D" eval --model "$tmp/a.dws" --zoo "$tmp/zoo" --data "$data" --limit-images 200 --out "$tmp/ev2" \
  --baselines "$tmp/oracle.json" > "$tmp/ev2.md" 2> /dev/null || fail "eval with a baseline"
grep -q '^| fine-tuning oracle | 1 | .* | +10.00 ± 0.00 | 100% |' "$tmp/ev2.md" || fail "oracle row: $(cat "$tmp/ev2.md")"
grep -q "of the fine-tuning oracle's" "$tmp/ev2.md" || fail "oracle target line"
for f in before-after gain-by-width curves-accuracy curves-loss; do
  $py -c 'import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); assert r.tag.endswith("svg") and len(r) > 5' \
    "$tmp/ev/$f.svg" || fail "$f.svg"
done
echo '{"method": "x", "per_classifier": [{"id": "1"}]}' > "$tmp/bad.json"
set +e
"$D" eval --model "$tmp/a.dws" --zoo "$tmp/zoo" --data "$data" --limit-images 10 --out "$tmp/ev3" --baselines "$tmp/bad.json" > /dev/null 2> "$tmp/b.log"; rc=$?
set -e
[ $rc = 1 ] && grep -q 'dwsnet eval: bad_data:' "$tmp/b.log" || fail "bad baseline file: $rc $(cat "$tmp/b.log")"
echo ok
