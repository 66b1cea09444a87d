#!/usr/bin/env bash
# The Kubernetes manifests hang together (probes, resources, securityContext,
# selectors, volumes, the zoo Job's shards), the rendered gateway configurations
# are current with their template, and nginx accepts the template's output.
set -euo pipefail
BIN=${BIN:-bin}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

args=()
if [ -x "$BIN/dwsnetd" ]; then
  "$BIN/dwsnetd" --help > "$tmp/help.txt"
  args+=(--help-text "$tmp/help.txt" --dwsnetd "$BIN/dwsnetd")
fi
/usr/bin/python3 tests/integration/deploy_check.py manifests . "${args[@]}"

# Each rendered file names the command that made it on its first line.
for f in deploy/gateway/nginx.conf deploy/k8s/gateway-configmap.yaml; do
  line=$(head -n 1 "$f")
  [[ $line == "# rendered by: deploy/gateway/render "* ]] || fail "$f: no '# rendered by' line"
  read -ra render_args <<< "${line#"# rendered by: deploy/gateway/render "}"
  deploy/gateway/render "${render_args[@]}" > "$tmp/fresh"
  diff -u "$f" "$tmp/fresh" > "$tmp/diff" ||
    { cat "$tmp/diff"; fail "$f is stale: rerun deploy/gateway/render ${render_args[*]} > $f"; }
done
grep -q '@[A-Z_]*@' deploy/gateway/nginx.conf && fail "nginx.conf has an unfilled @FIELD@"

# nginx parses a loopback rendering (the k8s one needs DNS names that resolve
# only in a cluster; it differs from this one only in the upstream servers).
mkdir -p "$tmp/state"
deploy/gateway/render --listen 127.0.0.1:1 --upstream 127.0.0.1:2 --upstream 127.0.0.1:3 \
  --state-dir "$tmp/state" --access-log "$tmp/state/access.log" > "$tmp/nginx.conf"
nginx -t -p "$tmp/state" -c "$tmp/nginx.conf" -e "$tmp/state/error.log" 2>&1 ||
  fail "nginx -t rejects the rendered configuration"
echo "manifests and gateway configuration OK"
