# Shared by integration tests that need more than the binaries: each need_* exits 77
# (skipped, with the reason on stdout) when its requirement is missing.

# CIFAR-10 in $DWSNET_DATA (default ../shared/data/cifar10); sets data.
need_cifar() {
  data=${DWSNET_DATA:-../shared/data/cifar10}
  if [ ! -e "$data/test_batch.bin.gz" ] && [ ! -e "$data/test_batch.bin" ]; then
    echo "skipped: no data (set DWSNET_DATA to a CIFAR-10 binary folder)"; exit 77
  fi
}

# /usr/bin/python3 with the given modules (python3-onnx, python3-numpy, ...).
need_python() {
  local m
  for m in "$@"; do
    /usr/bin/python3 -c "import $m" 2>/dev/null ||
      { echo "skipped: /usr/bin/python3 cannot import $m (run scripts/install-deps)"; exit 77; }
  done
}

# 0 when node and tests/node/node_modules/onnxruntime-node are there (run_ort.js can run).
have_ort() {
  command -v node > /dev/null && [ -d tests/node/node_modules/onnxruntime-node ]
}

need_ort() {
  have_ort || { echo "skipped: no node or tests/node/node_modules/onnxruntime-node (run scripts/install-deps)"; exit 77; }
}
