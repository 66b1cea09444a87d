#!/usr/bin/env bash
# dwsnetd: every error status of /adapt and /embed as problem+json with a stable code:
# 400, 404, 405, 413 (Content-Length and streamed), 415, 422 (why), 503 (no model).
source "$(dirname "$0")/lib/daemon.bash"
need "$PY"

mkdir -p "$T/models" "$T/empty"
make_model adapter test-adapter 48 10 3 "$T/models/adapter.dws"
make_model encoder test-encoder 48 10 3 "$T/models/encoder.dws"
make_classifiers 2 "$T/mlp.onnx=48,16,16,10" "$T/d0.onnx=64,16,16,10" "$T/classes.onnx=48,16,16,7" \
  "$T/depth.onnx=48,16,16,16,10" "$T/tanh.onnx=48,16,16,10:Tanh" "$T/large.onnx=48,40,40,10" \
  --cnn "$T/cnn.onnx"
head -c 3000 /dev/urandom >"$T/garbage.bin"
LIMIT=12288   # large.onnx is about 16 KB (under 2x the limit, so a streamed one is read and answered 413); mlp.onnx about 5 KB
start_daemon main "$T/models" --body-limit $LIMIT

for ep in /adapt /embed; do
  req POST $ep "${ONNX[@]}" --data-binary @"$T/garbage.bin"
  check "$ep: random bytes -> 400 invalid_protobuf" is_problem 400 invalid_protobuf
  req POST $ep "${ONNX[@]}" --data-binary ''
  check "$ep: empty body -> 400 missing_body" is_problem 400 missing_body
  req POST $ep -F "other=@$T/mlp.onnx"
  check "$ep: form without a model field -> 400 missing_body" is_problem 400 missing_body
  req POST $ep -F "model=@$T/mlp.onnx" -F "model=@$T/mlp.onnx"
  check "$ep: form with two model fields -> 400 invalid_multipart" is_problem 400 invalid_multipart
  req POST $ep -H 'Content-Type: multipart/form-data' --data-binary @"$T/mlp.onnx"
  check "$ep: multipart without boundary -> 400 invalid_multipart" is_problem 400 invalid_multipart
  req POST "$ep?model=no-such-model" "${ONNX[@]}" --data-binary @"$T/mlp.onnx"
  check "$ep: unknown ?model -> 404 unknown_model" is_problem 404 unknown_model
  req POST $ep -H 'Content-Type: text/plain' --data-binary @"$T/mlp.onnx"
  check "$ep: text/plain -> 415" is_problem 415 unsupported_media_type
  req POST $ep "${ONNX[@]}" --data-binary @"$T/large.onnx"
  check "$ep: body over the limit by Content-Length -> 413" is_problem 413 body_too_large
  req POST $ep "${ONNX[@]}" -H 'Transfer-Encoding: chunked' --data-binary @"$T/large.onnx"
  check "$ep: chunked body over the limit -> 413 while streaming" is_problem 413 body_too_large
  req POST $ep -F "model=@$T/large.onnx"
  check "$ep: multipart over the limit -> 413" is_problem 413 body_too_large
  req POST $ep "${ONNX[@]}" -H 'Transfer-Encoding: chunked' --data-binary @"$T/mlp.onnx"
  check "$ep: chunked body under the limit -> 200" [ "$STATUS" = 200 ]
  req POST $ep "${ONNX[@]}" --data-binary @"$T/cnn.onnx"
  check "$ep: CNN -> 422 unsupported_operator" is_problem 422 unsupported_operator
  check "$ep: 422 names the Conv node" grep -q Conv <<<"$(json 'd["detail"]')"
  for what in d0 classes depth tanh; do
    req POST $ep "${ONNX[@]}" --data-binary @"$T/$what.onnx"
    check "$ep: $what mismatch -> 422 incompatible_model" is_problem 422 incompatible_model
    detail=$(json 'd["detail"]')
    case $what in
      d0) pat='d0|input' ;; classes) pat='class|dL|output' ;; depth) pat='depth|layer' ;;
      tanh) pat='activation|tanh' ;;
    esac
    check "$ep: $what mismatch says why ($detail)" grep -Eqi "$pat" <<<"$detail"
  done
done
req POST "/adapt?model=test-encoder" "${ONNX[@]}" --data-binary @"$T/mlp.onnx"
check "/adapt with an encoder id -> 400 wrong_model_kind" is_problem 400 wrong_model_kind
req POST "/embed?model=test-adapter" "${ONNX[@]}" --data-binary @"$T/mlp.onnx"
check "/embed with an adapter id -> 400 wrong_model_kind" is_problem 400 wrong_model_kind
req PUT /adapt "${ONNX[@]}" --data-binary @"$T/mlp.onnx"
check "PUT /adapt -> 405 with Allow" is_problem 405 method_not_allowed
check "405 Allow: POST" [ "$(header Allow)" = POST ]
req POST /v2/adapt "${ONNX[@]}" --data-binary @"$T/mlp.onnx"
check "POST to an unknown path -> 404" is_problem 404 not_found
check "the daemon survived every error" kill -0 "$PID"
stop_daemon TERM
check "exit 0 after the error run" [ "$EXIT" = 0 ]
check "no 500 in the access log" bash -c "! grep -q '\"status\":500' '$T/main.out'"

# Nothing loaded: not ready, and the work endpoints say so.
start_daemon empty "$T/empty"
req GET /readyz
check "empty models dir: readyz 503 not_ready" is_problem 503 not_ready
check "readyz says why" grep -q 'no .dws model files' <<<"$(json 'd["detail"]')"
req POST /adapt "${ONNX[@]}" --data-binary @"$T/mlp.onnx"
check "empty models dir: /adapt 503 no_model_loaded" is_problem 503 no_model_loaded
req GET /healthz
check "empty models dir: still alive" [ "$STATUS" = 200 ]
stop_daemon TERM
finish
