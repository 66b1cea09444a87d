/* Activations spelt out with several nodes, as torch.onnx.export writes them when
 * the opset has no single operator (the nodes stay in the graph as they are):
 *   GELU (opsets < 20):  d = Div(x, sqrt 2); e = Erf(d); a = Add(e, 1); m = Mul(x, a); y = Mul(m, 0.5)
 *   GELU, tanh approximation:  c = Mul(x, Mul(x, x)); i = Mul(sqrt(2/pi), Add(x, Mul(0.044715, c)));
 *                              y = Mul(0.5, Mul(x, Add(1, Tanh(i))))
 *   SiLU:  y = Mul(x, Sigmoid(x))
 * Commutative operands in either order. */
#include <math.h>
#include <string.h>

#include "onnx_walk.h"

static int is_op(const dws_walker *w, int ni, const char *op)
{
    if (ni < 0 || w->gr.used[ni]) return 0;
    const Onnx__NodeProto *n = w->g->node[ni];
    return dws_onnx_default_domain(n->domain) && n->op_type && !strcmp(n->op_type, op) && n->n_output == 1 &&
           n->output[0][0];
}

static const char *out_of(const dws_walker *w, int ni)
{
    return w->g->node[ni]->output[0];
}

/* The one reader of node ni's output if it is an `op` node, else -1. */
static int next_op(const dws_walker *w, int ni, const char *op)
{
    const dws_graph_tensor *t = dws_graph_find(&w->gr, out_of(w, ni));
    int r = t && t->n_consumers == 1 && !t->is_output ? w->gr.consumers[t->consumers_at] : -1;
    return r >= 0 && is_op(w, r, op) ? r : -1;
}

/* Node ni's operand other than `name` (it has two inputs, one of them name), or NULL. */
static const char *other(const dws_walker *w, int ni, const char *name)
{
    const Onnx__NodeProto *n = w->g->node[ni];
    if (n->n_input != 2) return NULL;
    if (!strcmp(n->input[0], name)) return n->input[1];
    if (!strcmp(n->input[1], name)) return n->input[0];
    return NULL;
}

/* Whether `name` is a scalar constant within 1e-5 relative of want: 1 yes, 0 no, -1 error. */
static int const_near(dws_walker *w, const char *name, double want, dws_error *err)
{
    const dws_graph_tensor *t = name ? dws_graph_find(&w->gr, name) : NULL;
    if (!t || t->n_consumers != 1) return 0;
    dws_activation unused;
    if (t->producer >= 0 ? dws_op_classify(w->g->node[t->producer], &unused) != OP_CONSTANT
                         : t->producer != DWS_FROM_INITIALIZER)
        return 0;
    dws_tensor_ref ref;
    if (dws_graph_constant(&w->gr, name, "activation constant", &ref, err) != 0) return -1;
    int64_t count = 1;
    for (size_t d = 0; d < ref.tensor->n_dims; d++) count *= ref.tensor->dims[d];
    if (count != 1) return 0;
    if (dws_tensor_check_data(ref.tensor, 1, "activation constant", err) != 0) return -1;
    ref.scale = 1.0, ref.transposed = 0, ref.rows = 1, ref.cols = 1;
    float v;
    dws_tensor_read(&ref, &v);
    return fabs((double)v - want) <= 1e-5 * fabs(want);
}

/* Node ni = op(x-ish `data`, scalar constant near want), operands in either order. */
static int with_const(dws_walker *w, int ni, const char *data, double want, dws_error *err)
{
    const char *k = ni >= 0 ? other(w, ni, data) : NULL;
    return k && strcmp(k, data) ? const_near(w, k, want, err) : 0;
}

static int consumer(const dws_walker *w, const dws_graph_tensor *x, int i)
{
    return w->gr.consumers[x->consumers_at + i];
}

static int match_erf_gelu(dws_walker *w, const dws_graph_tensor *x, int *nodes, dws_error *err)
{
    if (x->n_consumers != 2) return 0;
    int c0 = consumer(w, x, 0), c1 = consumer(w, x, 1);
    int div = is_op(w, c0, "Div") ? c0 : c1, mul = div == c0 ? c1 : c0;
    if (!is_op(w, div, "Div") || !is_op(w, mul, "Mul") || strcmp(w->g->node[div]->input[0], x->name)) return 0;
    int erf = next_op(w, div, "Erf"), add = erf >= 0 ? next_op(w, erf, "Add") : -1;
    if (add < 0 || next_op(w, add, "Mul") != mul) return 0;
    const char *o = other(w, mul, x->name);
    int half = next_op(w, mul, "Mul");
    if (!o || strcmp(o, out_of(w, add)) || half < 0) return 0;
    int r;
    if ((r = with_const(w, div, x->name, sqrt(2.0), err)) <= 0 || (r = with_const(w, add, out_of(w, erf), 1.0, err)) <= 0 ||
        (r = with_const(w, half, out_of(w, mul), 0.5, err)) <= 0)
        return r;
    int found[] = {div, erf, add, mul, half};
    memcpy(nodes, found, sizeof found);
    return 5;
}

static int match_tanh_gelu(dws_walker *w, const dws_graph_tensor *x, int *nodes, dws_error *err)
{
    if (x->n_consumers != 5) return 0;
    int sq = -1;
    for (int i = 0; i < 5 && sq < 0; i++) {
        int c = consumer(w, x, i);
        const Onnx__NodeProto *n = w->g->node[c];
        if (is_op(w, c, "Mul") && n->n_input == 2 && !strcmp(n->input[0], x->name) && !strcmp(n->input[1], x->name))
            sq = c;
    }
    if (sq < 0) return 0;
    int cube = next_op(w, sq, "Mul"), kap = cube >= 0 ? next_op(w, cube, "Mul") : -1;
    int a1 = kap >= 0 ? next_op(w, kap, "Add") : -1, beta = a1 >= 0 ? next_op(w, a1, "Mul") : -1;
    int th = beta >= 0 ? next_op(w, beta, "Tanh") : -1, a2 = th >= 0 ? next_op(w, th, "Add") : -1;
    int m5 = a2 >= 0 ? next_op(w, a2, "Mul") : -1, half = m5 >= 0 ? next_op(w, m5, "Mul") : -1;
    if (half < 0) return 0;
    const char *o1 = other(w, cube, x->name), *o2 = other(w, a1, x->name), *o3 = other(w, m5, x->name);
    if (!o1 || strcmp(o1, out_of(w, sq)) || !o2 || strcmp(o2, out_of(w, kap)) || !o3 || strcmp(o3, out_of(w, a2)))
        return 0;
    int r;
    if ((r = with_const(w, kap, out_of(w, cube), 0.044715, err)) <= 0 ||
        (r = with_const(w, beta, out_of(w, a1), sqrt(2.0 / M_PI), err)) <= 0 ||
        (r = with_const(w, a2, out_of(w, th), 1.0, err)) <= 0 || (r = with_const(w, half, out_of(w, m5), 0.5, err)) <= 0)
        return r;
    int found[] = {sq, cube, kap, a1, beta, th, a2, m5, half};
    memcpy(nodes, found, sizeof found);
    return 9;
}

static int match_silu(dws_walker *w, const dws_graph_tensor *x, int *nodes)
{
    if (x->n_consumers != 2) return 0;
    int c0 = consumer(w, x, 0), c1 = consumer(w, x, 1);
    int sig = is_op(w, c0, "Sigmoid") ? c0 : c1, mul = sig == c0 ? c1 : c0;
    if (!is_op(w, sig, "Sigmoid") || !is_op(w, mul, "Mul") || next_op(w, sig, "Mul") != mul) return 0;
    const char *o = other(w, mul, x->name);
    if (!o || strcmp(o, out_of(w, sig))) return 0;
    nodes[0] = sig;
    nodes[1] = mul;
    return 2;
}

int dws_walk_act_pattern(dws_walker *w, const dws_graph_tensor *cur, const dws_graph_tensor **out,
                         dws_activation *act, dws_error *err)
{
    if (cur->is_output || cur->n_consumers < 2) return 0;
    int nodes[9], n;
    if ((n = match_erf_gelu(w, cur, nodes, err)) != 0) *act = DWS_ACT_GELU;
    else if ((n = match_tanh_gelu(w, cur, nodes, err)) != 0) *act = DWS_ACT_GELU_TANH;
    else if ((n = match_silu(w, cur, nodes)) != 0) *act = DWS_ACT_SILU;
    if (n <= 0) return n;
    for (int i = 0; i < n; i++) w->gr.used[nodes[i]] = 1;
    *out = dws_graph_find(&w->gr, out_of(w, nodes[n - 1]));
    return 1;
}
