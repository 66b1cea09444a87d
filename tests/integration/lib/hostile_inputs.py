"""Writes hostile /adapt request bodies for daemon_ceilings.sh, each small enough to
pass the body limit but built to make a naive parser allocate far more, loop, or
recurse: tensors whose declared dims the data does not back, a huge initializer, a
long node chain, a cyclic graph, protobuf nested a hundred thousand levels deep; and
multipart bodies with many parts, a huge part header, or boundary games.

  /usr/bin/python3 hostile_inputs.py VALID.onnx OUTDIR BODY_LIMIT
Writes OUTDIR/NAME.onnx (octet-stream bodies) and OUTDIR/NAME.multipart with
OUTDIR/NAME.boundary (multipart bodies).
"""
import os
import sys

import onnx
from onnx import TensorProto, helper


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def deep_nesting(levels):
    """ModelProto.graph -> (GraphProto.node -> NodeProto.attribute -> AttributeProto.g)*,
    built outside-in from precomputed lengths so it costs O(levels)."""
    fields = [7] + [1, 5, 6] * levels   # tags from the outside in
    sizes = [0] * (len(fields) + 1)     # sizes[i]: field i with its tag, length and payload
    for i in range(len(fields) - 1, -1, -1):
        sizes[i] = len(varint(fields[i] << 3 | 2)) + len(varint(sizes[i + 1])) + sizes[i + 1]
    head = varint(1 << 3 | 0) + varint(8)   # ir_version 8
    return head + b"".join(varint(fields[i] << 3 | 2) + varint(sizes[i + 1]) for i in range(len(fields)))


def main():
    valid, out, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
    os.makedirs(out, exist_ok=True)

    def save(name, model):
        with open(os.path.join(out, name + ".onnx"), "wb") as f:
            f.write(model if isinstance(model, bytes) else model.SerializeToString())

    def fresh():
        return onnx.load(valid)

    def weight(m, i=0):
        return [t for t in m.graph.initializer if len(t.dims) == 2][i]

    # Declared dims the data does not back: raw_data stays small.
    m = fresh()
    w = weight(m)
    w.dims[:] = [100000, 100000]
    save("dims_unbacked", m)
    m = fresh()
    weight(m).dims[:] = [1 << 40, 1 << 40]
    save("dims_overflow", m)
    m = fresh()
    w = weight(m)
    w.ClearField("raw_data")
    w.dims[:] = [4096, 4096]
    save("dims_no_data", m)
    # A huge initializer nothing uses, most of the body limit.
    m = fresh()
    m.graph.initializer.append(helper.make_tensor("ballast", TensorProto.FLOAT, [limit // 8],
                                                  b"\0" * (limit // 2), raw=True))
    save("huge_initializer", m)
    # A long chain of Identity nodes in front of the first layer.
    m = fresh()
    first = m.graph.node[0]
    src = first.input[0]
    chain = []
    n = min(60000, limit // 40)
    for i in range(n):
        chain.append(helper.make_node("Identity", [src], ["chain%d" % i]))
        src = "chain%d" % i
    first.input[0] = src
    nodes = chain + list(m.graph.node)
    del m.graph.node[:]
    m.graph.node.extend(nodes)
    save("long_graph", m)
    # A cycle: the first layer reads the output of a node that reads its own output.
    m = fresh()
    first = m.graph.node[0]
    loop = [helper.make_node("Identity", ["cycle_b"], ["cycle_a"]),
            helper.make_node("Add", ["cycle_a", first.input[0]], ["cycle_b"])]
    first.input[0] = "cycle_b"
    nodes = loop + list(m.graph.node)
    del m.graph.node[:]
    m.graph.node.extend(nodes)
    save("cyclic_graph", m)
    # Many empty nodes: each costs protobuf-c a struct from two bytes of input.
    m = fresh()
    m.graph.node.extend([onnx.NodeProto()] * min(400000, limit // 3))
    save("many_empty_nodes", m)
    save("deep_nesting", deep_nesting(min(100000, limit // 12)))

    model = open(valid, "rb").read()

    def multipart(name, boundary, body):
        with open(os.path.join(out, name + ".multipart"), "wb") as f:
            f.write(body)
        with open(os.path.join(out, name + ".boundary"), "w") as f:
            f.write(boundary)

    def part(b, name, data, extra=b""):
        return (b"--" + b + b"\r\nContent-Disposition: form-data; name=\"" + name + b"\"" + extra +
                b"\r\n\r\n" + data + b"\r\n")

    b = b"bNd"
    parts = b"".join(part(b, b"x%d" % i, b"y") for i in range(min(20000, limit // 80)))
    multipart("many_parts", b.decode(), parts + part(b, b"model", model) + b"--" + b + b"--\r\n")
    big = b"; filename=\"" + b"A" * (limit // 2) + b"\""
    multipart("huge_part_header", b.decode(), part(b, b"model", model, big) + b"--" + b + b"--\r\n")
    # The boundary's prefix all through the data, and a boundary longer than RFC 2046's 70.
    b = b"Q" * 200
    data = (b"\r\n--" + b[:199]) * (limit // 400)
    multipart("boundary_prefixes", b.decode(), part(b, b"model", data) + b"--" + b + b"--\r\n")
    multipart("no_closing_boundary", "zz", part(b"zz", b"model", model))
    multipart("nested_boundary", "outer",
              part(b"outer", b"model", part(b"inner", b"model", model) + b"--inner--\r\n") +
              b"--outer--\r\n")


main()
