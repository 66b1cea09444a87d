#!/usr/bin/env bash
# `dwsnet eval-domains` with domain=auto (issue 17), small: a zoo of 8 quickly trained
# classifiers (its one test classifier is scored), 300 test images per domain, 2 draws
# of 8 and of 64 held-apart images per domain, no oracle.
#  - with the shipped adapter and estimator (found through DWSNET_MODELS): grid.md has
#    the auto columns, the `none` row and the auto target lines; grid.json's accuracies
#    are in [0, 100]; on clean images `none` is estimated from 64 images and auto changes
#    nothing; on contrast:5 auto beats no adaptation; the default chain is estimated as
#    itself from 64 images and auto there is the named column; the draws are counted;
#  - with an estimator trained without most types (3 kept, 40 steps): the report names
#    frost and spatter among the types it never saw and checks them;
#  - --no-auto drops the columns and the lines, and so does a missing shipped estimator
#    (with a note; an error when --auto-images asks for auto); bad --auto-images /
#    --auto-draws exit 2; draws that need more than the 5,000 held-apart images are refused;
#  - with the oracle (a 1 s budget: the default chain's only) the clean fine-tune is
#    fitted once and scored on all 59 domains, cached beside the oracle's files; a second
#    run reads both caches and fine-tunes nothing; a cache made for other images is not read;
#    a damaged entry is fitted again and replaced.
set -euo pipefail
BIN=${BIN:-bin}
D=$BIN/dwsnet
data=${DWSNET_DATA:-../shared/data/cifar10}
py=/usr/bin/python3
if [ ! -e "$data/test_batch.bin.gz" ] && [ ! -e "$data/test_batch.bin" ]; then
  echo "skipped: no data (set DWSNET_DATA to a CIFAR-10 binary folder)"; exit 77
fi
for f in models/cifar10c-adapter.dws models/cifar10c-domain-estimator.dws; do
  [ -f "$f" ] || { echo "skipped: $f is absent (make pretrained builds it)"; exit 77; }
done
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok   $*"; }
export DWSNET_MODELS=$PWD/models OPENBLAS_NUM_THREADS=1

"$D" zoo --data "$data" --out "$tmp/zoo" --count 8 --epochs 2 --subsets 5000 --jobs 2 > /dev/null 2>&1 \
  || fail "dwsnet zoo"
grid() {  # grid OUT [ARGS...]: a small eval-domains run into $tmp/OUT
  local out=$1; shift
  "$D" eval-domains --zoo "$tmp/zoo" --data "$data" --out "$tmp/$out" --no-oracle --images 300 "$@" \
    > "$tmp/$out.md" 2> "$tmp/$out.log" || fail "eval-domains $*: $(tail -3 "$tmp/$out.log")"
}

grid shipped --auto-draws 2
grep -q '^| domain | no adaptation | named | any | auto 8 | auto 64 | oracle | estimated most often |$' \
  "$tmp/shipped.md" || fail "no auto columns: $(grep '^| domain' "$tmp/shipped.md")"
for line in "^- \[[x ]\] 8 images: auto's summed gain .* \(target 75%\)$" \
            "^- \[[x ]\] 64 images: auto's summed gain .* \(target 90%\)$" \
            "^- \[[x ]\] clean images, 64 images: auto changes mean accuracy by" \
            "^- \[[x ]\] clean images: \`none\` estimated in [0-9]+ of 2 draws of 64 images" \
            "^- the estimator knows every corruption type"; do
  grep -Eq "$line" "$tmp/shipped.md" || fail "no line '$line' in: $(sed -n '/Auto targets/,$p' "$tmp/shipped.md")"
done
grep -q "auto contrast:5 from 64 images: " "$tmp/shipped.log" || fail "no auto progress lines: $(tail -3 "$tmp/shipped.log")"
$py - "$tmp/shipped/grid.json" <<'PY' || fail "grid.json"
import json, sys
g = json.load(open(sys.argv[1]))
rows = {r["domain"]: r for r in g["domains"]}
assert len(rows) == 59 and list(rows)[0] == "none", list(rows)[:2]
assert g["auto"]["draws"] == 2 and g["auto"]["images"] == [8, 64], g["auto"]
assert g["auto"]["first_image"] == 45000 and g["auto"]["estimator"] == "cifar10c-domain-estimator", g["auto"]
for name, r in rows.items():
    vals = [r["before"], r["named"], r["any"]] + [a["mean"] for a in r["auto"]]
    assert all(0 <= v <= 100 for v in vals), (name, vals)
    for a in r["auto"]:
        assert sum(e["draws"] for e in a["estimates"]) == 2, (name, a)
        assert a["most_often"] in [e["domain"] for e in a["estimates"]], (name, a)
clean = rows["none"]
assert clean["named"] == clean["before"] and clean["oracle"] is None, clean
at64 = clean["auto"][1]   # 8 images may be named a mild corruption now and then; 64 are not
assert at64["most_often"] == "none" and at64["mean"] == clean["before"], at64
c5 = rows["contrast:5"]
for a in c5["auto"]:
    assert a["mean"] > c5["before"], ("contrast:5", a, c5["before"])
    assert a["most_often"].startswith("contrast:"), a
print("contrast:5", c5["before"], [a["mean"] for a in c5["auto"]])
chain = rows["contrast:4,gaussian_noise:2"]
at64 = chain["auto"][1]
assert at64["most_often"] == "contrast:4,gaussian_noise:2" and at64["mean"] == chain["named"], at64
PY
ok "shipped estimator: auto columns, none row, target lines, grid.json sane, contrast:5 gains"

# An estimator that never saw frost nor spatter (nor 14 other types).
keep="contrast fog gaussian_noise"
exclude=$("$D" corrupt --list | awk 'NR > 1 {print $1}' | grep -vxF -f <(tr ' ' '\n' <<< "$keep") | paste -sd,)
"$D" train-estimator --data "$data" -o "$tmp/small.dws" --id small-estimator --exclude "$exclude" --steps 40 \
  --val-every 20 --pool-images 256 --val-images 256 --val-sets 2 --hidden 16 > /dev/null 2> "$tmp/train.log" \
  || fail "train-estimator: $(tail -3 "$tmp/train.log")"
grid small --images 100 --auto-images 64 --auto-draws 1 --estimator "$tmp/small.dws"
grep -Eq '^- \[[x ]\] types the estimator never saw \([a-z_, ]*frost[a-z_, ]*spatter; 48 domains\), 64 images: auto' \
  "$tmp/small.md" || fail "no never-saw line: $(sed -n '/Auto targets/,$p' "$tmp/small.md")"
grep -q '^| domain | no adaptation | named | any | auto 64 | oracle |' "$tmp/small.md" || fail "auto 64 column"
grep -q "estimator small-estimator" "$tmp/small.md" || fail "the report does not name the estimator"
ok "an estimator trained without frost and spatter: the types it never saw are checked"

grid none --no-auto --images 50
! grep -q "auto" "$tmp/none.md" || fail "--no-auto still reports auto: $(grep auto "$tmp/none.md" | head -3)"
grep -q '^| none |' "$tmp/none.md" || fail "--no-auto lost the none row"
ok "--no-auto: no auto columns or lines"

# A models directory without the estimator (a fresh `make pretrained` builds it after the
# grid): the grid runs without auto and says so; naming auto then is an error.
mkdir -p "$tmp/models" && cp models/cifar10c-adapter.dws "$tmp/models/"
DWSNET_MODELS=$tmp/models grid noest --images 50
grep -q "no domain estimator at .*cifar10c-domain-estimator.dws: the auto columns are left out" "$tmp/noest.log" \
  || fail "no note on the missing estimator: $(cat "$tmp/noest.log" | head -3)"
! grep -q "auto" "$tmp/noest.md" || fail "auto columns without an estimator"
rc=0; DWSNET_MODELS=$tmp/models "$D" eval-domains --zoo "$tmp/zoo" --data "$data" --out "$tmp/bad" --auto-images 8 \
  2> "$tmp/err" || rc=$?
[ $rc = 1 ] && grep -q -- "--estimator" "$tmp/err" || fail "--auto-images without an estimator: $rc $(cat "$tmp/err")"
ok "no shipped estimator: auto left out with a note, or an error when asked for"

for bad in "--auto-images 2000" "--auto-images 8,0" "--auto-draws 0" "--auto-draws 33"; do
  rc=0; "$D" eval-domains --zoo "$tmp/zoo" --data "$data" --out "$tmp/bad" $bad 2> "$tmp/err" || rc=$?
  [ $rc = 2 ] && grep -q "invalid_argument" "$tmp/err" || fail "$bad: exit $rc, $(cat "$tmp/err")"
done
rc=0; "$D" eval-domains --zoo "$tmp/zoo" --data "$data" --out "$tmp/bad" --estimator "$tmp/none.dws" 2> "$tmp/err" || rc=$?
[ $rc = 1 ] && grep -q "none.dws" "$tmp/err" || fail "a missing --estimator: exit $rc, $(cat "$tmp/err")"
rc=0; "$D" eval-domains --zoo "$tmp/zoo" --data "$data" --out "$tmp/bad" --no-oracle --auto-images 1024 --auto-draws 8 \
  2> "$tmp/err" || rc=$?
[ $rc = 1 ] && grep -q "8192 distinct held-apart training images" "$tmp/err" || fail "too many draws: $rc $(cat "$tmp/err")"
ok "bad --auto-images, --auto-draws and --estimator, and more draws than held-apart images, are refused"
oracle_grid() {  # oracle_grid OUT [ARGS...]: a grid with the oracle, cached in $tmp/oracle
  local out=$1; shift
  "$D" eval-domains --zoo "$tmp/zoo" --data "$data" --out "$tmp/$out" --oracle-dir "$tmp/oracle" --no-auto "$@" \
    > "$tmp/$out.md" 2> "$tmp/$out.log" || fail "eval-domains $*: $(tail -3 "$tmp/$out.log")"
}
oracle_grid fit --images 100 --oracle-seconds 1
grep -q "clean fine-tune (" "$tmp/fit.log" || fail "the clean fine-tune was not fitted: $(head -3 "$tmp/fit.log")"
grep -q '^| domain | no adaptation | named | any | oracle | clean fine-tune |$' "$tmp/fit.md" \
  || fail "no clean fine-tune column: $(grep '^| domain' "$tmp/fit.md")"
[ -f "$tmp/oracle/clean-finetune.json" ] && [ -f "$tmp/oracle/oracle-contrast-4+gaussian_noise-2.json" ] \
  || fail "caches: $(ls "$tmp/oracle")"
[ -s "$tmp/fit/grid-oracle-beyond-clean.svg" ] && grep -q "grid-oracle-beyond-clean.svg" "$tmp/fit.md" \
  || fail "no heatmap of the oracle beyond the clean fine-tune: $(ls "$tmp/fit")"
oracle_grid cached --images 100 --oracle-cached
! grep -q "clean fine-tune (\|oracle " "$tmp/cached.log" || fail "a cached run fine-tuned: $(grep oracle "$tmp/cached.log")"
oracle_grid other --images 50 --oracle-cached
$py - "$tmp/fit/grid.json" "$tmp/cached/grid.json" "$tmp/other/grid.json" "$tmp/oracle/clean-finetune.json" <<'PY' \
  || fail "clean fine-tune results"
import json, sys
fit, cached, other, cache = (json.load(open(p)) for p in sys.argv[1:])
rows = {r["domain"]: r for r in fit["domains"]}
assert len(rows) == 59 and all(0 <= r["clean_finetune"] <= 100 for r in rows.values()), rows["none"]
assert len(cache["means"]) == 59 and cache["images"] == 100, (len(cache["means"]), cache["images"])
assert all(cache["means"][d] == r["clean_finetune"] for d, r in rows.items())
assert [r["clean_finetune"] for r in cached["domains"]] == [r["clean_finetune"] for r in fit["domains"]]
chain = rows["contrast:4,gaussian_noise:2"]
assert chain["oracle"] is not None and rows["fog:5"]["oracle"] is None, (chain, rows["fog:5"])
assert all(r["clean_finetune"] is None for r in other["domains"]), other["domains"][0]
hurt = [r for r in fit["domains"][1:] if r["oracle"] is not None and r["oracle"] - r["before"] >= 2]
reading = fit.get("oracle_reading")
assert (reading is not None) == bool(hurt), (reading, hurt)
if hurt:
    s = sum(r["clean_finetune"] - r["before"] for r in hurt)
    assert abs(reading["clean_finetune_gain_sum"] - s) < 1e-6, (reading, s)
print("clean fine-tune: none", rows["none"]["clean_finetune"], "chain", chain["before"], chain["oracle"],
      chain["clean_finetune"])
PY
ok "the clean fine-tune: fitted once, scored on 59 domains, cached and read back; other images' cache ignored"
$py - "$tmp/oracle/clean-finetune.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["means"]["fog:5"] = "damaged"
json.dump(c, open(sys.argv[1], "w"))
PY
oracle_grid repair --images 100 --oracle-seconds 1
grep -q "clean fine-tune (" "$tmp/repair.log" || fail "a damaged entry did not refit the clean fine-tune"
$py - "$tmp/oracle/clean-finetune.json" "$tmp/fit/grid.json" <<'PY' || fail "the damaged entry"
import json, sys
text = open(sys.argv[1]).read()
fog = [r for r in json.load(open(sys.argv[2]))["domains"] if r["domain"] == "fog:5"][0]
assert text.count('"fog:5"') == 1 and json.loads(text)["means"]["fog:5"] == fog["clean_finetune"], text[:300]
PY
ok "a damaged clean fine-tune entry is fitted again and replaced"
echo "all checks passed"
