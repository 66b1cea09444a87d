#!/usr/bin/env bash
# The domain of an adaptation (issue 16): `dwsnet adapt --domain` and
# `POST /adapt?domain=` (or a form's domain field) with a conditioned adapter:
# named chains, any, none (weights unchanged), 400 unknown_domain with what the
# adapters read, the domain in metadata_props and X-DWSNet-Domain, /v1/models
# `accepts`; and a version-1 model file (before conditioning) still loads as an
# adapter of its one domain.
source "$(dirname "$0")/lib/daemon.bash"
need "$PY"

mkdir -p "$T/models"
"$BIN/dwsnet" init-model --kind adapter --id cond-adapter --d0 48 --dL 10 --depth 3 --channels 4 --layers 2 \
  --cond-dim 8 --alpha 0.5 -o "$T/models/cond.dws" > /dev/null || die "init-model --cond-dim failed"
make_classifiers 5 "$T/mlp.onnx=48,16,12,10"

adapt() {  # adapt OUT [ARGS...]: dwsnet adapt with the conditioned adapter; JSON in $T/adapt.json
  local out=$1; shift
  "$BIN/dwsnet" adapt "$T/mlp.onnx" --model "$T/models/cond.dws" -o "$out" "$@" > "$T/adapt.json" 2> "$T/adapt.err"
}
field() { $PY -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$T/adapt.json" "$1"; }
meta() { $PY -c "import onnx,sys; print({p.key: p.value for p in onnx.load(sys.argv[1]).metadata_props}['dwsnet.domain'])" "$1"; }

for d in fog:3 fog:4 'contrast:4,gaussian_noise:2' any none; do
  f="$T/out-${d//[:,]/_}.onnx"
  check "adapt --domain $d exits 0" adapt "$f" --domain "$d"
  check "adapt --domain $d reports the domain" [ "$(field domain)" = "$d" ]
  check "adapt --domain $d: metadata_props dwsnet.domain = $d" [ "$(meta "$f")" = "$d" ]
  check "adapt --domain $d passes onnx.checker" \
    $PY -c 'import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)' "$f"
done
adapt "$T/default.onnx"
check "no --domain: the adapter's default, contrast:4,gaussian_noise:2" \
  [ "$(field domain)" = 'contrast:4,gaussian_noise:2' ]
check "the default is the same as naming it" cmp "$T/default.onnx" "$T/out-contrast_4_gaussian_noise_2.onnx"
adapt "$T/none.onnx" --domain none
check "none changes no weight" [ "$(field max_abs_change)" = 0 ]
check "none keeps every weight's bits" $PY - "$T/mlp.onnx" "$T/none.onnx" <<'EOF'
import onnx, sys
a, b = (onnx.load(p) for p in sys.argv[1:3])
ta = {t.name: t.SerializeToString() for t in a.graph.initializer}
tb = {t.name: t.SerializeToString() for t in b.graph.initializer}
sys.exit(0 if ta == tb else 1)
EOF
adapt "$T/clean.onnx" --domain clean
check "clean is none" [ "$(field domain)" = none ]
check "each domain adapts differently" bash -c '! cmp -s "$1" "$2"' _ "$T/out-fog_3.onnx" "$T/out-fog_4.onnx"
check "any differs from the named domains" bash -c '! cmp -s "$1" "$2"' _ "$T/out-any.onnx" "$T/out-fog_3.onnx"

for d in fog:6 fog:0 bogus:2 bogus 'fog:1,snow:2,frost:3' default,fog:1; do
  adapt "$T/bad.onnx" --domain "$d"; rc=$?
  check "adapt --domain '$d' fails" [ $rc != 0 ]
  check "adapt --domain '$d' says unknown_domain" grep -q unknown_domain "$T/adapt.err"
done
adapt "$T/bad.onnx" --domain bogus:2
check "the error names the corruption types" grep -q 'jpeg_compression' "$T/adapt.err"
[ -e "$T/bad.onnx" ] && bad "a refused domain wrote an output file" || ok "a refused domain writes nothing"

# A version-1 file (written before conditioning) reads its one domain and none.
old=tests/fixtures/adapter_v1.dws
check "the version-1 fixture is version 1" $PY -c 'import sys; sys.exit(open(sys.argv[1], "rb").read()[8] != 1)' "$old"
"$BIN/dwsnet" adapt tests/fixtures/cifar_mlp.onnx --model "$old" -o "$T/old.onnx" > "$T/old.json" \
  || bad "the version-1 adapter does not load"
check "version 1: the default is its target domain" grep -q '"domain":"contrast:4,gaussian_noise:2"' "$T/old.json"
check "version 1: none is accepted" "$BIN/dwsnet" adapt tests/fixtures/cifar_mlp.onnx --model "$old" -o "$T/o.onnx" \
  --domain none
"$BIN/dwsnet" adapt tests/fixtures/cifar_mlp.onnx --model "$old" -o "$T/o.onnx" --domain fog:3 2> "$T/old.err"
check "version 1: another domain is unknown_domain, naming what it reads" \
  grep -q "unknown_domain.*reads only contrast:4,gaussian_noise:2 and none" "$T/old.err"

# Over HTTP.
cp "$old" "$T/models/old.dws"
start_daemon main "$T/models"
adapt "$T/offline-fog3.onnx" --domain fog:3
req POST "/adapt?domain=fog:3&model=cond-adapter" "${ONNX[@]}" --data-binary @"$T/mlp.onnx"
check "/adapt?domain=fog:3 -> 200" [ "$STATUS" = 200 ]
check "X-DWSNet-Domain: fog:3" [ "$(header X-DWSNet-Domain)" = fog:3 ]
check "/adapt?domain=fog:3 equals dwsnet adapt --domain fog:3" cmp "$T/body" "$T/offline-fog3.onnx"
req POST /adapt -F "model=@$T/mlp.onnx" -F domain=fog:3
check "the form's domain field -> 200, the same bytes" cmp "$T/body" "$T/offline-fog3.onnx"
req POST "/adapt?domain=fog:2" -F "model=@$T/mlp.onnx" -F domain=fog:3
check "?domain= and a different form field -> 400 unknown_domain" is_problem 400 unknown_domain
req POST "/adapt?domain=fog:9" "${ONNX[@]}" --data-binary @"$T/mlp.onnx"
check "?domain=fog:9 -> 400 unknown_domain" is_problem 400 unknown_domain
req POST "/adapt?domain=fog:1,snow:1,frost:1" "${ONNX[@]}" --data-binary @"$T/mlp.onnx"
check "a 3-step chain no adapter reads -> 400 unknown_domain" is_problem 400 unknown_domain
check "  ...whose detail says what the adapter reads" grep -q 'chains of up to 2 steps' "$T/body"
req POST "/adapt?domain=none" "${ONNX[@]}" --data-binary @"$T/mlp.onnx"
check "?domain=none -> 200, X-DWSNet-Domain none" [ "$STATUS:$(header X-DWSNet-Domain)" = 200:none ]
req GET /v1/models
check "/v1/models: the conditioned adapter accepts 19 types, severities 1-5, chains of 2, any, none" \
  [ "$(json '[(len(m["accepts"]["types"]), m["accepts"]["severities"], m["accepts"]["max_chain"], m["accepts"]["any"], m["accepts"]["none"]) for m in d["models"] if m["id"] == "cond-adapter"][0]')" = \
    "(19, [1, 2, 3, 4, 5], 2, True, True)" ]
check "/v1/models: the version-1 adapter accepts its domain and none" \
  [ "$(json '[m["accepts"] for m in d["models"] if m["id"] == "old-format"][0]')" = \
    "{'domains': ['contrast:4,gaussian_noise:2'], 'none': True, 'default': 'contrast:4,gaussian_noise:2'}" ]
finish
