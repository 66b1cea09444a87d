#!/usr/bin/env bash
# Replays the committed fuzz seed corpora (tests/fuzz/corpus/) and crash regressions
# (tests/fuzz/regressions/TARGET/, inputs that once crashed a target) through each
# fuzz target's entry point, built without libFuzzer ($BUILD/fuzz-replay/): the
# checks inside the targets (round trips, error codes, body invariants) must hold,
# with no crash, leak or sanitizer report.
set -uo pipefail
BUILD=${BUILD:-build}
fails=0
for name in onnx_decode onnx_shape model_file request png jpeg records; do
  bin=$BUILD/fuzz-replay/fuzz_$name
  [ -x "$bin" ] || { echo "FATAL: $bin is not built (make $bin)"; exit 1; }
  corpus=tests/fuzz/corpus/$name
  [ "$name" = onnx_decode ] && corpus=tests/fuzz/corpus/onnx
  inputs=("$corpus")
  [ -d "tests/fuzz/regressions/$name" ] && inputs+=("tests/fuzz/regressions/$name")
  if out=$(timeout 300 "$bin" "${inputs[@]}" 2>&1); then
    echo "ok   $name: ${out##*$'\n'}"
  else
    echo "FAIL $name:"; echo "$out" | tail -n 30
    fails=$((fails + 1))
  fi
done
[ "$fails" = 0 ] || exit 1
echo "all checks passed"
