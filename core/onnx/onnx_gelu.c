/* GELU spelt out, as torch.onnx.export writes nn.GELU() at opsets below 20 (which
 * have no Gelu operator):
 *   d = Div(x, sqrt 2); e = Erf(d); a = Add(e, 1); m = Mul(x, a); y = Mul(m, 0.5)
 * (constant operands of Add and the Muls in either order). Read as one exact-GELU
 * activation; the nodes stay in the graph as they are. */
#include <math.h>
#include <string.h>

#include "onnx_walk.h"

static int is_op(const dws_walker *w, int ni, const char *op)
{
    const Onnx__NodeProto *n = w->g->node[ni];
    return dws_onnx_default_domain(n->domain) && n->op_type && !strcmp(n->op_type, op) && n->n_output == 1 &&
           n->output[0][0];
}

/* The one reader of node ni's output, or -1. */
static int only_reader(const dws_walker *w, int ni)
{
    const dws_graph_tensor *t = dws_graph_find(&w->gr, w->g->node[ni]->output[0]);
    return t && t->n_consumers == 1 && !t->is_output ? w->gr.consumers[t->consumers_at] : -1;
}

/* Node ni has two inputs, one of them `data`; the other is a scalar constant close
 * to want. 1: yes; 0: no; -1: error reading it. */
static int scalar_operand(dws_walker *w, int ni, const char *data, int data_first_only, double want,
                          dws_error *err)
{
    const Onnx__NodeProto *n = w->g->node[ni];
    if (n->n_input != 2) return 0;
    int k = !strcmp(n->input[0], data) ? 1 : !data_first_only && !strcmp(n->input[1], data) ? 0 : -1;
    if (k < 0 || !strcmp(n->input[k], data)) return 0;
    const dws_graph_tensor *t = dws_graph_find(&w->gr, n->input[k]);
    if (!t || t->n_consumers != 1) return 0;
    if (t->producer >= 0) {
        dws_activation unused;
        if (dws_op_classify(w->g->node[t->producer], &unused) != OP_CONSTANT) return 0;
    } else if (t->producer != DWS_FROM_INITIALIZER) {
        return 0;
    }
    dws_tensor_ref ref;
    if (dws_graph_constant(&w->gr, n->input[k], "GELU constant", &ref, err) != 0) return -1;
    int64_t count = 1;
    for (size_t d = 0; d < ref.tensor->n_dims; d++) count *= ref.tensor->dims[d];
    if (count != 1 || dws_tensor_check_data(ref.tensor, 1, "GELU constant", err) != 0) return count != 1 ? 0 : -1;
    ref.scale = 1.0, ref.transposed = 0, ref.rows = 1, ref.cols = 1;
    float v;
    dws_tensor_read(&ref, &v);
    return fabs((double)v - want) <= 1e-5 * fabs(want);
}

int dws_walk_gelu_pattern(dws_walker *w, const dws_graph_tensor *cur, const dws_graph_tensor **out, dws_error *err)
{
    if (cur->n_consumers != 2 || cur->is_output) return 0;
    int c0 = w->gr.consumers[cur->consumers_at], c1 = w->gr.consumers[cur->consumers_at + 1];
    int div = is_op(w, c0, "Div") ? c0 : c1, mul = div == c0 ? c1 : c0;
    if (!is_op(w, div, "Div") || !is_op(w, mul, "Mul") || w->gr.used[div] || w->gr.used[mul]) return 0;
    int erf = only_reader(w, div);
    if (erf < 0 || !is_op(w, erf, "Erf") || w->g->node[erf]->n_input != 1) return 0;
    int add = only_reader(w, erf);
    if (add < 0 || !is_op(w, add, "Add") || only_reader(w, add) != mul) return 0;
    const Onnx__NodeProto *m = w->g->node[mul];
    const char *a_out = w->g->node[add]->output[0];
    if (m->n_input != 2 || !((!strcmp(m->input[0], cur->name) && !strcmp(m->input[1], a_out)) ||
                             (!strcmp(m->input[1], cur->name) && !strcmp(m->input[0], a_out))))
        return 0;
    int half = only_reader(w, mul);
    if (half < 0 || !is_op(w, half, "Mul")) return 0;
    int r;
    if ((r = scalar_operand(w, div, cur->name, 1, sqrt(2.0), err)) <= 0 ||
        (r = scalar_operand(w, add, w->g->node[erf]->output[0], 0, 1.0, err)) <= 0 ||
        (r = scalar_operand(w, half, m->output[0], 0, 0.5, err)) <= 0)
        return r;
    w->gr.used[div] = w->gr.used[erf] = w->gr.used[add] = w->gr.used[mul] = w->gr.used[half] = 1;
    *out = dws_graph_find(&w->gr, w->g->node[half]->output[0]);
    return 1;
}
