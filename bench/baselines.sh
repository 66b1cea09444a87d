#!/usr/bin/env bash
# Every baseline row of the docs/task.md section 6 report on one zoo, one after another (never two
# trainings at once on this 2-core machine), as eval/eval.h JSON files:
#   bench/baselines.sh ZOO [OUT_DIR=bench/results] [MODEL_DIR=/tmp/dws-baselines]
# Learned baselines (rescale, flat-mlp, flat-mlp-perm) train on ZOO's train split and
# save their adapters in MODEL_DIR; with REUSE=1 they are measured from MODEL_DIR
# instead (e.g. adapters trained on an earlier snapshot, measured on the finished zoo).
# The oracle resumes from an existing OUT_DIR/baseline-oracle.json (only new classifiers
# are fine-tuned). Budget of every learned baseline: STEPS steps x 8 classifiers x 128
# corrupted training images (default STEPS=400), validation every 50 steps.
set -euo pipefail
zoo=${1:?usage: bench/baselines.sh ZOO [OUT_DIR] [MODEL_DIR]}
out=${2:-bench/results}
models=${3:-/tmp/dws-baselines}
BIN=${BIN:-bin}
data=${DWSNET_DATA:-../shared/data/cifar10}
steps=${STEPS:-400}
mkdir -p "$out" "$models"
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
common=(--zoo "$zoo" --data "$data" --splits test,test_unseen_widths --seed 0)
budget=(--steps "$steps" --classifiers-per-step 8 --images-per-step 128 --val-every 50 --val-images 2000)

run() {  # method, extra flags...
  local m=$1; shift
  echo "== $m $(date -u +%H:%M:%S)" >&2
  nice -n 10 "$BIN/dwsnet" baseline --method "$m" "${common[@]}" "$@" --out "$out/baseline-$m.json"
}

run none
for m in rescale flat-mlp flat-mlp-perm; do
  lr=1e-4; [ $m = rescale ] && lr=0.01
  if [ "${REUSE:-0}" = 1 ]; then run $m "${budget[@]}" --lr $lr --model-in "$models/$m.bin"
  else run $m "${budget[@]}" --lr $lr --model-out "$models/$m.bin"; fi
done
resume=(); [ -e "$out/baseline-oracle.json" ] && resume=(--resume "$out/baseline-oracle.json")
run oracle "${resume[@]}"
