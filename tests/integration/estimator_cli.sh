#!/usr/bin/env bash
# The shipped domain estimator (models/cifar10c-domain-estimator.dws) through the CLI,
# on CIFAR-10 test images written by `dwsnet corrupt --format png|jpeg|records`:
#  - its card says what it is (classes: the 96 single domains and the default chain,
#    features) and carries its test metrics, the chain's among them;
#  - a few hundred images of three domains, as PNG files, a gzipped records file and
#    JPEG files, are named right (the card's identification rate at 256 images is ~99%),
#    and 64 clean PNGs are named clean; clean images saved as JPEG at quality 50 are
#    jpeg_compression:4 (the corruption is that very encoder); 128 PNGs of the default
#    chain are named that chain, of type contrast,gaussian_noise;
#  - PNG, JPEG and records mix in one call; errors: no --images (2), not an image,
#    another size (1, bad_image naming the file), --max-images;
#  - train-estimator and eval-estimator run end to end on a small setting (3 types and
#    a chain of two of them); --chains refuses a single step.
set -euo pipefail
BIN=${BIN:-bin}
D=$BIN/dwsnet
data=${DWSNET_DATA:-../shared/data/cifar10}
est=models/cifar10c-domain-estimator.dws
py=/usr/bin/python3
DEFAULT_CHAIN=contrast:4,gaussian_noise:2
if [ ! -e "$data/test_batch.bin.gz" ] && [ ! -e "$data/test_batch.bin" ]; then
  echo "skipped: no data (set DWSNET_DATA to a CIFAR-10 binary folder)"; exit 77
fi
[ -f "$est" ] || { echo "skipped: $est is absent (make pretrained builds it)"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok   $*"; }

# field JSON KEY: a top-level string or number of a JSON line.
field() { $py -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

PYTHONPATH=scripts $py - "$est" <<'PY' || fail "card"
import sys
from dws_card import read_card
c = read_card(sys.argv[1])
assert c["format"] == "dwsnet-domain-estimator" and c["kind"] == "domain-estimator", c["format"]
assert c["id"] == "cifar10c-domain-estimator", c["id"]
assert len(c["classes"]) == 97 and c["classes"][0] == "clean" and "fog:4" in c["classes"], c["classes"][:3]
assert c["classes"][96] == "contrast:4,gaussian_noise:2" and c["training"]["chains"] == [c["classes"][96]], c["training"]
assert c["input"]["height"] == 32 and c["input"]["width"] == 32 and c["input"]["channels"] == 3
m = c["metrics"]
for n in ("8", "64", "256"):
    assert 0.5 < m["type_accuracy"][n] <= 1 and 0 <= m["clean_as_clean"][n] <= 1, m
assert m["type_accuracy"]["64"] >= 0.9 and m["clean_as_clean"]["64"] >= 0.95, m
assert 0 < m["ms_per_64_images"] < 5, m["ms_per_64_images"]
assert c["training"]["validation_type_accuracy"]["64"] > 0.9, c["training"]
assert c["training"]["validation_type_accuracy_single_steps"]["64"] > 0.9, c["training"]
assert c["training"]["validation_chain_accuracy"]["64"] > 0.9, c["training"]
assert m["chain_exact_accuracy"]["64"] >= 0.9, m
PY
ok "card: 97 classes (the default chain among them), metrics and training"

corrupt() { "$D" corrupt --data "$data" "$@" > /dev/null || fail "dwsnet corrupt $*"; }
corrupt --domain clean --format png --count 64 --out "$tmp/clean"
corrupt --domain fog:3 --format png --first 1000 --count 200 --out "$tmp/fog"
corrupt --domain gaussian_noise:4 --first 2000 --count 300 --out "$tmp/noise.bin.gz"
corrupt --domain contrast:2 --format png --first 3000 --count 200 --out "$tmp/contrast"
corrupt --domain clean --format jpeg --quality 50 --first 4000 --count 200 --out "$tmp/jpeg"
corrupt --domain contrast:4,gaussian_noise:2 --format png --first 5000 --count 128 --out "$tmp/chain"

expect() {  # expect TYPE FILES...: the estimate's type is TYPE
  local want=$1 out; shift
  out=$("$D" estimate-domain --images "$@") || fail "estimate-domain on $want"
  [ "$(field "$out" type)" = "$want" ] || fail "expected $want, got $(echo "$out" | cut -c1-160)"
  echo "$out"
}
out=$(expect clean "$tmp"/clean/*.png); ok "64 clean PNGs: $(field "$out" estimate) p=$(field "$out" p)"
[ "$(field "$out" estimate)" = clean ] && [ "$(field "$out" images)" = 64 ] || fail "clean: $out"
out=$(expect fog "$tmp"/fog/*.png); ok "200 fog:3 PNGs: $(field "$out" estimate)"
out=$(expect gaussian_noise "$tmp/noise.bin.gz"); ok "300 gaussian_noise:4 records (.bin.gz): $(field "$out" estimate)"
[ "$(field "$out" images)" = 300 ] || fail "records: $out"
out=$(expect contrast "$tmp"/contrast/*.png); ok "200 contrast:2 PNGs: $(field "$out" estimate)"
out=$(expect jpeg_compression "$tmp"/jpeg/*.jpg); ok "200 clean JPEGs of quality 50: $(field "$out" estimate)"
[ "$(field "$out" estimate)" = jpeg_compression:4 ] || fail "quality 50 is jpeg_compression:4: $out"
$py - "$out" <<'PY' || fail "probabilities: $out"
import json, sys
d = json.loads(sys.argv[1])
p = d["probabilities"]
assert len(p) == 97 and abs(sum(p.values()) - 1) < 1e-3 and p[d["estimate"]] == d["p"]
PY
out=$(expect contrast,gaussian_noise "$tmp"/chain/*.png); ok "128 contrast:4,gaussian_noise:2 PNGs: $(field "$out" estimate)"
[ "$(field "$out" estimate)" = contrast:4,gaussian_noise:2 ] || fail "the default chain: $out"

out=$("$D" estimate-domain --images "$tmp"/fog/0100*.png "$tmp/noise.bin.gz" "$tmp"/jpeg/040*.jpg --estimator "$est") \
  || fail "mixed formats"
[ "$(field "$out" images)" = $((10 + 300 + 100)) ] || fail "mixed: $(echo "$out" | cut -c1-200)"
ok "PNG, records and JPEG in one call: $(field "$out" images) images"

# Errors.
rc=0; "$D" estimate-domain 2> "$tmp/err" || rc=$?
[ $rc = 2 ] && grep -q -- "--images is required" "$tmp/err" || fail "no --images: $rc $(cat "$tmp/err")"
rc=0; "$D" estimate-domain --images tests/fixtures/cifar_mlp.onnx 2> "$tmp/err" || rc=$?
[ $rc = 1 ] && grep -q "bad_image: tests/fixtures/cifar_mlp.onnx" "$tmp/err" \
  || fail "not an image: $rc $(cat "$tmp/err")"
$py - "$tmp/wide.png" <<'PY'
import struct, sys, zlib
w, h = 33, 32
raw = b"".join(b"\0" + bytes((x * 7) % 256 for x in range(3 * w)) for _ in range(h))
chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                              + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
PY
rc=0; "$D" estimate-domain --images "$tmp"/clean/00000.png "$tmp/wide.png" 2> "$tmp/err" || rc=$?
[ $rc = 1 ] && grep -q "bad_image: .*wide.png: PNG of 33 x 32 pixels; only 32 x 32" "$tmp/err" \
  || fail "33 x 32: $rc $(cat "$tmp/err")"
rc=0; "$D" estimate-domain --max-images 100 --images "$tmp/noise.bin.gz" 2> "$tmp/err" || rc=$?
[ $rc = 1 ] && grep -q "too_many_images" "$tmp/err" || fail "--max-images: $rc $(cat "$tmp/err")"
ok "errors: no --images, not an image, 33 x 32, too many images"

# A small training and evaluation: 3 types and a chain (17 classes; the default chain uses
# the excluded contrast and is left out), a few steps.
keep="gaussian_noise fog jpeg_compression"
exclude=$("$D" corrupt --list | awk 'NR > 1 {print $1}' | grep -vxF -f <(tr ' ' '\n' <<< "$keep") | paste -sd,)
"$D" train-estimator --data "$data" -o "$tmp/small.dws" --exclude "$exclude" --steps 40 --val-every 20 \
  --chains "$DEFAULT_CHAIN;fog:3,gaussian_noise:2" --pool-images 256 --val-images 256 --val-sets 2 --hidden 16 \
  > "$tmp/train.json" 2> "$tmp/train.log" || fail "train-estimator: $(tail -3 "$tmp/train.log")"
grep -q '"val_chain_accuracy":{"8":' "$tmp/train.json" || fail "no chain validation: $(cat "$tmp/train.json")"
grep -q "step 40/40" "$tmp/train.log" || fail "no progress: $(cat "$tmp/train.log")"
"$D" eval-estimator --estimator "$tmp/small.dws" --data "$data" --pool-images 256 --sets 2,2,1 --timing-runs 3 \
  --out "$tmp/ev" --card-entry metrics > "$tmp/ev.md" 2> "$tmp/ev.log" || fail "eval-estimator: $(cat "$tmp/ev.log")"
grep -q "Confusion matrix, sets of 64 images" "$tmp/ev.md" && [ -s "$tmp/ev/estimator-eval.json" ] \
  || fail "eval report: $(head -5 "$tmp/ev.md")"
grep -q '^| fog:3,gaussian_noise:2 | [0-9]* | [0-9]* | [0-9]* |$' "$tmp/ev.md" && grep -q '^| chain |' "$tmp/ev.md" \
  || fail "no chain rows in the eval report: $(grep -i chain "$tmp/ev.md" | head -5)"
PYTHONPATH=scripts $py - "$tmp/small.dws" <<'PY' || fail "small estimator's card"
import sys
from dws_card import read_card
c = read_card(sys.argv[1])
assert len(c["classes"]) == 17 and len(c["training"]["excluded"]) == 16, (c["classes"], c["training"])
assert c["classes"][16] == "fog:3,gaussian_noise:2" and c["training"]["chains"] == [c["classes"][16]], c["training"]
assert "type_accuracy" in c["metrics"] and c["metrics"]["ms_per_64_images"] > 0, c["metrics"]
assert list(c["metrics"]["chain_exact_accuracy_by_chain"]) == ["fog:3,gaussian_noise:2"], c["metrics"]
PY
out=$("$D" estimate-domain --estimator "$tmp/small.dws" --images "$tmp"/fog/*.png)
[ "$($py -c "import json,sys; print(len(json.loads(sys.argv[1])['probabilities']))" "$out")" = 17 ] \
  || fail "small estimator's answer: $out"
rc=0; "$D" train-estimator --data "$data" -o "$tmp/x.dws" --chains fog:3 2> "$tmp/err" || rc=$?
[ $rc = 2 ] && grep -q -- "--chains takes up to 32 chains of 2 steps" "$tmp/err" || fail "--chains fog:3: $rc $(cat "$tmp/err")"
ok "train-estimator (3 types and a chain, 40 steps), eval-estimator --card-entry, --chains checked"
echo "all checks passed"
