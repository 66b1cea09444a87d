#!/usr/bin/env bash
# dwsnetd operations: --help and flags with DWSNETD_* equivalents, fail-fast on a bad
# model file, start without models (not ready), SIGHUP reload (atomic; a bad file
# keeps the old set), a request in flight across a reload.
source "$(dirname "$0")/lib/daemon.bash"
need "$PY"

"$BIN/dwsnetd" --help >"$T/help" 2>&1
check "--help exits 0" [ $? = 0 ]
for flag in listen models workers job-threads max-inflight queue-length body-limit body-memory \
            work-memory memory-limit io-threads \
            max-connections timeout request-timeout drain-timeout log-format; do
  env=DWSNETD_$(tr 'a-z-' 'A-Z_' <<<"$flag")
  check "--help lists --$flag and $env" bash -c "grep -q -- '--$flag ' '$T/help' && grep -q '$env' '$T/help'"
done
"$BIN/dwsnetd" --no-such-flag >/dev/null 2>"$T/err"
check "unknown flag: exit 2" [ $? = 2 ]
DWSNETD_WORKERS=many "$BIN/dwsnetd" >/dev/null 2>"$T/err"
check "bad env value: exit 2 naming the variable" bash -c "[ $? = 2 ] && grep -q DWSNETD_WORKERS '$T/err'"
"$BIN/dwsnetd" --body-limit 12Q >/dev/null 2>"$T/err"
check "bad size: exit 2" [ $? = 2 ]

mkdir -p "$T/models" "$T/spare" "$T/bad"
make_model adapter first-adapter 48 10 3 "$T/models/adapter.dws"
make_model adapter second-adapter 48 10 3 "$T/spare/second.dws"
make_model encoder spare-encoder 48 10 3 "$T/spare/encoder.dws"
make_classifiers 5 "$T/mlp.onnx=48,16,16,10" "$T/big.onnx=48,64,64,10"

# A corrupt model file at start-up: fail fast and say which file.
head -c 200 "$T/models/adapter.dws" >"$T/bad/truncated.dws"
timeout $((20 * SLOW)) "$BIN/dwsnetd" --listen 127.0.0.1:0 --models "$T/bad" >/dev/null 2>"$T/err"
rc=$?
check "bad model at start-up: exits non-zero (not a timeout)" bash -c "[ $rc != 0 ] && [ $rc != 124 ]"
check "bad model at start-up: names the file" grep -q 'truncated.dws' "$T/err"

# Environment equivalents: the limit set by DWSNETD_BODY_LIMIT applies.
DWSNETD_BODY_LIMIT=8K DWSNETD_LOG_FORMAT=text start_daemon env "$T/models"
req POST /adapt "${ONNX[@]}" --data-binary @"$T/big.onnx"
check "DWSNETD_BODY_LIMIT=8K -> 413 for a 32 KB body" is_problem 413 body_too_large
req POST /adapt "${ONNX[@]}" --data-binary @"$T/mlp.onnx"
check "DWSNETD_BODY_LIMIT=8K -> 200 for a 5 KB body" [ "$STATUS" = 200 ]
sleep 0.2
check "DWSNETD_LOG_FORMAT=text: access log is text" grep -q ' POST /adapt 200 ' "$T/env.out"
stop_daemon TERM

# Reloads.
start_daemon main "$T/models"
req GET /v1/models
check "starts with first-adapter" [ "$(json '[m["id"] for m in d["models"]]')" = "['first-adapter']" ]
cp "$T/spare/second.dws" "$T/spare/encoder.dws" "$T/models/"
kill -HUP "$PID"
check "SIGHUP loads the new files" wait_until 10 bash -c \
  "curl -s -m 5 '$URL/v1/models' | grep -q spare-encoder"
req GET /v1/models
check "after reload: three models" [ "$(json 'len(d["models"])')" = 3 ]
check "reload counted in metrics" [ "$(metric 'dwsnetd_model_reloads_total{result="ok"}')" = 1 ]

printf 'not a model' >"$T/models/zz-broken.dws"
kill -HUP "$PID"
check "bad file on reload: logged with its name" wait_until 10 grep -q 'reload failed.*zz-broken.dws' "$T/main.err"
req GET /v1/models
check "bad file on reload: the old set stays" [ "$(json 'len(d["models"])')" = 3 ]
check "bad file on reload: counted" [ "$(metric 'dwsnetd_model_reloads_total{result="error"}')" = 1 ]
req POST /embed "${ONNX[@]}" --data-binary @"$T/mlp.onnx"
check "bad file on reload: still serving" [ "$STATUS" = 200 ]
rm "$T/models/zz-broken.dws"

# A request that started before a reload finishes with the set it started with.
rm "$T/models/encoder.dws"
size=$(stat -c %s "$T/mlp.onnx")
curl -s -m 60 "${ONNX[@]}" --data-binary @"$T/mlp.onnx" --limit-rate $((size / 2)) \
  -o "$T/slow.json" -w '%{http_code}' "$URL/embed" >"$T/slow.status" &
slow=$!
sleep 0.5
kill -HUP "$PID"
check "reload without the encoder" wait_until 10 bash -c \
  "! curl -s -m 5 '$URL/v1/models' | grep -q spare-encoder"
wait_until 30 bash -c "! kill -0 $slow 2>/dev/null"
check "request begun before the reload still ran on the old encoder" \
  [ "$(cat "$T/slow.status")" = 200 ]
check "... and answered with that encoder" grep -q '"model":"spare-encoder"' "$T/slow.json"
req POST /embed "${ONNX[@]}" --data-binary @"$T/mlp.onnx"
check "after the reload /embed has no encoder: 503" is_problem 503 no_model_loaded

# Two adapters accept this MLP: ?model= picks one, the default is the first by file name.
req POST "/adapt?model=second-adapter" "${ONNX[@]}" --data-binary @"$T/mlp.onnx"
check "?model=second-adapter is used" [ "$(header X-DWSNet-Model)" = second-adapter ]
req POST /adapt "${ONNX[@]}" --data-binary @"$T/mlp.onnx"
check "default: first matching adapter by file name" [ "$(header X-DWSNet-Model)" = first-adapter ]

stop_daemon TERM
check "exit 0" [ "$EXIT" = 0 ]
finish
