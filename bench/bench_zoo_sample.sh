#!/usr/bin/env bash
# Estimates the time of a default 500-entry zoo from one timed shard (every 25th entry,
# a representative sample of the recipe mix): CPU seconds per entry, and the wall time
# of 500 entries on this machine's cores if nothing else runs. bench/out/zoo_sample.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
data=${DWSNET_DATA:-../shared/data/cifar10}
[ -e "$data/test_batch.bin.gz" ] || [ -e "$data/test_batch.bin" ] || { echo "skipped: no data"; exit 0; }
shards=${ZOO_SAMPLE_SHARDS:-25}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p bench/out
/usr/bin/time -f "%e %U %S" -o "$tmp/time" "$BIN/dwsnet" zoo --data "$data" --out "$tmp/zoo" --count 500 \
  --shard 0/"$shards" > "$tmp/summary.json" 2> /dev/null
read -r wall user sys < "$tmp/time"
cores=$(nproc)
python3 - "$tmp/summary.json" "$wall" "$user" "$sys" "$shards" "$cores" <<'PY' | tee bench/out/zoo_sample.txt
import json, sys
s = json.load(open(sys.argv[1]))
wall, user, sys_, shards, cores = float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
n = s["built"]
cpu = user + sys_
print(f"zoo sample: {n} entries (shard 0/{shards} of 500) in {wall:.0f} s wall, {cpu:.0f} s CPU "
      f"({cpu / n:.1f} CPU s per entry, {s['jobs']} jobs)")
print(f"500 entries: {cpu * shards / 60:.0f} CPU minutes, about {cpu * shards / cores / 60:.0f} minutes on {cores} idle cores; "
      f"{wall * shards / 60:.0f} minutes at this run's load")
PY
