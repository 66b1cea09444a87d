#!/usr/bin/env bash
# domain=auto (issue 17): the domain estimated from unlabeled images sent with the
# model, then adapted to: `dwsnet adapt --domain auto --images FILE...` and POST
# /adapt with `images` fields and domain=auto. Fog images give a fog domain, images
# of the default chain give that chain (a class of the shipped estimator), adapted to
# as naming it does, clean ones give none (the weights come back unchanged); the estimate is in
# metadata_props (dwsnet.domain_estimate) and X-DWSNet-Domain; no images, or images
# without auto, are 400s that say what to send.
source "$(dirname "$0")/lib/daemon.bash"
need "$PY"
data=${DWSNET_DATA:-../shared/data/cifar10}
[ -e "$data/test_batch.bin.gz" ] || [ -e "$data/test_batch.bin" ] || skip "no data (set DWSNET_DATA)"
est=models/cifar10c-domain-estimator.dws
[ -f "$est" ] || skip "$est is absent (make pretrained builds it)"

mkdir -p "$T/models"
"$BIN/dwsnet" init-model --kind adapter --id cond-adapter --channels 2 --layers 2 --cond-dim 8 --input-map 3 --alpha 0.5 \
  -o "$T/models/cond.dws" > /dev/null || die "init-model failed"
cp "$est" "$T/models/"
mlp=tests/fixtures/cifar_mlp.onnx
"$BIN/dwsnet" corrupt --data "$data" --domain fog:4 --format png --first 3000 --count 64 --out "$T/fog" > /dev/null \
  || die "dwsnet corrupt fog"
"$BIN/dwsnet" corrupt --data "$data" --domain clean --format png --first 3000 --count 64 --out "$T/clean" > /dev/null \
  || die "dwsnet corrupt clean"
"$BIN/dwsnet" corrupt --data "$data" --domain contrast:4,gaussian_noise:2 --format png --first 3000 --count 64 \
  --out "$T/chain" > /dev/null || die "dwsnet corrupt chain"

adapt() { "$BIN/dwsnet" adapt "$mlp" --model "$T/models/cond.dws" --estimator "$est" "$@" > "$T/a.json" 2> "$T/a.err"; }
field() { $PY -c "import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2]))" "$T/a.json" "$1"; }
# same_weights A.onnx B.onnx: the same initializers, byte for byte (the metadata may differ).
same_weights() {
  $PY -c 'import onnx,sys; a,b=(onnx.load(p) for p in sys.argv[1:]); sys.exit(any(x.raw_data!=y.raw_data for x,y in zip(a.graph.initializer,b.graph.initializer)))' "$1" "$2"
}
meta() { $PY -c "import onnx,sys; print({p.key: p.value for p in onnx.load(sys.argv[1]).metadata_props}.get(sys.argv[2]))" "$@"; }

check "adapt --domain auto with fog images" adapt -o "$T/fog.onnx" --domain auto --images "$T"/fog/*.png
check "  ...estimates fog" bash -c '[[ $1 == fog:* ]]' _ "$(field domain)"
check "  ...says so with its probability and image count" bash -c '[[ $1 == fog:*"(p="*") from 64 images by "* ]]' _ \
  "$(field domain_estimate)"
check "  ...records the estimate in metadata_props" [ "$(meta "$T/fog.onnx" dwsnet.domain_estimate)" = "$(field domain_estimate)" ]
adapt -o "$T/named.onnx" --domain "$(field domain)"
check "  ...and adapts exactly as naming that domain does" same_weights "$T/fog.onnx" "$T/named.onnx"
check "adapt --domain auto with images of the default chain" adapt -o "$T/chain.onnx" --domain auto --images "$T"/chain/*.png
check "  ...estimates the chain" [ "$(field domain)" = contrast:4,gaussian_noise:2 ]
check "  ...says so" bash -c '[[ $1 == "contrast:4,gaussian_noise:2 (p="*") from 64 images by "* ]]' _ "$(field domain_estimate)"
adapt -o "$T/chain-named.onnx" --domain contrast:4,gaussian_noise:2
check "  ...and adapts exactly as naming the chain does" same_weights "$T/chain.onnx" "$T/chain-named.onnx"
check "adapt --domain auto with clean images" adapt -o "$T/clean.onnx" --domain auto --images "$T"/clean/*.png
check "  ...gives none: no weight changes" [ "$(field domain):$(field max_abs_change)" = "none:0" ]
adapt -o "$T/x.onnx" --domain auto; rc=$?
check "--domain auto without images fails, saying what to send" bash -c "[ $rc != 0 ] && grep -q 'needs --images' '$T/a.err'"
adapt -o "$T/x.onnx" --images "$T"/fog/*.png; rc=$?
check "--images without --domain auto fails" bash -c "[ $rc != 0 ] && grep -q 'goes with --domain auto' '$T/a.err'"
printf 'not a png' > "$T/bad.png"
adapt -o "$T/x.onnx" --domain auto --images "$T/bad.png"; rc=$?
check "a file that is no image fails with bad_image" bash -c "[ $rc != 0 ] && grep -q bad_image '$T/a.err'"

start_daemon main "$T/models"
imgs=(); for f in "$T"/fog/*.png; do imgs+=(-F "images=@$f"); done
req POST "/adapt?domain=auto" -F "model=@$mlp" "${imgs[@]}"
check "/adapt?domain=auto with 64 images fields -> 200" [ "$STATUS" = 200 ]
check "  ...X-DWSNet-Domain names the estimate and its probability" bash -c '[[ $1 == fog:*" (p="*")" ]]' _ \
  "$(header X-DWSNet-Domain)"
check "  ...the same bytes as dwsnet adapt --domain auto" cmp "$T/body" "$T/fog.onnx"
req POST /adapt -F "model=@$mlp" -F domain=auto "${imgs[@]}"
check "domain=auto as a form field -> 200" [ "$STATUS" = 200 ]
req POST "/adapt?domain=auto" -F "model=@$mlp"
check "domain=auto without images -> 400 no_images" is_problem 400 no_images
req POST "/adapt?domain=fog:3" -F "model=@$mlp" "${imgs[@]}"
check "images without domain=auto -> 400 invalid_argument" is_problem 400 invalid_argument
req POST "/adapt?domain=auto" -F "model=@$mlp" -F "images=@$T/bad.png"
check "a bad image -> 400 bad_image" is_problem 400 bad_image
finish
