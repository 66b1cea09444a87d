#!/usr/bin/env bash
# Classifiers written the way users write them (tests/fixtures/make_user_mlps.py):
# (x - mean) / std in forward, a channels-last permute before the flatten, x * 2 - 1,
# and a plain one normalised outside the model. For each:
#  - inspect names the preprocessing folded into layer 1;
#  - zero adaptation (identity adapter) gives back the stored bits: onnx.checker and
#    "nothing but metadata differs", onnxruntime outputs bit-identical to the original;
#  - a non-trivial adapter gives the same function as adapting the pixel-frame twin
#    (1e-5 relative, onnxruntime against the C forward), the output passes onnx.checker
#    with only weight numbers changed, and /embed equals the twin's embedding;
#  - --input-mean/--input-std on the plain model equals the in-model normalisation;
#  - bad --input-* values fail with invalid_argument; GELU spelt out with Erf or tanh
#    and SiLU spelt out are read as one activation, computed as onnxruntime does, and
#    refused by a ReLU adapter with incompatible_model.
set -euo pipefail
BIN=${BIN:-bin}
D=$BIN/dwsnet
F=tests/fixtures
py=/usr/bin/python3
x=$F/user_mlps.x.f32
if ! $py -c 'import onnx, numpy' 2>/dev/null; then echo "skipped: /usr/bin/python3 cannot import onnx"; exit 77; fi
if ! command -v node >/dev/null || [ ! -d tests/node/node_modules/onnxruntime-node ]; then
  echo "skipped: no node or tests/node/node_modules/onnxruntime-node (run scripts/install-deps)"; exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
ort() { node tests/node/run_ort.js "$@" --input "$x" --shape 4,3,32,32 > "$tmp/ort.log" || { cat "$tmp/ort.log"; fail "onnxruntime: $*"; }; }
same_embedding() {   # a b: two embed JSON outputs agree to 1e-5 relative
  $py -c '
import json, sys
a, b = (json.loads(open(p).read())["embedding"] for p in sys.argv[1:3])
m = max(1e-30, max(abs(v) for v in a))
d = max(abs(u - v) for u, v in zip(a, b))
sys.exit(0 if len(a) == len(b) and d <= 1e-5 * m else "embeddings differ by %g (scale %g)" % (d, m))' "$1" "$2"
}

"$D" init-model --kind adapter --channels 8 --layers 3 --seed 1 --id identity -o "$tmp/id.dws" >/dev/null
"$D" init-model --kind adapter --channels 8 --layers 3 --seed 1 --alpha 0.01 --id moved -o "$tmp/moved.dws" >/dev/null
"$D" init-model --kind encoder --channels 8 --layers 3 --seed 2 --embed-dim 16 --id enc -o "$tmp/enc.dws" >/dev/null

declare -A expr=([user_norm]='(x - mean) / std' [user_permute]='permute(x, 0,2,3,1)' [user_pm1]='x * 2 - 1')
: > "$tmp/check.list"
for s in user_norm user_permute user_pm1; do
  m=$F/$s.onnx t=$F/${s}_twin.onnx
  "$D" inspect "$m" | grep -qxF "preprocess:   ${expr[$s]} folded into layer 1" || fail "$s: inspect: $("$D" inspect "$m")"
  "$D" inspect --json "$m" "$m" | grep -qF "\"preprocess\":\"${expr[$s]}\"" || fail "$s: inspect --json"
  # The C forward folds the preprocessing: the same function as onnxruntime on the model.
  "$D" forward "$m" --input "$x" --logits -o "$tmp/$s.c.f32"
  ort "$m" --close "$tmp/$s.c.f32" --rtol 1e-5
  # Zero adaptation: the stored bits come back.
  out=$("$D" adapt "$m" -o "$tmp/$s.id.onnx" --model "$tmp/id.dws")
  echo "$out" | grep -q '"max_abs_change":0[,}]' || fail "$s: identity adapter changed weights: $out"
  ort "$tmp/$s.id.onnx" --same "$m"
  echo "same $m $tmp/$s.id.onnx" >> "$tmp/check.list"
  # A real change: the same function as adapting the pixel-frame twin.
  "$D" adapt "$m" -o "$tmp/$s.a.onnx" --model "$tmp/moved.dws" > /dev/null
  "$D" adapt "$t" -o "$tmp/$s.twin.a.onnx" --model "$tmp/moved.dws" > /dev/null
  "$D" forward "$tmp/$s.twin.a.onnx" --input "$x" --logits -o "$tmp/$s.twin.a.f32"
  ort "$tmp/$s.a.onnx" --close "$tmp/$s.twin.a.f32" --rtol 1e-5
  ort "$tmp/$s.a.onnx" --differ "$tmp/$s.c.f32"
  echo "adapted $m $tmp/$s.a.onnx" >> "$tmp/check.list"
  "$D" embed "$m" --model "$tmp/enc.dws" > "$tmp/$s.e.json"
  "$D" embed "$t" --model "$tmp/enc.dws" > "$tmp/$s.twin.e.json"
  same_embedding "$tmp/$s.e.json" "$tmp/$s.twin.e.json" || fail "$s: embedding differs from its twin's"
done
$py tests/integration/codec_checker.py "$tmp/check.list" > "$tmp/checker.log" || { cat "$tmp/checker.log"; fail "onnx.checker"; }

# Normalised outside the model: --input-mean/--input-std equals the in-model Sub/Div.
norm=(--input-mean 0.4914,0.4822,0.4465 --input-std 0.2470,0.2435,0.2616)
"$D" adapt $F/user_plain.onnx -o "$tmp/plain.a.onnx" --model "$tmp/moved.dws" "${norm[@]}" > /dev/null
$py -c '
import numpy as np, sys
x = np.fromfile(sys.argv[1], "<f4").reshape(4, 3, 1024)
m = np.array([0.4914, 0.4822, 0.4465], np.float32)[None, :, None]
s = np.array([0.2470, 0.2435, 0.2616], np.float32)[None, :, None]
((x - m) / s).astype("<f4").tofile(sys.argv[2])' "$x" "$tmp/xn.f32"
"$D" forward "$tmp/user_norm.a.onnx" --input "$x" --logits -o "$tmp/norm.a.f32"
node tests/node/run_ort.js "$tmp/plain.a.onnx" --input "$tmp/xn.f32" --shape 4,3,32,32 --close "$tmp/norm.a.f32" --rtol 1e-5 \
  > "$tmp/ort.log" || { cat "$tmp/ort.log"; fail "--input-mean/std adapts another function than the in-model normalisation"; }
"$D" embed $F/user_plain.onnx --model "$tmp/enc.dws" "${norm[@]}" > "$tmp/plain.e.json"
same_embedding "$tmp/plain.e.json" "$tmp/user_norm.e.json" || fail "--input-mean/std embedding"
# --input-range -1,1 on the plain model is x * 2 - 1.
"$D" embed $F/user_plain.onnx --model "$tmp/enc.dws" --input-range=-1,1 > "$tmp/r.json"
"$D" embed $F/user_plain.onnx --model "$tmp/enc.dws" > "$tmp/p.json"
cmp -s "$tmp/r.json" "$tmp/p.json" && fail "--input-range changed nothing"

expect_fail() {   # code, command...
  local code=$1; shift
  if "$@" >"$tmp/out" 2>"$tmp/err"; then fail "accepted: $*"; fi
  grep -Eq "^dwsnet (adapt|embed): $code: " "$tmp/err" || fail "wrong error for '$*': $(cat "$tmp/err")"
}
for bad in "--input-mean 1,2 --input-std 1,2" "--input-mean 0.5 --input-std 0" "--input-mean 0.5" \
           "--input-mean x --input-std 1" "--input-mean 0.5,0.5,0.5 --input-std 1" "--input-range 1,-1" \
           "--input-range 0,1 --input-mean 0 --input-std 1" "--input-mean nan --input-std 1"; do
  # shellcheck disable=SC2086
  expect_fail invalid_argument "$D" adapt $F/user_plain.onnx -o "$tmp/bad.onnx" --model "$tmp/moved.dws" $bad
done
[ ! -e "$tmp/bad.onnx" ] || fail "a refused adapt wrote a file"

# GELU spelt out (torch, opset 13): read as gelu, refused by a ReLU adapter with the reason.
"$D" inspect $F/gelu_opset13.onnx | grep -qx 'activations:  gelu, gelu, identity' || fail "Erf GELU not read as gelu"
expect_fail incompatible_model "$D" adapt $F/gelu_opset13.onnx -o "$tmp/g.onnx" --model "$tmp/id.dws"
# GELU's tanh approximation and SiLU spelt out (torch, opset 13): read as one activation,
# computed by the C forward as onnxruntime computes the graph, refused by a ReLU adapter.
for a in gelu_tanh silu; do
  "$D" inspect $F/user_$a.onnx | grep -qx "activations:  $a, $a, identity" || fail "user_$a: $("$D" inspect $F/user_$a.onnx 2>&1)"
  "$D" forward $F/user_$a.onnx --input "$x" --logits -o "$tmp/$a.f32"
  ort $F/user_$a.onnx --close "$tmp/$a.f32" --rtol 1e-5
  expect_fail incompatible_model "$D" adapt $F/user_$a.onnx -o "$tmp/g.onnx" --model "$tmp/id.dws"
  grep -q "activation" "$tmp/err" || fail "user_$a: the refusal does not name the activation: $(cat "$tmp/err")"
done
echo ok
