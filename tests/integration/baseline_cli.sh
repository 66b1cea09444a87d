#!/usr/bin/env bash
# `dwsnet baseline` end to end on a six-classifier zoo (seed 0 puts entries 0,2,5 in
# train, 3 in val, 1 in test, 4 in test_unseen_widths): every method writes the results
# JSON eval reads; "none" reproduces the zoo's own corrupted-test accuracy (so both use
# the same corrupted test set); the learned baselines record their budget; a saved adapter
# measures the same; --resume keeps earlier rows; bad flags fail with a stable code.
set -euo pipefail
BIN=${BIN:-bin}
data=${DWSNET_DATA:-../shared/data/cifar10}
if [ ! -e "$data/test_batch.bin.gz" ] && [ ! -e "$data/test_batch.bin" ]; then
  echo "skipped: no data (set DWSNET_DATA to a CIFAR-10 binary folder)"; exit 77
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
export OPENBLAS_NUM_THREADS=1

"$BIN/dwsnet" zoo --data "$data" --out "$tmp/zoo" --count 6 --epochs 1 --subsets 2000 --jobs 2 > /dev/null 2>&1
run() { "$BIN/dwsnet" baseline --zoo "$tmp/zoo" --data "$data" "$@" 2> "$tmp/log" || fail "baseline $*: $(tail -3 "$tmp/log")"; }
run --method none --out "$tmp/none.json"
run --method rescale --steps 4 --val-every 2 --val-images 300 --classifiers-per-step 2 --images-per-step 32 --splits test --model-out "$tmp/rescale.bin" --out "$tmp/rescale.json"
run --method rescale --model-in "$tmp/rescale.bin" --splits test --out "$tmp/rescale-in.json"
run --method none --resume "$tmp/none.json" --out "$tmp/none-resumed.json"
run --method flat-mlp-perm --steps 2 --val-every 1 --val-images 100 --hidden 4 --classifiers-per-step 2 --images-per-step 16 --splits test_unseen_widths --out "$tmp/flat.json"
grep -q "step 2/2" "$tmp/log" || fail "no progress line: $(cat "$tmp/log")"
if [ -z "${DWSNET_SANITIZED:-}" ]; then run --method oracle --splits test --out "$tmp/oracle.json"; fi

python3 - "$tmp" <<'PY' || fail "results check"
import json, os, sys
tmp = sys.argv[1]
index = {int(r["id"]): r for r in map(json.loads, open(os.path.join(tmp, "zoo/index.jsonl")))}
fields = ["id", "split", "widths", "target_before", "target_after", "clean_before", "clean_after"]
def load(name, method, splits):
    d = json.load(open(os.path.join(tmp, name)))
    assert d["method"] == method, d["method"]
    rows = d["per_classifier"]
    assert sorted(r["split"] for r in rows) == sorted(splits), rows
    for r in rows:
        assert all(f in r for f in fields), r
        z = index[int(r["id"])]
        assert r["widths"] == z["widths"] and r["split"] == z["split"], (r, z)
        assert abs(r["target_before"] - z["target_test_acc"]) < 1e-9, ("corrupted test set differs from the zoo's", r, z)
        assert abs(r["clean_before"] - z["clean_test_acc"]) < 1e-9, (r, z)
    return d
none = load("none.json", "none", ["test", "test_unseen_widths"])
assert all(r["target_after"] == r["target_before"] and r["clean_after"] == r["clean_before"] for r in none["per_classifier"])
assert none["summary"]["test"]["n"] == 1
resc = load("rescale.json", "rescale", ["test"])
s = resc["settings"]
assert s["steps"] == 4 and s["classifier_batches"] == 8 and s["images_seen"] == 256 and s["train_classifiers"] == 3, s
assert "a" in s and "c" in s and s["val_classifiers"] == 1, s
again = load("rescale-in.json", "rescale", ["test"])
assert again["per_classifier"] == resc["per_classifier"], "a saved adapter measured differently"
assert again["settings"]["training"]["a"] == s["a"], again["settings"]
assert load("none-resumed.json", "none", ["test", "test_unseen_widths"])["per_classifier"] == none["per_classifier"]
flat = load("flat.json", "flat-mlp-perm", ["test_unseen_widths"])
assert flat["settings"]["permutation_augmentation"] is True and flat["settings"]["padded_widths"][0] == 3072
if os.path.exists(os.path.join(tmp, "oracle.json")):
    o = load("oracle.json", "oracle", ["test"])["per_classifier"][0]
    assert o["target_after"] > o["target_before"], o
print("ok")
PY

! "$BIN/dwsnet" baseline --method bogus --zoo "$tmp/zoo" 2> "$tmp/err" || fail "accepted --method bogus"
grep -q "invalid_argument" "$tmp/err" || fail "bad method: $(cat "$tmp/err")"
! "$BIN/dwsnet" baseline --method none --zoo "$tmp/nowhere" --data "$data" 2> "$tmp/err" || fail "accepted a missing zoo"
grep -q "dwsnet baseline: io_error" "$tmp/err" || fail "missing zoo: $(cat "$tmp/err")"
echo "ok"
