/* Layers: a Gemm, or a MatMul and the Add after it, read into the weight-space
 * layout with every size checked against the limits and the bytes present. A layer
 * without a bias (a Gemm with no C, a MatMul with no Add) reads as b = 0. */
#include <stdio.h>
#include <string.h>

#include "onnx_walk.h"

static void dims_text(const Onnx__TensorProto *t, char *buf, size_t cap)
{
    size_t at = 0;
    buf[0] = '\0';
    for (size_t d = 0; d < t->n_dims && at < cap; d++)
        at += (size_t)snprintf(buf + at, cap - at, "%s%lld", d ? "x" : "", (long long)t->dims[d]);
    if (t->n_dims == 0) snprintf(buf, cap, "scalar");
}

/* A dimension of a weight or bias: checked against max_dim before any use. */
static int check_dim(const dws_walker *w, int64_t d, const char *what, dws_error *err)
{
    if (d < 1) {
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "%s has a dimension of %lld", what, (long long)d);
        return -1;
    }
    if (d > w->lim->max_dim) {
        dws_error_set(err, DWS_E_TOO_LARGE, "%s has a dimension of %lld (limit %lld)", what, (long long)d,
                      (long long)w->lim->max_dim);
        return -1;
    }
    return 0;
}

/* Records layer n_layers with weight ref (its rows/cols/transposed/scale set by the
 * caller from the stored dims) and bias tensor bref (none when bref->tensor is NULL;
 * then bname is ignored); checks every size. */
static int add_layer(dws_walker *w, int ni, const char *op, const char *wname, const char *bname,
                     dws_tensor_ref *wref, dws_tensor_ref *bref, dws_error *err)
{
    char lab[160], what[320], dims[64];
    dws_mlp_layout *ly = w->layout;
    int l = ly->n_layers;
    int64_t d_out = wref->rows, d_in = wref->cols;
    dws_walk_label(w, ni, lab, sizeof lab);
    if (l >= w->lim->max_layers || l >= DWS_MAX_LAYERS) {
        dws_error_set(err, DWS_E_TOO_LARGE, "node %s: more than %d layers", lab,
                      w->lim->max_layers < DWS_MAX_LAYERS ? w->lim->max_layers : DWS_MAX_LAYERS);
        return -1;
    }
    if (l == 0) {
        ly->widths[0] = d_in;
    } else if (ly->widths[l] != d_in) {
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "layer %d (node %s) takes %lld inputs but layer %d gives %lld",
                      l + 1, lab, (long long)d_in, l, (long long)ly->widths[l]);
        return -1;
    }
    /* The bias: one value per output neuron, as [d_out] or [1, d_out]. */
    const Onnx__TensorProto *b = bref->tensor;
    int bias_ok = !b || (b->n_dims == 1 && b->dims[0] == d_out) ||
                  (b->n_dims == 2 && b->dims[0] == 1 && b->dims[1] == d_out);
    if (!bias_ok) {
        dims_text(b, dims, sizeof dims);
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "bias of layer %d (node %s) has shape %s; %lld outputs need [%lld]",
                      l + 1, lab, dims, (long long)d_out, (long long)d_out);
        return -1;
    }
    int64_t n_w, n_layer;
    if (__builtin_mul_overflow(d_out, d_in, &n_w) || __builtin_add_overflow(n_w, d_out, &n_layer) ||
        __builtin_add_overflow(w->total_params, n_layer, &w->total_params) || w->total_params > w->lim->max_params) {
        dws_error_set(err, DWS_E_TOO_LARGE, "layer %d (node %s) brings the parameter count past the limit of %lld",
                      l + 1, lab, (long long)w->lim->max_params);
        return -1;
    }
    char q[96];
    snprintf(what, sizeof what, "weight '%s' of node %s", (dws_safe_copy(q, sizeof q, wname), q), lab);
    if (dws_tensor_check_data(wref->tensor, n_w, what, err) != 0) return -1;
    snprintf(what, sizeof what, "bias '%s' of node %s", (dws_safe_copy(q, sizeof q, b ? bname : ""), q), lab);
    if (b && dws_tensor_check_data(b, d_out, what, err) != 0) return -1;
    bref->rows = d_out;
    bref->cols = 1;

    ly->widths[l + 1] = d_out;
    ly->act[l] = DWS_ACT_IDENTITY;
    ly->leaky_alpha[l] = 0.01f;
    ly->weight[l] = *wref;
    ly->bias[l] = *bref;
    ly->node[l] = ni;
    ly->n_layers = l + 1;

    dws_onnx_info *info = w->info;
    snprintf(info->layer_op[l], sizeof info->layer_op[l], "%s", op);
    info->weight_transposed[l] = wref->transposed;
    snprintf(info->weight_storage[l], sizeof info->weight_storage[l], "%s %s",
             wref->init_index >= 0 ? "initializer" : "Constant", dws_tensor_field_name(wref->tensor));
    if (b)
        snprintf(info->bias_storage[l], sizeof info->bias_storage[l], "%s %s",
                 bref->init_index >= 0 ? "initializer" : "Constant", dws_tensor_field_name(b));
    else
        snprintf(info->bias_storage[l], sizeof info->bias_storage[l], "none");
    info->bias_stored[l] = b != NULL;
    dws_safe_copy(info->weight_name[l], sizeof info->weight_name[l], wname);
    dws_safe_copy(info->bias_name[l], sizeof info->bias_name[l], b ? bname : "");
    info->weight_scale[l] = wref->scale;
    info->bias_scale[l] = bref->scale;
    return 0;
}

/* The weight matrix shape from its stored dims: [d_out, d_in], or [d_in, d_out] when transposed. */
static int weight_shape(const dws_walker *w, int ni, dws_tensor_ref *r, int transposed, dws_error *err)
{
    char lab[160], what[200], dims[64];
    const Onnx__TensorProto *t = r->tensor;
    dws_walk_label(w, ni, lab, sizeof lab);
    if (t->n_dims != 2) {
        dims_text(t, dims, sizeof dims);
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "weight of node %s has shape %s; a layer needs a matrix", lab, dims);
        return -1;
    }
    snprintf(what, sizeof what, "weight of node %s", lab);
    if (check_dim(w, t->dims[0], what, err) != 0 || check_dim(w, t->dims[1], what, err) != 0) return -1;
    r->transposed = transposed;
    r->rows = transposed ? t->dims[1] : t->dims[0];
    r->cols = transposed ? t->dims[0] : t->dims[1];
    return 0;
}

/* The weight input `name` of layer node ni: a constant, or a Transpose of one (as
 * torch writes a bias-free nn.Linear without constant folding), which flips how
 * the stored matrix maps to W. *stored names the tensor that holds the numbers. */
static int layer_weight(dws_walker *w, int ni, const char *name, int transposed, dws_tensor_ref *ref,
                        const char **stored, dws_error *err)
{
    const dws_graph_tensor *t = dws_graph_find(&w->gr, name);
    int ti = t ? t->producer : DWS_FROM_INPUT;
    dws_activation unused;
    *stored = name;
    if (ti >= 0 && dws_op_classify(w->g->node[ti], &unused) == OP_TRANSPOSE) {
        const Onnx__NodeProto *tr = w->g->node[ti];
        char lab[160];
        int64_t perm[2];
        size_t n_perm;
        int has_perm = dws_walk_attr_ints(w, ti, "perm", perm, 2, &n_perm, err);
        if (has_perm < 0) return -1;
        if (tr->n_input != 1 || tr->n_output != 1 || t->n_consumers != 1 || t->is_output ||
            (has_perm && !(n_perm == 2 && perm[0] == 1 && perm[1] == 0))) {
            dws_error_set(err, DWS_E_NOT_AN_MLP, "Transpose node %s: a weight may only be a matrix transposed for one layer",
                          dws_walk_label(w, ti, lab, sizeof lab));
            return -1;
        }
        w->gr.used[ti] = 1;
        *stored = tr->input[0];
        transposed = !transposed;
    }
    if (dws_graph_constant(&w->gr, *stored, "weight", ref, err) != 0) return -1;
    return weight_shape(w, ni, ref, transposed, err);
}

int dws_walk_gemm(dws_walker *w, int ni, dws_error *err)
{
    const Onnx__NodeProto *n = w->g->node[ni];
    char lab[160];
    int64_t trans_a, trans_b;
    float alpha, beta;
    dws_walk_label(w, ni, lab, sizeof lab);
    if (dws_walk_attr_int(w, ni, "transA", 0, &trans_a, err) || dws_walk_attr_int(w, ni, "transB", 0, &trans_b, err) ||
        dws_walk_attr_float(w, ni, "alpha", 1.f, &alpha, err) || dws_walk_attr_float(w, ni, "beta", 1.f, &beta, err))
        return -1;
    if (trans_a != 0 || (trans_b != 0 && trans_b != 1)) {
        dws_error_set(err, DWS_E_NOT_AN_MLP, "Gemm node %s has transA=%lld transB=%lld; a layer needs transA=0",
                      lab, (long long)trans_a, (long long)trans_b);
        return -1;
    }
    if (alpha == 0.f || beta == 0.f) {
        dws_error_set(err, DWS_E_NOT_AN_MLP, "Gemm node %s has alpha=%g beta=%g; a zero scale hides the weights",
                      lab, alpha, beta);
        return -1;
    }
    dws_tensor_ref wref, bref = {.init_index = -1, .node_index = -1, .attr_index = -1};
    const char *wname, *bname = n->n_input >= 3 ? n->input[2] : "";
    if (layer_weight(w, ni, n->input[1], trans_b == 0, &wref, &wname, err) != 0 ||
        (bname[0] && dws_graph_constant(&w->gr, bname, "bias", &bref, err) != 0))
        return -1;
    wref.scale = alpha;
    bref.scale = beta;   /* also for a missing C: a bias added later is scaled by it */
    return add_layer(w, ni, "Gemm", wname, bname, &wref, &bref, err);
}

/* MatMul(x, W), then Add(., b) in either operand order unless the layer has no
 * bias; *next_out is the layer's output. */
int dws_walk_matmul(dws_walker *w, int ni, const dws_graph_tensor **next_out, dws_error *err)
{
    const Onnx__NodeProto *n = w->g->node[ni];
    const dws_graph_tensor *y = dws_graph_find(&w->gr, n->output[0]);
    int ai = y->n_consumers == 1 && !y->is_output ? w->gr.consumers[y->consumers_at] : -1;
    dws_activation unused;
    dws_tensor_ref wref, bref = {.init_index = -1, .node_index = -1, .attr_index = -1, .scale = 1.0};
    const char *wname;
    if (layer_weight(w, ni, n->input[1], 1, &wref, &wname, err) != 0) return -1;
    if (ai < 0 || dws_op_classify(w->g->node[ai], &unused) != OP_ADD) {
        *next_out = y;   /* no bias: whatever reads y is the chain's next node */
        return add_layer(w, ni, "MatMul", wname, "", &wref, &bref, err);
    }
    const Onnx__NodeProto *add = w->g->node[ai];
    char alab[160];
    dws_walk_label(w, ai, alab, sizeof alab);
    if (add->n_input != 2 || add->n_output != 1 || !add->output[0][0]) {
        dws_error_set(err, DWS_E_NOT_AN_MLP, "Add node %s must have two inputs and one output", alab);
        return -1;
    }
    /* The Add is y's only reader, so y is one of its operands; the bias is the other. */
    const char *bname = add->input[!strcmp(add->input[0], n->output[0]) ? 1 : 0];
    if (!strcmp(bname, n->output[0]) || !bname[0]) {
        dws_error_set(err, DWS_E_NOT_AN_MLP, "Add node %s adds the MatMul output to itself", alab);
        return -1;
    }
    w->gr.used[ai] = 1;
    if (dws_graph_constant(&w->gr, bname, "bias", &bref, err) != 0) return -1;
    *next_out = dws_graph_find(&w->gr, add->output[0]);
    return add_layer(w, ni, "MatMul+Add", wname, bname, &wref, &bref, err);
}
