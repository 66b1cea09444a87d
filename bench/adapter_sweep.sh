#!/usr/bin/env bash
# Architecture choices of the adapter compared on the validation split (docs/design.md section 7):
# short runs (STEPS, default 900) of `dwsnet train-adapter` on ZOO with the shipped training
# setup, one after another (each uses both cores), then a table of the best validation
# accuracy of each. Results and logs in OUT (default runs/sweep).
#   bench/adapter_sweep.sh [ZOO=zoo] [OUT=runs/sweep]
set -euo pipefail
zoo=${1:-zoo}
out=${2:-runs/sweep}
BIN=${BIN:-bin}
common=(--zoo "$zoo" --data "${DWSNET_DATA:-../shared/data/cifar10}" --steps "${STEPS:-900}" --batch-nets 4
        --batch-images 128 --lr 2e-3 --wd 1e-4 --clip 1 --val-every 300 --val-images 2000 --seed 0 --threads 2)
mkdir -p "$out"
run() {  # name, flags...: skipped when its result exists (resumable sweep)
  local name=$1; shift
  [ -s "$out/$name.json" ] && return
  "$BIN/dwsnet" train-adapter "${common[@]}" --out "$out/$name.dws" "$@" > "$out/$name.json" 2> "$out/$name.log"
}
run c8l3 --channels 8 --layers 3
run c8l3-noconv --channels 8 --layers 3 --no-template-conv
run c8l3-nopos --channels 8 --layers 3 --no-position-embedding
run c16l3 --channels 16 --layers 3
run c8l4 --channels 8 --layers 4
echo "| run | parameters | validation accuracy before -> best | seconds |"
echo "|---|---|---|---|"
for f in "$out"/*.json; do
  n=$(basename "$f" .json)
  params=$(sed -n 's/.*, \([0-9]*\) parameters.*/\1/p' "$out/$n.log" | head -1)
  sed -n 's/.*"val_acc_before":\([0-9.]*\),"val_acc_best":\([0-9.]*\),"seconds":\([0-9.]*\).*/\1 \2 \3/p' "$f" |
    awk -v n="$n" -v p="$params" '{printf "| %s | %s | %.2f%% -> %.2f%% | %.0f |\n", n, p, 100*$1, 100*$2, $3}'
done
