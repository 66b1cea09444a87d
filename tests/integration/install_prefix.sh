#!/usr/bin/env bash
# `make install` into a temporary PREFIX, then the installed programs find their
# default models in the one documented order (core/base/base.h, "model path"): the flag,
# then the environment (DWSNET_MODELS; dwsnetd reads DWSNETD_MODELS first), then
# PREFIX/share/dwsnet/models, then ./models. `make uninstall` removes it all.
# The programs are built again (PREFIX is compiled in) in a temporary build folder.
source "$(dirname "$0")/lib/daemon.bash"
need make "$PY"
# This checks the install, not the code: the sanitizer run has nothing to add.
[ -z "${DWSNET_SANITIZED:-}" ] || skip "install layout and model lookup are checked in the plain build"
$PY -c 'import onnx' 2>/dev/null || skip "/usr/bin/python3 cannot import onnx"
ls models/*.dws >/dev/null 2>&1 || skip "no shipped models/*.dws"
repo=$PWD
BIN=$(cd "$BIN" && pwd)  # the tests below change directory
P=$T/prefix
cd_elsewhere() { mkdir -p "$T/elsewhere" && cd "$T/elsewhere"; }

# Starting from this build's objects (times kept): only model_path.o, which holds
# PREFIX, is compiled again, and the programs relinked.
mkdir -p "$T/build"
for d in core tools server proto; do
  [ -d "$BUILD/$d" ] && cp -a "$BUILD/$d" "$T/build/"
done
make -s -j2 BUILD="$T/build" BIN="$T/bin" PREFIX="$P" install >"$T/make.log" 2>&1 ||
  { tail -n 30 "$T/make.log"; die "make install PREFIX=$P failed"; }
check "binaries installed" test -x "$P/bin/dwsnet" -a -x "$P/bin/dwsnetd"
for f in models/*.dws models/*.md; do
  check "$f installed" cmp -s "$f" "$P/share/dwsnet/models/$(basename "$f")"
done
check "no evaluation folders installed" [ -z "$(find "$P/share/dwsnet/models" -mindepth 1 -type d)" ]

# The classifier the shipped adapter accepts, and what the checkout's models make of it.
make_classifiers 5 "$T/classifier.onnx=3072,32,32,10"
"$BIN/dwsnet" adapt "$T/classifier.onnx" --model models/cifar10c-adapter.dws -o "$T/expected.onnx" \
  >/dev/null || die "dwsnet adapt in the checkout failed"
"$BIN/dwsnet" embed "$T/classifier.onnx" --model models/cifar10-embedder.dws >"$T/expected.json" ||
  die "dwsnet embed in the checkout failed"
other=$T/other-models
mkdir -p "$other"
make_model adapter other-adapter 3072 10 3 "$other/cifar10c-adapter.dws"

models_line() { "$1" --help | grep -A1 '^Models directory' | tr '\n' ' '; }

cd_elsewhere
unset DWSNET_MODELS DWSNETD_MODELS
echo "== installed share directory, from a folder without models/"
line=$(models_line "$P/bin/dwsnet")
check "dwsnet --help names the installed directory: $line" \
  grep -q "): $P/share/dwsnet/models (installed);" <<<"$line"
check "dwsnet adapt finds the installed adapter" \
  sh -c '"$1" adapt "$2" -o "$3" > /dev/null' _ "$P/bin/dwsnet" "$T/classifier.onnx" "$T/installed.onnx"
check "... the same bytes as with --model models/cifar10c-adapter.dws" cmp "$T/installed.onnx" "$T/expected.onnx"
check "dwsnet embed finds the installed encoder" \
  sh -c '"$1" embed "$2" > "$3"' _ "$P/bin/dwsnet" "$T/classifier.onnx" "$T/installed.json"
check "... the same embedding" cmp "$T/installed.json" "$T/expected.json"

echo "== DWSNET_MODELS before the installed directory; the flag before both"
export DWSNET_MODELS=$other
check "dwsnet --help names DWSNET_MODELS" grep -q "): $other (DWSNET_MODELS);" <<<"$(models_line "$P/bin/dwsnet")"
"$P/bin/dwsnet" adapt "$T/classifier.onnx" -o "$T/env.onnx" >"$T/env.json" || bad "adapt with DWSNET_MODELS"
check "dwsnet adapt uses \$DWSNET_MODELS/cifar10c-adapter.dws" grep -q '"model":"other-adapter"' "$T/env.json"
"$P/bin/dwsnet" embed "$T/classifier.onnx" >/dev/null 2>"$T/env-embed.err"
check "no fallback when DWSNET_MODELS lacks the file (the error names the path)" \
  grep -q "default $other/cifar10-embedder.dws does not exist (models directory from DWSNET_MODELS" "$T/env-embed.err"
check "--model wins over DWSNET_MODELS" \
  sh -c '"$1" embed "$2" --model "$3" > /dev/null' _ "$P/bin/dwsnet" "$T/classifier.onnx" "$repo/models/cifar10-embedder.dws"
unset DWSNET_MODELS

echo "== dwsnetd: --models, DWSNETD_MODELS, DWSNET_MODELS, installed"
# served_ids [ENV...] -- [FLAGS...]: sets IDS, the model ids an installed dwsnetd
# serves. Not in a subshell: the daemon stays in DAEMON_PIDS, which the exit trap kills.
served_ids() {
  local envs=() port="" pid i
  IDS=""
  while [ "$1" != -- ]; do envs+=("$1"); shift; done; shift
  : >"$T/d.err"  # emptied here: the background redirection may come after the first read
  env "${envs[@]}" "$P/bin/dwsnetd" --listen 127.0.0.1:0 "$@" >"$T/d.out" 2>"$T/d.err" &
  pid=$!
  DAEMON_PIDS+=("$pid")
  for ((i = 0; i < 200 * SLOW; i++)); do
    # The whole line: a half-written one would give a truncated port.
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\) (.*/\1/p' "$T/d.err")
    [ -n "$port" ] && break
    sleep 0.05
  done
  rm -f "$T/d.json"
  for ((i = 0; i < 100 * SLOW; i++)); do
    [ -n "$port" ] && curl -sS -m 10 -o "$T/d.json" "http://127.0.0.1:$port/v1/models" && break
    sleep 0.05
  done
  [ -n "$port" ] && IDS=$($PY -c 'import json, sys
print(" ".join(sorted(m["id"] for m in json.load(open(sys.argv[1]))["models"])))' "$T/d.json")
  [ -n "$IDS" ] || cat "$T/d.err"
  kill -TERM "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}
shipped=$(cd "$repo/models" && ls *.dws | sed 's/\.dws$//' | sort | tr '\n' ' ' | sed 's/ $//')
served_ids --
check "installed directory: serves the shipped models ($IDS)" [ "$IDS" = "$shipped" ]
served_ids DWSNET_MODELS="$other" --
check "DWSNET_MODELS: $IDS" [ "$IDS" = other-adapter ]
mkdir -p "$T/d-models"
make_model encoder d-encoder 48 10 3 "$T/d-models/enc.dws"
served_ids DWSNET_MODELS="$other" DWSNETD_MODELS="$T/d-models" --
check "DWSNETD_MODELS before DWSNET_MODELS: $IDS" [ "$IDS" = d-encoder ]
served_ids DWSNET_MODELS="$other" DWSNETD_MODELS="$T/d-models" -- --models "$P/share/dwsnet/models"
check "--models before both: $IDS" [ "$IDS" = "$shipped" ]

echo "== make uninstall; then ./models"
(cd "$repo" && make -s BUILD="$T/build" BIN="$T/bin" PREFIX="$P" uninstall) >"$T/uninstall.log" 2>&1 ||
  bad "make uninstall: $(cat "$T/uninstall.log")"
check "uninstall removed the binaries" test ! -e "$P/bin/dwsnet" -a ! -e "$P/bin/dwsnetd"
check "uninstall removed share/dwsnet" [ ! -e "$P/share/dwsnet" ]
# The built (not installed) program, from a folder with models/: the last step.
mkdir -p "$T/checkout-like/models"
cp "$repo/models/cifar10c-adapter.dws" "$T/checkout-like/models/"
cd "$T/checkout-like"
check "without an installed directory: ./models" \
  grep -q '): models (working directory);' <<<"$(models_line "$T/bin/dwsnet")"
check "dwsnet adapt finds ./models/cifar10c-adapter.dws" \
  sh -c '"$1" adapt "$2" -o "$3" > /dev/null' _ "$T/bin/dwsnet" "$T/classifier.onnx" "$T/cwd.onnx"
check "... the same bytes" cmp "$T/cwd.onnx" "$T/expected.onnx"
cd "$T/elsewhere"
"$T/bin/dwsnet" adapt "$T/classifier.onnx" -o "$T/none.onnx" 2>"$T/none.err" >/dev/null
check "nowhere: names models/cifar10c-adapter.dws, --model and DWSNET_MODELS" \
  grep -q 'default models/cifar10c-adapter.dws does not exist (models directory from working directory; pass --model FILE, or set DWSNET_MODELS' "$T/none.err"
cd "$repo"
finish
