/* A fresh ONNX model for an MLP, laid out as torch.onnx.export (torch 1.13, opset 13)
 * writes nn.Sequential(Flatten, Linear, ReLU, ..., Linear): node and tensor names
 * "/0/Flatten", "/1/Gemm", "/2/Relu", "1.weight", "1.bias", ... Activations without an
 * operator at opset 13 are spelt out as torch spells them (onnx_gelu.c reads them back):
 * GELU with Erf, GELU's tanh approximation with Tanh, SiLU as x * Sigmoid(x), their
 * constants scalar initializers "/2/Constant_output_0", ... */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"
#include "base/base.h"

/* Per layer: the Gemm and up to 9 activation nodes (tanh GELU), 4 constants. */
#define ACT_MAX_NODES 9
#define ACT_MAX_CONSTS 4
#define MAX_NODES (1 + (1 + ACT_MAX_NODES) * DWS_MAX_LAYERS)
#define MAX_INITS ((2 + ACT_MAX_CONSTS) * DWS_MAX_LAYERS)
#define NAME_LEN 48

typedef struct {
    Onnx__ModelProto model;
    Onnx__OperatorSetIdProto opset, *opsets[1];
    Onnx__GraphProto graph;
    Onnx__NodeProto nodes[MAX_NODES], *node_list[MAX_NODES];
    char *inputs[MAX_NODES][3], *outputs[MAX_NODES][1];
    char node_names[MAX_NODES][NAME_LEN], out_names[MAX_NODES][NAME_LEN];
    Onnx__AttributeProto attrs[MAX_NODES][3], *attr_lists[MAX_NODES][3];
    Onnx__TensorProto inits[MAX_INITS], *init_list[MAX_INITS];
    int64_t dims[MAX_INITS][2];
    char init_names[MAX_INITS][NAME_LEN];
    float consts[MAX_INITS];   /* the activations' scalar constants */
    Onnx__ValueInfoProto io[2], *in_list[1], *out_list[1];
    Onnx__TypeProto types[2];
    Onnx__TypeProto__Tensor tensor_types[2];
    Onnx__TensorShapeProto shapes[2];
    Onnx__TensorShapeProto__Dimension dim[2][2], *dim_lists[2][2];
    Onnx__StringStringEntryProto *props;
    Onnx__StringStringEntryProto **prop_list;
} builder;

static void set_io(builder *b, int k, const char *name, int64_t width)
{
    Onnx__ValueInfoProto *vi = &b->io[k];
    onnx__value_info_proto__init(vi);
    onnx__type_proto__init(&b->types[k]);
    onnx__type_proto__tensor__init(&b->tensor_types[k]);
    onnx__tensor_shape_proto__init(&b->shapes[k]);
    for (int d = 0; d < 2; d++) {
        onnx__tensor_shape_proto__dimension__init(&b->dim[k][d]);
        b->dim_lists[k][d] = &b->dim[k][d];
    }
    b->dim[k][0].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
    b->dim[k][0].dim_param = (char *)"N";
    b->dim[k][1].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    b->dim[k][1].dim_value = width;
    b->shapes[k].n_dim = 2;
    b->shapes[k].dim = b->dim_lists[k];
    b->tensor_types[k].has_elem_type = 1;
    b->tensor_types[k].elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    b->tensor_types[k].shape = &b->shapes[k];
    b->types[k].value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    b->types[k].tensor_type = &b->tensor_types[k];
    vi->name = (char *)name;
    vi->type = &b->types[k];
}

static Onnx__AttributeProto *attr_at(builder *b, int n, int a, const char *name)
{
    Onnx__AttributeProto *at = &b->attrs[n][a];
    onnx__attribute_proto__init(at);
    at->name = (char *)name;
    at->has_type = 1;
    b->attr_lists[n][a] = at;
    b->nodes[n].n_attribute = (size_t)a + 1;
    b->nodes[n].attribute = b->attr_lists[n];
    return at;
}

static void set_float_attr(builder *b, int n, int a, const char *name, float v)
{
    Onnx__AttributeProto *at = attr_at(b, n, a, name);
    at->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    at->has_f = 1;
    at->f = v;
}

static void set_int_attr(builder *b, int n, int a, const char *name, int64_t v)
{
    Onnx__AttributeProto *at = attr_at(b, n, a, name);
    at->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    at->has_i = 1;
    at->i = v;
}

/* Node n: op at Sequential index seq, reading `in`; returns its output name. */
static Onnx__NodeProto *add_node(builder *b, int n, int seq, const char *op, char *in, int last)
{
    Onnx__NodeProto *node = &b->nodes[n];
    onnx__node_proto__init(node);
    snprintf(b->node_names[n], NAME_LEN, "/%d/%s", seq, op);
    snprintf(b->out_names[n], NAME_LEN, last ? "logits" : "/%d/%s_output_0", seq, op);
    b->inputs[n][0] = in;
    b->outputs[n][0] = b->out_names[n];
    node->name = b->node_names[n];
    node->op_type = (char *)op;
    node->n_input = 1;
    node->input = b->inputs[n];
    node->n_output = 1;
    node->output = b->outputs[n];
    b->node_list[n] = node;
    return node;
}

static void add_initializer(builder *b, int k, int seq, const char *what, const float *data, int64_t d0, int64_t d1)
{
    Onnx__TensorProto *t = &b->inits[k];
    onnx__tensor_proto__init(t);
    snprintf(b->init_names[k], NAME_LEN, "%d.%s", seq, what);
    b->dims[k][0] = d0;
    b->dims[k][1] = d1;
    t->n_dims = d1 > 0 ? 2 : 1;
    t->dims = b->dims[k];
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    t->name = b->init_names[k];
    t->has_raw_data = 1;
    t->raw_data.len = (size_t)(d0 * (d1 > 0 ? d1 : 1)) * sizeof(float);
    t->raw_data.data = (uint8_t *)data;   /* little-endian host: the floats are the bytes */
    b->init_list[k] = t;
}

static const char *activation_op(dws_activation a)
{
    switch (a) {
    case DWS_ACT_RELU: return "Relu";
    case DWS_ACT_LEAKY_RELU: return "LeakyRelu";
    case DWS_ACT_TANH: return "Tanh";
    case DWS_ACT_SIGMOID: return "Sigmoid";
    case DWS_ACT_IDENTITY: case DWS_ACT_GELU: case DWS_ACT_GELU_TANH: case DWS_ACT_SILU: break;
    }
    return NULL;
}

/* Where build_graph stands: nodes and initializers so far, and the Sequential index
 * and per-op counters that name the nodes of one activation. */
typedef struct {
    int n, k, seq;
    int consts;             /* constants of this seq so far */
    const char *ops[ACT_MAX_NODES];
    int op_count[ACT_MAX_NODES], n_ops;
} build_pos;

/* A scalar FLOAT initializer v, named as torch names its Constant nodes. */
static char *add_const(builder *b, build_pos *p, float v)
{
    Onnx__TensorProto *t = &b->inits[p->k];
    onnx__tensor_proto__init(t);
    if (p->consts) snprintf(b->init_names[p->k], NAME_LEN, "/%d/Constant_%d_output_0", p->seq, p->consts);
    else snprintf(b->init_names[p->k], NAME_LEN, "/%d/Constant_output_0", p->seq);
    p->consts++;
    b->consts[p->k] = v;
    t->n_dims = 0;
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    t->name = b->init_names[p->k];
    t->has_raw_data = 1;
    t->raw_data.len = sizeof(float);
    t->raw_data.data = (uint8_t *)&b->consts[p->k];
    b->init_list[p->k] = t;
    return b->init_names[p->k++];
}

/* Node `op`(a, c) of the activation at p->seq, named "/seq/Op", "/seq/Op_1", ...;
 * c may be NULL (one input). Returns its output's name. */
static char *act_node(builder *b, build_pos *p, const char *op, char *a, char *c)
{
    int j = 0;
    while (j < p->n_ops && strcmp(p->ops[j], op)) j++;
    if (j == p->n_ops) p->ops[p->n_ops++] = op, p->op_count[j] = 0;
    int k = p->op_count[j]++;
    Onnx__NodeProto *node = &b->nodes[p->n];
    onnx__node_proto__init(node);
    char suffix[16] = "";
    if (k) snprintf(suffix, sizeof suffix, "_%d", k);
    snprintf(b->node_names[p->n], NAME_LEN, "/%d/%s%s", p->seq, op, suffix);
    snprintf(b->out_names[p->n], NAME_LEN, "/%d/%s%s_output_0", p->seq, op, suffix);
    b->inputs[p->n][0] = a;
    b->inputs[p->n][1] = c;
    b->outputs[p->n][0] = b->out_names[p->n];
    node->name = b->node_names[p->n];
    node->op_type = (char *)op;
    node->n_input = c ? 2 : 1;
    node->input = b->inputs[p->n];
    node->n_output = 1;
    node->output = b->outputs[p->n];
    b->node_list[p->n] = node;
    return b->out_names[p->n++];
}

/* The activations torch spells out at opset 13, reading x; returns the output. */
static char *spelt_out(builder *b, build_pos *p, dws_activation a, char *x)
{
    p->consts = p->n_ops = 0;
    if (a == DWS_ACT_SILU) return act_node(b, p, "Mul", x, act_node(b, p, "Sigmoid", x, NULL));
    if (a == DWS_ACT_GELU) {   /* x * (erf(x / sqrt 2) + 1) * 0.5 */
        char *d = act_node(b, p, "Div", x, add_const(b, p, (float)M_SQRT2));
        char *e = act_node(b, p, "Erf", d, NULL);
        char *s = act_node(b, p, "Add", e, add_const(b, p, 1.f));
        char *m = act_node(b, p, "Mul", x, s);
        return act_node(b, p, "Mul", m, add_const(b, p, 0.5f));
    }
    /* GELU_TANH: 0.5 * (x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))) */
    char *sq = act_node(b, p, "Mul", x, x);
    char *cube = act_node(b, p, "Mul", x, sq);
    char *kap = act_node(b, p, "Mul", cube, add_const(b, p, 0.044715f));
    char *a1 = act_node(b, p, "Add", x, kap);
    char *beta = act_node(b, p, "Mul", a1, add_const(b, p, (float)sqrt(2.0 / M_PI)));
    char *th = act_node(b, p, "Tanh", beta, NULL);
    char *a2 = act_node(b, p, "Add", th, add_const(b, p, 1.f));
    char *m5 = act_node(b, p, "Mul", x, a2);
    return act_node(b, p, "Mul", m5, add_const(b, p, 0.5f));
}

static int check_buildable(const dws_mlp *w, dws_error *err)
{
    if (w->n_layers < 1 || w->n_layers > DWS_MAX_LAYERS || !w->params) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "cannot build a model with %d layers", w->n_layers);
        return -1;
    }
    for (int l = 0; l <= w->n_layers; l++) {
        if (w->widths[l] < 1) {
            dws_error_set(err, DWS_E_INVALID_ARGUMENT, "width d_%d is %lld", l, (long long)w->widths[l]);
            return -1;
        }
    }
    if (w->act[w->n_layers - 1] != DWS_ACT_IDENTITY) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "the last layer must be linear (logits), not %s",
                      dws_activation_name(w->act[w->n_layers - 1]));
        return -1;
    }
    return 0;
}

static void build_graph(builder *b, const dws_mlp *w)
{
    build_pos p = {0};
    char *cur = (char *)"input";
    set_int_attr(b, p.n, 0, "axis", 1);
    add_node(b, p.n, p.seq++, "Flatten", cur, 0);
    cur = b->out_names[p.n++];
    for (int l = 0; l < w->n_layers; l++) {
        int last = l + 1 == w->n_layers;
        Onnx__NodeProto *gemm = add_node(b, p.n, p.seq, "Gemm", cur, last);
        add_initializer(b, p.k, p.seq, "weight", w->W[l], w->widths[l + 1], w->widths[l]);
        add_initializer(b, p.k + 1, p.seq, "bias", w->b[l], w->widths[l + 1], 0);
        b->inputs[p.n][1] = b->init_names[p.k];
        b->inputs[p.n][2] = b->init_names[p.k + 1];
        gemm->n_input = 3;
        set_float_attr(b, p.n, 0, "alpha", 1.f);
        set_float_attr(b, p.n, 1, "beta", 1.f);
        set_int_attr(b, p.n, 2, "transB", 1);
        cur = b->out_names[p.n++];
        p.k += 2;
        p.seq++;
        if (last) break;
        const char *act = activation_op(w->act[l]);
        if (act) {
            add_node(b, p.n, p.seq, act, cur, 0);
            if (w->act[l] == DWS_ACT_LEAKY_RELU) set_float_attr(b, p.n, 0, "alpha", w->leaky_alpha[l]);
            cur = b->out_names[p.n++];
        } else if (w->act[l] != DWS_ACT_IDENTITY) {
            cur = spelt_out(b, &p, w->act[l], cur);
        }
        p.seq++;
    }
    onnx__graph_proto__init(&b->graph);
    b->graph.name = (char *)"mlp";
    b->graph.n_node = (size_t)p.n;
    b->graph.node = b->node_list;
    b->graph.n_initializer = (size_t)p.k;
    b->graph.initializer = b->init_list;
    set_io(b, 0, "input", w->widths[0]);
    set_io(b, 1, "logits", w->widths[w->n_layers]);
    b->in_list[0] = &b->io[0];
    b->out_list[0] = &b->io[1];
    b->graph.n_input = 1;
    b->graph.input = b->in_list;
    b->graph.n_output = 1;
    b->graph.output = b->out_list;
}

int dws_onnx_build(const dws_mlp *w, const char *producer, const dws_kv *meta, size_t n_meta,
                   uint8_t **out, size_t *out_len, dws_error *err)
{
    *out = NULL;
    *out_len = 0;
    if (check_buildable(w, err) != 0) return -1;
    builder *b = calloc(1, sizeof *b);
    if (!b) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate the model builder");
        return -1;
    }
    b->props = calloc(n_meta + 1, sizeof *b->props);
    b->prop_list = calloc(n_meta + 1, sizeof *b->prop_list);
    int rc = -1;
    if (!b->props || !b->prop_list) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate %zu metadata entries", n_meta);
        goto out;
    }
    build_graph(b, w);
    onnx__model_proto__init(&b->model);
    onnx__operator_set_id_proto__init(&b->opset);
    b->opset.domain = (char *)"";
    b->opset.has_version = 1;
    b->opset.version = 13;
    b->opsets[0] = &b->opset;
    b->model.has_ir_version = 1;
    b->model.ir_version = 7;
    b->model.n_opset_import = 1;
    b->model.opset_import = b->opsets;
    b->model.has_producer_name = b->model.has_producer_version = 1;
    b->model.producer_name = dws_bytes_of(producer ? producer : "dwsnet");
    b->model.producer_version = dws_bytes_of(DWS_VERSION);
    b->model.graph = &b->graph;
    for (size_t i = 0; i < n_meta; i++) {
        onnx__string_string_entry_proto__init(&b->props[i]);
        b->props[i].has_key = b->props[i].has_value = 1;
        b->props[i].key = dws_bytes_of(meta[i].key);
        b->props[i].value = dws_bytes_of(meta[i].value);
        b->prop_list[i] = &b->props[i];
    }
    b->model.n_metadata_props = n_meta;
    b->model.metadata_props = b->prop_list;

    size_t len = onnx__model_proto__get_packed_size(&b->model);
    *out = malloc(len);
    if (!*out) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate %zu bytes for the model", len);
    } else {
        *out_len = onnx__model_proto__pack(&b->model, *out);
        rc = 0;
    }
out:
    free(b->props);
    free(b->prop_list);
    free(b);
    return rc;
}
