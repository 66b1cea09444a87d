/* Rules of the ONNX specification for the parts of a model the decoder reads and
 * the encoder writes back, checked before the MLP is recognised so that what
 * breaks them is refused (invalid_model, naming the rule) rather than returned
 * as invalid as it came: the IR version, metadata keys, the graph's name, inputs
 * and outputs (named, typed, unique), initializer names (unique across dense and
 * sparse) and types, single assignment and topological order of the nodes, the
 * domains they use, and their attributes (onnx_attr_rules.c). What onnx.checker
 * rejects in these parts, this refuses. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "onnx_walk.h"

__attribute__((format(printf, 2, 3)))
static int broken(dws_error *err, const char *fmt, ...)
{
    char why[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    dws_error_set(err, DWS_E_INVALID_MODEL, "%s", why);
    return -1;
}

/* A name from the file, printable, for messages. */
static const char *q(const char *s, char *buf, size_t cap)
{
    dws_safe_copy(buf, cap, s ? s : "");
    return buf;
}

static int check_model(const Onnx__ModelProto *m, dws_error *err)
{
    char a[96];
    if (m->ir_version > DWS_ONNX_MAX_IR_VERSION)
        return broken(err, "ir_version %lld is newer than any ONNX IR version (the latest is %d)",
                      (long long)m->ir_version, DWS_ONNX_MAX_IR_VERSION);
    for (size_t i = 0; i < m->n_metadata_props; i++)
        for (size_t j = 0; j < i; j++) {
            const ProtobufCBinaryData *x = &m->metadata_props[i]->key, *y = &m->metadata_props[j]->key;
            if (x->len == y->len && (!x->len || !memcmp(x->data, y->data, x->len)))
                return broken(err, "metadata_props has the key '%s' twice (keys are unique)",
                              (dws_safe_copy_bytes(a, sizeof a, x), a));
        }
    const Onnx__GraphProto *g = m->graph;
    if (!g->name || !g->name[0]) return broken(err, "the graph has no name (a graph's name is required)");
    return 0;
}

/* Graph inputs and outputs: a name and a full tensor type (the checker's
 * check_value_info for the main graph). */
static int check_value_infos(Onnx__ValueInfoProto *const *list, size_t n, const char *what, dws_error *err)
{
    char a[96];
    for (size_t i = 0; i < n; i++) {
        const Onnx__ValueInfoProto *v = list[i];
        if (!v->name || !v->name[0]) return broken(err, "graph %s %zu has no name", what, i);
        q(v->name, a, sizeof a);
        if (!v->type) return broken(err, "graph %s '%s' has no type (required for a graph's %ss)", what, a, what);
        if (v->type->value_case == ONNX__TYPE_PROTO__VALUE__NOT_SET)
            return broken(err, "graph %s '%s' has a type with no kind (tensor, sequence, ...)", what, a);
        if (v->type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE &&
            (!v->type->tensor_type->has_elem_type || !v->type->tensor_type->shape))
            return broken(err, "graph %s '%s': a tensor type needs an elem_type and a shape", what, a);
    }
    return 0;
}

/* Initializer names unique across dense and sparse, each typed; IR version 3 lists
 * every initializer as a graph input too. Adds them to `defined` (an initializer
 * may share the name of the graph input it gives a default). */
static int check_initializers(const Onnx__GraphProto *g, int64_t ir_version, dws_name_table *defined,
                              dws_error *err)
{
    char a[96];
    dws_name_table inits;
    if (dws_names_init(&inits, g->n_initializer + g->n_sparse_initializer, err) != 0) return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < g->n_initializer + g->n_sparse_initializer; i++) {
        int sparse = i >= g->n_initializer;
        const Onnx__TensorProto *t = sparse ? g->sparse_initializer[i - g->n_initializer]->values : g->initializer[i];
        const char *kind = sparse ? "sparse initializer" : "initializer";
        if (!t || !t->name || !t->name[0]) rc = broken(err, "%s %zu has no name", kind, i);
        else if (!t->has_data_type || t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__UNDEFINED)
            rc = broken(err, "%s '%s' has no data type", kind, q(t->name, a, sizeof a));
        else if (dws_names_add(&inits, t->name, 0) != 0)
            rc = broken(err, "%s '%s' has the name of another initializer (unique across dense and sparse)", kind,
                        q(t->name, a, sizeof a));
        else if (dws_names_find(defined, t->name) < 0 && ir_version < 4 && !sparse)
            rc = broken(err, "initializer '%s' is not a graph input (IR version 3 lists every initializer as one)",
                        q(t->name, a, sizeof a));
        else if (dws_names_find(defined, t->name) < 0)
            dws_names_add(defined, t->name, 1);
    }
    dws_names_free(&inits);
    return rc;
}

/* 1 when a node after node i writes name. */
static int made_later(const Onnx__GraphProto *g, size_t i, const char *name)
{
    for (size_t j = i; j < g->n_node; j++)
        for (size_t k = 0; k < g->node[j]->n_output; k++)
            if (!strcmp(g->node[j]->output[k], name)) return 1;
    return 0;
}

/* Every name assigned once (graph inputs, initializers, node outputs), and every
 * node input assigned by an earlier one of those: nodes are topologically sorted. */
static int check_names(const Onnx__GraphProto *g, int64_t ir_version, dws_error *err)
{
    char a[96], lab[160];
    size_t total = g->n_input + g->n_initializer + g->n_sparse_initializer;
    for (size_t i = 0; i < g->n_node; i++) total += g->node[i]->n_output;
    dws_name_table defined;
    if (dws_names_init(&defined, total, err) != 0) return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < g->n_input; i++)
        if (dws_names_add(&defined, g->input[i]->name, 0) != 0)
            rc = broken(err, "graph input '%s' is listed twice (names are assigned once)",
                        q(g->input[i]->name, a, sizeof a));
    if (rc == 0) rc = check_initializers(g, ir_version, &defined, err);
    for (size_t i = 0; rc == 0 && i < g->n_node; i++) {
        const Onnx__NodeProto *n = g->node[i];
        for (size_t k = 0; rc == 0 && k < n->n_input; k++)
            if (n->input[k][0] && dws_names_find(&defined, n->input[k]) < 0)
                rc = broken(err, made_later(g, i, n->input[k])
                                     ? "node %s reads '%s' before the node that makes it (nodes are topologically sorted)"
                                     : "node %s reads '%s', which no input, initializer or node defines",
                            dws_node_label(n, (int)i, lab, sizeof lab), q(n->input[k], a, sizeof a));
        for (size_t k = 0; rc == 0 && k < n->n_output; k++)
            if (n->output[k][0] && dws_names_add(&defined, n->output[k], 2) != 0)
                rc = broken(err, "node %s writes '%s', which is already defined (single static assignment)",
                            dws_node_label(n, (int)i, lab, sizeof lab), q(n->output[k], a, sizeof a));
    }
    dws_names_free(&defined);
    return rc;
}

/* A node's domain must be one the model imports an opset of. */
static int check_domains(const Onnx__ModelProto *m, dws_error *err)
{
    char a[64], lab[160];
    const Onnx__GraphProto *g = m->graph;
    for (size_t i = 0; i < g->n_node; i++) {
        const char *d = g->node[i]->domain;
        if (dws_onnx_default_domain(d)) continue;
        size_t k = 0;
        while (k < m->n_opset_import && !(m->opset_import[k]->domain && !strcmp(m->opset_import[k]->domain, d))) k++;
        if (k == m->n_opset_import)
            return broken(err, "node %s uses domain '%s', which the model imports no opset of",
                          dws_node_label(g->node[i], (int)i, lab, sizeof lab), q(d, a, sizeof a));
    }
    return 0;
}

int dws_onnx_check_rules(const Onnx__ModelProto *m, int64_t opset, dws_error *err)
{
    const Onnx__GraphProto *g = m->graph;
    if (check_model(m, err) != 0 || check_value_infos(g->input, g->n_input, "input", err) != 0 ||
        check_value_infos(g->output, g->n_output, "output", err) != 0 || check_names(g, m->ir_version, err) != 0 ||
        check_domains(m, err) != 0 || dws_onnx_check_attributes(g, opset, err) != 0)
        return -1;
    return 0;
}
