#!/usr/bin/env bash
# `make pretrained`: rebuilds the shipped adapter from the data alone.
#   1. the zoo (ZOO, default zoo/; resumable: finished entries are kept),
#   2. the specialist: train-adapter for the default domain on its train/val splits
#      (runs/pretrained/specialist.dws, resumable; kept when present),
#   3. the shipped adapter: one train-adapter --domain all round from the specialist,
#      conditioned on every domain, the hidden activation and the input frame, with a
#      3x3 plane-mixing input map (docs/design.md section 18), on the
#      default zoo joined by the any-mlp zoo ZOO_ANY (default zoo-any/: 1 to 4 hidden
#      layers; ReLU, LeakyReLU, GELU, tanh) and the standardized zoo ZOO_STD (default
#      zoo-std/: any-mlp architectures trained on standardized inputs, --frame
#      standardized), both built first like the zoo (runs/pretrained/conditioned/,
#      resumable); both trainings validate a few times only: validation picks the kept
#      step and never changes the steps taken (test_adapter_train),
#   4. eval on the default domain: the zoo's test and test_unseen_widths splits and the
#      PyTorch-trained classifiers of tests/fixtures/torch_mlps (with their fine-tuning
#      oracle), and the baseline results of models/cifar10c-adapter-eval/baselines (or
#      $BASELINES) beside it; short checks on three domains for `make test`; the
#      any-mlp zoo's held-out classifiers by depth and activation and the PyTorch
#      styles of tests/fixtures/torch_styles, each with its oracle (card: metrics_any_mlp);
#      the standardized zoo's held-out classifiers with theirs (metrics_standardized),
#   5. eval-domains: the domain grid, with the oracle's results cached in
#      models/cifar10c-adapter-eval/oracle (computed where missing, within
#      ORACLE_SECONDS, default 60: the whole run stays within 180 minutes on 2 cores;
#      ORACLE_SECONDS=0 fills every missing domain, 16-30 s each; all 58 are cached),
# then installs models/cifar10c-adapter.dws (its card gets the metrics), the
# evaluation reports in models/cifar10c-adapter-eval/ and the prose card
# models/cifar10c-adapter.md. Stage durations (seconds) go to runs/pretrained/timings.txt.
#   6. when models/ has no domain estimator (or RETRAIN_ESTIMATOR=1), train-estimator on
#      CIFAR-10's training images (about 1.5 CPU-minutes; no zoo needed), eval-estimator
#      on the test images (metrics into its card, report in
#      models/cifar10c-domain-estimator-eval/) and the prose card
#      models/cifar10c-domain-estimator.md (docs/estimator.md).
set -euo pipefail
D=${BIN:-bin}/dwsnet
DATA=${DWSNET_DATA:-../shared/data/cifar10}
ZOO=${ZOO:-zoo}
ZOO_ANY=${ZOO_ANY:-zoo-any}
ZOO_STD=${ZOO_STD:-zoo-std}
RUN=runs/pretrained
JOBS=${JOBS:-2}
# The training setups chosen on the validation split (docs/adapter.md section 5).
# The estimator's setting chosen on validation (docs/estimator.md section 3): train-estimator's defaults
# (its classes: the 96 single domains and the default chain).
ESTIMATOR_ARGS=${ESTIMATOR_ARGS:---seed 0 --threads $JOBS}
TRAIN_ARGS=${TRAIN_ARGS:---channels 8 --layers 3 --steps 4000 --batch-nets 4 --batch-images 128 --lr 2e-3 --wd 1e-4 --clip 1 --val-every 500 --val-images 2000 --seed 0 --threads 2}
# The conditioned round: every corruption type drawn alike, the default domain 15% of steps.
COND_ARGS=${COND_ARGS:---domain all --any-mlp --cond-dim 16 --input-map 3 --p-default 0.15 --channels 8 --layers 3 --steps 30000 --batch-nets 4 --batch-images 128 --lr 1e-3 --wd 1e-4 --clip 1 --val-every 7500 --val-images 1000 --seed 5 --threads 2}
ORACLE_SECONDS=${ORACLE_SECONDS:-60}
EVAL=models/cifar10c-adapter-eval
mkdir -p "$RUN" models
t0=$(date +%s)
stamp() { local now; now=$(date +%s); echo "$1 $((now - t0))" | tee -a "$RUN/timings.txt"; t0=$now; }
: > "$RUN/timings.txt"

zoo_summary=$("$D" zoo --out "$ZOO" --data "$DATA" --jobs "$JOBS")
stamp zoo
# A resumed zoo stage builds only what is missing: say how many entries it built.
echo "zoo_entries_built $(echo "$zoo_summary" | sed -n 's/.*"built":\([0-9]*\).*/\1/p')" >> "$RUN/timings.txt"
zoo_summary=$("$D" zoo --out "$ZOO_ANY" --family any-mlp --count 800 --data "$DATA" --jobs "$JOBS")
stamp zoo-any
echo "zoo_any_entries_built $(echo "$zoo_summary" | sed -n 's/.*"built":\([0-9]*\).*/\1/p')" >> "$RUN/timings.txt"
zoo_summary=$("$D" zoo --out "$ZOO_STD" --family any-mlp --frame standardized --count 320 --seed 1 --data "$DATA" \
    --jobs "$JOBS")
stamp zoo-std
echo "zoo_std_entries_built $(echo "$zoo_summary" | sed -n 's/.*"built":\([0-9]*\).*/\1/p')" >> "$RUN/timings.txt"
if [ ! -f "$RUN/specialist.dws" ] || [ -f "$RUN/specialist.dws.ckpt" ]; then
  # shellcheck disable=SC2086
  "$D" train-adapter --zoo "$ZOO" --data "$DATA" --out "$RUN/specialist.dws" --resume $TRAIN_ARGS
  rm -f "$RUN/specialist.dws.ckpt"   # finished: a rerun keeps it
fi
stamp train-specialist
mkdir -p "$RUN/conditioned"
# shellcheck disable=SC2086
"$D" train-adapter --zoo "$ZOO" --extra-zoo "$ZOO_ANY,$ZOO_STD" --data "$DATA" \
    --out "$RUN/conditioned/cifar10c-adapter.dws" --init-from "$RUN/specialist.dws" --resume $COND_ARGS
stamp train-adapter
cp "$RUN/conditioned/cifar10c-adapter.dws" models/cifar10c-adapter.dws

# Baseline results (`dwsnet baseline`, bench/baselines.sh), by default the committed ones.
base=()
B=models/cifar10c-adapter-eval/baselines
for f in ${BASELINES:-$B/baseline-rescale.json $B/baseline-flat-mlp.json $B/baseline-flat-mlp-perm.json $B/baseline-oracle.json}; do
  [ -f "$f" ] && base+=(--baselines "$f")
done
"$D" eval --model models/cifar10c-adapter.dws --zoo "$ZOO" --data "$DATA" --extra tests/fixtures/torch_mlps \
    --extra-oracle --common --curves "$RUN/conditioned/cifar10c-adapter.csv" --out models/cifar10c-adapter-eval \
    --card-entry metrics "${base[@]}" > /dev/null
# The figures tests/integration/adapter_shipped.sh checks: the committed small
# PyTorch classifiers on the first 300 corrupted test images.
"$D" eval --model models/cifar10c-adapter.dws --data "$DATA" --extra tests/fixtures/torch_mlps \
    --limit-images 300 --out "$RUN/check" --card-entry check > /dev/null
for d in fog:5 contrast:3 gaussian_blur:3; do   # and on three domains of the grid
  "$D" eval --model models/cifar10c-adapter.dws --data "$DATA" --extra tests/fixtures/torch_mlps --domain "$d" \
      --limit-images 300 --out "$RUN/check-${d/:/-}" --card-entry "check_${d/:/_}" > /dev/null
done
stamp eval
"$D" eval --model models/cifar10c-adapter.dws --zoo "$ZOO_ANY" --data "$DATA" --zoo-oracle \
    --extra tests/fixtures/torch_styles --extra-oracle --out "$EVAL/any-mlp" --card-entry metrics_any_mlp > /dev/null
stamp eval-any-mlp
"$D" eval --model models/cifar10c-adapter.dws --zoo "$ZOO_STD" --data "$DATA" --zoo-oracle \
    --out "$EVAL/standardized" --card-entry metrics_standardized > /dev/null
stamp eval-standardized
"$D" eval-domains --model models/cifar10c-adapter.dws --zoo "$ZOO" --data "$DATA" --out "$EVAL/domains" \
    --oracle-dir "$EVAL/oracle" --limit 18 --images 5000 --oracle-seconds "$ORACLE_SECONDS" > /dev/null
stamp eval-domains
scripts/adapter_card.py models/cifar10c-adapter.dws models/cifar10c-adapter-eval "$RUN/timings.txt" \
    > models/cifar10c-adapter.md
cat models/cifar10c-adapter-eval/eval.md

EST=models/cifar10c-domain-estimator.dws
if [ ! -f "$EST" ] || [ -n "${RETRAIN_ESTIMATOR:-}" ]; then
  t0=$(date +%s)
  : > "$RUN/estimator-timings.txt"
  # shellcheck disable=SC2086
  "$D" train-estimator --data "$DATA" --out "$RUN/cifar10c-domain-estimator.dws" $ESTIMATOR_ARGS
  echo "train-estimator $(($(date +%s) - t0))" | tee -a "$RUN/estimator-timings.txt"
  cp "$RUN/cifar10c-domain-estimator.dws" "$EST"
  t0=$(date +%s)
  "$D" eval-estimator --estimator "$EST" --data "$DATA" --out models/cifar10c-domain-estimator-eval \
      --card-entry metrics --threads "$JOBS" > /dev/null
  echo "eval-estimator $(($(date +%s) - t0))" | tee -a "$RUN/estimator-timings.txt"
  scripts/estimator_card.py "$EST" models/cifar10c-domain-estimator-eval "$RUN/estimator-timings.txt" \
      > models/cifar10c-domain-estimator.md
  sed -n '1,8p' models/cifar10c-domain-estimator-eval/estimator-eval.md
fi
