"""Property test of the codec against onnx.checker (Debian's python3-onnx):
models broken in the parts dwsnet reads are refused, and what dwsnet writes back
passes the checker whenever its input did, with every free-text string (doc
strings, metadata, producer) kept byte for byte, NULs included.

  checker_rules.py DWSNET WORKDIR SEED N FIXTURE.onnx...
Each of N rounds takes a fixture, applies one or two random edits (rule-breaking
ones from RULES, or harmless ones from TEXT), and runs `dwsnet roundtrip --perturb`
on the result. Exit 1 on the first violation.
"""
import copy
import os
import random
import subprocess
import sys

import onnx
from onnx import AttributeProto, TensorProto, checker, helper

CHECKER_TOO_OLD = ("higher than the checker", "is under development", "not supported")


def nodes_with_attrs(m):
    return [n for n in m.graph.node if n.attribute]


def r_dup_attr(m, rng):
    ns = nodes_with_attrs(m)
    if not ns:
        return False
    n = rng.choice(ns)
    n.attribute.append(copy.deepcopy(rng.choice(n.attribute)))
    return True


def r_unknown_attr(m, rng):
    n = rng.choice([n for n in m.graph.node if n.op_type != "Constant"])
    n.attribute.append(helper.make_attribute(rng.choice(["foo", "axis2", "alpha_", "mode"]), rng.choice([1, 2.0, "x"])))
    return n.op_type not in ("Gemm",) or True


def r_graph_attr(m, rng):
    n = rng.choice([n for n in m.graph.node if n.op_type != "Constant"])
    n.attribute.append(helper.make_attribute(rng.choice(["body", "then_branch"]), helper.make_graph([], "g", [], [])))
    return True


def r_wrong_type(m, rng):
    ns = [n for n in m.graph.node if n.op_type in ("Gemm", "Softmax", "LogSoftmax", "Flatten", "LeakyRelu", "Concat")
          and n.attribute]
    if not ns:
        return False
    a = rng.choice(rng.choice(ns).attribute)
    if a.type == AttributeProto.INT:
        a.ClearField("i"), setattr(a, "type", AttributeProto.FLOAT), setattr(a, "f", 1.0)
    elif a.type == AttributeProto.FLOAT:
        a.ClearField("f"), setattr(a, "type", AttributeProto.INT), setattr(a, "i", 1)
    else:
        return False
    return True


def r_attr_broken(m, rng):
    ns = nodes_with_attrs(m)
    if not ns:
        return False
    a = rng.choice(rng.choice(ns).attribute)
    what = rng.choice(["name", "type", "two"])
    if what == "name":
        a.name = ""
    elif what == "type":
        a.ClearField("type")
    else:
        a.floats.append(1.0) if a.type != AttributeProto.FLOATS else a.ints.append(1)
    return True


def r_sparse_clash(m, rng):
    if not m.graph.initializer:
        return False
    t = rng.choice(m.graph.initializer)
    sp = onnx.SparseTensorProto()
    sp.values.CopyFrom(helper.make_tensor(t.name, TensorProto.FLOAT, [1], [1.0]))
    sp.indices.CopyFrom(helper.make_tensor(t.name + "_i", TensorProto.INT64, [1], [0]))
    sp.dims.extend(t.dims)
    m.graph.sparse_initializer.append(sp)
    return True


def r_dup_init(m, rng):
    if not m.graph.initializer:
        return False
    m.graph.initializer.append(copy.deepcopy(rng.choice(m.graph.initializer)))
    return True


def r_value_info(m, rng):
    vi = rng.choice([m.graph.input[0], m.graph.output[0]])
    what = rng.choice(["type", "elem_type", "shape"])
    if what == "type":
        vi.ClearField("type")
    elif what == "elem_type":
        vi.type.tensor_type.ClearField("elem_type")
    else:
        vi.type.tensor_type.ClearField("shape")
    return True


def r_ir_version(m, rng):
    m.ir_version = rng.choice([2 ** 62, 2 ** 31, 12, 1000])
    return True


def r_unsorted(m, rng):
    nodes = list(m.graph.node)
    if len(nodes) < 2:
        return False
    i = rng.randrange(len(nodes) - 1)
    nodes[i], nodes[i + 1] = nodes[i + 1], nodes[i]
    if not any(o in nodes[i + 1].input for o in nodes[i].output if o):
        return False   # the swap kept the order valid
    m.graph.ClearField("node")
    m.graph.node.extend(nodes)
    return True


def r_dup_meta(m, rng):
    helper.set_model_props(m, {"k": "v"})
    p = m.metadata_props.add()
    p.key, p.value = "k", "w"
    return True


def r_graph_name(m, rng):
    m.graph.name = ""
    return True


def r_domain(m, rng):
    rng.choice(list(m.graph.node)).domain = "com.example.unimported"
    return True


RULES = [r_dup_attr, r_unknown_attr, r_graph_attr, r_wrong_type, r_attr_broken, r_sparse_clash, r_dup_init,
         r_value_info, r_ir_version, r_unsorted, r_dup_meta, r_graph_name, r_domain]


def t_text(m, rng):
    """Free text with NULs, control bytes and non-ASCII: kept whole."""
    def s():
        return "".join(rng.choice(["a", "\0", "\n", "é", "\x7f", "𝔵", " "]) for _ in range(rng.randrange(1, 12)))
    m.doc_string = s()
    m.graph.doc_string = s()
    rng.choice(list(m.graph.node)).doc_string = s()
    if m.graph.initializer:
        rng.choice(list(m.graph.initializer)).doc_string = s()
    m.producer_name = s()
    m.producer_version = s()
    helper.set_model_props(m, {"note" + str(rng.randrange(9)): s(), "a\0b": s()})
    return True


def texts(m, like=None):
    """Free text by where it is; nodes and initializers the input does not have (a
    bias dwsnet adds to a bias-free layer) are left out."""
    keep = like or m
    names = {n.name for n in keep.graph.node} | {t.name for t in keep.graph.initializer}
    out = [m.doc_string, m.graph.doc_string, m.producer_name, m.producer_version]
    out += sorted((n.name, n.doc_string) for n in m.graph.node if n.name in names)
    out += sorted((t.name, t.doc_string) for t in m.graph.initializer if t.name in names)
    out += sorted((p.key, p.value) for p in m.metadata_props if not p.key.startswith("dwsnet."))
    return out


def check(m):
    try:
        checker.check_model(m)
        return None
    except Exception as e:   # onnx.checker.ValidationError, or a C++ error for odd input
        return str(e).split("\n")[0]


def main():
    dwsnet, work, seed, n, fixtures = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]
    rng = random.Random(seed)
    refused = written = 0
    for k in range(n):
        base = onnx.load(rng.choice(fixtures))
        m = copy.deepcopy(base)
        if rng.random() < 0.35:
            edits = [t_text]
        else:
            edits = rng.sample(RULES, rng.choice([1, 1, 2]))
        if not all(e(m, rng) for e in edits):
            continue
        src = os.path.join(work, "m%d.onnx" % k)
        dst = os.path.join(work, "m%d.out.onnx" % k)
        with open(src, "wb") as f:
            f.write(m.SerializeToString())
        why_in = check(m)
        if why_in and any(s in why_in for s in CHECKER_TOO_OLD):
            continue   # a model newer than the installed checker: nothing to compare with
        p = subprocess.run([dwsnet, "roundtrip", src, "-o", dst, "--perturb", "0.01", "--seed", str(k)],
                           capture_output=True, text=True)
        names = ",".join(e.__name__ for e in edits)
        if p.returncode != 0:
            refused += 1
            if not why_in:
                if "not_an_mlp" in p.stderr or "unsupported" in p.stderr:
                    continue   # a valid model that simply is no MLP any more
                print("FAIL round %d (%s): a model onnx.checker accepts was refused: %s" % (k, names, p.stderr.strip()))
                sys.exit(1)
            continue
        written += 1
        if why_in:
            print("FAIL round %d (%s): dwsnet wrote back a model onnx.checker rejects (%s)" % (k, names, why_in))
            sys.exit(1)
        out = onnx.load(dst)
        why_out = check(out)
        if why_out:
            print("FAIL round %d (%s): the input passed onnx.checker, the output does not: %s" % (k, names, why_out))
            sys.exit(1)
        if texts(out, m) != texts(m):
            print("FAIL round %d (%s): free text changed: %r -> %r" % (k, names, texts(m)[:4], texts(out)[:4]))
            sys.exit(1)
    print("ok   %d rounds: %d refused, %d written back valid with their text intact" % (n, refused, written))
    if refused == 0 or written == 0:
        print("FAIL the rounds did not exercise both outcomes")
        sys.exit(1)


if __name__ == "__main__":
    main()
