#!/usr/bin/env bash
# dwsnet adapt / embed on a CIFAR-size ONNX classifier with freshly initialised models:
#  - an identity adapter (alpha 0) writes a model that computes exactly what the input did;
#  - a non-trivial adapter changes the weights and keeps the file a valid model;
#  - embed prints {"model", "embedding"} with embed-dim finite numbers, deterministically;
#  - missing default models, wrong model kinds and incompatible classifiers fail with the
#    `dwsnet CMD: code: message` line.
set -euo pipefail
BIN=${BIN:-bin}
D=$BIN/dwsnet
fx=tests/fixtures/cifar_mlp.onnx
x=tests/fixtures/cifar_mlp.input.f32
[ -f "$fx" ] || { echo "skipped: no $fx"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$D" init-model --kind adapter --channels 8 --layers 3 --seed 1 --id identity -o "$tmp/id.dws" >/dev/null
"$D" init-model --kind adapter --channels 8 --layers 3 --seed 1 --alpha 0.01 --id moved -o "$tmp/moved.dws" >/dev/null
"$D" init-model --kind encoder --channels 8 --layers 3 --seed 2 --embed-dim 16 --id enc -o "$tmp/enc.dws" >/dev/null

out=$("$D" adapt "$fx" -o "$tmp/id.onnx" --model "$tmp/id.dws" --threads 2)
echo "$out" | grep -q '"max_abs_change":0[,}]' || { echo "identity adapter changed weights: $out"; exit 1; }
"$D" forward "$fx" --input "$x" > "$tmp/orig.txt"
"$D" forward "$tmp/id.onnx" --input "$x" > "$tmp/id.txt"
cmp -s "$tmp/orig.txt" "$tmp/id.txt" || { echo "identity-adapted model computes something else"; exit 1; }
"$D" inspect --json "$tmp/id.onnx" | tr -d ' \t\n' | grep -q '"widths":\[3072,64,32,10\]' ||
  { echo "adapted model lost its shape"; exit 1; }

# -o - writes the model itself to stdout.
"$D" adapt "$fx" -o - --model "$tmp/id.dws" > "$tmp/stdout.onnx"
cmp -s "$tmp/stdout.onnx" "$tmp/id.onnx" || { echo "-o - differs from -o FILE"; exit 1; }

out=$("$D" adapt "$fx" -o "$tmp/moved.onnx" --model "$tmp/moved.dws")
echo "$out" | grep -q '"max_abs_change":0[,}]' && { echo "alpha 0.01 adapter changed nothing: $out"; exit 1; }
"$D" forward "$tmp/moved.onnx" --input "$x" > "$tmp/moved.txt"
cmp -s "$tmp/orig.txt" "$tmp/moved.txt" && { echo "adapted model computes exactly the same"; exit 1; }

e1=$("$D" embed "$fx" --model "$tmp/enc.dws")
e2=$("$D" embed "$fx" --model "$tmp/enc.dws" --threads 1)
[ "$e1" = "$e2" ] || { echo "embedding depends on the run or thread count"; exit 1; }
n=$(echo "$e1" | sed -n 's/^{"model":"enc","embedding":\[\(.*\)\]}$/\1/p' | tr ',' '\n' | grep -Ec '^-?[0-9]')
[ "$n" = 16 ] || { echo "unexpected embedding output: $e1"; exit 1; }

expect_fail() {   # code, command...
  local code=$1; shift
  if "$@" >"$tmp/out" 2>"$tmp/err"; then echo "accepted: $*"; exit 1; fi
  grep -Eq "^dwsnet (adapt|embed): $code: " "$tmp/err" || { echo "wrong error for '$*':"; cat "$tmp/err"; exit 1; }
}
(cd "$tmp" && expect_fail io_error "$OLDPWD/$D" adapt "$OLDPWD/$fx" -o x.onnx)
(cd "$tmp" && expect_fail io_error "$OLDPWD/$D" embed "$OLDPWD/$fx")
expect_fail incompatible_model "$D" embed "$fx" --model "$tmp/id.dws"
expect_fail incompatible_model "$D" adapt tests/fixtures/deep3.onnx -o "$tmp/x.onnx" --model "$tmp/id.dws"
expect_fail bad_model_file "$D" adapt "$fx" -o "$tmp/x.onnx" --model "$fx"
[ ! -e "$tmp/x.onnx" ] || { echo "a failed adapt left an output file"; exit 1; }
"$D" adapt --help | grep -q 'usage: dwsnet adapt'
"$D" embed --help | grep -q 'usage: dwsnet embed'
echo ok
