#!/usr/bin/env bash
# dwsnetd: POST /adapt and /embed, raw and multipart. The adapted ONNX passes
# onnx.checker, runs in onnxruntime, and is byte-for-byte what `dwsnet adapt`
# writes offline; the embedding is what `dwsnet embed` prints.
source "$(dirname "$0")/lib/daemon.bash"
need "$PY" node
[ -d tests/node/node_modules/onnxruntime-node ] || skip "onnxruntime-node is not installed (scripts/install-deps)"

mkdir -p "$T/models"
make_model adapter test-adapter 48 10 3 "$T/models/adapter.dws"
make_model encoder test-encoder 48 10 3 "$T/models/encoder.dws"
make_classifiers 3 "$T/classifier.onnx=48,16,16,10" "$T/wide.onnx=48,40,24,10"
start_daemon main "$T/models"

"$BIN/dwsnet" adapt "$T/classifier.onnx" --model "$T/models/adapter.dws" -o "$T/offline.onnx" \
  || die "dwsnet adapt failed"

req POST /adapt "${ONNX[@]}" --data-binary @"$T/classifier.onnx"
cp "$T/body" "$T/raw.onnx"
check "/adapt raw body -> 200" [ "$STATUS" = 200 ]
check "/adapt answers application/octet-stream" [ "$(header Content-Type)" = application/octet-stream ]
check "/adapt names the model in X-DWSNet-Model" [ "$(header X-DWSNet-Model)" = test-adapter ]
check "/adapt has an X-Request-Id" [ -n "$(header X-Request-Id)" ]
check "/adapt raw: attachment model.adapted.onnx" \
  [ "$(header Content-Disposition)" = 'attachment; filename="model.adapted.onnx"' ]
check "/adapt output equals dwsnet adapt byte for byte" cmp "$T/raw.onnx" "$T/offline.onnx"
check "/adapt output passes onnx.checker" \
  $PY -c 'import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)' "$T/raw.onnx"

req POST /adapt -F "model=@$T/classifier.onnx"
cp "$T/body" "$T/form.onnx"
check "/adapt multipart -> 200" [ "$STATUS" = 200 ]
check "/adapt multipart: attachment named after the upload" \
  [ "$(header Content-Disposition)" = 'attachment; filename="classifier.adapted.onnx"' ]
check "/adapt multipart output equals the raw one" cmp "$T/form.onnx" "$T/raw.onnx"

req POST "/adapt?model=test-adapter" "${ONNX[@]}" --data-binary @"$T/classifier.onnx"
check "/adapt?model=test-adapter -> same bytes" cmp "$T/body" "$T/offline.onnx"

# Other hidden widths: one model serves every width.
"$BIN/dwsnet" adapt "$T/wide.onnx" --model "$T/models/adapter.dws" -o "$T/wide-offline.onnx" \
  || die "dwsnet adapt failed"
req POST /adapt "${ONNX[@]}" --data-binary @"$T/wide.onnx"
check "/adapt other widths -> 200" [ "$STATUS" = 200 ]
check "/adapt other widths equals dwsnet adapt" cmp "$T/body" "$T/wide-offline.onnx"

# onnxruntime: the served model runs and computes what the offline one computes.
$PY -c 'import numpy as np; np.random.default_rng(0).random((4, 48), dtype=np.float32).tofile("'"$T"'/x.f32")'
if [ -f tests/node/run_ort.js ]; then
  check "/adapt output runs in onnxruntime like the offline one" \
    node tests/node/run_ort.js "$T/raw.onnx" --input "$T/x.f32" --shape 4,48 --same "$T/offline.onnx"
else
  die "tests/node/run_ort.js is missing"
fi

"$BIN/dwsnet" embed "$T/classifier.onnx" --model "$T/models/encoder.dws" >"$T/offline.json" \
  || die "dwsnet embed failed"
for form in raw multipart; do
  if [ $form = raw ]; then req POST /embed "${ONNX[@]}" --data-binary @"$T/classifier.onnx"
  else req POST /embed -F "model=@$T/classifier.onnx"; fi
  check "/embed $form -> 200 application/json" [ "$STATUS:$(header Content-Type)" = 200:application/json ]
  check "/embed $form: model, dim, widths and the offline embedding" $PY - "$T/body" "$T/offline.json" <<'PYEOF'
import json, math, sys
d = json.load(open(sys.argv[1])); off = json.load(open(sys.argv[2]))
assert d["model"] == "test-encoder", d["model"]
assert d["widths"] == [48, 16, 16, 10], d["widths"]
e = d["embedding"]
assert d["dim"] == len(e) > 0, (d["dim"], len(e))
assert all(isinstance(v, float) or isinstance(v, int) for v in e) and all(math.isfinite(v) for v in e)
ref = off["embedding"]
assert len(ref) == len(e) and all(abs(a - b) <= 1e-6 * max(1.0, abs(b)) for a, b in zip(e, ref)), "differs from dwsnet embed"
PYEOF
done
stop_daemon TERM
check "exit 0" [ "$EXIT" = 0 ]
finish
