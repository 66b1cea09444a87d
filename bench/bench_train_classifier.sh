#!/usr/bin/env bash
# Times the reference recipe of docs/task.md section 4 in C (3072-128-128-10, Adam lr 1e-3, batch 128,
# 10 epochs, 50,000 images): the issue asks for >= 47% clean test accuracy in <= 57 s.
# Writes bench/out/train_classifier.json. Needs CIFAR-10 in $DWSNET_DATA.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
data=${DWSNET_DATA:-../shared/data/cifar10}
[ -e "$data/test_batch.bin.gz" ] || [ -e "$data/test_batch.bin" ] || { echo "skipped: no data"; exit 0; }
mkdir -p bench/out
"$BIN/dwsnet" train-classifier --data "$data" | tee bench/out/train_classifier.json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); ok=d["clean_test_acc"]>=0.47 and d["train_seconds"]<=57
print("reference recipe: %.1f%% clean, %.1f%% target, %.1f s wall, %.1f s CPU: %s" % (100*d["clean_test_acc"], 100*d["target_test_acc"], d["train_seconds"], d["train_cpu_seconds"], "ok" if ok else "MISSED (>= 47%, <= 57 s)"))
sys.exit(0 if ok else 1)' bench/out/train_classifier.json
