#!/usr/bin/env python3
"""Markdown table of eval/eval.h JSON files (one row per method and split):
   bench/results_table.py bench/results/baseline-*.json
Gains are in accuracy points on the corrupted test set; 'of oracle' divides a method's
mean gain by the oracle's mean gain on the same split (when an oracle file is given)."""
import json
import sys

ORDER = ["none", "rescale", "flat-mlp", "flat-mlp-perm", "dwsnet", "oracle"]
docs = [json.load(open(p)) for p in sys.argv[1:]]
docs.sort(key=lambda d: ORDER.index(d["method"]) if d["method"] in ORDER else len(ORDER))
oracle = next((d for d in docs if d["method"] == "oracle"), None)


def stats(rows):
    n = len(rows)
    mean = lambda v: sum(v) / n
    std = lambda v: (sum((x - mean(v)) ** 2 for x in v) / n) ** 0.5
    after = [r["target_after"] for r in rows]
    gain = [r["target_after"] - r["target_before"] for r in rows]
    return dict(n=n, after=mean(after), after_std=std(after), gain=mean(gain), gain_std=std(gain),
                improved=sum(g > 0 for g in gain) / n, clean_before=mean([r["clean_before"] for r in rows]),
                clean_after=mean([r["clean_after"] for r in rows]))


print("| split | method | n | corrupted test acc (after) | gain (points) | of oracle gain | improved | clean before -> after |")
print("|---|---|---|---|---|---|---|---|")
for split in ["test", "test_unseen_widths"]:
    ref = None
    if oracle:
        rows = [r for r in oracle["per_classifier"] if r["split"] == split]
        ref = stats(rows)["gain"] if rows else None
    for d in docs:
        rows = [r for r in d["per_classifier"] if r["split"] == split]
        if not rows:
            continue
        s = stats(rows)
        frac = "%.0f%%" % (100 * s["gain"] / ref) if ref else "-"
        print("| %s | %s | %d | %.2f ± %.2f | %+.2f ± %.2f | %s | %.0f%% | %.2f -> %.2f |" % (
            split, d["method"], s["n"], 100 * s["after"], 100 * s["after_std"], 100 * s["gain"],
            100 * s["gain_std"], frac, 100 * s["improved"], 100 * s["clean_before"], 100 * s["clean_after"]))
