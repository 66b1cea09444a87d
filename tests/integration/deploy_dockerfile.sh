#!/usr/bin/env bash
# The Dockerfile stays in step with what CI runs: it installs only through
# scripts/install-deps, builds with make, copies what make builds, and its runtime
# package list is exactly what the shipped binaries link (no Docker engine here).
set -euo pipefail
BIN=${BIN:-bin}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

args=()
if [ -x "$BIN/dwsnetd" ] && [ -x "$BIN/dwsnet" ]; then
  "$BIN/dwsnetd" --help > "$tmp/help.txt"
  args+=(--help-text "$tmp/help.txt" --binary "$BIN/dwsnetd" --binary "$BIN/dwsnet")
fi
rc=0
/usr/bin/python3 tests/integration/deploy_check.py dockerfile . "${args[@]}" || rc=$?
[ $rc = 0 ] || exit $rc
if [ ${#args[@]} = 0 ]; then
  echo "skipped: dwsnetd not built (checked the Dockerfile without its binaries)"
  exit 77
fi
