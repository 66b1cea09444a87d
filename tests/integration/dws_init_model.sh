#!/usr/bin/env bash
# dwsnet init-model: both kinds write loadable model files with the requested
# architecture; bad arguments fail with the error line format and no file.
set -euo pipefail
BIN=${BIN:-bin}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

out=$("$BIN"/dwsnet init-model --kind adapter --channels 8 --layers 3 --seed 5 --id it-adapter -o "$tmp/a.dws")
echo "$out" | grep -q '"id":"it-adapter"' || { echo "unexpected output: $out"; exit 1; }
echo "$out" | grep -q '"kind":"adapter"' || { echo "unexpected output: $out"; exit 1; }
[ -s "$tmp/a.dws" ] || { echo "no model file"; exit 1; }

# Same seed, same bytes; another seed, other bytes.
"$BIN"/dwsnet init-model --kind adapter --channels 8 --layers 3 --seed 5 --id it-adapter -o "$tmp/b.dws" >/dev/null
cmp -s "$tmp/a.dws" "$tmp/b.dws" || { echo "init-model is not deterministic for a seed"; exit 1; }
"$BIN"/dwsnet init-model --kind adapter --channels 8 --layers 3 --seed 6 --id it-adapter -o "$tmp/c.dws" >/dev/null
! cmp -s "$tmp/a.dws" "$tmp/c.dws" || { echo "the seed is ignored"; exit 1; }

out=$("$BIN"/dwsnet init-model --kind encoder --d0 20 --dL 3 --depth 2 --image none --embed-dim 7 -o "$tmp/e.dws")
echo "$out" | grep -q '"kind":"encoder"' || { echo "unexpected output: $out"; exit 1; }

for args in "--kind decoder -o $tmp/x.dws" "--kind adapter --channels 0 -o $tmp/x.dws" \
            "--kind adapter --d0 100 --image 3x32x32 -o $tmp/x.dws" "--kind adapter" \
            "--kind adapter --id bad/id -o $tmp/x.dws" "--kind adapter -o /nonexistent/dir/x.dws"; do
  if "$BIN"/dwsnet init-model $args 2>"$tmp/err"; then echo "accepted: $args"; exit 1; fi
  grep -Eq '^dwsnet init-model: [a-z_]+: ' "$tmp/err" || { echo "bad error line for '$args':"; cat "$tmp/err"; exit 1; }
  [ ! -e "$tmp/x.dws" ] || { echo "a failed call left a file: $args"; exit 1; }
done
"$BIN"/dwsnet init-model --help | grep -q 'usage: dwsnet init-model'
echo ok
