#!/usr/bin/env bash
# The five user styles of issue 18, as PyTorch trained and exported them
# (tests/fixtures/torch_styles, made by tests/fixtures/make_torch_styles.py):
#  - `dwsnet inspect` decodes every one and reports what it folds: the in-model
#    normalisation (also `x.view(x.size(0), -1)` after it, with a dynamic batch), the
#    channels-last permutation, GELU spelt out with Erf at opsets 13 and 17, and 1 and 4
#    hidden layers; --json gives the same as input.preprocess;
#  - `dwsnet forward` (which folds the preprocessing) computes torch's logits, and so
#    does onnxruntime on the files themselves (when onnxruntime-node is installed);
#  - an identity adapter returns the same function for the 2-hidden-layer ReLU styles,
#    the one normalised outside the model with the --input-mean/--input-std of its side file.
set -euo pipefail
BIN=${BIN:-bin}
D=$BIN/dwsnet
F=tests/fixtures/torch_styles
py=/usr/bin/python3
. tests/integration/lib/needs.bash
need_python numpy
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# close A.f32 B.f32: every entry within 1e-4 of the largest |logit| of its row.
close() {
  $py - "$1" "$2" <<'PY'
import sys
import numpy as np
a, b = (np.fromfile(p, "<f4").reshape(4, -1) for p in sys.argv[1:3])
err = np.abs(a - b).max(axis=1) / np.abs(b).max(axis=1)
sys.exit(0 if err.max() <= 1e-4 else f"relative error {err.max():.3g}")
PY
}

# file | preprocess line ("" for none) | widths | activations
expect=(
  "a_norm_inside|(x - mean) / std folded into layer 1|[3072, 64, 32, 10]|relu, relu, identity"
  "b_channels_last|permute(x, 0,2,3,1) folded into layer 1|[3072, 64, 32, 10]|relu, relu, identity"
  "c_gelu_opset13||[3072, 48, 48, 10]|gelu, gelu, identity"
  "c_gelu_opset17||[3072, 48, 48, 10]|gelu, gelu, identity"
  "d_norm_outside||[3072, 64, 32, 10]|relu, relu, identity"
  "e_depth1||[3072, 128, 10]|relu, identity"
  "e_depth4||[3072, 64, 64, 32, 32, 10]|relu, relu, relu, relu, identity"
)
[ "$(ls $F/*.onnx | wc -l)" = ${#expect[@]} ] || fail "expected ${#expect[@]} fixtures in $F"
for e in "${expect[@]}"; do
  IFS='|' read -r name pre widths acts <<< "$e"
  "$D" inspect "$F/$name.onnx" > "$tmp/i.txt" 2> "$tmp/err" || fail "$name: $(cat "$tmp/err")"
  if [ -n "$pre" ]; then
    grep -qxF "preprocess:   $pre" "$tmp/i.txt" || fail "$name: no 'preprocess:   $pre' in $(cat "$tmp/i.txt")"
  else
    ! grep -q '^preprocess:' "$tmp/i.txt" || fail "$name: $(grep '^preprocess:' "$tmp/i.txt")"
  fi
  grep -qxF "widths:       $widths" "$tmp/i.txt" || fail "$name: $(grep '^widths:' "$tmp/i.txt")"
  grep -qxF "activations:  $acts" "$tmp/i.txt" || fail "$name: $(grep '^activations:' "$tmp/i.txt")"
  "$D" inspect --json "$F/$name.onnx" | $py -c '
import json, sys
want = sys.argv[1]
got = json.load(sys.stdin)["input"].get("preprocess")
ok = got == want.replace(" folded into layer 1", "") if want else got is None
sys.exit(0 if ok else f"input.preprocess {got!r}")
' "$pre" || fail "$name: inspect --json"
  x=$F/x.f32; [ -e "$F/$name.x.f32" ] && x=$F/$name.x.f32
  "$D" forward "$F/$name.onnx" --input "$x" -o "$tmp/$name.c.f32"
  close "$tmp/$name.c.f32" "$F/$name.output.f32" || fail "$name: dwsnet forward differs from torch"
  # onnxruntime: 4 rows at once, or row by row for a model exported with a fixed batch of 1.
  job() {  # job MODEL REFERENCE INPUT ROWS
    printf '{"model": "%s", "close": "%s", "rtol": 1e-5, "input": "%s", "shape": [%s, 3, 32, 32], "type": "float"}\n' \
      "$@" >> "$tmp/jobs.jsonl"
  }
  if grep -q '^input: .*\[?, ' "$tmp/i.txt"; then
    job "$F/$name.onnx" "$F/$name.output.f32" "$x" 4
  else
    for r in 0 1 2 3; do
      # dd, not tail | head: head closing the pipe early kills tail with SIGPIPE (exit 141 under pipefail)
      dd if="$x" of="$tmp/$name.x$r.f32" bs=12288 skip=$r count=1 status=none
      dd if="$F/$name.output.f32" of="$tmp/$name.y$r.f32" bs=40 skip=$r count=1 status=none
      job "$F/$name.onnx" "$tmp/$name.y$r.f32" "$tmp/$name.x$r.f32" 1
    done
  fi
done

# An identity adapter gives back the same function; outside normalisation from the side file.
"$D" init-model --kind adapter --channels 8 --layers 2 --seed 1 --id identity -o "$tmp/id.dws" > /dev/null
read -r mean std <<< "$($py -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(",".join(map(str, d["input_mean"])), ",".join(map(str, d["input_std"])))' "$F/d_norm_outside.json")"
for name in a_norm_inside b_channels_last d_norm_outside; do
  args=(); x=$F/x.f32
  [ $name = d_norm_outside ] && args=(--input-mean "$mean" --input-std "$std") && x=$F/$name.x.f32
  "$D" adapt "$F/$name.onnx" -o "$tmp/$name.adapted.onnx" --model "$tmp/id.dws" "${args[@]}" > /dev/null
  "$D" forward "$tmp/$name.adapted.onnx" --input "$x" -o "$tmp/$name.adapted.f32"
  cmp -s "$tmp/$name.adapted.f32" "$tmp/$name.c.f32" || fail "$name: the identity adapter changed the function"
done

if have_ort; then
  node tests/node/run_ort.js --jobs "$tmp/jobs.jsonl"
else
  echo "onnxruntime part skipped: no node or tests/node/node_modules/onnxruntime-node"
fi
echo "${#expect[@]} torch-exported styles decoded, folded and computed as torch computes them"
