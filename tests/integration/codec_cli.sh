#!/usr/bin/env bash
# `dwsnet inspect`, `roundtrip` and `forward` as a user sees them: output on stdout,
# coded errors on stderr, exit statuses, the CIFAR-size fixture, rejected fixtures.
set -euo pipefail
BIN=${BIN:-bin}
F=tests/fixtures
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect_exit() {  # status, command...
  local want=$1 got=0; shift
  "$@" > "$work/out" 2> "$work/err" || got=$?
  [ "$got" = "$want" ] || fail "$* exited $got, expected $want; stderr: $(cat "$work/err")"
}

for cmd in inspect roundtrip forward; do
  expect_exit 0 "$BIN/dwsnet" $cmd --help
  grep -q "^usage: dwsnet $cmd" "$work/out" || fail "$cmd --help prints no usage"
  expect_exit 2 "$BIN/dwsnet" $cmd --no-such-option
done

# inspect, text and JSON, at CIFAR size.
expect_exit 0 "$BIN/dwsnet" inspect $F/cifar_mlp.onnx
grep -q '^widths: *\[3072, 64, 32, 10\]$' "$work/out" || fail "cifar widths: $(cat "$work/out")"
grep -q '^activations: *relu, relu, identity$' "$work/out" || fail "cifar activations"
grep -q '^parameters: *199082$' "$work/out" || fail "cifar parameter count"
grep -q "^input: *input FLOAT \[?, 3, 32, 32\] through Flatten/Reshape$" "$work/out" || fail "cifar input"
[ ! -s "$work/err" ] || fail "inspect wrote to stderr"
expect_exit 0 "$BIN/dwsnet" inspect --json $F/cifar_mlp.onnx
tr -d ' \t\n' < "$work/out" > "$work/compact"
for want in '"widths":[3072,64,32,10]' '"activations":["relu","relu","identity"]' '"parameters":199082' \
            '"opset":13' '"ir_version":7' '"shape":[null,3,32,32]' '"weight_storage":"initializerraw_dataFLOAT"'; do
  grep -qF "$want" "$work/compact" || fail "inspect --json lacks $want"
done
expect_exit 0 "$BIN/dwsnet" inspect --json $F/leaky_relu.onnx $F/helper_transb0_alpha_beta.onnx
[ "$(wc -l < "$work/out")" = 2 ] || fail "two files should give two JSON lines"
grep -q '"leaky_alpha":0.2' "$work/out" || fail "leaky alpha missing"
grep -q '"weight_transposed":true,"alpha":0.3' "$work/out" || fail "transB=0 / alpha not reported"

# torch export styles: x.view(x.size(0), -1) at CIFAR size, bias-free layers, Dropout.
expect_exit 0 "$BIN/dwsnet" inspect $F/view_cifar.onnx
grep -q '^widths: *\[3072, 32, 16, 10\]$' "$work/out" || fail "view() cifar widths: $(cat "$work/out")"
grep -q "^input: *input FLOAT \[?, 3, 32, 32\] through Flatten/Reshape$" "$work/out" || fail "view() cifar input"
expect_exit 0 "$BIN/dwsnet" inspect $F/no_constant_folding.onnx
grep -q "^   2  MatMul .* no stored bias (b = 0)$" "$work/out" || fail "bias-free layer 2: $(cat "$work/out")"
grep -q "^   3  MatMul .* no stored bias (b = 0)$" "$work/out" || fail "bias-free layer 3"
grep -q "^   1  Gemm .* b 'fcs.0.bias'" "$work/out" || fail "layer 1 keeps its bias"
expect_exit 0 "$BIN/dwsnet" inspect --json $F/no_bias_hidden.onnx
tr -d ' \t\n' < "$work/out" > "$work/compact"
grep -qF '"op":"MatMul","outputs":16,"inputs":16,' "$work/compact" || fail "bias-free layer op in JSON"
grep -qF '"bias":null,"bias_storage":"none"' "$work/compact" || fail "bias-free layer in JSON"
expect_exit 0 "$BIN/dwsnet" inspect $F/dropout_train_opset13.onnx
grep -q "^dropout: *2 node(s), the identity for dwsnet; training_mode=true in some" "$work/out" || fail "dropout line: $(cat "$work/out")"
expect_exit 0 "$BIN/dwsnet" inspect --json $F/helper_dropout_opset13.onnx
tr -d ' \t\n' < "$work/out" | grep -qF '"dropout":{"nodes":3,"training_mode":0}' || fail "dropout in JSON"
# A nonzero bias written into the bias-free layers: named in metadata, back as stored biases.
expect_exit 0 "$BIN/dwsnet" roundtrip $F/no_constant_folding.onnx -o $work/biased.onnx --perturb 0.01
grep -q "dwsnet.added_bias" $work/biased.onnx || fail "no dwsnet.added_bias record"
expect_exit 0 "$BIN/dwsnet" inspect $work/biased.onnx
[ "$(grep -c "^   [23]  MatMul+Add .* b 'fcs\.[12]\.weight\.dwsnet_bias' (initializer raw_data FLOAT)$" "$work/out")" = 2 ] ||
  fail "added biases: $(cat "$work/out")"

# Rejections: code and file on stderr, nothing on stdout, exit 1.
expect_exit 1 "$BIN/dwsnet" inspect $F/cnn.onnx
grep -q "^dwsnet inspect: unsupported_operator: $F/cnn.onnx: node '/conv/Conv' (Conv)" "$work/err" || fail "cnn: $(cat "$work/err")"
[ ! -s "$work/out" ] || fail "a rejected file printed to stdout"
# GELU spelt out with Erf (torch below opset 20) reads as one gelu activation.
expect_exit 0 "$BIN/dwsnet" inspect $F/gelu_opset13.onnx
grep -q "^activations:  gelu, gelu, identity$" "$work/out" || fail "decomposed GELU: $(cat "$work/out" "$work/err")"
expect_exit 1 "$BIN/dwsnet" inspect $F/gemm_flatten.input.f32
grep -q "^dwsnet inspect: invalid_protobuf: " "$work/err" || fail "raw floats: $(cat "$work/err")"
expect_exit 1 "$BIN/dwsnet" inspect $work/missing.onnx
grep -q "^dwsnet inspect: io_error: " "$work/err" || fail "missing file: $(cat "$work/err")"
expect_exit 1 "$BIN/dwsnet" inspect $F/gemm_flatten.onnx $F/cnn.onnx
[ "$(grep -c '^model:' "$work/out")" = 1 ] && [ "$(wc -l < "$work/err")" = 1 ] || fail "mixed good and bad files"

# roundtrip: unchanged weights, provenance added; a rejected model writes nothing.
expect_exit 0 "$BIN/dwsnet" roundtrip $F/cifar_mlp.onnx -o $work/rt.onnx
[ ! -s "$work/out" ] || fail "roundtrip -o wrote to stdout"
grep -q "dwsnet.operation" $work/rt.onnx || fail "no provenance in the roundtrip output"
expect_exit 0 "$BIN/dwsnet" roundtrip $F/cifar_mlp.onnx -o $work/bare.onnx --no-provenance
cmp -s $F/cifar_mlp.onnx $work/bare.onnx || fail "roundtrip --no-provenance is not byte-identical"
expect_exit 0 "$BIN/dwsnet" roundtrip $F/cifar_mlp.onnx -o - --no-provenance
cmp -s $F/cifar_mlp.onnx "$work/out" || fail "roundtrip -o - differs"
expect_exit 1 "$BIN/dwsnet" roundtrip $F/cnn.onnx -o $work/cnn.onnx
grep -q "^dwsnet roundtrip: unsupported_operator: " "$work/err" || fail "roundtrip cnn: $(cat "$work/err")"
[ ! -e $work/cnn.onnx ] || fail "a rejected roundtrip left an output file"
expect_exit 2 "$BIN/dwsnet" roundtrip $F/cifar_mlp.onnx

# forward: the torch reference outputs, as text and raw floats.
expect_exit 0 "$BIN/dwsnet" forward $F/cifar_mlp.onnx --input $F/cifar_mlp.input.f32
[ "$(wc -l < "$work/out")" = 4 ] && [ "$(awk '{print NF}' "$work/out" | sort -u)" = 10 ] || fail "forward text shape"
expect_exit 0 "$BIN/dwsnet" forward $F/softmax_head.onnx --input $F/softmax_head.input.f32
awk '{s=0; for (i=1;i<=NF;i++) s+=$i; if (s < 0.9999 || s > 1.0001) exit 1}' "$work/out" || fail "softmax rows do not sum to 1"
expect_exit 0 "$BIN/dwsnet" forward $F/softmax_head.onnx --input $F/softmax_head.input.f32 --logits
awk '{s=0; for (i=1;i<=NF;i++) s+=$i; if (s > 0.999 && s < 1.001) bad=1} END {exit bad}' "$work/out" || fail "--logits still applied the softmax"
expect_exit 0 "$BIN/dwsnet" forward $F/gemm_flatten.onnx --input $F/gemm_flatten.input.f32 -o $work/y.f32
[ "$(stat -c %s $work/y.f32)" = 160 ] || fail "forward -o wrote $(stat -c %s $work/y.f32) bytes, expected 4 x 10 floats"
head -c 100 $F/gemm_flatten.input.f32 > $work/short.f32
expect_exit 1 "$BIN/dwsnet" forward $F/gemm_flatten.onnx --input $work/short.f32
grep -q "^dwsnet forward: bad_data: " "$work/err" || fail "partial row: $(cat "$work/err")"
echo "inspect, roundtrip and forward behave"
