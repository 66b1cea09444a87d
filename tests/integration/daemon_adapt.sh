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

# Every codec fixture that the adapter accepts (48-16-16-10 ReLU MLPs, however they
# are stored: Gemm or MatMul+Add, Constant nodes, DOUBLE or FLOAT16 weights, heads):
# /adapt equals dwsnet adapt, passes onnx.checker and runs in onnxruntime computing
# what the offline file computes (and not what the original computed: the test
# adapter's residual scale is nonzero).
"$BIN/dwsnet" inspect --json tests/fixtures/*.onnx 2>/dev/null | $PY -c '
import json, sys
types = {"FLOAT": "float", "DOUBLE": "double", "FLOAT16": "float16"}
for line in sys.stdin:
    d = json.loads(line)
    if d["widths"] == [48, 16, 16, 10] and d["activations"][:-1] == ["relu", "relu"]:
        print(d["file"], ",".join(map(str, [4] + d["input"]["shape"][1:])), types[d["input"]["type"]])
' >"$T/fixtures.txt"
check "at least 8 accepted codec fixtures" [ "$(wc -l <"$T/fixtures.txt")" -ge 8 ]
: >"$T/checker.txt"
$PY -c 'import numpy as np, sys; np.random.default_rng(0).random((4, 48), dtype=np.float32).tofile(sys.argv[1])' "$T/x.f32"
printf '{"model": "%s", "same": "%s", "input": "%s", "shape": [4, 48], "type": "float"}\n' \
  "$T/raw.onnx" "$T/offline.onnx" "$T/x.f32" >"$T/jobs.jsonl"
while read -r model shape type; do
  name=$(basename "$model" .onnx)
  "$BIN/dwsnet" adapt "$model" --model "$T/models/adapter.dws" -o "$T/$name.offline.onnx" \
    || die "dwsnet adapt $model failed"
  req POST /adapt -F "model=@$model"
  cp "$T/body" "$T/$name.served.onnx"
  check "$name: /adapt 200" [ "$STATUS" = 200 ]
  check "$name: equals dwsnet adapt byte for byte" cmp "$T/$name.served.onnx" "$T/$name.offline.onnx"
  echo "$T/$name.served.onnx" >>"$T/checker.txt"
  printf '{"model": "%s", "same": "%s", "differ": "tests/fixtures/%s.output.f32", "input": "tests/fixtures/%s.input.f32", "shape": [%s], "type": "%s"}\n' \
    "$T/$name.served.onnx" "$T/$name.offline.onnx" "$name" "$name" "$shape" "$type" >>"$T/jobs.jsonl"
done <"$T/fixtures.txt"
check "every served fixture passes onnx.checker" $PY -c '
import onnx, sys
for path in open(sys.argv[1]).read().split():
    onnx.checker.check_model(onnx.load(path))' "$T/checker.txt"
check "every served fixture runs in onnxruntime like its offline twin, unlike the original" \
  node tests/node/run_ort.js --jobs "$T/jobs.jsonl"

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
# Normalisation outside the model (?input_mean=&input_std=, ?input_range=): what
# `dwsnet adapt|embed --input-mean/--input-std/--input-range` give; bad values are 400s.
"$BIN/dwsnet" adapt "$T/classifier.onnx" --model "$T/models/adapter.dws" -o "$T/norm-offline.onnx" \
  --input-mean 0.5 --input-std 0.25 >/dev/null || die "dwsnet adapt --input-mean failed"
req POST "/adapt?input_mean=0.5&input_std=0.25" "${ONNX[@]}" --data-binary @"$T/classifier.onnx"
check "/adapt?input_mean=&input_std= equals dwsnet adapt --input-mean --input-std" cmp "$T/body" "$T/norm-offline.onnx"
"$BIN/dwsnet" embed "$T/classifier.onnx" --model "$T/models/encoder.dws" --input-range=-1,1 >"$T/range.json" \
  || die "dwsnet embed --input-range failed"
req POST "/embed?input_range=-1,1" "${ONNX[@]}" --data-binary @"$T/classifier.onnx"
check "/embed?input_range= equals dwsnet embed --input-range" \
  $PY -c 'import json,sys; a,b=(json.load(open(p))["embedding"] for p in sys.argv[1:]); assert len(a) == len(b) and all(abs(u - v) <= 1e-6 * max(1.0, abs(v)) for u, v in zip(a, b))' \
  "$T/body" "$T/range.json"
for bad in "input_mean=0.5" "input_mean=0.5&input_std=0" "input_mean=a&input_std=1" "input_range=1,0" \
           "input_mean=1,2&input_std=1,2" "input_range=0,1&input_mean=0&input_std=1"; do
  req POST "/adapt?$bad" "${ONNX[@]}" --data-binary @"$T/classifier.onnx"
  check "/adapt?$bad -> 400 invalid_argument" is_problem 400 invalid_argument
done
long=$(printf '0.5%.0s,' $(seq 1 100))0.5
req POST "/embed?input_mean=$long&input_std=1" "${ONNX[@]}" --data-binary @"$T/classifier.onnx"
check "/embed with a 400-character input_mean -> 400 invalid_argument" is_problem 400 invalid_argument

stop_daemon TERM
check "exit 0" [ "$EXIT" = 0 ]
finish
