#!/usr/bin/env bash
# Every MLP fixture written back by `dwsnet roundtrip`:
#  - unchanged: passes onnx.checker, nothing but provenance metadata differs, and
#    onnxruntime gives bit-identical outputs to the original;
#  - with perturbed weights: passes onnx.checker, only the weight numbers differ
#    (bias-free layers get a nonzero bias, in the documented form), and
#    onnxruntime's outputs equal the C forward's (1e-5 relative; 2e-3 for
#    FLOAT16 models, which onnxruntime computes in half precision);
#  - rebuilt fresh (dws_onnx_build): passes onnx.checker, onnxruntime equals the C forward
#    (also GELU's tanh form and SiLU, which it spells out at opset 13).
# Models exported in training mode keep Dropout nodes with training_mode = true, which
# onnxruntime may apply at random (it does with graph optimizations off); it runs
# copies with training_mode left out (false), whatever its optimizer does.
set -euo pipefail
BIN=${BIN:-bin}
py=/usr/bin/python3
if ! $py -c 'import onnx' 2>/dev/null; then echo "skipped: /usr/bin/python3 cannot import onnx (run scripts/install-deps)"; exit 77; fi
if ! command -v node >/dev/null || [ ! -d tests/node/node_modules/onnxruntime-node ]; then
  echo "skipped: no node or tests/node/node_modules/onnxruntime-node (run scripts/install-deps)"; exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# name, input shape (batch 4), ORT input type, d0 for every MLP fixture, from inspect --json.
models=()
for input in tests/fixtures/*.input.f32; do models+=("tests/fixtures/$(basename "$input" .input.f32).onnx"); done
"$BIN/dwsnet" inspect --json "${models[@]}" | $py -c '
import json, sys
types = {"FLOAT": "float", "DOUBLE": "double", "FLOAT16": "float16"}
for line in sys.stdin:
    d = json.loads(line)
    shape = [4] + d["input"]["shape"][1:]
    print(d["file"], ",".join(map(str, shape)), types[d["input"]["type"]], d["widths"][0], d["dropout"]["training_mode"])
' > "$work/fixtures.txt"
[ "$(wc -l < "$work/fixtures.txt")" -ge 35 ] || { echo "expected at least 35 MLP fixtures"; exit 1; }

while read -r model shape type d0 training; do
  name=$(basename "$model" .onnx)
  input=tests/fixtures/$name.input.f32
  rt=$work/$name.roundtrip.onnx pt=$work/$name.perturbed.onnx rb=$work/$name.rebuilt.onnx
  "$BIN/dwsnet" roundtrip "$model" -o "$rt"
  "$BIN/dwsnet" roundtrip "$model" -o "$pt" --perturb 0.05 --seed 7
  "$BIN/dwsnet" roundtrip "$model" -o "$rb" --perturb 0.05 --seed 7 --rebuild
  "$BIN/dwsnet" forward "$pt" --input "$input" -o "$work/$name.c.f32"
  "$BIN/dwsnet" forward "$rb" --input "$input" -o "$work/$name.rebuilt.c.f32"
  rtol=1e-5; [ "$type" = float16 ] && rtol=2e-3
  printf 'same %s %s\nperturbed %s %s\nrebuilt %s %s\n' "$model" "$rt" "$model" "$pt" "$model" "$rb" >> "$work/written.txt"
  orig=$model
  if [ "$training" != 0 ]; then
    orig=$work/$name.eval.onnx
    printf '%s %s %s %s %s %s ' "$model" "$orig" "$rt" "$rt.eval" "$pt" "$pt.eval" >> "$work/dropout_off.txt"
    rt=$rt.eval pt=$pt.eval
  fi
  cat >> "$work/jobs.jsonl" <<JOBS
{"model": "$rt", "same": "$orig", "input": "$input", "shape": [$shape], "type": "$type"}
{"model": "$pt", "close": "$work/$name.c.f32", "rtol": $rtol, "differ": "tests/fixtures/$name.output.f32", "input": "$input", "shape": [$shape], "type": "$type"}
{"model": "$rb", "close": "$work/$name.rebuilt.c.f32", "rtol": 1e-5, "input": "$input", "shape": [4, $d0], "type": "float"}
JOBS
done < "$work/fixtures.txt"

# Rebuilt fresh with the activations dws_onnx_build spells out at opset 13 (tanh-GELU, SiLU).
for name in user_gelu_tanh user_silu; do
  rb=$work/$name.rebuilt.onnx x=tests/fixtures/user_mlps.x.f32
  "$BIN/dwsnet" roundtrip "tests/fixtures/$name.onnx" -o "$rb" --perturb 0.05 --seed 7 --rebuild
  "$BIN/dwsnet" forward "$rb" --input "$x" -o "$work/$name.rebuilt.c.f32"
  echo "rebuilt tests/fixtures/$name.onnx $rb" >> "$work/written.txt"
  printf '{"model": "%s", "close": "%s", "rtol": 1e-5, "input": "%s", "shape": [4, 3072], "type": "float"}\n' \
    "$rb" "$work/$name.rebuilt.c.f32" "$x" >> "$work/jobs.jsonl"
done

$py tests/integration/codec_checker.py "$work/written.txt"
[ -s "$work/dropout_off.txt" ] || { echo "no fixture exported in training mode"; exit 1; }
# shellcheck disable=SC2046
$py tests/integration/dropout_off.py $(cat "$work/dropout_off.txt")
node tests/node/run_ort.js --jobs "$work/jobs.jsonl"
echo "$(wc -l < "$work/fixtures.txt") fixtures: checker and onnxruntime agree"
