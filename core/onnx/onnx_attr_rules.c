/* The ONNX rules for node attributes, on every node the decoder reads: a name,
 * unique on its node; a type, and at most one value field, of that type (what
 * onnx.checker's check_attribute enforces); and, for the operators an MLP is made
 * of, only the attributes their schema has at the model's opset, of the schema's
 * type, with the required ones present (what the checker's schema verification
 * enforces). The decoder used to take the first of two same-named attributes and
 * ignore unknown ones, then write the model back as invalid as it came. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "onnx_walk.h"

enum {
    A_FLOAT = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT, A_INT = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT,
    A_STRING = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING, A_TENSOR = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR,
    A_SPARSE = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR,
    A_FLOATS = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS, A_INTS = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS,
    A_STRINGS = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS,
};

/* Attribute `name` of `op` exists from opset `since` until before `until` (0: still). */
static const struct {
    const char *op, *name;
    int type, since, until, required;
} schema[] = {
    {"Constant", "value", A_TENSOR, 1, 0, 0}, {"Constant", "sparse_value", A_SPARSE, 11, 0, 0},
    {"Constant", "value_float", A_FLOAT, 12, 0, 0}, {"Constant", "value_floats", A_FLOATS, 12, 0, 0},
    {"Constant", "value_int", A_INT, 12, 0, 0}, {"Constant", "value_ints", A_INTS, 12, 0, 0},
    {"Constant", "value_string", A_STRING, 12, 0, 0}, {"Constant", "value_strings", A_STRINGS, 12, 0, 0},
    {"Flatten", "axis", A_INT, 1, 0, 0}, {"Reshape", "allowzero", A_INT, 14, 0, 0},
    {"Gemm", "alpha", A_FLOAT, 1, 0, 0}, {"Gemm", "beta", A_FLOAT, 1, 0, 0},
    {"Gemm", "transA", A_INT, 1, 0, 0}, {"Gemm", "transB", A_INT, 1, 0, 0},
    {"LeakyRelu", "alpha", A_FLOAT, 1, 0, 0}, {"Gelu", "approximate", A_STRING, 20, 0, 0},
    {"Softmax", "axis", A_INT, 1, 0, 0}, {"LogSoftmax", "axis", A_INT, 1, 0, 0},
    {"Dropout", "ratio", A_FLOAT, 1, 12, 0}, {"Dropout", "seed", A_INT, 12, 0, 0},
    {"Transpose", "perm", A_INTS, 1, 0, 0},
    {"Shape", "start", A_INT, 15, 0, 0}, {"Shape", "end", A_INT, 15, 0, 0}, {"Gather", "axis", A_INT, 1, 0, 0},
    {"Unsqueeze", "axes", A_INTS, 1, 13, 1}, {"Squeeze", "axes", A_INTS, 1, 13, 0},
    {"Concat", "axis", A_INT, 1, 0, 1},
    {"Slice", "starts", A_INTS, 1, 10, 1}, {"Slice", "ends", A_INTS, 1, 10, 1}, {"Slice", "axes", A_INTS, 1, 10, 0},
    {"Cast", "to", A_INT, 1, 0, 1}, {"Cast", "saturate", A_INT, 19, 0, 0},
};
#define N_SCHEMA (sizeof schema / sizeof schema[0])

static const char *type_name(int t)
{
    static const char *const names[] = {"UNDEFINED", "FLOAT", "INT", "STRING", "TENSOR", "GRAPH", "FLOATS",
                                        "INTS", "STRINGS", "TENSORS", "GRAPHS", "SPARSE_TENSOR", "SPARSE_TENSORS",
                                        "TYPE_PROTO", "TYPE_PROTOS"};
    return t >= 0 && (size_t)t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

/* The fields that hold a value, each with the type it belongs to: how many are
 * set, and the type of the last. */
static int value_fields(const Onnx__AttributeProto *a, int *type)
{
    const struct {
        int set, type;
    } f[] = {
        {a->has_f, A_FLOAT}, {a->has_i, A_INT}, {a->has_s, A_STRING}, {a->t != NULL, A_TENSOR},
        {a->g != NULL, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH}, {a->sparse_tensor != NULL, A_SPARSE},
        {a->tp != NULL, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO},
        {a->n_floats > 0, A_FLOATS}, {a->n_ints > 0, A_INTS}, {a->n_strings > 0, A_STRINGS},
        {a->n_tensors > 0, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS},
        {a->n_graphs > 0, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS},
        {a->n_sparse_tensors > 0, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSORS},
        {a->n_type_protos > 0, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS},
    };
    int n = 0;
    for (size_t k = 0; k < sizeof f / sizeof f[0]; k++)
        if (f[k].set) n++, *type = f[k].type;
    return n;
}

__attribute__((format(printf, 5, 6)))
static int broken(const Onnx__NodeProto *n, int ni, const char *attr, dws_error *err, const char *fmt, ...)
{
    char lab[160], name[64], why[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    dws_safe_copy(name, sizeof name, attr);
    dws_error_set(err, DWS_E_INVALID_MODEL, "node %s: attribute '%s' %s", dws_node_label(n, ni, lab, sizeof lab), name,
                  why);
    return -1;
}

/* The generic rules, for every attribute of every node. */
static int check_generic(const Onnx__NodeProto *n, int ni, dws_error *err)
{
    for (size_t k = 0; k < n->n_attribute; k++) {
        const Onnx__AttributeProto *a = n->attribute[k];
        const char *name = a->name ? a->name : "";
        if (!name[0]) return broken(n, ni, "", err, "has no name (every attribute needs one)");
        for (size_t j = 0; j < k; j++)
            if (n->attribute[j]->name && !strcmp(n->attribute[j]->name, name))
                return broken(n, ni, name, err, "appears twice (attribute names are unique on a node)");
        if (!a->has_type || a->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED)
            return broken(n, ni, name, err, "has no type (the type field is required)");
        int held = a->type, count = value_fields(a, &held);
        if (count > 1) return broken(n, ni, name, err, "holds %d values (at most one value field may be set)", count);
        if (count == 1 && held != (int)a->type)
            return broken(n, ni, name, err, "is declared %s but holds a %s (type and value field must agree)",
                          type_name((int)a->type), type_name(held));
    }
    return 0;
}

/* The schema rules, for the operators the decoder knows. */
static int check_schema(const Onnx__NodeProto *n, int ni, int64_t opset, dws_error *err)
{
    const char *op = n->op_type ? n->op_type : "";
    int known_op = 0;
    for (size_t s = 0; s < N_SCHEMA; s++) known_op |= !strcmp(schema[s].op, op);
    for (size_t k = 0; k < n->n_attribute; k++) {
        const Onnx__AttributeProto *a = n->attribute[k];
        size_t s = 0;
        while (s < N_SCHEMA && !(!strcmp(schema[s].op, op) && !strcmp(schema[s].name, a->name) &&
                                 opset >= schema[s].since && (!schema[s].until || opset < schema[s].until)))
            s++;
        if (s == N_SCHEMA)
            return broken(n, ni, a->name, err, "is not an attribute of %s at opset %lld%s", op, (long long)opset,
                          known_op ? "" : " (it has none)");
        if ((int)a->type != schema[s].type)
            return broken(n, ni, a->name, err, "of %s must be %s, not %s", op, type_name(schema[s].type),
                          type_name((int)a->type));
    }
    for (size_t s = 0; s < N_SCHEMA; s++) {
        if (strcmp(schema[s].op, op) || !schema[s].required || opset < schema[s].since ||
            (schema[s].until && opset >= schema[s].until))
            continue;
        if (!dws_op_attr(n, schema[s].name))
            return broken(n, ni, schema[s].name, err, "is required by %s at opset %lld but missing", op,
                          (long long)opset);
    }
    if (!strcmp(op, "Constant") && n->n_attribute != 1)
        return broken(n, ni, "value", err, "(or one of value_*): a Constant has exactly one, not %zu", n->n_attribute);
    return 0;
}

int dws_onnx_check_attributes(const Onnx__GraphProto *g, int64_t opset, dws_error *err)
{
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *n = g->node[i];
        dws_activation act;
        dws_op_kind kind = dws_op_classify(n, &act);
        if (check_generic(n, (int)i, err) != 0) return -1;
        /* Microsoft's Gelu has its own (empty) schema; unknown operators are refused
         * by the recogniser, which names them. */
        int ms = n->domain && !strcmp(n->domain, "com.microsoft");
        if (kind != OP_UNKNOWN && !ms && check_schema(n, (int)i, opset, err) != 0) return -1;
        if (kind != OP_UNKNOWN && ms && n->n_attribute > 0)
            return broken(n, (int)i, n->attribute[0]->name, err, "is not an attribute of com.microsoft Gelu");
    }
    return 0;
}
