/* The operators an MLP is made of, naming a node in messages, and reading node attributes. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "onnx_walk.h"

static const struct { const char *name; dws_op_kind kind; dws_activation act; } known_ops[] = {
    {"Constant", OP_CONSTANT, 0}, {"Flatten", OP_FLATTEN, 0}, {"Reshape", OP_RESHAPE, 0},
    {"Identity", OP_IDENTITY, 0}, {"Gemm", OP_GEMM, 0}, {"MatMul", OP_MATMUL, 0}, {"Add", OP_ADD, 0},
    {"Relu", OP_ACTIVATION, DWS_ACT_RELU}, {"LeakyRelu", OP_ACTIVATION, DWS_ACT_LEAKY_RELU},
    {"Tanh", OP_ACTIVATION, DWS_ACT_TANH}, {"Sigmoid", OP_ACTIVATION, DWS_ACT_SIGMOID},
    {"Gelu", OP_ACTIVATION, DWS_ACT_GELU}, {"Softmax", OP_SOFTMAX, 0}, {"LogSoftmax", OP_LOG_SOFTMAX, 0},
    {"Dropout", OP_DROPOUT, 0}, {"Transpose", OP_TRANSPOSE, 0},
    /* What torch writes to compute x.view(x.size(0), -1)'s target shape. */
    {"Shape", OP_SHAPE_MATH, 0}, {"Gather", OP_SHAPE_MATH, 0}, {"Unsqueeze", OP_SHAPE_MATH, 0},
    {"Squeeze", OP_SHAPE_MATH, 0}, {"Concat", OP_SHAPE_MATH, 0}, {"Slice", OP_SHAPE_MATH, 0},
    {"Cast", OP_SHAPE_MATH, 0}, {"Mul", OP_SHAPE_MATH, 0}, {"Div", OP_SHAPE_MATH, 0},
    /* Element-wise input preprocessing with a constant (with Add, Mul, Div: onnx_preprocess.c). */
    {"Sub", OP_SHAPE_MATH, 0},
    /* Only inside GELU spelt out (Div, Erf, Add, Mul, Mul: onnx_gelu.c); Tanh, Sigmoid
     * and Mul also make up the tanh GELU and SiLU patterns there. */
    {"Erf", OP_SHAPE_MATH, 0},
    /* Element-wise activations an MLP could use but dws_mlp cannot compute. */
    {"Elu", OP_OTHER_ACTIVATION, 0}, {"Selu", OP_OTHER_ACTIVATION, 0}, {"Celu", OP_OTHER_ACTIVATION, 0},
    {"PRelu", OP_OTHER_ACTIVATION, 0}, {"Softplus", OP_OTHER_ACTIVATION, 0},
    {"Softsign", OP_OTHER_ACTIVATION, 0}, {"HardSigmoid", OP_OTHER_ACTIVATION, 0},
    {"HardSwish", OP_OTHER_ACTIVATION, 0}, {"ThresholdedRelu", OP_OTHER_ACTIVATION, 0},
    {"Mish", OP_OTHER_ACTIVATION, 0}, {"Clip", OP_OTHER_ACTIVATION, 0},
};

void dws_safe_copy(char *dst, size_t cap, const char *src)
{
    if (cap == 0) return;
    size_t i = 0;
    for (; src && src[i] && i + 1 < cap; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    dst[i] = '\0';
}

void dws_safe_copy_bytes(char *dst, size_t cap, const ProtobufCBinaryData *src)
{
    if (cap == 0) return;
    size_t i = 0;
    for (; i < src->len && i + 1 < cap; i++) {
        unsigned char c = src->data[i];
        dst[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    dst[i] = '\0';
}

int dws_bytes_is(const ProtobufCBinaryData *b, const char *s)
{
    size_t n = strlen(s);
    return b->len == n && (n == 0 || !memcmp(b->data, s, n));
}

ProtobufCBinaryData dws_bytes_of(const char *s)
{
    return (ProtobufCBinaryData){strlen(s), (uint8_t *)s};
}

const char *dws_node_label(const Onnx__NodeProto *n, int index, char *buf, size_t cap)
{
    char name[96], op[48];
    dws_safe_copy(op, sizeof op, n->op_type && n->op_type[0] ? n->op_type : "no op_type");
    if (n->name && n->name[0]) {
        dws_safe_copy(name, sizeof name, n->name);
        snprintf(buf, cap, "'%s' (%s)", name, op);
    } else {
        snprintf(buf, cap, "#%d (%s)", index, op);
    }
    return buf;
}

int dws_onnx_default_domain(const char *d)
{
    return !d || !d[0] || !strcmp(d, "ai.onnx");
}

dws_op_kind dws_op_classify(const Onnx__NodeProto *n, dws_activation *act)
{
    const char *op = n->op_type ? n->op_type : "";
    int ms_gelu = n->domain && !strcmp(n->domain, "com.microsoft") && !strcmp(op, "Gelu");
    if (!dws_onnx_default_domain(n->domain) && !ms_gelu) return OP_UNKNOWN;
    for (size_t i = 0; i < sizeof known_ops / sizeof known_ops[0]; i++) {
        if (!strcmp(op, known_ops[i].name)) {
            *act = known_ops[i].act;
            return known_ops[i].kind;
        }
    }
    return OP_UNKNOWN;
}

const Onnx__AttributeProto *dws_op_attr(const Onnx__NodeProto *n, const char *name)
{
    for (size_t a = 0; a < n->n_attribute; a++)
        if (n->attribute[a]->name && !strcmp(n->attribute[a]->name, name)) return n->attribute[a];
    return NULL;
}

const char *dws_walk_label(const dws_walker *w, int ni, char *buf, size_t cap)
{
    return dws_node_label(w->g->node[ni], ni, buf, cap);
}

int dws_walk_attr_int(const dws_walker *w, int ni, const char *name, int64_t dflt, int64_t *out, dws_error *err)
{
    const Onnx__AttributeProto *a = dws_op_attr(w->g->node[ni], name);
    *out = dflt;
    if (!a) return 0;
    if (!a->has_i || (a->has_type && a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT)) {
        char lab[160];
        dws_error_set(err, DWS_E_NOT_AN_MLP, "node %s: attribute %s is not an integer",
                      dws_walk_label(w, ni, lab, sizeof lab), name);
        return -1;
    }
    *out = a->i;
    return 0;
}

int dws_walk_attr_float(const dws_walker *w, int ni, const char *name, float dflt, float *out, dws_error *err)
{
    const Onnx__AttributeProto *a = dws_op_attr(w->g->node[ni], name);
    *out = dflt;
    if (!a) return 0;
    if (!a->has_f || (a->has_type && a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT) || !isfinite(a->f)) {
        char lab[160];
        dws_error_set(err, DWS_E_NOT_AN_MLP, "node %s: attribute %s is not a finite float",
                      dws_walk_label(w, ni, lab, sizeof lab), name);
        return -1;
    }
    *out = a->f;
    return 0;
}

int dws_walk_attr_ints(const dws_walker *w, int ni, const char *name, int64_t *out, size_t max, size_t *n,
                       dws_error *err)
{
    const Onnx__AttributeProto *a = dws_op_attr(w->g->node[ni], name);
    *n = 0;
    if (!a) return 0;
    if ((a->has_type && a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS) || a->n_ints > max) {
        char lab[160];
        dws_error_set(err, DWS_E_NOT_AN_MLP, "node %s: attribute %s is not a list of at most %zu integers",
                      dws_walk_label(w, ni, lab, sizeof lab), name, max);
        return -1;
    }
    if (a->n_ints) memcpy(out, a->ints, a->n_ints * sizeof *out);
    *n = a->n_ints;
    return 1;
}
