#!/usr/bin/env bash
# Every model in Debian's libonnx-testdata (about 1,070 real ONNX files: operator
# tests, torch conversions, CNNs) goes through the codec in one `dwsnet inspect`
# process: each is decoded or rejected with a stable code, and nothing crashes,
# hangs or leaks (the ASan build of `make test-asan` checks the last two).
set -euo pipefail
BIN=${BIN:-bin}
corpus=${ONNX_CORPUS:-/usr/share/libonnx-testdata}
[ -d "$corpus" ] || { echo "skipped: no $corpus (apt-get install libonnx-testdata)"; exit 77; }
mapfile -d '' files < <(find "$corpus" -name '*.onnx' -print0 | sort -z)
[ ${#files[@]} -ge 1000 ] || { echo "expected about 1,070 models in $corpus, found ${#files[@]}"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

rc=0
timeout 300 "$BIN/dwsnet" inspect --json "${files[@]}" > "$work/decoded.jsonl" 2> "$work/rejected.txt" || rc=$?
# 0: all decoded, 1: some rejected; anything else is a crash, a sanitizer report or a timeout.
[ $rc -le 1 ] || { echo "dwsnet inspect exited with $rc"; tail -n 40 "$work/rejected.txt"; exit 1; }

codes='invalid_protobuf|not_an_mlp|unsupported_operator|unsupported_activation|shape_mismatch|external_data_unsupported|too_large'
if grep -Ev "^dwsnet inspect: ($codes): " "$work/rejected.txt" > "$work/odd.txt"; then
  echo "stderr lines that are not a coded rejection:"; head -n 20 "$work/odd.txt"; exit 1
fi
decoded=$(wc -l < "$work/decoded.jsonl")
rejected=$(wc -l < "$work/rejected.txt")
echo "${#files[@]} models: $decoded decoded, $rejected rejected"
cut -d: -f2 "$work/rejected.txt" | sort | uniq -c | sort -rn
[ $((decoded + rejected)) -eq ${#files[@]} ] || { echo "decoded + rejected != models"; exit 1; }

# Anything decoded must also encode back: roundtrip each and decode the result again.
if [ "$decoded" -gt 0 ]; then
  /usr/bin/python3 -c 'import json,sys; [print(json.loads(l)["file"]) for l in sys.stdin]' < "$work/decoded.jsonl" |
    while read -r f; do
      "$BIN/dwsnet" roundtrip "$f" -o "$work/rt.onnx" && "$BIN/dwsnet" inspect "$work/rt.onnx" > /dev/null
    done
fi
