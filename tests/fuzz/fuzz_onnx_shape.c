/* libFuzzer target for the shape arithmetic of a Reshape (core/onnx/onnx_shape.c):
 * the input is a small program that builds the subgraph computing the Reshape's
 * target shape in front of a 6-5-4-3 MLP, from the operators the evaluator knows
 * (Shape, Gather, Unsqueeze, Squeeze, Concat, Slice, Cast, Mul, Div, Identity,
 * Constant, INT64 initializers), a few it must refuse, and integers drawn from
 * the extremes (INT64_MIN, -1, INT64_MAX, ...) or from the input. Every model
 * must decode to d0 = 6 or be refused with a code; overflow and traps are left to
 * the sanitizers. Seeds: tests/fuzz/corpus/onnx_shape/ (program bytes). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper_onnx.h"
#include "onnx/onnx_codec.h"
#include "fuzz_target.h"

static const int64_t extremes[] = {INT64_MIN, INT64_MIN + 1, -((int64_t)1 << 32), -3, -2, -1, 0, 1, 2, 3, 6,
                                   (int64_t)1 << 32, INT64_MAX - 1, INT64_MAX};
#define N_EXTREMES (sizeof extremes / sizeof extremes[0])
static const int64_t opsets[] = {9, 11, 13, 15, 20};
static const char *const binary_ops[] = {"Mul", "Div", "Concat", "Gather", "Add", "Mod", "Sub"};
#define N_BINARY (sizeof binary_ops / sizeof binary_ops[0])

typedef struct {
    const uint8_t *p;
    size_t left;
} reader;

static unsigned next(reader *r)
{
    if (!r->left) return 0;
    r->left--;
    return *r->p++;
}

/* An extreme, or a small number, or eight raw bytes. */
static int64_t number(reader *r)
{
    unsigned b = next(r);
    if (b < 128) return extremes[b % N_EXTREMES];
    if (b < 250) return (int64_t)b - 189;
    uint64_t v = 0;
    for (int k = 0; k < 8; k++) v = v << 8 | next(r);
    return (int64_t)v;
}

static const char *pick(reader *r, char names[][16], int n)
{
    return names[next(r) % (unsigned)n];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, size};
    int64_t dims[4] = {-1, -1, -1, -1};
    int rank = 1 + (int)(next(&r) % 4);
    for (int d = 1; d < rank; d++) dims[d] = (int64_t)(next(&r) % 8) - 1;   /* -1: dynamic */
    Onnx__ModelProto *mp = ho_reshape_model(dims, rank);
    Onnx__GraphProto *g = mp->graph;
    mp->opset_import[0]->version = opsets[next(&r) % (sizeof opsets / sizeof opsets[0])];
    char names[32][16];
    int n = 0;
    snprintf(names[n++], sizeof names[0], "input");
    while (r.left && n < 31) {
        char *out = names[n];
        snprintf(out, sizeof names[0], "v%d", n);
        unsigned op = next(&r) % 12;
        const char *a = pick(&r, names, n), *none[] = {NULL};
        switch (op) {
        case 0: {
            Onnx__NodeProto *s = ho_node(g, "Shape", a, NULL, out);
            if (next(&r) & 1) ho_attr_int(s, "start", number(&r));
            if (next(&r) & 1) ho_attr_int(s, "end", number(&r));
            break;
        }
        case 1: {   /* a binary operator, with an optional axis */
            const char *bop = binary_ops[next(&r) % N_BINARY];
            Onnx__NodeProto *b = ho_node(g, bop, a, pick(&r, names, n), out);
            if (next(&r) & 1) ho_attr_int(b, "axis", number(&r));
            break;
        }
        case 2:
        case 3: {   /* Unsqueeze / Squeeze: axes as an input (opset 13+) or an attribute */
            Onnx__NodeProto *u = ho_node(g, op == 2 ? "Unsqueeze" : "Squeeze", a, NULL, out);
            if (next(&r) & 1) {
                char axes[24];
                snprintf(axes, sizeof axes, "%s_axes", out);
                ho_ints(g, axes, number(&r));
                u->input = realloc(u->input, 2 * sizeof(char *));
                u->input[u->n_input++] = ho_strdup(axes);
            } else {
                Onnx__AttributeProto *ax = ho_attr(u, "axes");
                ax->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
                ax->n_ints = 1;
                ax->ints = malloc(sizeof(int64_t));
                ax->ints[0] = number(&r);
            }
            break;
        }
        case 4: {   /* Slice(a, starts, ends[, axes[, steps]]) from initializers */
            char bounds[4][24];
            const char *in[6] = {a};
            int k = 3 + (int)(next(&r) % 3);
            for (int i = 1; i < k; i++) {
                snprintf(bounds[i - 1], sizeof bounds[0], "%s_%d", out, i);
                ho_ints(g, bounds[i - 1], number(&r));
                in[i] = bounds[i - 1];
            }
            in[k] = NULL;
            ho_node_n(g, "Slice", in, out);
            break;
        }
        case 5:
            ho_attr_int(ho_node(g, "Cast", a, NULL, out), "to", (int64_t)(next(&r) % 17));
            break;
        case 6:
            ho_node(g, "Identity", a, NULL, out);
            break;
        case 7:
            ho_attr_int(ho_node_n(g, "Constant", none, out), "value_int", number(&r));
            break;
        case 8: {
            Onnx__AttributeProto *v = ho_attr(ho_node_n(g, "Constant", none, out), "value_ints");
            v->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
            v->n_ints = 1 + next(&r) % 3;
            v->ints = malloc(v->n_ints * sizeof(int64_t));
            for (size_t i = 0; i < v->n_ints; i++) v->ints[i] = number(&r);
            break;
        }
        case 9: {   /* an INT64 initializer: a scalar or a vector of 1..3 */
            int64_t vals[3];
            int count = (int)(next(&r) % 4);
            for (int i = 0; i < (count ? count : 1); i++) vals[i] = number(&r);
            ho_int_initializer(g, out, count, vals);
            break;
        }
        case 10: {   /* a Concat of up to four values */
            const char *in[5] = {a, NULL, NULL, NULL, NULL};
            int k = 1 + (int)(next(&r) % 4);
            for (int i = 1; i < k; i++) in[i] = pick(&r, names, n);
            ho_attr_int(ho_node_n(g, "Concat", in, out), "axis", 0);
            break;
        }
        default: {   /* Gather with a scalar index */
            char idx[24];
            int64_t v = number(&r);
            snprintf(idx, sizeof idx, "%s_i", out);
            ho_int_initializer(g, idx, 0, &v);
            ho_node(g, "Gather", a, idx, out);
            break;
        }
        }
        n++;
    }
    /* The last value computed is the shape. */
    ho_node(g, "Identity", names[n - 1], NULL, "shape");
    size_t len;
    uint8_t *buf = ho_pack(mp, &len);
    dws_error err;
    dws_error_clear(&err);
    dws_onnx *m = dws_onnx_decode(buf, len, NULL, &err);
    free(buf);
    if (!m) {
        if (!err.code) abort();   /* every refusal names its code */
        return 0;
    }
    if (dws_onnx_weights(m)->widths[0] != 6) abort();
    dws_onnx_free(m);
    return 0;
}
