#!/usr/bin/env bash
# `make pretrained`: rebuilds the shipped adapter from the data alone.
#   1. the zoo (ZOO, default zoo/; resumable: finished entries are kept),
#   2. train-adapter on its train/val splits (runs/pretrained/, resumable),
#   3. eval on its test and test_unseen_widths splits and on the PyTorch-trained
#      classifiers of tests/fixtures/torch_mlps (with their fine-tuning oracle), and the
#      baseline results of models/cifar10c-adapter-eval/baselines (or $BASELINES) beside it,
# then installs models/cifar10c-adapter.dws (its card gets the metrics), the
# evaluation report in models/cifar10c-adapter-eval/ and the prose card
# models/cifar10c-adapter.md. Stage durations (seconds) go to runs/pretrained/timings.txt.
set -euo pipefail
D=${BIN:-bin}/dwsnet
DATA=${DWSNET_DATA:-../shared/data/cifar10}
ZOO=${ZOO:-zoo}
RUN=runs/pretrained
JOBS=${JOBS:-2}
# The training setup chosen on the validation split (docs/adapter.md section 5).
TRAIN_ARGS=${TRAIN_ARGS:---channels 8 --layers 3 --steps 4000 --batch-nets 4 --batch-images 128 --lr 2e-3 --wd 1e-4 --clip 1 --val-every 250 --val-images 2000 --seed 0 --threads 2}
mkdir -p "$RUN" models
t0=$(date +%s)
stamp() { local now; now=$(date +%s); echo "$1 $((now - t0))" | tee -a "$RUN/timings.txt"; t0=$now; }
: > "$RUN/timings.txt"

zoo_summary=$("$D" zoo --out "$ZOO" --data "$DATA" --jobs "$JOBS")
stamp zoo
# A resumed zoo stage builds only what is missing: say how many entries it built.
echo "zoo_entries_built $(echo "$zoo_summary" | sed -n 's/.*"built":\([0-9]*\).*/\1/p')" >> "$RUN/timings.txt"
# shellcheck disable=SC2086
"$D" train-adapter --zoo "$ZOO" --data "$DATA" --out "$RUN/cifar10c-adapter.dws" --resume $TRAIN_ARGS
stamp train-adapter
cp "$RUN/cifar10c-adapter.dws" models/cifar10c-adapter.dws

# Baseline results (`dwsnet baseline`, bench/baselines.sh), by default the committed ones.
base=()
B=models/cifar10c-adapter-eval/baselines
for f in ${BASELINES:-$B/baseline-rescale.json $B/baseline-flat-mlp.json $B/baseline-flat-mlp-perm.json $B/baseline-oracle.json}; do
  [ -f "$f" ] && base+=(--baselines "$f")
done
"$D" eval --model models/cifar10c-adapter.dws --zoo "$ZOO" --data "$DATA" --extra tests/fixtures/torch_mlps \
    --extra-oracle --common --curves "$RUN/cifar10c-adapter.csv" --out models/cifar10c-adapter-eval \
    --card-entry metrics "${base[@]}" > /dev/null
# The figures tests/integration/adapter_shipped.sh checks: the committed small
# PyTorch classifiers on the first 300 corrupted test images.
"$D" eval --model models/cifar10c-adapter.dws --data "$DATA" --extra tests/fixtures/torch_mlps \
    --limit-images 300 --out "$RUN/check" --card-entry check > /dev/null
stamp eval
scripts/adapter_card.py models/cifar10c-adapter.dws models/cifar10c-adapter-eval "$RUN/timings.txt" \
    > models/cifar10c-adapter.md
cat models/cifar10c-adapter-eval/eval.md
