#!/usr/bin/env bash
# The option tables through the binary: every command `dwsnet --help` lists has a
# generated --help (exit 0, usage line, an options list) and its parser knows every
# option that help lists; --flag=VALUE equals --flag VALUE; unknown options, missing
# values and out-of-range numbers exit 2 with the `dwsnet CMD: invalid_argument:` line;
# docs/cli.md's copies of the help are current.
set -euo pipefail
BIN=${BIN:-bin}
D=$BIN/dwsnet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect() {  # expect STATUS STDERR-PATTERN ARGS...: dwsnet ARGS exits STATUS, stderr matches (grep -E)
  local want=$1 pattern=$2 got=0; shift 2
  "$D" "$@" > "$tmp/out" 2> "$tmp/err" || got=$?
  [ "$got" = "$want" ] || fail "dwsnet $* exited $got, not $want: $(cat "$tmp/err")"
  [ -z "$pattern" ] || grep -Eq -- "$pattern" "$tmp/err" || fail "dwsnet $*: stderr '$(cat "$tmp/err")' lacks '$pattern'"
}

"$D" --help > "$tmp/top"
commands=$(sed -n '/^commands:/,/^$/p' "$tmp/top" | awk 'NF && $1 != "commands:" && $1 != "version" {print $1}')
[ "$(echo "$commands" | wc -l)" -ge 15 ] || fail "dwsnet --help lists $(echo "$commands" | wc -w) commands"
expect 2 "" 
expect 2 "unknown command 'no-such-command'" no-such-command

n_options=0
for cmd in $commands; do
  "$D" "$cmd" --help > "$tmp/help" 2> "$tmp/err" || fail "$cmd --help failed: $(cat "$tmp/err")"
  [ ! -s "$tmp/err" ] || fail "$cmd --help wrote to stderr"
  head -1 "$tmp/help" | grep -q "^usage: dwsnet $cmd" || fail "$cmd --help: $(head -1 "$tmp/help")"
  "$D" "$cmd" -h | cmp -s - "$tmp/help" || fail "$cmd: -h and --help differ"
  grep -q '^  -h, --help ' "$tmp/help" || fail "$cmd --help does not list --help"
  # Every listed option: "  [-o, ]--name[ META]", two or more spaces, its help.
  sed -n '/^options:/,/^$/p' "$tmp/help" | grep -E '^  (-[a-z], )?--[a-zA-Z0-9-]+' |
    sed -E 's/^  (-[a-z], )?//; s/  .*//' | awk '{print $1, (NF > 1 ? "value" : "flag")}' |
    while read -r opt kind; do
      [ "$opt" = --help ] && continue
      if [ "$kind" = value ]; then
        expect 2 "^dwsnet $cmd: invalid_argument: $opt needs a value \(see dwsnet $cmd --help\)$" "$cmd" "$opt"
      else
        expect 2 "^dwsnet $cmd: invalid_argument: unknown option '--no-such-option'" "$cmd" "$opt" --no-such-option
      fi
    done
  n=$(sed -n '/^options:/,/^$/p' "$tmp/help" | grep -cE '^  (-[a-z], )?--')
  [ "$n" -ge 2 ] || fail "$cmd --help lists $n options"
  n_options=$((n_options + n))
  expect 2 "^dwsnet $cmd: invalid_argument: unknown option '--no-such-option' \(see dwsnet $cmd --help\)$" \
    "$cmd" --no-such-option
done
[ "$n_options" -ge 150 ] || fail "only $n_options options in all"

# --flag=VALUE is --flag VALUE.
fx=tests/fixtures/cifar_mlp.onnx
"$D" roundtrip "$fx" -o "$tmp/a.onnx" --perturb 0.01 --seed 3
"$D" roundtrip --out="$tmp/b.onnx" --perturb=0.01 --seed=3 "$fx"
cmp -s "$tmp/a.onnx" "$tmp/b.onnx" || fail "--flag=VALUE and --flag VALUE gave different models"
"$D" init-model --kind adapter -o "$tmp/a.dws" --d0 1 --dL 1 --image none --seed 4 > /dev/null
"$D" init-model --kind=adapter --out="$tmp/b.dws" --d0=1 --dL=1 --image=none --seed=4 > /dev/null
cmp -s "$tmp/a.dws" "$tmp/b.dws" || fail "init-model: --flag=VALUE and --flag VALUE differ"

# Numbers are whole, in range; choices are listed; a value-less flag takes none.
expect 2 "^dwsnet init-model: invalid_argument: --channels must be an integer from 1 to 256, got '0' " \
  init-model --kind adapter -o "$tmp/x.dws" --channels 0
expect 2 "--channels must be an integer from 1 to 256, got '8x'" init-model --kind adapter -o "$tmp/x.dws" --channels=8x
expect 2 "--kind must be adapter or encoder, got 'decoder'" init-model --kind decoder -o "$tmp/x.dws"
expect 2 "--lr must be a number from 1e-08 to 10, got 'nan'" train-adapter --zoo z --out x --steps 1 --lr nan
expect 2 "--seed must be a non-negative integer, got '-1'" train-adapter --zoo z --out x --steps 1 --seed -1
expect 2 "--shard must be i/n with 0 <= i < n, got '3/3'" zoo --out "$tmp/z" --shard 3/3
expect 2 "--family must be default or any-mlp, got 'cnn'" zoo --out "$tmp/z" --family cnn
expect 2 "--activations must be up to 16 comma-separated names from relu, " zoo --out "$tmp/z" --activations relu,elu
expect 2 "--activations must be up to 16 " zoo --out "$tmp/z" --activations identity
expect 2 "--activations must be up to 16 " zoo --out "$tmp/z" --activations relu,
expect 2 "--hidden-layers must be up to 16 comma-separated integers from 1 to 15" zoo --out "$tmp/z" --hidden-layers 0,2
expect 2 "--activation must be relu, leaky_relu, " train-classifier --activation swish
expect 2 "--json takes no value" inspect --json=1 "$fx"
expect 2 "^dwsnet inspect: invalid_argument: FILE.onnx is required" inspect --json
expect 2 "^dwsnet roundtrip: invalid_argument: -o/--out is required" roundtrip "$fx"
expect 2 "unexpected argument 'extra'" forward "$fx" --input x.f32 extra
[ ! -e "$tmp/x.dws" ] || fail "a refused command wrote a file"

# docs/cli.md shows the help as the tables generate it.
if /usr/bin/python3 -c '' 2>/dev/null; then
  /usr/bin/python3 scripts/cli-help-doc --check "$D" || fail "docs/cli.md is stale: run scripts/cli-help-doc"
fi
echo ok
