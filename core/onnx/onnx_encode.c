/* Encoding: the decoded ModelProto serialized again with new weights. Nothing in
 * the decoded model is modified (several threads may encode from one model): the
 * changed tensors, and the few messages on the path to them, are shallow copies
 * that share everything else with the original. */
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

typedef struct {
    Onnx__TensorProto tensors[2 * DWS_MAX_LAYERS];
    void *data[2 * DWS_MAX_LAYERS];
    Onnx__NodeProto nodes[2 * DWS_MAX_LAYERS];             /* copies of Constant nodes */
    Onnx__AttributeProto attrs[2 * DWS_MAX_LAYERS];        /* their 'value' attribute */
    Onnx__AttributeProto **attr_lists[2 * DWS_MAX_LAYERS];
    Onnx__TensorProto **initializers;
    Onnx__NodeProto **node_list;
    Onnx__StringStringEntryProto **props;
    Onnx__StringStringEntryProto *new_props;
    dws_bias_patch *patch;
    Onnx__GraphProto graph;
    Onnx__ModelProto model;
} overlay;

static void overlay_free(overlay *o)
{
    for (int i = 0; i < 2 * DWS_MAX_LAYERS; i++) {
        free(o->data[i]);
        free(o->attr_lists[i]);
    }
    free(o->initializers);
    free(o->node_list);
    free(o->props);
    free(o->new_props);
    dws_bias_patch_free(o->patch);
    free(o);
}

/* Points the graph copy's reference to r's tensor at the rewritten tensor k. */
static int place_tensor(overlay *o, const Onnx__GraphProto *g, const dws_tensor_ref *r, int k, dws_error *err)
{
    if (r->init_index >= 0) {
        o->initializers[r->init_index] = &o->tensors[k];
        return 0;
    }
    const Onnx__NodeProto *node = g->node[r->node_index];
    o->nodes[k] = *node;
    o->attrs[k] = *node->attribute[r->attr_index];
    o->attrs[k].t = &o->tensors[k];
    o->attr_lists[k] = malloc(node->n_attribute * sizeof *o->attr_lists[k]);
    if (!o->attr_lists[k]) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot copy a Constant node");
        return -1;
    }
    memcpy(o->attr_lists[k], node->attribute, node->n_attribute * sizeof *o->attr_lists[k]);
    o->attr_lists[k][r->attr_index] = &o->attrs[k];
    o->nodes[k].attribute = o->attr_lists[k];
    o->node_list[r->node_index] = &o->nodes[k];
    return 0;
}

/* metadata_props: the originals, with meta's keys (and the record of added biases,
 * if any) replaced in place or appended. */
static int set_metadata(overlay *o, const Onnx__ModelProto *src, const dws_kv *meta, size_t n_meta,
                        const ProtobufCBinaryData *added, dws_error *err)
{
    size_t n = src->n_metadata_props, n_new = n_meta + (added != NULL);
    o->props = malloc((n + n_new + 1) * sizeof *o->props);
    o->new_props = malloc((n_new + 1) * sizeof *o->new_props);
    if (!o->props || !o->new_props) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot copy metadata_props");
        return -1;
    }
    if (n) memcpy(o->props, src->metadata_props, n * sizeof *o->props);
    for (size_t i = 0; i < n_new; i++) {
        Onnx__StringStringEntryProto *e = &o->new_props[i];
        onnx__string_string_entry_proto__init(e);
        const char *key = i < n_meta ? meta[i].key : DWS_ONNX_ADDED_BIAS_KEY;
        e->has_key = e->has_value = 1;
        e->key = dws_bytes_of(key);
        e->value = i < n_meta ? dws_bytes_of(meta[i].value) : *added;
        size_t at = 0;
        while (at < n && !dws_bytes_is(&o->props[at]->key, key)) at++;
        if (at == n) n++;
        o->props[at] = e;
    }
    o->model.metadata_props = o->props;
    o->model.n_metadata_props = n;
    return 0;
}

static int build_overlay(overlay *o, const dws_onnx *m, const dws_mlp *w, const dws_kv *meta, size_t n_meta,
                         dws_error *err)
{
    const Onnx__GraphProto *g = m->model->graph;
    o->model = *m->model;
    o->graph = *g;
    o->model.graph = &o->graph;
    o->initializers = malloc((g->n_initializer + 1) * sizeof *o->initializers);
    o->node_list = malloc((g->n_node + 1) * sizeof *o->node_list);
    if (!o->initializers || !o->node_list) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot copy the graph");
        return -1;
    }
    if (g->n_initializer) memcpy(o->initializers, g->initializer, g->n_initializer * sizeof *o->initializers);
    if (g->n_node) memcpy(o->node_list, g->node, g->n_node * sizeof *o->node_list);
    o->graph.initializer = o->initializers;
    o->graph.node = o->node_list;

    const dws_mlp *prev = &m->weights;
    for (int l = 0; l < prev->n_layers; l++) {
        for (int part = 0; part < 2; part++) {
            int k = 2 * l + part;
            const dws_tensor_ref *r = part ? &m->layout.bias[l] : &m->layout.weight[l];
            if (!r->tensor) continue;   /* no stored bias: see dws_bias_patch_apply */
            const float *before = part ? prev->b[l] : prev->W[l], *after = part ? w->b[l] : w->W[l];
            if (dws_tensor_rewrite(r, before, after, &o->tensors[k], &o->data[k], err) != 0 ||
                place_tensor(o, g, r, k, err) != 0)
                return -1;
        }
    }
    const ProtobufCBinaryData *added;
    if (dws_bias_patch_apply(m, w, &o->graph, &o->patch, &added, err) != 0) return -1;
    return set_metadata(o, m->model, meta, n_meta, added, err);
}

/* Bytes of tensor t's numbers in the field it stores them in. */
static size_t data_bytes(const Onnx__TensorProto *t)
{
    if (t->has_raw_data && t->raw_data.len) return t->raw_data.len;
    return t->n_float_data * 4 + t->n_double_data * 8 + t->n_int32_data * 4;
}

size_t dws_onnx_encode_bytes(const dws_onnx *m)
{
    const Onnx__GraphProto *g = m->model->graph;
    size_t copies = sizeof(overlay) + (g->n_initializer + g->n_node + m->model->n_metadata_props + 8) * 3 * sizeof(void *);
    size_t grown = 0, biases = 0;
    for (int l = 0; l < m->layout.n_layers; l++) {
        for (int part = 0; part < 2; part++) {
            const dws_tensor_ref *r = part ? &m->layout.bias[l] : &m->layout.weight[l];
            if (r->tensor) {
                copies += data_bytes(r->tensor) + 64 * sizeof(void *);
                /* A FLOAT16 in int32_data is a varint: 1 byte for 0, up to 3 once changed. */
                grown += 2 * r->tensor->n_int32_data;
            } else if (!part) {
                continue;
            } else {
                biases += 2 * 8 * (size_t)m->layout.widths[l + 1] + 4096;   /* data and output, DOUBLE at most */
            }
        }
    }
    /* The output: the input's size, grown as above, plus biases and metadata. */
    size_t out = onnx__model_proto__get_packed_size(m->model) + grown + 65536;
    return copies + biases + out;
}

int dws_onnx_encode(const dws_onnx *m, const dws_mlp *w, const dws_kv *meta, size_t n_meta,
                    uint8_t **out, size_t *out_len, dws_error *err)
{
    *out = NULL;
    *out_len = 0;
    if (!w->params || !dws_mlp_same_shape(w, &m->weights)) {
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "the new weights do not have the decoded model's widths");
        return -1;
    }
    for (size_t i = 0; i < n_meta; i++) {
        if (!meta[i].key || !meta[i].value) {
            dws_error_set(err, DWS_E_INVALID_ARGUMENT, "metadata entry %zu has no key or value", i);
            return -1;
        }
    }
    overlay *o = calloc(1, sizeof *o);
    if (!o) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate the encoder state");
        return -1;
    }
    int rc = -1;
    if (build_overlay(o, m, w, meta, n_meta, err) == 0) {
        size_t len = onnx__model_proto__get_packed_size(&o->model);
        *out = malloc(len ? len : 1);
        if (!*out) {
            dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate %zu bytes for the model", len);
        } else {
            *out_len = onnx__model_proto__pack(&o->model, *out);
            rc = 0;
        }
    }
    overlay_free(o);
    return rc;
}
