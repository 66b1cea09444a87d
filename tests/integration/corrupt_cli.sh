#!/usr/bin/env bash
# `dwsnet corrupt` on a small made-up CIFAR-10 file (no data needed): --list names all
# 19 types with their severities, --domain takes every type and chains of them,
# results are reproducible, and bad specs are refused with the known names.
set -euo pipefail
BIN=${BIN:-bin}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$BIN/dwsnet" corrupt --list > "$tmp/list"
[ "$(grep -c ' 1-5 ' "$tmp/list")" = 19 ] || fail "--list: $(cat "$tmp/list")"
for t in gaussian_noise shot_noise impulse_noise speckle_noise contrast brightness saturate gaussian_blur \
         defocus_blur pixelate glass_blur motion_blur zoom_blur snow frost fog elastic_transform \
         jpeg_compression spatter; do
  grep -q "^$t " "$tmp/list" || fail "--list lacks $t"
done
grep "^frost " "$tmp/list" | grep -qi procedural || fail "--list does not say frost is procedural"

# 12 records of random pixels with labels 0..9
python3 -c 'import os,sys; sys.stdout.buffer.write(b"".join(bytes([i % 10]) + os.urandom(3072) for i in range(12)))' \
  > "$tmp/test_batch.bin"
types=$(awk 'NR > 1 {print $1}' "$tmp/list")
for t in $types; do
  for s in 1 5; do
    "$BIN/dwsnet" corrupt --data "$tmp" --domain "$t:$s" --seed 2 --out "$tmp/a.bin" > /dev/null
    "$BIN/dwsnet" corrupt --data "$tmp" --domain "$t:$s" --seed 2 --out "$tmp/b.bin" > /dev/null
    cmp -s "$tmp/a.bin" "$tmp/b.bin" || fail "$t:$s is not reproducible"
    [ "$(stat -c %s "$tmp/a.bin")" = $((12 * 3073)) ] || fail "$t:$s wrote the wrong size"
    ! cmp -s "$tmp/a.bin" "$tmp/test_batch.bin" || fail "$t:$s changed nothing"
  done
done
"$BIN/dwsnet" corrupt --data "$tmp" --domain fog:3,gaussian_noise:2 --out "$tmp/c.bin" > "$tmp/c.json"
grep -q '"domain":"fog:3,gaussian_noise:2"' "$tmp/c.json" || fail "chain summary: $(cat "$tmp/c.json")"
"$BIN/dwsnet" corrupt --data "$tmp" --domain snow:2,frost:1,spatter:4,jpeg_compression:5,elastic_transform:3 \
  --out "$tmp/d.bin" > /dev/null || fail "a five-step chain"

! "$BIN/dwsnet" corrupt --data "$tmp" --domain haze:2 --out "$tmp/e.bin" 2> "$tmp/err" || fail "accepted haze:2"
grep -q "elastic_transform, jpeg_compression, spatter" "$tmp/err" || fail "unknown-type message: $(cat "$tmp/err")"
! "$BIN/dwsnet" corrupt --data "$tmp" --domain fog:6 --out "$tmp/e.bin" 2> "$tmp/err" || fail "accepted fog:6"
echo "ok"
