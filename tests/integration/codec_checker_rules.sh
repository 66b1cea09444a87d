#!/usr/bin/env bash
# The codec against onnx.checker (lib/checker_rules.py): fixtures edited at random,
# some to break a rule of the ONNX spec in a part dwsnet reads (a duplicate or
# unknown attribute, one of the wrong type or with two values, a graph attribute on
# Relu, a sparse initializer named like a dense one, an untyped graph input, an IR
# version from the future, unsorted nodes, duplicate metadata keys, an unnamed
# graph, an unimported domain), some only in free text (NULs, control bytes, non-
# ASCII in doc strings, metadata and producer). Broken models are refused; what
# `dwsnet roundtrip --perturb` writes back passes the checker whenever its input
# did, free text intact. Also each of the issue's own cases, by name.
set -euo pipefail
BIN=${BIN:-bin}
PY=/usr/bin/python3
$PY -c 'import onnx' 2>/dev/null || { echo "skipped: /usr/bin/python3 cannot import onnx (run scripts/install-deps)"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fixtures=()
for f in gemm_flatten helper_double helper_float16 matmul_add helper_constant_weights view_opset13 \
         dropout_train_opset13 helper_ir3_opset9 no_constant_folding; do fixtures+=("tests/fixtures/$f.onnx"); done
$PY tests/integration/lib/checker_rules.py "$BIN/dwsnet" "$work" "${DWSNET_CHECKER_SEED:-19}" 160 "${fixtures[@]}"

# The review's cases, each refused with invalid_model and the rule named.
$PY - "$work" <<'PYEOF'
import copy, onnx, sys
from onnx import helper, TensorProto
base = onnx.load("tests/fixtures/gemm_flatten.onnx")
def gemm(m): return [n for n in m.graph.node if n.op_type == "Gemm"][0]
def relu(m): return [n for n in m.graph.node if n.op_type == "Relu"][0]
def dup_attr(m): gemm(m).attribute.append(copy.deepcopy(gemm(m).attribute[0]))
def sparse(m):
    t = m.graph.initializer[0]; sp = onnx.SparseTensorProto()
    sp.values.CopyFrom(helper.make_tensor(t.name, TensorProto.FLOAT, [1], [1.0]))
    sp.indices.CopyFrom(helper.make_tensor(t.name + "_i", TensorProto.INT64, [1], [0])); sp.dims.extend(t.dims)
    m.graph.sparse_initializer.append(sp)
def untyped(m): m.graph.input[0].ClearField("type")
def unknown(m): relu(m).attribute.append(helper.make_attribute("foo", 1))
def graph_attr(m): relu(m).attribute.append(helper.make_attribute("body", helper.make_graph([], "g", [], [])))
def ir(m): m.ir_version = 2 ** 62
cases = {"dup_attr": (dup_attr, "appears twice"), "sparse": (sparse, "unique across dense and sparse"),
         "untyped_input": (untyped, "has no type"), "unknown_attr": (unknown, "is not an attribute of Relu"),
         "graph_in_relu": (graph_attr, "is not an attribute of Relu"), "ir_2_62": (ir, "newer than any ONNX IR version")}
with open(sys.argv[1] + "/cases.list", "w") as f:
    for name, (edit, why) in cases.items():
        m = copy.deepcopy(base); edit(m)
        open("%s/%s.onnx" % (sys.argv[1], name), "wb").write(m.SerializeToString())
        f.write("%s\t%s\n" % (name, why))
PYEOF
fails=0
while IFS=$'\t' read -r name why; do
  if "$BIN/dwsnet" roundtrip "$work/$name.onnx" -o "$work/$name.out.onnx" 2>"$work/$name.err"; then
    echo "FAIL $name: written back"; fails=$((fails + 1))
  elif ! grep -q "invalid_model: .*$why" "$work/$name.err"; then
    echo "FAIL $name: $(cat "$work/$name.err") (expected invalid_model, '$why')"; fails=$((fails + 1))
  else
    echo "ok   $name: $(cut -c 1-120 "$work/$name.err")"
  fi
done <"$work/cases.list"
[ "$fails" = 0 ] || exit 1
echo "all checks passed"
