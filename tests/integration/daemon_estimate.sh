#!/usr/bin/env bash
# dwsnetd: POST /v1/estimate-domain with the shipped estimator beside a test adapter:
# repeated multipart `images` fields (PNG, JPEG, records) and a raw body give what
# `dwsnet estimate-domain` prints; errors as problem+json with stable codes: no_images,
# bad_image (naming the field), too_many_images (more than 1024, from Content-Length
# alone too), body_too_large, wrong_model_kind both ways, unknown_model; the estimator
# is listed in /v1/models and does not make the daemon ready on its own.
source "$(dirname "$0")/lib/daemon.bash"
need "$PY"
data=${DWSNET_DATA:-../shared/data/cifar10}
est=models/cifar10c-domain-estimator.dws
if [ ! -e "$data/test_batch.bin.gz" ] && [ ! -e "$data/test_batch.bin" ]; then skip "no data (set DWSNET_DATA)"; fi
[ -f "$est" ] || skip "$est is absent (make pretrained builds it)"

mkdir -p "$T/models" "$T/only"
make_model adapter test-adapter 48 10 3 "$T/models/adapter.dws"
cp "$est" "$T/models/"
cp "$est" "$T/only/"
make_classifiers 1 "$T/mlp.onnx=48,16,16,10"
corrupt() { "$BIN/dwsnet" corrupt --data "$data" "$@" > /dev/null || die "dwsnet corrupt $*"; }
corrupt --domain fog:4 --format png --count 48 --out "$T/fog"
corrupt --domain fog:4 --format jpeg --quality 95 --first 48 --count 8 --out "$T/fogj"
corrupt --domain fog:4 --first 100 --count 64 --out "$T/fog.bin"
corrupt --domain fog:4 --count 1025 --out "$T/many.bin"
start_daemon main "$T/models" --body-limit 8M

form=()
for f in "$T"/fog/*.png "$T"/fogj/*.jpg; do form+=(-F "images=@$f"); done
form+=(-F "images=@$T/fog.bin" -F "note=ignored" -F "model=@$T/mlp.onnx")
req POST /v1/estimate-domain "${form[@]}"
check "repeated images fields: 200 json" [ "$STATUS" = 200 ]
check "content type json" [ "$(header Content-Type)" = application/json ]
check "48 PNG + 8 JPEG + 64 records = 120 images, fog" [ "$(json 'd["images"], d["type"]')" = "120 fog" ]
cp "$T/body" "$T/http.json"
"$BIN/dwsnet" estimate-domain --estimator "$est" --images "$T"/fog/*.png "$T"/fogj/*.jpg "$T/fog.bin" > "$T/cli.json"
check "the CLI prints the same answer" $PY -c "
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert a == b, (a['estimate'], b['estimate'])" "$T/http.json" "$T/cli.json"
check "the access log names the estimator" grep -q '"model":"cifar10c-domain-estimator"' "$T/main.out"

req POST /v1/estimate-domain -H 'Content-Type: application/octet-stream' --data-binary "@$T/fog.bin"
check "a raw body is one images file" [ "$(json 'd["images"], d["type"]')" = "64 fog" ]
req POST '/v1/estimate-domain?model=cifar10c-domain-estimator' -F "images=@$T/fog/00000.png"
check "?model= names the estimator" [ "$(json 'd["estimator"], d["images"]')" = "cifar10c-domain-estimator 1" ]

req POST /v1/estimate-domain -F "model=@$T/mlp.onnx" -F note=x
check "a form without images: 400 no_images" is_problem 400 no_images
check "no_images says what to send" grep -q "images=@a.png" "$T/body"
req POST /v1/estimate-domain -H 'Content-Type: application/octet-stream' --data-binary ''
check "an empty body: 400 no_images" is_problem 400 no_images
req POST /v1/estimate-domain -F "images=@$T/fog/00000.png" -F "images=@$T/mlp.onnx;filename=x.onnx"
check "a field that is no image: 400 bad_image" is_problem 400 bad_image
check "bad_image names the field" grep -q "images field 2 ('x.onnx')" "$T/body"
req POST /v1/estimate-domain -F "images=@$T/many.bin"
check "1025 images: 413 too_many_images" is_problem 413 too_many_images
req POST /v1/estimate-domain "${form[@]}" -F "images=@$T/many.bin"
check "1024 and more across fields: 413 too_many_images" is_problem 413 too_many_images
$PY - "$T/fields" <<'PYEOF'
import sys
b = b"B0und"
with open(sys.argv[1], "wb") as f:
    for i in range(1025):
        f.write(b"--" + b + b'\r\nContent-Disposition: form-data; name="images"; filename="x.png"\r\n\r\nx\r\n')
    f.write(b"--" + b + b"--\r\n")
PYEOF
req POST /v1/estimate-domain -H 'Content-Type: multipart/form-data; boundary=B0und' --data-binary "@$T/fields"
check "1025 images fields: 413 too_many_images" is_problem 413 too_many_images
head -c $((9 * 1024 * 1024)) /dev/zero > "$T/big"
req POST /v1/estimate-domain -F "images=@$T/big"
check "over the body limit: 413 body_too_large" is_problem 413 body_too_large
req POST '/v1/estimate-domain?model=test-adapter' -F "images=@$T/fog/00000.png"
check "?model= an adapter: 400 wrong_model_kind" is_problem 400 wrong_model_kind
req POST '/v1/estimate-domain?model=nope' -F "images=@$T/fog/00000.png"
check "?model= unknown: 404 unknown_model" is_problem 404 unknown_model
req POST '/adapt?model=cifar10c-domain-estimator' "${ONNX[@]}" --data-binary "@$T/mlp.onnx"
check "/adapt with the estimator: 400 wrong_model_kind" is_problem 400 wrong_model_kind
req GET /v1/estimate-domain
check "GET: 405" is_problem 405 method_not_allowed

req GET /v1/models
check "/v1/models lists the estimator" $PY - "$T/body" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
e = [m for m in d["models"] if m["kind"] == "domain-estimator"]
assert len(e) == 1 and e[0]["id"] == "cifar10c-domain-estimator" and e[0]["classes"] == 97, e
assert e[0]["max_images"] == 1024 and "type_accuracy" in e[0]["metrics"], e
PYEOF
check "metrics count the endpoint" \
  [ -n "$(metric 'dwsnetd_requests_total{endpoint="/v1/estimate-domain",status="200"}')" ]
stop_daemon

start_daemon only "$T/only"
req GET /readyz
check "an estimator alone: not ready (no adapter or encoder)" is_problem 503 not_ready
req POST /v1/estimate-domain -F "images=@$T/fog.bin"
check "... but it estimates" [ "$STATUS" = 200 ]
stop_daemon
finish
