#include "helper_onnx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/onnx_codec.h"

static void *must(void *p)
{
    if (!p) {
        fprintf(stderr, "helper_onnx: out of memory\n");
        abort();
    }
    return p;
}

char *ho_strdup(const char *s)
{
    return must(strdup(s));
}

void ho_set_str(char **field, const char *v)
{
    free(*field);
    *field = ho_strdup(v);
}

void ho_fill_weights(dws_mlp *w, unsigned seed)
{
    for (size_t i = 0; i < w->n_params; i++) {
        seed = seed * 1103515245u + 12345u;
        w->params[i] = (float)((int)(seed >> 16 & 0x7fff) - 16384) / 16384.f;
    }
}

void ho_build(const int64_t *widths, int n_layers, dws_activation act, uint8_t **out, size_t *len)
{
    dws_mlp w;
    dws_error err = {0};
    if (dws_mlp_init(&w, n_layers, widths, &err) != 0) abort();
    ho_fill_weights(&w, 7);
    for (int l = 0; l + 1 < n_layers; l++) {
        w.act[l] = act;
        w.leaky_alpha[l] = 0.3f;
    }
    dws_kv meta[] = {{"dwsnet.zoo.id", "m0001"}};
    if (dws_onnx_build(&w, "dwsnet-test", meta, 1, out, len, &err) != 0) {
        fprintf(stderr, "helper_onnx: %s: %s\n", err.code, err.message);
        abort();
    }
    dws_mlp_free(&w);
}

Onnx__ModelProto *ho_unpack(const uint8_t *buf, size_t len)
{
    return must(onnx__model_proto__unpack(NULL, len, buf));
}

/* 1 when node n reads an output of node p. */
static int reads_from(const Onnx__NodeProto *n, const Onnx__NodeProto *p)
{
    for (size_t i = 0; i < n->n_input; i++)
        for (size_t o = 0; o < p->n_output; o++)
            if (n->input[i][0] && !strcmp(n->input[i], p->output[o])) return 1;
    return 0;
}

void ho_toposort(Onnx__GraphProto *g)
{
    size_t n = g->n_node;
    Onnx__NodeProto **sorted = must(malloc((n + 1) * sizeof *sorted));
    unsigned char *placed = must(calloc(n + 1, 1));
    for (size_t k = 0; k < n; k++) {
        size_t pick = n;
        for (size_t i = 0; i < n && pick == n; i++) {
            if (placed[i]) continue;
            int ready = 1;
            for (size_t j = 0; j < n && ready; j++) ready = placed[j] || j == i || !reads_from(g->node[i], g->node[j]);
            if (ready) pick = i;
        }
        if (pick == n) {   /* a cycle: leave the order as it was */
            free(sorted), free(placed);
            return;
        }
        placed[pick] = 1;
        sorted[k] = g->node[pick];
    }
    memcpy(g->node, sorted, n * sizeof *sorted);
    free(sorted), free(placed);
}

uint8_t *ho_pack_keep(Onnx__ModelProto *mp, size_t *len)
{
    ho_toposort(mp->graph);
    *len = onnx__model_proto__get_packed_size(mp);
    uint8_t *buf = must(malloc(*len + 1));
    onnx__model_proto__pack(mp, buf);
    return buf;
}

uint8_t *ho_pack(Onnx__ModelProto *mp, size_t *len)
{
    uint8_t *buf = ho_pack_keep(mp, len);
    onnx__model_proto__free_unpacked(mp, NULL);
    return buf;
}

Onnx__ModelProto *ho_base_model_widths(const int64_t *widths, int n_layers)
{
    uint8_t *buf;
    size_t len;
    ho_build(widths, n_layers, DWS_ACT_RELU, &buf, &len);
    Onnx__ModelProto *mp = ho_unpack(buf, len);
    free(buf);
    return mp;
}

Onnx__ModelProto *ho_base_model(void)
{
    static const int64_t widths[] = {6, 5, 4, 3};
    return ho_base_model_widths(widths, 3);
}

Onnx__NodeProto *ho_node_n(Onnx__GraphProto *g, const char *op, const char *const *in, const char *out)
{
    Onnx__NodeProto *n = must(malloc(sizeof *n));
    onnx__node_proto__init(n);
    n->op_type = ho_strdup(op);
    n->name = ho_strdup(out);
    while (in[n->n_input]) n->n_input++;
    n->input = must(malloc((n->n_input + 1) * sizeof(char *)));
    for (size_t i = 0; i < n->n_input; i++) n->input[i] = ho_strdup(in[i]);
    n->n_output = 1;
    n->output = must(malloc(sizeof(char *)));
    n->output[0] = ho_strdup(out);
    g->node = must(realloc(g->node, (g->n_node + 1) * sizeof *g->node));
    g->node[g->n_node++] = n;
    return n;
}

Onnx__NodeProto *ho_node(Onnx__GraphProto *g, const char *op, const char *in0, const char *in1, const char *out)
{
    const char *in[] = {in0, in1, NULL};
    return ho_node_n(g, op, in, out);
}

Onnx__AttributeProto *ho_attr(Onnx__NodeProto *n, const char *name)
{
    Onnx__AttributeProto *a = must(malloc(sizeof *a));
    onnx__attribute_proto__init(a);
    a->name = ho_strdup(name);
    a->has_type = 1;
    n->attribute = must(realloc(n->attribute, (n->n_attribute + 1) * sizeof *n->attribute));
    n->attribute[n->n_attribute++] = a;
    return a;
}

void ho_clear_attrs(Onnx__NodeProto *n)
{
    for (size_t a = 0; a < n->n_attribute; a++) protobuf_c_message_free_unpacked(&n->attribute[a]->base, NULL);
    n->n_attribute = 0;
}

Onnx__AttributeProto *ho_attr_int(Onnx__NodeProto *n, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = ho_attr(n, name);
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT, a->has_i = 1, a->i = v;
    return a;
}

static void add_initializer(Onnx__GraphProto *g, Onnx__TensorProto *t)
{
    g->initializer = must(realloc(g->initializer, (g->n_initializer + 1) * sizeof *g->initializer));
    g->initializer[g->n_initializer++] = t;
}

void ho_float_initializer(Onnx__GraphProto *g, const char *name, int64_t n)
{
    Onnx__TensorProto *t = must(malloc(sizeof *t));
    onnx__tensor_proto__init(t);
    t->name = ho_strdup(name);
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    t->n_dims = 1;
    t->dims = must(malloc(sizeof(int64_t)));
    t->dims[0] = n;
    t->n_float_data = (size_t)n;
    t->float_data = must(calloc((size_t)n + 1, sizeof(float)));
    add_initializer(g, t);
}

void ho_int_initializer(Onnx__GraphProto *g, const char *name, int n, const int64_t *v)
{
    Onnx__TensorProto *t = must(malloc(sizeof *t));
    onnx__tensor_proto__init(t);
    t->name = ho_strdup(name);
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    t->n_dims = n > 0;
    t->dims = must(malloc(sizeof(int64_t)));
    t->dims[0] = n;
    t->n_int64_data = n > 0 ? (size_t)n : 1;
    t->int64_data = must(malloc(t->n_int64_data * sizeof(int64_t)));
    memcpy(t->int64_data, v, t->n_int64_data * sizeof(int64_t));
    add_initializer(g, t);
}

void ho_ints(Onnx__GraphProto *g, const char *name, int64_t v)
{
    ho_int_initializer(g, name, 1, &v);
}

Onnx__ModelProto *ho_reshape_model(const int64_t *dims, int rank)
{
    Onnx__ModelProto *mp = ho_base_model();
    Onnx__NodeProto *n = mp->graph->node[0];
    ho_set_str(&n->op_type, "Reshape");
    ho_set_str(&n->name, "/Reshape");
    ho_clear_attrs(n);
    n->input = must(realloc(n->input, 2 * sizeof(char *)));
    n->input[1] = ho_strdup("shape");
    n->n_input = 2;
    Onnx__TensorShapeProto *sh = mp->graph->input[0]->type->tensor_type->shape;
    for (size_t d = 0; d < sh->n_dim; d++) protobuf_c_message_free_unpacked(&sh->dim[d]->base, NULL);
    sh->dim = must(realloc(sh->dim, (size_t)(rank > 0 ? rank : 1) * sizeof *sh->dim));
    sh->n_dim = (size_t)rank;
    for (int d = 0; d < rank; d++) {
        Onnx__TensorShapeProto__Dimension *dim = must(malloc(sizeof *dim));
        onnx__tensor_shape_proto__dimension__init(dim);
        if (d == 0 || dims[d] < 0) {
            dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            dim->dim_param = ho_strdup(d == 0 ? "N" : "d");
        } else {
            dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            dim->dim_value = dims[d];
        }
        sh->dim[d] = dim;
    }
    return mp;
}

void ho_unsqueeze(Onnx__GraphProto *g, const char *in, const char *out)
{
    char axes[96];
    snprintf(axes, sizeof axes, "%s_axes", out);
    ho_ints(g, axes, 0);
    ho_node(g, "Unsqueeze", in, axes, out);
}

void ho_dim(Onnx__GraphProto *g, int64_t index, int unsqueeze, const char *out)
{
    char shape[96], idx[96], gathered[96];
    snprintf(shape, sizeof shape, "%s_shape", out);
    snprintf(idx, sizeof idx, "%s_index", out);
    snprintf(gathered, sizeof gathered, unsqueeze ? "%s_scalar" : "%s", out);
    ho_node(g, "Shape", "input", NULL, shape);
    ho_int_initializer(g, idx, 0, &index);
    ho_node(g, "Gather", shape, idx, gathered);
    if (unsqueeze) ho_unsqueeze(g, gathered, out);
}

void ho_concat(Onnx__GraphProto *g, const char *a, const char *b)
{
    ho_attr_int(ho_node(g, "Concat", a, b, "shape"), "axis", 0);
}
