#!/usr/bin/env bash
# Real CIFAR-10 (when $DWSNET_DATA holds it): the test split loads with the right counts
# and labels, `dwsnet corrupt` writes the binary layout with labels in order and
# reproducible noise (the clean domain gives back the original bytes), train-classifier
# learns, and a two-entry zoo is written and then skipped on a rerun.
set -euo pipefail
BIN=${BIN:-bin}
data=${DWSNET_DATA:-../shared/data/cifar10}
if [ ! -e "$data/test_batch.bin.gz" ] && [ ! -e "$data/test_batch.bin" ]; then
  echo "skipped: no data (set DWSNET_DATA to a CIFAR-10 binary folder)"; exit 77
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# The original test split as plain bytes.
if [ -e "$data/test_batch.bin" ]; then cp "$data/test_batch.bin" "$tmp/orig.bin"; else gunzip -c "$data/test_batch.bin.gz" > "$tmp/orig.bin"; fi
[ "$(stat -c %s "$tmp/orig.bin")" = $((10000 * 3073)) ] || fail "test_batch is not 10,000 records"

"$BIN/dwsnet" corrupt --data "$data" --split test --domain clean --out "$tmp/clean.bin" > "$tmp/clean.json"
cmp -s "$tmp/orig.bin" "$tmp/clean.bin" || fail "the clean domain changed the bytes"
grep -q '"images":10000' "$tmp/clean.json" || fail "summary: $(cat "$tmp/clean.json")"

"$BIN/dwsnet" corrupt --data "$data" --split test --seed 3 --out "$tmp/a.bin" > /dev/null
"$BIN/dwsnet" corrupt --data "$data" --split test --seed 3 --out "$tmp/b.bin.gz" > /dev/null
"$BIN/dwsnet" corrupt --data "$data" --split test --seed 4 --out "$tmp/c.bin" > /dev/null
[ "$(stat -c %s "$tmp/a.bin")" = $((10000 * 3073)) ] || fail "corrupted split has the wrong size"
gunzip -c "$tmp/b.bin.gz" | cmp -s - "$tmp/a.bin" || fail "same seed gave other bytes (or .gz output differs)"
! cmp -s "$tmp/a.bin" "$tmp/c.bin" || fail "another seed gave the same bytes"

python3 - "$tmp/orig.bin" "$tmp/a.bin" <<'PY' || fail "label or statistics check"
import sys
orig, corr = (open(p, "rb").read() for p in sys.argv[1:3])
R = 3073
labels = [orig[i * R] for i in range(10000)]
assert [corr[i * R] for i in range(10000)] == labels, "labels changed or reordered"
counts = [labels.count(k) for k in range(10)]
assert counts == [1000] * 10, counts
# contrast:4 then noise: each channel's mean stays (up to clipping and noise), its spread shrinks to ~0.3
import statistics
for i in range(0, 10000, 997):
    for c in range(3):
        a = orig[i * R + 1 + 1024 * c: i * R + 1 + 1024 * (c + 1)]
        b = corr[i * R + 1 + 1024 * c: i * R + 1 + 1024 * (c + 1)]
        assert abs(statistics.mean(a) - statistics.mean(b)) < 6, (i, c)
print("labels and channel means ok")
PY

out=$("$BIN/dwsnet" train-classifier --data "$data" --hidden 32,32 --epochs 2 --subset 5000 --out "$tmp/mlp.onnx")
"$BIN/dwsnet" inspect "$tmp/mlp.onnx" | grep -q "3072, 32, 32, 10" || fail "train-classifier --out: $("$BIN/dwsnet" inspect "$tmp/mlp.onnx")"
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["clean_test_acc"] > 0.2, d; assert 0.1 < d["target_test_acc"] < d["clean_test_acc"] + 0.05, d' "$out" \
  || fail "train-classifier: $out"

"$BIN/dwsnet" zoo --data "$data" --out "$tmp/zoo" --count 2 --epochs 1 --subsets 500 --jobs 2 > "$tmp/zoo1.json" 2>/dev/null
grep -q '"built":2' "$tmp/zoo1.json" || fail "zoo: $(cat "$tmp/zoo1.json")"
[ "$(wc -l < "$tmp/zoo/index.jsonl")" = 2 ] || fail "index.jsonl should have 2 lines"
"$BIN/dwsnet" zoo --data "$data" --out "$tmp/zoo" > "$tmp/zoo2.json" 2>/dev/null
grep -q '"skipped":2' "$tmp/zoo2.json" || fail "rerun did not skip: $(cat "$tmp/zoo2.json")"
! "$BIN/dwsnet" zoo --data "$data" --out "$tmp/zoo" --seed 9 2> "$tmp/err" > /dev/null || fail "zoo accepted another seed"
grep -q "invalid_argument" "$tmp/err" || fail "zoo error: $(cat "$tmp/err")"
echo "ok"
