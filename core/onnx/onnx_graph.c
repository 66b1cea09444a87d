/* The graph as a set of named tensors, each with one producer (a node, a graph
 * input or an initializer) and its consumers, so the recogniser can walk it. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

static const char *quoted(const char *s, char *buf, size_t cap)
{
    dws_safe_copy(buf, cap, s);
    return buf;
}

static int add_tensor(dws_graph *gr, const char *name, int producer, int init_index, dws_error *err)
{
    char q[96];
    if (dws_names_add(&gr->names, name, (int)gr->n_tensors) != 0) {
        dws_error_set(err, DWS_E_NOT_AN_MLP, "tensor '%s' is defined twice", quoted(name, q, sizeof q));
        return -1;
    }
    dws_graph_tensor *t = &gr->tensors[gr->n_tensors++];
    memset(t, 0, sizeof *t);
    t->name = name;
    t->producer = producer;
    t->init_index = init_index;
    return 0;
}

static int index_tensors(dws_graph *gr, dws_error *err)
{
    const Onnx__GraphProto *g = gr->g;
    char q[96], lab[160];
    for (size_t i = 0; i < g->n_initializer; i++) {
        const char *name = g->initializer[i]->name;
        if (!name || !name[0]) {
            dws_error_set(err, DWS_E_NOT_AN_MLP, "initializer #%zu has no name", i);
            return -1;
        }
        if (add_tensor(gr, name, DWS_FROM_INITIALIZER, (int)i, err) != 0) return -1;
    }
    for (size_t i = 0; i < g->n_input; i++) {
        const char *name = g->input[i]->name;
        if (!name || !name[0]) {
            dws_error_set(err, DWS_E_NOT_AN_MLP, "graph input #%zu has no name", i);
            return -1;
        }
        int k = dws_names_find(&gr->names, name);
        if (k >= 0 && gr->tensors[k].producer == DWS_FROM_INITIALIZER) continue;  /* IR 3 style */
        if (add_tensor(gr, name, DWS_FROM_INPUT, -1, err) != 0) return -1;
    }
    for (size_t n = 0; n < g->n_node; n++) {
        const Onnx__NodeProto *node = g->node[n];
        for (size_t o = 0; o < node->n_output; o++) {
            const char *name = node->output[o];
            if (!name[0]) continue;   /* an optional output left unnamed */
            if (dws_names_find(&gr->names, name) >= 0) {
                dws_error_set(err, DWS_E_NOT_AN_MLP, "tensor '%s' is produced twice (again by node %s)",
                              quoted(name, q, sizeof q), dws_node_label(node, (int)n, lab, sizeof lab));
                return -1;
            }
            if (add_tensor(gr, name, (int)n, -1, err) != 0) return -1;
        }
    }
    for (size_t i = 0; i < g->n_output; i++) {
        const char *name = g->output[i]->name ? g->output[i]->name : "";
        int k = dws_names_find(&gr->names, name);
        if (k < 0) {
            dws_error_set(err, DWS_E_NOT_AN_MLP, "missing tensor: graph output '%s' is not produced by anything",
                          quoted(name, q, sizeof q));
            return -1;
        }
        gr->tensors[k].is_output = 1;
    }
    return 0;
}

/* Counts then lists every tensor's consumers (a compressed adjacency list). */
static int index_consumers(dws_graph *gr, dws_error *err)
{
    const Onnx__GraphProto *g = gr->g;
    char q[96], lab[160];
    size_t total = 0;
    for (size_t n = 0; n < g->n_node; n++) {
        const Onnx__NodeProto *node = g->node[n];
        for (size_t i = 0; i < node->n_input; i++) {
            const char *name = node->input[i];
            if (!name[0]) continue;   /* an optional input left out */
            int k = dws_names_find(&gr->names, name);
            if (k < 0) {
                dws_error_set(err, DWS_E_NOT_AN_MLP,
                              "missing tensor: node %s reads '%s', which no node, input or initializer provides",
                              dws_node_label(node, (int)n, lab, sizeof lab), quoted(name, q, sizeof q));
                return -1;
            }
            gr->tensors[k].n_consumers++;
            total++;
        }
    }
    gr->consumers = malloc((total ? total : 1) * sizeof *gr->consumers);
    if (!gr->consumers) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot index %zu node inputs", total);
        return -1;
    }
    int at = 0;
    for (size_t k = 0; k < gr->n_tensors; k++) {
        gr->tensors[k].consumers_at = at;
        at += gr->tensors[k].n_consumers;
        gr->tensors[k].n_consumers = 0;   /* refilled below */
    }
    for (size_t n = 0; n < g->n_node; n++) {
        const Onnx__NodeProto *node = g->node[n];
        for (size_t i = 0; i < node->n_input; i++) {
            if (!node->input[i][0]) continue;
            dws_graph_tensor *t = &gr->tensors[dws_names_find(&gr->names, node->input[i])];
            gr->consumers[t->consumers_at + t->n_consumers++] = (int)n;
        }
    }
    return 0;
}

/* Kahn's algorithm: a node never freed of its producers lies on a cycle. */
static int check_acyclic(dws_graph *gr, dws_error *err)
{
    const Onnx__GraphProto *g = gr->g;
    int rc = -1;
    int *pending = calloc(g->n_node ? g->n_node : 1, sizeof *pending);
    int *ready = malloc((g->n_node ? g->n_node : 1) * sizeof *ready);
    if (!pending || !ready) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot sort %zu nodes", g->n_node);
        goto out;
    }
    size_t n_ready = 0, done = 0;
    for (size_t n = 0; n < g->n_node; n++) {
        const Onnx__NodeProto *node = g->node[n];
        for (size_t i = 0; i < node->n_input; i++)
            if (node->input[i][0] && dws_graph_find(gr, node->input[i])->producer >= 0) pending[n]++;
        if (pending[n] == 0) ready[n_ready++] = (int)n;
    }
    while (n_ready > 0) {
        const Onnx__NodeProto *node = g->node[ready[--n_ready]];
        done++;
        for (size_t o = 0; o < node->n_output; o++) {
            if (!node->output[o][0]) continue;
            const dws_graph_tensor *t = dws_graph_find(gr, node->output[o]);
            for (int c = 0; c < t->n_consumers; c++) {
                int m = gr->consumers[t->consumers_at + c];
                if (--pending[m] == 0) ready[n_ready++] = m;
            }
        }
    }
    if (done < g->n_node) {
        size_t n = 0;
        while (pending[n] == 0) n++;
        char lab[160];
        dws_error_set(err, DWS_E_NOT_AN_MLP, "the graph has a cycle through node %s",
                      dws_node_label(g->node[n], (int)n, lab, sizeof lab));
        goto out;
    }
    rc = 0;
out:
    free(pending);
    free(ready);
    return rc;
}

int dws_graph_init(dws_graph *gr, const Onnx__GraphProto *g, dws_error *err)
{
    memset(gr, 0, sizeof *gr);
    gr->g = g;
    size_t n_names = g->n_initializer + g->n_input;
    for (size_t n = 0; n < g->n_node; n++) n_names += g->node[n]->n_output;
    if (n_names > INT_MAX / 2 || g->n_node > INT_MAX / 2) {
        dws_error_set(err, DWS_E_TOO_LARGE, "the graph has %zu tensors", n_names);
        return -1;
    }
    if (dws_names_init(&gr->names, n_names, err) != 0) return -1;
    gr->tensors = malloc((n_names ? n_names : 1) * sizeof *gr->tensors);
    gr->used = calloc(g->n_node ? g->n_node : 1, 1);
    if (!gr->tensors || !gr->used) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot index %zu tensors", n_names);
        dws_graph_free(gr);
        return -1;
    }
    if (index_tensors(gr, err) != 0 || index_consumers(gr, err) != 0 || check_acyclic(gr, err) != 0) {
        dws_graph_free(gr);
        return -1;
    }
    return 0;
}

void dws_graph_free(dws_graph *gr)
{
    dws_names_free(&gr->names);
    free(gr->tensors);
    free(gr->consumers);
    free(gr->used);
    memset(gr, 0, sizeof *gr);
}

const dws_graph_tensor *dws_graph_find(const dws_graph *gr, const char *name)
{
    int k = dws_names_find(&gr->names, name);
    return k < 0 ? NULL : &gr->tensors[k];
}

/* The 'value' tensor of node p if it is a default-domain Constant with one output;
 * else NULL with err set (role and name say which input wanted it). */
static const Onnx__TensorProto *constant_value(const dws_graph *gr, int p, const char *role, const char *name,
                                               int *attr_index, dws_error *err)
{
    char q[96], lab[160];
    const Onnx__NodeProto *node = gr->g->node[p];
    if (strcmp(node->op_type ? node->op_type : "", "Constant") != 0 || !dws_onnx_default_domain(node->domain)) {
        dws_error_set(err, DWS_E_NOT_AN_MLP, "%s '%s' is computed by node %s, not a constant", role,
                      quoted(name, q, sizeof q), dws_node_label(node, p, lab, sizeof lab));
        return NULL;
    }
    if (node->n_output != 1) {   /* one tensor per node, so encode rewrites each once */
        dws_error_set(err, DWS_E_NOT_AN_MLP, "%s '%s': Constant node %s has %zu outputs", role,
                      quoted(name, q, sizeof q), dws_node_label(node, p, lab, sizeof lab), node->n_output);
        return NULL;
    }
    for (size_t a = 0; a < node->n_attribute; a++) {
        const Onnx__AttributeProto *attr = node->attribute[a];
        if (attr->name && !strcmp(attr->name, "value") && attr->t) {
            *attr_index = (int)a;
            return attr->t;
        }
    }
    dws_error_set(err, DWS_E_NOT_AN_MLP, "%s '%s': Constant node %s has no 'value' tensor", role,
                  quoted(name, q, sizeof q), dws_node_label(node, p, lab, sizeof lab));
    return NULL;
}

/* The tensor `name`, which must not be the graph input. */
static const dws_graph_tensor *constant_tensor(const dws_graph *gr, const char *name, const char *role, dws_error *err)
{
    char q[96];
    const dws_graph_tensor *t = name[0] ? dws_graph_find(gr, name) : NULL;
    if (!t) {
        dws_error_set(err, DWS_E_NOT_AN_MLP, "missing tensor: the %s '%s' is not defined", role, quoted(name, q, sizeof q));
        return NULL;
    }
    if (t->producer == DWS_FROM_INPUT) {
        dws_error_set(err, DWS_E_NOT_AN_MLP, "%s '%s' is a graph input, not a constant", role,
                      quoted(name, q, sizeof q));
        return NULL;
    }
    return t;
}

int dws_graph_constant(dws_graph *gr, const char *name, const char *role, dws_tensor_ref *ref,
                       dws_error *err)
{
    char q[96];
    memset(ref, 0, sizeof *ref);
    ref->init_index = ref->node_index = ref->attr_index = -1;
    ref->scale = 1.0;
    const dws_graph_tensor *t = constant_tensor(gr, name, role, err);
    if (!t) return -1;
    if (t->n_consumers != 1 || t->is_output) {
        dws_error_set(err, DWS_E_NOT_AN_MLP, "%s '%s' is also read elsewhere (%d readers%s)", role,
                      quoted(name, q, sizeof q), t->n_consumers, t->is_output ? " and a graph output" : "");
        return -1;
    }
    if (t->producer == DWS_FROM_INITIALIZER) {
        ref->tensor = gr->g->initializer[t->init_index];
        ref->init_index = t->init_index;
        return 0;
    }
    ref->tensor = constant_value(gr, t->producer, role, name, &ref->attr_index, err);
    if (!ref->tensor) return -1;
    ref->node_index = t->producer;
    gr->used[t->producer] = 1;
    return 0;
}

int dws_graph_shared_constant(dws_graph *gr, const char *name, const char *role, const Onnx__TensorProto **out,
                              dws_error *err)
{
    const dws_graph_tensor *t = constant_tensor(gr, name, role, err);
    if (!t) return -1;
    if (t->producer == DWS_FROM_INITIALIZER) {
        *out = gr->g->initializer[t->init_index];
        return 0;
    }
    int attr_index;
    *out = constant_value(gr, t->producer, role, name, &attr_index, err);
    if (!*out) return -1;
    gr->used[t->producer] = 1;
    return 0;
}
