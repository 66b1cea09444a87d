/* Encoding a nonzero bias into a layer the file stores without one (nn.Linear with
 * bias=False): a new initializer "<weight>.dwsnet_bias" of the weight's data type,
 * read as input C by a Gemm, or added by a new Add node right after a MatMul (the
 * MatMul's output is renamed and the Add writes the old name, so every reader and
 * the graph output stay as they were). Below IR version 4 every initializer must
 * also be a graph input, so the new one is listed there too. New names never clash
 * with any name in the graph. Nothing of the decoded model is modified: nodes that
 * change are copies, and the graph copy gets fresh node, initializer and input lists. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

#define MAX_NAME_TRIES 1000

typedef struct {
    int layer, node_index;
    Onnx__TensorProto tensor;
    void *data;
    int64_t dims[1];
    char *tensor_name;
    Onnx__NodeProto layer_node;    /* copy of the Gemm or MatMul */
    char **layer_io;               /* the copy's inputs (Gemm) or outputs (MatMul) */
    char *matmul_out;              /* the MatMul's new output name */
    Onnx__NodeProto add;
    char *add_name, *add_in[2], *add_out[1];
    /* The graph input that IR 3 needs for the new initializer. */
    Onnx__ValueInfoProto input;
    Onnx__TypeProto type;
    Onnx__TypeProto__Tensor tensor_type;
    Onnx__TensorShapeProto shape;
    Onnx__TensorShapeProto__Dimension dim, *dim_list[1];
} added_bias;

struct dws_bias_patch {
    int n;
    added_bias items[DWS_MAX_LAYERS];
    Onnx__NodeProto **nodes;
    Onnx__TensorProto **inits;
    Onnx__ValueInfoProto **inputs;
    char *record;
    size_t record_len;
    ProtobufCBinaryData record_bytes;
};

void dws_bias_patch_free(dws_bias_patch *p)
{
    if (!p) return;
    for (int i = 0; i < p->n; i++) {
        added_bias *a = &p->items[i];
        free(a->data);
        free(a->tensor_name);
        free(a->layer_io);
        free(a->matmul_out);
        free(a->add_name);
    }
    free(p->nodes);
    free(p->inits);
    free(p->inputs);
    free(p->record);
    free(p);
}

static int same(const char *a, const char *b)
{
    return a && !strcmp(a, b);
}

static int name_taken(const Onnx__GraphProto *g, const dws_bias_patch *p, const char *s)
{
    for (size_t i = 0; i < g->n_initializer; i++) if (same(g->initializer[i]->name, s)) return 1;
    for (size_t i = 0; i < g->n_input; i++) if (same(g->input[i]->name, s)) return 1;
    for (size_t i = 0; i < g->n_output; i++) if (same(g->output[i]->name, s)) return 1;
    for (size_t i = 0; i < g->n_value_info; i++) if (same(g->value_info[i]->name, s)) return 1;
    for (size_t i = 0; i < g->n_node; i++) {
        if (same(g->node[i]->name, s)) return 1;
        for (size_t o = 0; o < g->node[i]->n_output; o++) if (same(g->node[i]->output[o], s)) return 1;
    }
    for (int i = 0; i < p->n; i++) {
        const added_bias *a = &p->items[i];
        if (same(a->tensor_name, s) || same(a->matmul_out, s) || same(a->add_name, s)) return 1;
    }
    return 0;
}

/* base + suffix, or base + suffix + "_K" for the first K that no name in the graph
 * (or already added) uses. malloc'd. */
static char *unique_name(const Onnx__GraphProto *g, const dws_bias_patch *p, const char *base, const char *suffix,
                         dws_error *err)
{
    size_t cap = strlen(base) + strlen(suffix) + 16;
    char *s = malloc(cap);
    if (!s) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate a tensor name");
        return NULL;
    }
    for (int k = 0; k < MAX_NAME_TRIES; k++) {
        if (k == 0) snprintf(s, cap, "%s%s", base, suffix);
        else snprintf(s, cap, "%s%s_%d", base, suffix, k);
        if (!name_taken(g, p, s)) return s;
    }
    free(s);
    dws_error_set(err, DWS_E_INVALID_ARGUMENT, "no free name for a new tensor '%s%s'", base, suffix);
    return NULL;
}

static int any_nonzero(const float *b, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (b[i] != 0.f) return 1;
    return 0;
}

static void set_input(added_bias *a)
{
    onnx__value_info_proto__init(&a->input);
    onnx__type_proto__init(&a->type);
    onnx__type_proto__tensor__init(&a->tensor_type);
    onnx__tensor_shape_proto__init(&a->shape);
    onnx__tensor_shape_proto__dimension__init(&a->dim);
    a->dim.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    a->dim.dim_value = a->dims[0];
    a->dim_list[0] = &a->dim;
    a->shape.n_dim = 1;
    a->shape.dim = a->dim_list;
    a->tensor_type.has_elem_type = 1;
    a->tensor_type.elem_type = a->tensor.data_type;
    a->tensor_type.shape = &a->shape;
    a->type.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    a->type.tensor_type = &a->tensor_type;
    a->input.name = a->tensor_name;
    a->input.type = &a->type;
}

/* The name of the tensor that stores layer l's weight numbers. */
static const char *weight_tensor_name(const Onnx__GraphProto *g, const dws_tensor_ref *r)
{
    return r->init_index >= 0 ? g->initializer[r->init_index]->name : g->node[r->node_index]->output[0];
}

/* Makes item p->items[p->n] for layer l: the tensor, and the copied or new nodes. */
static int plan_layer(dws_bias_patch *p, const dws_onnx *m, const dws_mlp *w, int l, dws_error *err)
{
    const Onnx__GraphProto *g = m->model->graph;
    const dws_tensor_ref *wr = &m->layout.weight[l];
    const Onnx__NodeProto *node = g->node[m->layout.node[l]];
    added_bias *a = &p->items[p->n];
    a->layer = l;
    a->node_index = m->layout.node[l];
    a->dims[0] = w->widths[l + 1];
    a->tensor_name = unique_name(g, p, weight_tensor_name(g, wr), ".dwsnet_bias", err);
    if (!a->tensor_name) return -1;
    p->n++;   /* from here on dws_bias_patch_free releases what a holds */
    if (dws_tensor_create(a->tensor_name, wr->tensor->data_type, 1, a->dims, w->b[l], (size_t)a->dims[0],
                          m->layout.bias[l].scale, &a->tensor, &a->data, err) != 0)
        return -1;
    set_input(a);
    a->layer_node = *node;
    int gemm = !strcmp(m->info.layer_op[l], "Gemm");
    a->layer_io = malloc(3 * sizeof *a->layer_io);
    if (!a->layer_io) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot copy a layer node");
        return -1;
    }
    if (gemm) {   /* C = the new tensor */
        a->layer_io[0] = node->input[0];
        a->layer_io[1] = node->input[1];
        a->layer_io[2] = a->tensor_name;
        a->layer_node.n_input = 3;
        a->layer_node.input = a->layer_io;
        return 0;
    }
    a->matmul_out = unique_name(g, p, node->output[0], ".dwsnet_matmul", err);
    a->add_name = a->matmul_out ? unique_name(g, p, node->name && node->name[0] ? node->name : a->tensor_name,
                                              ".dwsnet_bias_add", err) : NULL;
    if (!a->add_name) return -1;
    a->layer_io[0] = a->matmul_out;
    a->layer_node.n_output = 1;
    a->layer_node.output = a->layer_io;
    onnx__node_proto__init(&a->add);
    a->add.name = a->add_name;
    a->add.op_type = (char *)"Add";
    a->add_in[0] = a->matmul_out;
    a->add_in[1] = a->tensor_name;
    a->add_out[0] = node->output[0];
    a->add.n_input = 2;
    a->add.input = a->add_in;
    a->add.n_output = 1;
    a->add.output = a->add_out;
    return 0;
}

/* Appends "layer L: bias 'T' (how)" entries to the record, after any earlier one. */
static int make_record(dws_bias_patch *p, const dws_onnx *m, dws_error *err)
{
    const Onnx__GraphProto *g = m->model->graph;
    const ProtobufCBinaryData *earlier = NULL;
    for (size_t i = 0; i < m->model->n_metadata_props; i++)
        if (dws_bytes_is(&m->model->metadata_props[i]->key, DWS_ONNX_ADDED_BIAS_KEY))
            earlier = &m->model->metadata_props[i]->value;
    size_t cap = earlier ? earlier->len + 2 : 1;
    for (int i = 0; i < p->n; i++) {
        const added_bias *a = &p->items[i];
        const char *layer_name = g->node[m->layout.node[a->layer]]->name;
        cap += strlen(a->tensor_name) + (layer_name ? strlen(layer_name) : 0) + (a->add_name ? strlen(a->add_name) : 0) + 96;
    }
    char *s = p->record = malloc(cap);
    if (!s) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate the metadata record");
        return -1;
    }
    /* The record is ours (an earlier run's), but kept byte for byte whatever it holds. */
    size_t at = earlier ? earlier->len : 0;
    if (at) memcpy(s, earlier->data, at);
    s[at] = '\0';
    for (int i = 0; i < p->n; i++) {
        const added_bias *a = &p->items[i];
        const char *layer_name = g->node[m->layout.node[a->layer]]->name;
        at += (size_t)snprintf(s + at, cap - at, "%slayer %d: bias '%s' ", at ? "; " : "", a->layer + 1, a->tensor_name);
        if (a->add_name)
            at += (size_t)snprintf(s + at, cap - at, "added by Add node '%s' after MatMul '%s'", a->add_name,
                                   layer_name ? layer_name : "");
        else
            at += (size_t)snprintf(s + at, cap - at, "as input C of Gemm '%s'", layer_name ? layer_name : "");
    }
    p->record_len = at;
    return 0;
}

/* graph's node, initializer and input lists extended by the patch's items. */
static int splice(dws_bias_patch *p, Onnx__GraphProto *graph, int with_inputs, dws_error *err)
{
    size_t n_nodes = graph->n_node, n_adds = 0;
    for (int i = 0; i < p->n; i++) n_adds += p->items[i].add_name != NULL;
    p->nodes = malloc((n_nodes + n_adds + 1) * sizeof *p->nodes);
    p->inits = malloc((graph->n_initializer + (size_t)p->n + 1) * sizeof *p->inits);
    p->inputs = malloc((graph->n_input + (size_t)p->n + 1) * sizeof *p->inputs);
    if (!p->nodes || !p->inits || !p->inputs) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot extend the graph");
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < n_nodes; i++) {
        const added_bias *a = NULL;   /* graph->node still has the decoded model's indices */
        for (int j = 0; j < p->n; j++)
            if (p->items[j].node_index == (int)i) a = &p->items[j];
        p->nodes[k++] = a ? (Onnx__NodeProto *)&a->layer_node : graph->node[i];
        if (a && a->add_name) p->nodes[k++] = (Onnx__NodeProto *)&a->add;
    }
    graph->node = p->nodes;
    graph->n_node = k;
    if (graph->n_initializer) memcpy(p->inits, graph->initializer, graph->n_initializer * sizeof *p->inits);
    if (graph->n_input) memcpy(p->inputs, graph->input, graph->n_input * sizeof *p->inputs);
    for (int i = 0; i < p->n; i++) {
        p->inits[graph->n_initializer++] = &p->items[i].tensor;
        if (with_inputs) p->inputs[graph->n_input++] = &p->items[i].input;
    }
    graph->initializer = p->inits;
    graph->input = p->inputs;
    return 0;
}

int dws_bias_patch_apply(const dws_onnx *m, const dws_mlp *w, Onnx__GraphProto *graph, dws_bias_patch **patch,
                         const ProtobufCBinaryData **record, dws_error *err)
{
    *patch = NULL;
    *record = NULL;
    int needed = 0;
    for (int l = 0; l < w->n_layers; l++)
        needed += !m->layout.bias[l].tensor && any_nonzero(w->b[l], w->widths[l + 1]);
    if (!needed) return 0;
    dws_bias_patch *p = calloc(1, sizeof *p);
    if (!p) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate the bias patch");
        return -1;
    }
    *patch = p;
    for (int l = 0; l < w->n_layers; l++)
        if (!m->layout.bias[l].tensor && any_nonzero(w->b[l], w->widths[l + 1]) && plan_layer(p, m, w, l, err) != 0)
            return -1;
    if (make_record(p, m, err) != 0 || splice(p, graph, m->model->ir_version < 4, err) != 0) return -1;
    p->record_bytes = (ProtobufCBinaryData){p->record_len, (uint8_t *)p->record};
    *record = &p->record_bytes;
    return 0;
}
