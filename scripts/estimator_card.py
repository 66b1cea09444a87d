#!/usr/bin/env python3
"""Writes the prose card (markdown) of a trained domain estimator from its .dws card
(with the `metrics` entry `dwsnet eval-estimator --card-entry metrics` stores) and its
evaluation report (estimator-eval.md).
usage: scripts/estimator_card.py ESTIMATOR.dws EVAL_DIR [TIMINGS.txt] > ESTIMATOR.md"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dws_card import read_card  # noqa: E402


def pct(v):
    return f"{100 * v:.1f}%"


def by_size_text(d, key, lead, at="at "):
    """lead + "x% at 8, ..." for d[key] (a by-size object), or "" when d has none."""
    v = d.get(key)
    return lead + ", ".join(f"{pct(x)} {at}{k}" for k, x in v.items()) if v else ""


def main():
    path, eval_dir = sys.argv[1:3]
    timings = sys.argv[3] if len(sys.argv) > 3 else None
    c = read_card(path)
    t, m, a = c.get("training", {}), c.get("metrics", {}), c["architecture"]
    print(f"# {c['id']}: which corruption, from a handful of unlabeled images\n")
    chains = [k for k in c["classes"] if "," in k]
    chain_text = (", or the chain" + ("s " if len(chains) > 1 else " ") + ", ".join(f"`{k}`" for k in chains)
                  if chains else "")
    print("Names the domain a set of 32 x 32 RGB images comes from: clean, one of the 19 CIFAR-10-C "
          f"corruptions of `dwsnet corrupt` at severity 1-5{chain_text} (`dwsnet estimate-domain --images "
          "FILE...`, `POST /v1/estimate-domain`). No labels, no classifier: pooled image statistics into a small "
          "MLP. How it works and how to use it: `docs/estimator.md`.\n")
    print("## What it reads\n")
    print(f"- {c['input']['convention']}; {c['input']['channels']} x {c['input']['height']} x "
          f"{c['input']['width']} only (other sizes, greyscale, alpha: `bad_image`).")
    print(f"- {len(c['features'])} features of the whole set (`docs/estimator.md` section 2), computed from the "
          "mean of per-image statistics: any number of images, more images, surer answers.")
    singles = len(c["classes"]) - len(chains)
    if chains:
        what = (f"{singles} single domains (`clean` and every corruption at severities 1-5) and {len(chains)} "
                "chain" + ("s" if len(chains) > 1 else "") + " of two steps (" + ", ".join(f"`{k}`" for k in chains)
                + "), whose type is the chain's corruptions in order (its `type`: "
                + ", ".join(sorted({f'`{k.split(":")[0]},{k.split(",")[1].split(":")[0]}`' for k in chains})) + ")")
    else:
        what = "`clean` and every corruption at severities 1-5"
    print(f"- Answers one of {len(c['classes'])} domains: {what}. The "
          "estimate is the type with the most probability summed over its classes (a corruption's severities), "
          "at its likeliest class; `p` is that domain's probability, `type_p` the type's.\n")
    print("## How it was trained\n")
    widths = " -> ".join(str(w) for w in a["widths"])
    print(f"- MLP {widths} (ReLU), {a['parameters']} parameters with the feature standardisation.")
    if t:
        excluded = ", ".join(t["excluded"]) or "none"
        print(f"- Data: {t['data']}; {t['pool_images']} images per domain for training, {t['val_images']} per "
              f"domain for validation; corruptions left out: {excluded}; chain classes: "
              f"{', '.join(t.get('chains', [])) or 'none'} (each chain's pool: the images through the chain).")
        print(f"- Optimisation: AdamW, 5% warm-up then cosine decay, lr {t['lr']:g}, weight decay "
              f"{t['weight_decay']:g}, {t['steps']} steps of {t['batch_sets']} sets (every type, clean "
              f"and each chain type included, equally likely; {t['min_set']}-{t['max_set']} images, log-uniform), "
              f"seed {t['seed']}; kept: step {t['best_step']} by validation type accuracy over every class "
              + ", ".join(f"{pct(v)} at {k}" for k, v in t["validation_type_accuracy"].items())
              + by_size_text(t, "validation_type_accuracy_single_steps", "; over clean and the single corruptions ")
              + by_size_text(t, "validation_chain_accuracy", "; over the chains ")
              + f"; {t['seconds']:.0f} s of training.")
    if timings and os.path.exists(timings):
        times = dict(line.split() for line in open(timings) if line.strip())
        stages = [f"{k} {v}" for k, v in times.items() if "estimator" in k]
        if stages:
            print(f"- Stage times (seconds): {', '.join(stages)}.")
    print()
    if m:
        print("## Metrics\n")
        print(f"Held-out CIFAR-10 test images. Corruption type named right on the 95 corrupted domains: "
              + ", ".join(f"{pct(v)} with {k} images" for k, v in m["type_accuracy"].items())
              + "; clean sets named clean: "
              + ", ".join(f"{pct(v)} with {k}" for k, v in m["clean_as_clean"].items())
              + by_size_text(m, "chain_exact_accuracy", "; chain sets named that very chain: ", "with ")
              + f". One estimate of 64 decoded images: {m['ms_per_64_images']:.2f} ms on one core.\n")
    report = os.path.join(eval_dir, "estimator-eval.md")
    if os.path.exists(report):
        print("### Evaluation (`dwsnet eval-estimator`)\n")
        print(open(report).read().rstrip() + "\n")
    print("## Limits\n")
    print("- `defocus_blur` at severities 1-3 is a disk of radius below one pixel, i.e. only its 3 x 3 anti-alias "
          "Gaussian (sigma 0.4, 0.5, 0.6): `defocus_blur:3` and `gaussian_blur:2` are the same Gaussian blur (sigma "
          "0.6) but for the border rule, so the two are confused there at any set size.")
    print("- Images are judged as files hold them (bytes): a JPEG file of quality 80 or lower is itself "
          "`jpeg_compression`. "
          + ("Chains of corruptions other than its chain classes are " if chains else
             "Chains of corruptions (such as the adapter's `contrast:4,gaussian_noise:2`) are ")
          + "not classes: the estimate names the nearest class, often one step, usually the most visible.")
    print("- `frost` is this project's procedural frost (`docs/corruptions.md` section 3), not CIFAR-10-C's "
          "photographs; real-world images are not CIFAR-10-C corruptions, and the answer is then the nearest "
          "domain the estimator knows.")


if __name__ == "__main__":
    main()
