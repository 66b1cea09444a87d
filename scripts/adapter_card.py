#!/usr/bin/env python3
"""Writes the prose model card (markdown) of a trained adapter from its .dws card,
its evaluation folder (eval.md) and the stage timings of `make pretrained`.
usage: scripts/adapter_card.py MODEL.dws EVAL_DIR TIMINGS.txt > MODEL.md"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dws_card import read_card  # noqa: E402


def main():
    model, eval_dir, timings = sys.argv[1:4]
    c = read_card(model)
    t, a, s = c.get("training", {}), c["architecture"], c["signature"]
    m = {r["method"]: r for r in c.get("metrics", {}).get("test", [])}
    times = dict(line.split() for line in open(timings) if line.strip())
    ours = next((r for k, r in m.items() if k.startswith("DWSNet")), None)
    none = m.get("no adaptation")
    cond = a.get("conditions")
    if cond:
        print(f"# {c['id']}: DWSNet adapter, clean CIFAR-10 -> every CIFAR-10-C domain "
              f"(default `{c['default_domain']}`)\n")
    else:
        print(f"# {c['id']}: DWSNet adapter, clean CIFAR-10 -> `{c['target_domain']}`\n")
    print("Adapts an MLP classifier trained on clean CIFAR-10 so that it works better on corrupted "
          "images, from its weights alone: one forward pass of a permutation-equivariant network over "
          "the classifier's weight space, no target data (`dwsnet adapt IN.onnx -o OUT.onnx`).\n")
    print("## What it accepts\n")
    lo, hi = s.get("min_depth", s["depth"]), s.get("max_depth", s["depth"])
    acts = s.get("activations", [s["activation"]])
    if lo == hi:
        print(f"- MLPs {s['d0']} -> h1 -> h2 -> {s['dL']} ({s['depth']} linear layers), hidden activation "
              f"`{s['activation']}`, logits out (a trailing Softmax/LogSoftmax is kept as it was).")
    else:
        print(f"- MLPs {s['d0']} -> h1 -> ... -> {s['dL']} with {lo - 1} to {hi - 1} hidden layers ({lo} to {hi} "
              f"linear layers), one hidden activation of {', '.join(f'`{x}`' for x in acts)} (LeakyReLU with slope "
              "0.01), logits out (a trailing Softmax/LogSoftmax is kept as it was). One parameter set for every "
              "depth: interior blocks are shared, the activation is a learned condition (docs/design.md section 16).")
    print(f"- Any hidden widths (no parameter depends on them); trained on widths {s['min_width']}-"
          f"{s['max_width']}; evaluated on unseen widths too (below).")
    print(f"- Input convention: {c['input_convention']}.")
    frames = (cond or {}).get("frames", ["pixel"])
    if len(frames) > 1:
        print("- A classifier whose input is rescaled or shifted (normalised inside its graph, or outside it: "
              "`--input-mean/--input-std`, `--input-range`) is read in the standardized frame "
              "((pixel/255 - mean) / std with CIFAR-10's channel statistics), where classifiers trained on "
              "normalised inputs have their usual weights, with the frame as a learned condition "
              "(docs/design.md section 17).")
    print("- Refused with `incompatible_model`, saying why: another input size, class count, depth or activation "
          "(also hidden layers that mix activations), and weights far outside the zoo's in the frame they are "
          "read in (docs/adapter.md section 3).")
    if cond:
        print(f"- Domains (`--domain`, `?domain=`): any of the {len(cond['types'])} corruption types "
              f"({', '.join(cond['types'])}) at severity 1-{cond['severities']}, chains of up to "
              f"{cond['max_steps']} steps (`fog:3,gaussian_noise:2`), `any` (a corruption the caller cannot "
              f"name), `none` (weights returned unchanged); default `{c['default_domain']}`. One model file, "
              f"one forward pass: the domain's learned embedding ({cond['dim']} floats) scales and shifts "
              "every DWS layer's channels (docs/design.md section 15).")
    print()
    print("## How it was trained\n")
    print(f"- Architecture: {a['dws_layers']} DWS layers, {a['channels']} channels, {a['parameters']} "
          f"parameters; input axis: {a['input_axis']}; class axis: {a['class_axis']}"
          + (f"; after the residual, a {a['input_map']}x{a['input_map']} input map that mixes the colour planes "
             "of every first-layer filter, and an input shift, both per domain (docs/design.md section 18)"
             if a.get("input_map") else "") + ".")
    if t:
        extra = (f" joined by `{t['extra_zoo']}` (CRC32 {t['extra_zoo_index_crc32']})" if t.get("extra_zoo") else "")
        print(f"- Data: zoo `{t['zoo']}` (index.jsonl CRC32 {t['zoo_index_crc32']}){extra}, "
              f"{t['train_classifiers']} training and {t['val_classifiers']} validation classifiers; CIFAR-10 "
              f"training images (CRC32 {t['train_images_crc32']}) through `{t['domain']}` with fresh noise "
              f"every step; the last {t['val_images']} held out for validation.")
        print(f"- Optimisation: {t['schedule']}, lr {t['lr']:.3g}, weight decay {t['weight_decay']:.3g}, "
              f"gradient clipping {t['clip']:g}, {t['steps']} steps of {t['batch_nets']} classifiers x "
              f"{t['batch_images']} images, seed {t['seed']}; kept: step {t['step']} (best validation "
              f"accuracy {100 * t['val_acc_after']:.2f}% vs {100 * t['val_acc_before']:.2f}% unadapted), "
              f"{t['seconds'] / 60:.0f} min of training.")
    if t.get("init_from"):
        print(f"- Warm start: from `{t['init_from']}`, every tensor of the same name (`make pretrained`: the "
              "single-domain specialist of the default zoo, then this one conditioned round; the condition's "
              "maps start at zero, so every domain starts where the specialist is, and the tied maps of other "
              "depths start from its hidden axes' maps; "
              "scripts/pretrained.sh).")
        if t.get("domain_mix"):
            mx = t["domain_mix"]
            heavy = [k for k, v in mx.get("type_weight", {}).items() if v != 1]
            print(f"- Domain mix of this round: `any` {mx['p_any']:.0%} of steps, the default domain "
                  f"{mx['p_default']:.0%}, chains of two {mx['p_chain']:.0%}, else one type at severity 1-5"
                  + (f", with {', '.join(heavy)} drawn 4x as often" if heavy else "") + ".")
    built = {zoo: times.pop(key) for zoo, key in (("zoo", "zoo_entries_built"), ("zoo-any", "zoo_any_entries_built"),
                                                  ("zoo-std", "zoo_std_entries_built")) if key in times}
    if times:
        print("- Stage times (seconds): " + ", ".join(f"{k} {v}" for k, v in times.items()) +
              (" (entries each zoo stage built: " + ", ".join(f"{z} {n}" for z, n in built.items()) + ")"
               if built else "") + ".")
    print("\n## Metrics\n")
    if ours and none:
        frac = ours.get("fraction_of_oracle_gain")
        print(f"Held-out test classifiers, corrupted test split: {100 * none['target_acc_mean']:.2f}% -> "
              f"{100 * ours['target_acc_mean']:.2f}% ({100 * ours['gain_mean']:+.2f} points"
              + (f", {100 * frac:.0f}% of the fine-tuning oracle's gain" if frac is not None else "")
              + f"), {100 * ours['fraction_improved']:.0f}% of classifiers improved; clean accuracy "
              f"{100 * ours['clean_acc_before']:.2f}% -> {100 * ours['clean_acc_after']:.2f}%.\n")
    md = os.path.join(eval_dir, "eval.md")
    if os.path.exists(md):
        print("On the default domain:\n")
        print(open(md).read().replace("## DWSNet adapter evaluation", "### Evaluation"))
    any_md = os.path.join(eval_dir, "any-mlp", "eval.md")
    if lo != hi and os.path.exists(any_md):
        print("\n## Any MLP: depths, activations, PyTorch styles\n")
        print("The any-mlp zoo's held-out classifiers (1-4 hidden layers, four activations) and the PyTorch-"
              "exported styles of tests/fixtures/torch_styles, each beside its fine-tuning oracle:\n")
        print(open(any_md).read().replace("## DWSNet adapter evaluation", "### Evaluation"))
    std_md = os.path.join(eval_dir, "standardized", "eval.md")
    if len(frames) > 1 and os.path.exists(std_md):
        print("\n## Classifiers trained on standardized inputs\n")
        print("The held-out classifiers of the standardized zoo (`dwsnet zoo --frame standardized`, any-mlp "
              "architectures), read in their frame, each beside its fine-tuning oracle (fine-tuned in its frame):\n")
        print(open(std_md).read().replace("## DWSNet adapter evaluation", "### Evaluation"))
    grid = os.path.join(eval_dir, "domains", "grid.md")
    if cond and os.path.exists(grid):
        print("\n## Every domain\n")
        print("`dwsnet eval-domains` (heatmaps: cifar10c-adapter-eval/domains/grid-*.svg):\n")
        print(open(grid).read())
    print("\n## Limits\n")
    if t and "snap" in t.get("zoo", ""):
        print(f"- Trained on a snapshot of the zoo while it was still being built ({t['train_classifiers']} "
              "training classifiers of the planned ~375); `make pretrained` trains on the whole zoo.")
    if not cond:
        print("- Only the domain above; other corruptions need another adapter (`--domain`).")
    print("- Frost is a procedural texture here, not the reference's frost photographs "
          "(docs/corruptions.md): what the adapter does for `frost` says nothing about CIFAR-10-C's frost.")
    print("- The gain depends on how far the classifier is from what fine-tuning could reach; it is "
          "measured against the fine-tuning oracle on the same classifiers above.")
    print("- Classifiers far outside the zoo's recipes (much wider, much better trained, normalised with "
          "statistics far from CIFAR-10's) are outside what it has seen.")


if __name__ == "__main__":
    main()
