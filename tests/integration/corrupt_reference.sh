#!/usr/bin/env bash
# The corruptions of `dwsnet corrupt` against the reference semantics of make_cifar_c.py,
# re-implemented with numpy, scipy, scikit-image, OpenCV, Pillow and Wand
# (tests/integration/corrupt_reference.py has the criteria). Needs the CIFAR-10 test
# split ($DWSNET_DATA) and the Python packages of scripts/install-deps; the results
# table lands in $BUILD/corrupt_reference.json.
set -uo pipefail
BIN=${BIN:-bin}
if [ ! -x /usr/bin/python3 ]; then
  [ "${CI:-}" = true ] && { echo "FAIL: no /usr/bin/python3 under CI"; exit 1; }
  echo "skipped: no /usr/bin/python3 (scripts/install-deps installs it)"; exit 77
fi
mkdir -p "${BUILD:-build}"
exec /usr/bin/python3 "$(dirname "$0")/corrupt_reference.py" --bin "$BIN/dwsnet" \
  --json "${BUILD:-build}/corrupt_reference.json"
