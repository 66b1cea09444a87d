#!/usr/bin/env bash
# dwsnetd's page at / and POST /v1/inspect. Over curl: the page's files, their
# headers (a strict CSP, nosniff, ETag revalidation, no cookies), nothing inline and
# nothing from elsewhere; /v1/inspect answers `dwsnet inspect --json`'s object with
# /adapt's limits, errors and admission. In headless Chromium (tests/node/page_test.js):
# the models table renders, a dropped CNN shows its refusal and stays chosen, a
# fixture picked with the file picker shows its widths, Embed plots `dwsnet embed`'s
# vector, and Adapt downloads a file byte-identical to `dwsnet adapt`'s output. The
# last screenshot is kept in $BUILD/test-logs/daemon_page.png.
source "$(dirname "$0")/lib/daemon.bash"
need "$PY"

mkdir -p "$T/models"
make_model adapter test-adapter 48 10 3 "$T/models/adapter.dws"
make_model encoder test-encoder 48 10 3 "$T/models/encoder.dws"
make_classifiers 5 "$T/other.onnx=64,16,16,10" "$T/big.onnx=3072,64,64,10"
FIXTURE=tests/fixtures/gemm_flatten.onnx   # 48-16-16-10, Flatten then Gemm layers
CNN=tests/fixtures/cnn.onnx
start_daemon main "$T/models" --body-limit 256K
MAIN_PID=$PID MAIN_URL=$URL

# ---- the page's files ------------------------------------------------------------------
req GET /
check "GET / -> 200 text/html" [ "$STATUS:$(header Content-Type)" = "200:text/html; charset=utf-8" ]
cp "$T/body" "$T/index.html"
cp "$T/headers" "$T/index.headers"
csp=$(header Content-Security-Policy)
check "GET /: CSP default-src 'self'" grep -q "^default-src 'self';" <<<"$csp"
check "GET /: CSP frame-ancestors 'none', object-src 'none', base-uri 'none'" \
  bash -c "grep -q \"frame-ancestors 'none'\" <<<\"\$1\" && grep -q \"object-src 'none'\" <<<\"\$1\" && grep -q \"base-uri 'none'\" <<<\"\$1\"" _ "$csp"
check "GET /: CSP allows nothing inline, nothing evaluated, no other origin" \
  bash -c "! grep -Eq \"unsafe-|https?:|\\*|data:|blob:\" <<<\"\$1\"" _ "$csp"
check "GET /: X-Content-Type-Options nosniff" [ "$(header X-Content-Type-Options)" = nosniff ]
check "GET /: Cache-Control no-cache" [ "$(header Cache-Control)" = no-cache ]
etag=$(header ETag)
check "GET /: a quoted ETag" grep -Eq '^"[0-9a-f]+-[0-9a-f]+"$' <<<"$etag"
check "GET /: no Set-Cookie" bash -c "! grep -qi '^set-cookie:' '$T/index.headers'"
rm -f "$T/body"
req GET / -H "If-None-Match: $etag"
check "GET / with its ETag -> 304, no body" bash -c "[ '$STATUS' = 304 ] && [ ! -s '$T/body' ]"
check "304 keeps the ETag" [ "$(header ETag)" = "$etag" ]
req GET / -H 'If-None-Match: "stale"'
check "GET / with another ETag -> 200" [ "$STATUS" = 200 ]
req HEAD / -I
check "HEAD / -> 200" [ "$STATUS" = 200 ]
req GET '/?from=bookmark'
check "GET /?query -> the page" cmp "$T/body" "$T/index.html"
for asset in app.js:text/javascript app.css:text/css icon.svg:image/svg+xml; do
  name=${asset%%:*} type=${asset#*:}
  req GET "/page/$name"
  cp "$T/body" "$T/$name"
  check "GET /page/$name -> 200 $type" bash -c "[ '$STATUS' = 200 ] && [[ '$(header Content-Type)' == $type* ]]"
  check "/page/$name: CSP and nosniff" \
    [ "$(header Content-Security-Policy | cut -c1-19):$(header X-Content-Type-Options)" = "default-src 'self';:nosniff" ]
done
req GET /page/nope.js
check "GET /page/nope.js -> 404 not_found" is_problem 404 not_found
req GET /page/../v1/models --path-as-is
check "GET /page/../v1/models is not a way out" is_problem 404 not_found
req POST / "${ONNX[@]}" --data-binary @"$FIXTURE"
check "POST / -> 405" is_problem 405 method_not_allowed
check "POST /: Allow GET, HEAD" [ "$(header Allow)" = "GET, HEAD" ]
check "index.html: every script is a file of this server, none inline" $PY - "$T/index.html" <<'PYEOF'
import re, sys
html = open(sys.argv[1]).read()
scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S | re.I)
assert scripts, "no script"
for attrs, body in scripts:
    assert body.strip() == "", "inline script"
    assert re.search(r'src="/page/[a-z.]+"', attrs), attrs
assert not re.search(r"<style\b", html, re.I), "inline <style>"
assert not re.search(r"\sstyle\s*=", html, re.I), "style attribute"
assert not re.search(r"\son[a-z]+\s*=", html, re.I), "inline event handler"
PYEOF
check "the page's files name no other origin" bash -c \
  "! grep -hEo 'https?://[^\"'\"'\"' )]*' '$T/index.html' '$T/app.js' '$T/app.css' | grep -v '^http://www.w3.org/2000/svg$'"
check "app.js: no eval, no innerHTML" bash -c "! grep -Eq '\\beval\\(|new Function|innerHTML|document\\.write|localStorage|sessionStorage|document\\.cookie' '$T/app.js'"

# ---- POST /v1/inspect -------------------------------------------------------------------
"$BIN/dwsnet" inspect --json "$FIXTURE" >"$T/offline-inspect.json" || die "dwsnet inspect failed"
req POST /v1/inspect "${ONNX[@]}" --data-binary @"$FIXTURE"
check "/v1/inspect raw -> 200 application/json" [ "$STATUS:$(header Content-Type)" = 200:application/json ]
check "/v1/inspect is dwsnet inspect --json's object (file: null) plus models" \
  $PY - "$T/body" "$T/offline-inspect.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1])); off = json.load(open(sys.argv[2]))
assert d.pop("file") is None
models = d.pop("models")
off.pop("file")
assert d == off, (d, off)
by = {m["id"]: m for m in models}
assert by["test-adapter"]["accepts"] is True and by["test-adapter"]["why_not"] is None, by
assert by["test-encoder"]["kind"] == "encoder" and by["test-encoder"]["accepts"] is True, by
PYEOF
req POST /v1/inspect -F "model=@$FIXTURE"
check "/v1/inspect multipart: file is the upload's name" [ "$(json 'd["file"]')" = gemm_flatten.onnx ]
req POST /v1/inspect -F "model=@$T/other.onnx"
check "/v1/inspect: a 64-input MLP -> 200, no model accepts it, says why" \
  [ "$STATUS:$(json '[m["accepts"] for m in d["models"]]'):$(json '"(d0)" in d["models"][0]["why_not"]')" = "200:[False, False]:True" ]
req POST /v1/inspect -F "model=@$CNN"
check "/v1/inspect CNN -> 422 unsupported_operator" is_problem 422 unsupported_operator
check "/v1/inspect CNN: names the Conv node" grep -q Conv <<<"$(json 'd["detail"]')"
printf 'not an onnx file' >"$T/junk.onnx"
req POST /v1/inspect "${ONNX[@]}" --data-binary @"$T/junk.onnx"
check "/v1/inspect junk -> 400 invalid_protobuf" is_problem 400 invalid_protobuf
req POST /v1/inspect "${ONNX[@]}"
check "/v1/inspect no body -> 400 missing_body" is_problem 400 missing_body
req POST /v1/inspect -H 'Content-Type: text/plain' --data-binary @"$FIXTURE"
check "/v1/inspect text/plain -> 415" is_problem 415 unsupported_media_type
req POST /v1/inspect "${ONNX[@]}" --data-binary @"$T/big.onnx"
check "/v1/inspect over --body-limit -> 413 body_too_large" is_problem 413 body_too_large
req GET /v1/inspect
check "GET /v1/inspect -> 405, Allow POST" \
  bash -c "[ '$STATUS' = 405 ] && [ '$(header Allow)' = POST ]"
req POST "/v1/inspect?model=nope" "${ONNX[@]}" --data-binary @"$FIXTURE"
check "/v1/inspect ignores ?model= (it runs no model)" [ "$STATUS" = 200 ]
check "metrics count /v1/inspect" [ "$(metric 'dwsnetd_requests_total{endpoint="/v1/inspect",status="200"}')" -ge 3 ]
check "metrics count the page and its 304" \
  [ "$(metric 'dwsnetd_requests_total{endpoint="/",status="304"}')" = 1 ]

# /adapt reports the largest weight change, as dwsnet adapt does.
"$BIN/dwsnet" adapt "$FIXTURE" --model "$T/models/adapter.dws" -o "$T/offline.onnx" >"$T/offline-adapt.json" \
  || die "dwsnet adapt failed"
"$BIN/dwsnet" embed "$FIXTURE" --model "$T/models/encoder.dws" >"$T/offline-embed.json" || die "dwsnet embed failed"
req POST /adapt -F "model=@$FIXTURE"
check "/adapt: X-DWSNet-Max-Change is dwsnet adapt's max_abs_change" $PY - "$(header X-DWSNet-Max-Change)" "$T/offline-adapt.json" <<'PYEOF'
import json, sys
served = float(sys.argv[1]); off = json.load(open(sys.argv[2]))["max_abs_change"]
assert served > 0 and abs(served - off) <= 1e-7 * max(1, off), (served, off)
PYEOF

# ---- admission: /v1/inspect is counted in --max-inflight like /adapt -----------------------
start_daemon inflight "$T/models" --max-inflight 1
size=$(stat -c %s "$T/big.onnx")
curl -s -m $((60 * SLOW)) "${ONNX[@]}" --data-binary @"$T/big.onnx" --limit-rate $((size / 2)) \
  -o /dev/null -w '%{http_code}' "$URL/v1/inspect" >"$T/slow.status" &
slow=$!
check "inflight: a slow /v1/inspect upload is admitted" \
  wait_until 20 bash -c "[ \"\$(curl -s -m 5 '$URL/metrics' | awk '\$1 == \"dwsnetd_inflight_requests\" {print \$2}')\" = 1 ]"
req POST /v1/inspect "${ONNX[@]}" --data-binary @"$FIXTURE"
check "inflight: another /v1/inspect gets 503 overloaded" is_problem 503 overloaded
check "inflight: with Retry-After" grep -Eq '^[0-9]+$' <<<"$(header Retry-After)"
req GET /
check "inflight: the page still loads" [ "$STATUS" = 200 ]
wait "$slow"
check "inflight: the slow upload got 200" [ "$(cat "$T/slow.status")" = 200 ]
stop_daemon TERM
PID=$MAIN_PID URL=$MAIN_URL

# ---- the page in headless Chromium ---------------------------------------------------------
missing=
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$CHROMIUM" ] && [ -x "$CHROMIUM" ] || missing="chromium is not installed (scripts/install-deps)"
command -v node >/dev/null 2>&1 || missing="node is not installed (scripts/install-deps)"
[ -d tests/node/node_modules/puppeteer-core ] || missing="puppeteer-core is not installed (scripts/install-deps)"
if [ -n "$missing" ]; then
  stop_daemon TERM
  check "exit 0" [ "$EXIT" = 0 ]
  [ "${CI:-}" = true ] && { bad "$missing"; finish; }
  [ "$FAILS" -gt 0 ] && finish
  skip "$missing; the curl checks above passed"
fi
mkdir -p "$BUILD/test-logs"
shot=$BUILD/test-logs/daemon_page.png
rm -f "$shot"
if ! node tests/node/page_test.js --url "$URL/" --adapt "$FIXTURE" --refused "$CNN" \
  --downloads "$T/downloads" --screenshot "$shot" --chromium "$CHROMIUM" \
  --timeout-ms $((60000 * SLOW)) >"$T/page.json" 2>"$T/page.err"; then
  cat "$T/page.err"
  bad "page_test.js ran to the end"
  finish
fi
sed 's/^/  /' "$T/page.json" | grep -A8 '"steps"'
check "screenshot saved ($shot)" [ -s "$shot" ]
check "the page: models table, refusal, widths, embed, no console error, no cookie" \
  $PY - "$T/page.json" "$T/offline-embed.json" "$T/offline-adapt.json" <<'PYEOF'
import json, math, sys
d = json.load(open(sys.argv[1])); emb = json.load(open(sys.argv[2]))["embedding"]
off = json.load(open(sys.argv[3]))
problems = []
def want(cond, what):
    if not cond: problems.append(what)
want(d["status"] == 200, "status %r" % d["status"])
ids = [m["id"] for m in d["models"]]
want(sorted(ids) == ["test-adapter", "test-encoder"], "models table rows %r" % ids)
for m in d["models"]:
    want(m["cells"][1] in ("adapter", "encoder"), "kind cell %r" % m["cells"])
    want(m["cells"][2].startswith("48 \u2192 2 \u00d7") and m["cells"][2].endswith("\u2192 10"), "signature cell %r" % m["cells"][2])
want(d["tab_reaches_picker"], "the file picker is not reachable with Tab")
want(len(d["domain_options"]) == 1, "domain options %r" % d["domain_options"])
want("unsupported_operator" in d["refused_message"] and "Conv" in d["refused_message"]
     and "422" in d["refused_message"], "refusal message %r" % d["refused_message"])
want("unsupported_operator" in d["refused_adapt_message"], "refused adapt %r" % d["refused_adapt_message"])
want(d["refused_file_kept"] == "cnn.onnx", "the refused file stays chosen: %r" % d["refused_file_kept"])
want(d["refused_adapt_enabled"], "Adapt stays usable after a refusal")
want(d["inspect_error_hidden"], "the refusal is cleared by a good file")
want(d["widths"] == [48, 16, 16, 10], "widths %r" % d["widths"])
want(d["layers"] == 3, "layers %r" % d["layers"])
want(d["facts"].get("Parameters") == "1,226", "parameters %r" % d["facts"].get("Parameters"))
want("opset 13" in d["facts"].get("Opset", ""), "opset %r" % d["facts"].get("Opset"))
want("initializer" in d["facts"].get("Weights stored as", ""), "storage %r" % d["facts"])
want(all(c["ok"] for c in d["compat"]) and len(d["compat"]) == 2, "compatibility %r" % d["compat"])
e = d.get("embed") or {}
want(e.get("shown") and e.get("bars") == len(emb), "embed plot %r" % e)
vals = e.get("values") or []
want(len(vals) == len(emb) and all(abs(a - b) <= 1e-5 * max(1, abs(b)) for a, b in zip(vals, emb)),
     "embedding differs from dwsnet embed")
a = d["adapt"]
want(a["shown"] and a["error"] is None, "adapt result %r" % a)
want(a["filename"] == "gemm_flatten.adapted.onnx", "download name %r" % a["filename"])
want(a["model"] == "test-adapter", "adapter shown %r" % a["model"])
want(a["time"].endswith("s (upload, adapt and download)"), "time %r" % a["time"])
shown = float(a["change"].split()[0])
want(abs(shown - off["max_abs_change"]) <= 1e-3 * off["max_abs_change"], "max change %r vs %r" % (a["change"], off))
want(d["console_errors"] == [], "console errors %r" % d["console_errors"])
want(d["csp_violations"] == [], "CSP violations %r" % d["csp_violations"])
want(d["foreign_requests"] == [], "requests to other origins %r" % d["foreign_requests"])
want(d["cookies"] == 0 and d["document_cookie"] == "", "cookies")
if problems:
    print("  " + "\n  ".join(problems)); sys.exit(1)
PYEOF
download=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["download"] or "")' "$T/page.json")
check "Adapt downloaded a file" [ -n "$download" ] && [ -s "$download" ]
check "the download is byte-identical to dwsnet adapt's output" cmp "$download" "$T/offline.onnx"
stop_daemon TERM
check "exit 0" [ "$EXIT" = 0 ]
finish
