/* Recognises an MLP classifier in an ONNX graph: walks from the one graph input
 * along a single chain of nodes to the one graph output, collecting layers
 * (Gemm, or MatMul followed by Add) and the activations between them. Anything
 * else (a branch, a second input, an operator that is not part of an MLP, a
 * weight that is not a constant) rejects the model with a reason. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "onnx_internal.h"

#define MIN_OPSET 9
#define MAX_OPSET 21

typedef enum {
    OP_UNKNOWN = 0, OP_CONSTANT, OP_FLATTEN, OP_RESHAPE, OP_IDENTITY, OP_GEMM, OP_MATMUL, OP_ADD,
    OP_ACTIVATION, OP_SOFTMAX, OP_LOG_SOFTMAX, OP_OTHER_ACTIVATION,
} op_kind;

static const struct { const char *name; op_kind kind; dws_activation act; } known_ops[] = {
    {"Constant", OP_CONSTANT, 0}, {"Flatten", OP_FLATTEN, 0}, {"Reshape", OP_RESHAPE, 0},
    {"Identity", OP_IDENTITY, 0}, {"Gemm", OP_GEMM, 0}, {"MatMul", OP_MATMUL, 0}, {"Add", OP_ADD, 0},
    {"Relu", OP_ACTIVATION, DWS_ACT_RELU}, {"LeakyRelu", OP_ACTIVATION, DWS_ACT_LEAKY_RELU},
    {"Tanh", OP_ACTIVATION, DWS_ACT_TANH}, {"Sigmoid", OP_ACTIVATION, DWS_ACT_SIGMOID},
    {"Gelu", OP_ACTIVATION, DWS_ACT_GELU}, {"Softmax", OP_SOFTMAX, 0}, {"LogSoftmax", OP_LOG_SOFTMAX, 0},
    /* Element-wise activations an MLP could use but dws_mlp cannot compute. */
    {"Elu", OP_OTHER_ACTIVATION, 0}, {"Selu", OP_OTHER_ACTIVATION, 0}, {"Celu", OP_OTHER_ACTIVATION, 0},
    {"PRelu", OP_OTHER_ACTIVATION, 0}, {"Softplus", OP_OTHER_ACTIVATION, 0},
    {"Softsign", OP_OTHER_ACTIVATION, 0}, {"HardSigmoid", OP_OTHER_ACTIVATION, 0},
    {"HardSwish", OP_OTHER_ACTIVATION, 0}, {"ThresholdedRelu", OP_OTHER_ACTIVATION, 0},
    {"Mish", OP_OTHER_ACTIVATION, 0}, {"Clip", OP_OTHER_ACTIVATION, 0},
};

typedef struct {
    const Onnx__ModelProto *model;
    const Onnx__GraphProto *g;
    const dws_onnx_limits *lim;
    dws_graph gr;
    dws_mlp_layout *layout;
    dws_onnx_info *info;
    int64_t opset;
    int64_t reshape_d0;      /* the feature count a Reshape asks for, or -1 */
    int64_t total_params;
} walker;

static int is_default_domain(const char *d)
{
    return !d || !d[0] || !strcmp(d, "ai.onnx");
}

static op_kind classify(const Onnx__NodeProto *n, dws_activation *act)
{
    const char *op = n->op_type ? n->op_type : "";
    int ms_gelu = n->domain && !strcmp(n->domain, "com.microsoft") && !strcmp(op, "Gelu");
    if (!is_default_domain(n->domain) && !ms_gelu) return OP_UNKNOWN;
    for (size_t i = 0; i < sizeof known_ops / sizeof known_ops[0]; i++) {
        if (!strcmp(op, known_ops[i].name)) {
            *act = known_ops[i].act;
            return known_ops[i].kind;
        }
    }
    return OP_UNKNOWN;
}

static const Onnx__AttributeProto *find_attr(const Onnx__NodeProto *n, const char *name)
{
    for (size_t a = 0; a < n->n_attribute; a++)
        if (n->attribute[a]->name && !strcmp(n->attribute[a]->name, name)) return n->attribute[a];
    return NULL;
}

static const char *label(const walker *w, int ni, char *buf, size_t cap)
{
    return dws_node_label(w->g->node[ni], ni, buf, cap);
}

static int attr_int(const walker *w, int ni, const char *name, int64_t dflt, int64_t *out, dws_error *err)
{
    const Onnx__AttributeProto *a = find_attr(w->g->node[ni], name);
    *out = dflt;
    if (!a) return 0;
    if (!a->has_i || (a->has_type && a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT)) {
        char lab[160];
        dws_error_set(err, DWS_E_NOT_AN_MLP, "node %s: attribute %s is not an integer",
                      label(w, ni, lab, sizeof lab), name);
        return -1;
    }
    *out = a->i;
    return 0;
}

static int attr_float(const walker *w, int ni, const char *name, float dflt, float *out, dws_error *err)
{
    const Onnx__AttributeProto *a = find_attr(w->g->node[ni], name);
    *out = dflt;
    if (!a) return 0;
    if (!a->has_f || (a->has_type && a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT) || !isfinite(a->f)) {
        char lab[160];
        dws_error_set(err, DWS_E_NOT_AN_MLP, "node %s: attribute %s is not a finite float",
                      label(w, ni, lab, sizeof lab), name);
        return -1;
    }
    *out = a->f;
    return 0;
}

/* Every operator must be one an MLP is made of. */
static int check_operators(const walker *w, dws_error *err)
{
    char lab[160], dom[48];
    for (size_t i = 0; i < w->g->n_node; i++) {
        const Onnx__NodeProto *n = w->g->node[i];
        dws_activation act;
        op_kind k = classify(n, &act);
        if (k == OP_UNKNOWN) {
            if (is_default_domain(n->domain))
                dws_error_set(err, DWS_E_UNSUPPORTED_OPERATOR, "node %s: operator is not part of an MLP",
                              label(w, (int)i, lab, sizeof lab));
            else
                dws_error_set(err, DWS_E_UNSUPPORTED_OPERATOR, "node %s: operator from domain '%s' is not part of an MLP",
                              label(w, (int)i, lab, sizeof lab), (dws_safe_copy(dom, sizeof dom, n->domain), dom));
            return -1;
        }
        if (k == OP_OTHER_ACTIVATION) {
            dws_error_set(err, DWS_E_UNSUPPORTED_ACTIVATION,
                          "node %s: activation not supported (Relu, LeakyRelu, Tanh, Sigmoid and Gelu are)",
                          label(w, (int)i, lab, sizeof lab));
            return -1;
        }
        if (k == OP_ACTIVATION && act == DWS_ACT_GELU) {
            const Onnx__AttributeProto *a = find_attr(n, "approximate");
            if (a && a->has_s && !(a->s.len == 4 && !memcmp(a->s.data, "none", 4))) {
                dws_error_set(err, DWS_E_UNSUPPORTED_ACTIVATION,
                              "node %s: only the exact (erf) Gelu is supported, not approximate",
                              label(w, (int)i, lab, sizeof lab));
                return -1;
            }
        }
    }
    return 0;
}

static int check_opset(walker *w, dws_error *err)
{
    int found = 0;
    for (size_t i = 0; i < w->model->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = w->model->opset_import[i];
        if (is_default_domain(o->domain)) {
            w->opset = o->has_version ? o->version : 0;
            found = 1;
        }
    }
    if (!found) {
        dws_error_set(err, DWS_E_UNSUPPORTED_OPERATOR, "the model imports no default-domain opset");
        return -1;
    }
    if (w->opset < MIN_OPSET || w->opset > MAX_OPSET) {
        dws_error_set(err, DWS_E_UNSUPPORTED_OPERATOR, "opset %lld is not supported (%d to %d are)",
                      (long long)w->opset, MIN_OPSET, MAX_OPSET);
        return -1;
    }
    return 0;
}

static const Onnx__ValueInfoProto *value_info(const Onnx__ValueInfoProto *const *list, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (list[i]->name && !strcmp(list[i]->name, name)) return list[i];
    return NULL;
}

static const Onnx__TypeProto__Tensor *tensor_type(const Onnx__ValueInfoProto *vi)
{
    if (!vi || !vi->type || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE) return NULL;
    return vi->type->tensor_type;
}

/* Type and shape of the graph input, into info (dims -1 when not a fixed size). */
static int read_input(walker *w, const dws_graph_tensor *in, dws_error *err)
{
    char q[96];
    const Onnx__ValueInfoProto *vi = value_info((const Onnx__ValueInfoProto *const *)w->g->input, w->g->n_input, in->name);
    if (vi && vi->type && vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE) {
        dws_error_set(err, DWS_E_NOT_AN_MLP, "input '%s' is not a tensor", (dws_safe_copy(q, sizeof q, in->name), q));
        return -1;
    }
    const Onnx__TypeProto__Tensor *tt = tensor_type(vi);
    snprintf(w->info->input_type, sizeof w->info->input_type, "UNKNOWN");
    if (tt && tt->has_elem_type) {
        if (!dws_tensor_type_is_float(tt->elem_type)) {
            dws_error_set(err, DWS_E_NOT_AN_MLP, "input '%s' has type %s; an MLP classifier takes floats",
                          (dws_safe_copy(q, sizeof q, in->name), q), dws_tensor_type_name(tt->elem_type));
            return -1;
        }
        snprintf(w->info->input_type, sizeof w->info->input_type, "%s", dws_tensor_type_name(tt->elem_type));
    }
    if (tt && tt->shape) {
        if (tt->shape->n_dim > DWS_ONNX_MAX_RANK) {
            dws_error_set(err, DWS_E_NOT_AN_MLP, "input '%s' has rank %zu", (dws_safe_copy(q, sizeof q, in->name), q),
                          tt->shape->n_dim);
            return -1;
        }
        w->info->input_rank = (int)tt->shape->n_dim;
        for (size_t d = 0; d < tt->shape->n_dim; d++) {
            const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[d];
            int fixed = dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && dim->dim_value > 0;
            w->info->input_dims[d] = fixed ? dim->dim_value : -1;
        }
    }
    return 0;
}

/* The product of the input's dims after the batch axis, or -1 if one is dynamic. */
static int64_t input_features(const dws_onnx_info *info)
{
    int64_t p = 1;
    for (int d = 1; d < info->input_rank; d++) {
        if (info->input_dims[d] < 0 || __builtin_mul_overflow(p, info->input_dims[d], &p)) return -1;
    }
    return p;
}

static int dims_text(const Onnx__TensorProto *t, char *buf, size_t cap)
{
    size_t at = 0;
    buf[0] = '\0';
    for (size_t d = 0; d < t->n_dims && at < cap; d++)
        at += (size_t)snprintf(buf + at, cap - at, "%s%lld", d ? "x" : "", (long long)t->dims[d]);
    if (t->n_dims == 0) snprintf(buf, cap, "scalar");
    return 0;
}

/* A dimension of a weight or bias: checked against max_dim before any use. */
static int check_dim(const walker *w, int64_t d, const char *what, dws_error *err)
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
 * caller from the stored dims) and bias tensor bref; checks every size. */
static int add_layer(walker *w, int ni, const char *op, const char *wname, const char *bname,
                     dws_tensor_ref *wref, dws_tensor_ref *bref, dws_error *err)
{
    char lab[160], what[320], dims[64];
    dws_mlp_layout *ly = w->layout;
    int l = ly->n_layers;
    int64_t d_out = wref->rows, d_in = wref->cols;
    label(w, ni, lab, sizeof lab);
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
    int bias_ok = (b->n_dims == 1 && b->dims[0] == d_out) ||
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
    snprintf(what, sizeof what, "bias '%s' of node %s", (dws_safe_copy(q, sizeof q, bname), q), lab);
    if (dws_tensor_check_data(b, d_out, what, err) != 0) return -1;
    bref->rows = d_out;
    bref->cols = 1;

    ly->widths[l + 1] = d_out;
    ly->act[l] = DWS_ACT_IDENTITY;
    ly->leaky_alpha[l] = 0.01f;
    ly->weight[l] = *wref;
    ly->bias[l] = *bref;
    ly->n_layers = l + 1;

    dws_onnx_info *info = w->info;
    snprintf(info->layer_op[l], sizeof info->layer_op[l], "%s", op);
    info->weight_transposed[l] = wref->transposed;
    snprintf(info->weight_storage[l], sizeof info->weight_storage[l], "%s %s",
             wref->init_index >= 0 ? "initializer" : "Constant", dws_tensor_field_name(wref->tensor));
    snprintf(info->bias_storage[l], sizeof info->bias_storage[l], "%s %s",
             bref->init_index >= 0 ? "initializer" : "Constant", dws_tensor_field_name(b));
    dws_safe_copy(info->weight_name[l], sizeof info->weight_name[l], wname);
    dws_safe_copy(info->bias_name[l], sizeof info->bias_name[l], bname);
    info->weight_scale[l] = wref->scale;
    info->bias_scale[l] = bref->scale;
    return 0;
}

/* The weight matrix shape from its stored dims: [d_out, d_in], or [d_in, d_out] when transposed. */
static int weight_shape(const walker *w, int ni, dws_tensor_ref *r, int transposed, dws_error *err)
{
    char lab[160], what[200], dims[64];
    const Onnx__TensorProto *t = r->tensor;
    label(w, ni, lab, sizeof lab);
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

static int gemm_layer(walker *w, int ni, dws_error *err)
{
    const Onnx__NodeProto *n = w->g->node[ni];
    char lab[160];
    int64_t trans_a, trans_b;
    float alpha, beta;
    label(w, ni, lab, sizeof lab);
    if (attr_int(w, ni, "transA", 0, &trans_a, err) || attr_int(w, ni, "transB", 0, &trans_b, err) ||
        attr_float(w, ni, "alpha", 1.f, &alpha, err) || attr_float(w, ni, "beta", 1.f, &beta, err))
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
    if (n->n_input < 3 || !n->input[2][0]) {
        dws_error_set(err, DWS_E_NOT_AN_MLP, "Gemm node %s has no bias C", lab);
        return -1;
    }
    dws_tensor_ref wref, bref;
    if (dws_graph_constant(&w->gr, n->input[1], "weight", &wref, err) != 0 ||
        dws_graph_constant(&w->gr, n->input[2], "bias", &bref, err) != 0 ||
        weight_shape(w, ni, &wref, trans_b == 0, err) != 0)
        return -1;
    wref.scale = alpha;
    bref.scale = beta;
    return add_layer(w, ni, "Gemm", n->input[1], n->input[2], &wref, &bref, err);
}

/* MatMul(x, W) then Add(., b) in either operand order; *next_out is the Add's output. */
static int matmul_layer(walker *w, int ni, const dws_graph_tensor **next_out, dws_error *err)
{
    const Onnx__NodeProto *n = w->g->node[ni];
    char lab[160];
    label(w, ni, lab, sizeof lab);
    const dws_graph_tensor *y = dws_graph_find(&w->gr, n->output[0]);
    int ai = y->n_consumers == 1 && !y->is_output ? w->gr.consumers[y->consumers_at] : -1;
    dws_activation unused;
    if (ai < 0 || classify(w->g->node[ai], &unused) != OP_ADD) {
        dws_error_set(err, DWS_E_NOT_AN_MLP, "MatMul node %s is not followed by a bias Add (and only by it)", lab);
        return -1;
    }
    const Onnx__NodeProto *add = w->g->node[ai];
    char alab[160];
    label(w, ai, alab, sizeof alab);
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
    dws_tensor_ref wref, bref;
    if (dws_graph_constant(&w->gr, n->input[1], "weight", &wref, err) != 0 ||
        dws_graph_constant(&w->gr, bname, "bias", &bref, err) != 0 ||
        weight_shape(w, ni, &wref, 1, err) != 0)
        return -1;
    *next_out = dws_graph_find(&w->gr, add->output[0]);
    return add_layer(w, ni, "MatMul+Add", n->input[1], bname, &wref, &bref, err);
}

static int reshape_input(walker *w, int ni, dws_error *err)
{
    const Onnx__NodeProto *n = w->g->node[ni];
    char lab[160];
    label(w, ni, lab, sizeof lab);
    dws_tensor_ref s;
    if (n->n_input != 2 || !n->input[1][0]) {
        dws_error_set(err, DWS_E_NOT_AN_MLP, "Reshape node %s needs a shape input", lab);
        return -1;
    }
    if (dws_graph_constant(&w->gr, n->input[1], "shape", &s, err) != 0) return -1;
    const Onnx__TensorProto *t = s.tensor;
    int64_t v[2];
    int ok = t->has_data_type && t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 && t->n_dims == 1 &&
             t->dims[0] == 2 && !t->segment && t->n_external_data == 0;
    if (ok && t->has_raw_data && t->raw_data.len > 0 && t->n_int64_data == 0 && t->raw_data.len == sizeof v)
        memcpy(v, t->raw_data.data, sizeof v);
    else if (ok && (!t->has_raw_data || t->raw_data.len == 0) && t->n_int64_data == 2)
        memcpy(v, t->int64_data, sizeof v);
    else
        ok = 0;
    int64_t allow_zero;
    if (attr_int(w, ni, "allowzero", 0, &allow_zero, err) != 0) return -1;
    if (ok) ok = v[0] >= -1 && (v[1] == -1 || v[1] > 0) && !(v[0] == -1 && v[1] == -1) &&
                 !(allow_zero && v[0] == 0);
    if (!ok) {
        dws_error_set(err, DWS_E_NOT_AN_MLP, "Reshape node %s: the shape must be a constant [batch, features]", lab);
        return -1;
    }
    if (v[1] > 0) w->reshape_d0 = v[1];
    return 0;
}

static int flatten_input(walker *w, int ni, dws_error *err)
{
    int64_t axis;
    if (attr_int(w, ni, "axis", 1, &axis, err) != 0) return -1;
    int rank = w->info->input_rank;
    if (axis == 1 || (axis < 0 && rank > 0 && axis + rank == 1)) return 0;
    char lab[160];
    dws_error_set(err, DWS_E_NOT_AN_MLP, "Flatten node %s flattens from axis %lld; an MLP input flattens from axis 1",
                  label(w, ni, lab, sizeof lab), (long long)axis);
    return -1;
}

static int softmax_axis_ok(walker *w, int ni, dws_error *err)
{
    int64_t axis;
    if (attr_int(w, ni, "axis", w->opset < 13 ? 1 : -1, &axis, err) != 0) return -1;
    if (axis == 1 || axis == -1) return 0;
    char lab[160];
    dws_error_set(err, DWS_E_NOT_AN_MLP, "node %s normalises over axis %lld, not over the classes",
                  label(w, ni, lab, sizeof lab), (long long)axis);
    return -1;
}

/* Inputs each op on the chain takes (the data first, then constants). */
static int check_input_count(const walker *w, int ni, op_kind kind, dws_error *err)
{
    size_t n = w->g->node[ni]->n_input, lo = 1, hi = 1;
    if (kind == OP_RESHAPE || kind == OP_MATMUL || kind == OP_ADD) lo = hi = 2;
    if (kind == OP_GEMM) lo = 2, hi = 3;
    if (n >= lo && n <= hi) return 0;
    char lab[160];
    dws_error_set(err, DWS_E_NOT_AN_MLP, "node %s has %zu inputs (expected %zu%s)", label(w, ni, lab, sizeof lab), n,
                  lo, hi > lo ? " or 3" : "");
    return -1;
}

/* Where the walk stands: which nodes may come next. */
enum { BEFORE_LAYERS, AFTER_LAYER, AFTER_ACTIVATION, AFTER_HEAD };

static int walk_chain(walker *w, const dws_graph_tensor *cur, dws_error *err)
{
    char lab[160], q[96];
    int phase = BEFORE_LAYERS, last_act = -1, last_identity = 0;
    for (;;) {
        if (cur->is_output) {
            if (cur->n_consumers > 0) {
                dws_error_set(err, DWS_E_NOT_AN_MLP, "a branch: graph output '%s' is also read by node %s",
                              (dws_safe_copy(q, sizeof q, cur->name), q),
                              label(w, w->gr.consumers[cur->consumers_at], lab, sizeof lab));
                return -1;
            }
            break;
        }
        if (cur->n_consumers != 1) {
            if (cur->n_consumers == 0)
                dws_error_set(err, DWS_E_NOT_AN_MLP, "tensor '%s' is read by no node and is not the graph output",
                              (dws_safe_copy(q, sizeof q, cur->name), q));
            else
                dws_error_set(err, DWS_E_NOT_AN_MLP, "a branch: tensor '%s' is read by %d nodes",
                              (dws_safe_copy(q, sizeof q, cur->name), q), cur->n_consumers);
            return -1;
        }
        int ni = w->gr.consumers[cur->consumers_at];
        const Onnx__NodeProto *n = w->g->node[ni];
        label(w, ni, lab, sizeof lab);
        if (w->gr.used[ni]) {
            dws_error_set(err, DWS_E_NOT_AN_MLP, "a cycle: the chain reaches node %s twice", lab);
            return -1;
        }
        w->gr.used[ni] = 1;
        if (n->n_output != 1 || !n->output[0][0]) {
            dws_error_set(err, DWS_E_NOT_AN_MLP, "node %s has %zu outputs; MLP nodes have one", lab, n->n_output);
            return -1;
        }
        dws_activation act = DWS_ACT_IDENTITY;
        op_kind kind = classify(n, &act);
        /* Layers and the ops before them take the data as their first input. */
        if (kind != OP_ADD && (n->n_input < 1 || strcmp(n->input[0], cur->name) != 0)) {
            dws_error_set(err, DWS_E_NOT_AN_MLP, "node %s reads the data '%s' as other than its first input", lab,
                          (dws_safe_copy(q, sizeof q, cur->name), q));
            return -1;
        }
        if (check_input_count(w, ni, kind, err) != 0) return -1;
        const dws_graph_tensor *next = dws_graph_find(&w->gr, n->output[0]);
        last_identity = 0;
        switch (kind) {
        case OP_FLATTEN:
        case OP_RESHAPE:
            if (phase != BEFORE_LAYERS) {
                dws_error_set(err, DWS_E_NOT_AN_MLP, "node %s comes after the first layer", lab);
                return -1;
            }
            if ((kind == OP_FLATTEN ? flatten_input(w, ni, err) : reshape_input(w, ni, err)) != 0) return -1;
            w->info->input_flatten = 1;
            break;
        case OP_IDENTITY:
            last_identity = 1;
            break;
        case OP_GEMM:
        case OP_MATMUL:
            if (phase == AFTER_HEAD) {
                dws_error_set(err, DWS_E_NOT_AN_MLP, "layer node %s comes after the Softmax head", lab);
                return -1;
            }
            if (kind == OP_GEMM ? gemm_layer(w, ni, err) : matmul_layer(w, ni, &next, err)) return -1;
            phase = AFTER_LAYER;
            break;
        case OP_ADD:
            dws_error_set(err, DWS_E_NOT_AN_MLP, "Add node %s does not follow a MatMul", lab);
            return -1;
        case OP_ACTIVATION:
            if (phase != AFTER_LAYER) {
                dws_error_set(err, DWS_E_NOT_AN_MLP, "activation node %s %s", lab,
                              phase == BEFORE_LAYERS ? "comes before the first layer"
                              : phase == AFTER_HEAD ? "comes after the Softmax head" : "follows another activation");
                return -1;
            }
            w->layout->act[w->layout->n_layers - 1] = act;
            if (act == DWS_ACT_LEAKY_RELU &&
                attr_float(w, ni, "alpha", 0.01f, &w->layout->leaky_alpha[w->layout->n_layers - 1], err) != 0)
                return -1;
            last_act = ni;
            phase = AFTER_ACTIVATION;
            break;
        case OP_SOFTMAX:
        case OP_LOG_SOFTMAX:
            if (phase == AFTER_ACTIVATION) {
                dws_error_set(err, DWS_E_UNSUPPORTED_ACTIVATION, "activation node %s follows the last layer; logits must be linear",
                              label(w, last_act, lab, sizeof lab));
                return -1;
            }
            if (phase != AFTER_LAYER) {
                dws_error_set(err, DWS_E_NOT_AN_MLP, "node %s is not directly after the last layer", lab);
                return -1;
            }
            if (softmax_axis_ok(w, ni, err) != 0) return -1;
            w->info->head = kind == OP_SOFTMAX ? DWS_HEAD_SOFTMAX : DWS_HEAD_LOG_SOFTMAX;
            phase = AFTER_HEAD;
            break;
        default:   /* check_operators let nothing else through; Constant has no data input */
            dws_error_set(err, DWS_E_UNSUPPORTED_OPERATOR, "node %s is not part of an MLP", lab);
            return -1;
        }
        cur = next;
    }
    if (phase == BEFORE_LAYERS) {
        dws_error_set(err, DWS_E_NOT_AN_MLP, "no layer: the graph has no Gemm or MatMul from input to output");
        return -1;
    }
    if (phase == AFTER_ACTIVATION) {
        dws_error_set(err, DWS_E_UNSUPPORTED_ACTIVATION, "activation node %s follows the last layer; logits must be linear",
                      label(w, last_act, lab, sizeof lab));
        return -1;
    }
    if (w->layout->n_layers < 2) {
        dws_error_set(err, DWS_E_NOT_AN_MLP, "no hidden layer: a single linear layer is not an MLP");
        return -1;
    }
    if (phase == AFTER_LAYER && last_identity) w->info->head = DWS_HEAD_IDENTITY;
    return 0;
}

/* Nodes the chain never reached (a side branch, a dead end). */
static int check_all_used(const walker *w, dws_error *err)
{
    for (size_t i = 0; i < w->g->n_node; i++) {
        if (w->gr.used[i]) continue;
        char lab[160];
        dws_error_set(err, DWS_E_NOT_AN_MLP, "a branch: node %s is not on the chain from the input to the output",
                      label(w, (int)i, lab, sizeof lab));
        return -1;
    }
    return 0;
}

/* The input feeds d_0 features to the first layer, and the output has d_L classes. */
static int check_io_widths(const walker *w, const dws_graph_tensor *out, dws_error *err)
{
    const dws_onnx_info *info = w->info;
    int64_t d0 = w->layout->widths[0], dL = w->layout->widths[w->layout->n_layers];
    int64_t features = input_features(info);
    if (!info->input_flatten && info->input_rank != 0 && info->input_rank != 2) {
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "input '%s' has rank %d and no Flatten or Reshape; a layer needs [N, %lld]",
                      info->input_name, info->input_rank, (long long)d0);
        return -1;
    }
    if ((info->input_rank >= 2 && features > 0 && features != d0) || (w->reshape_d0 > 0 && w->reshape_d0 != d0)) {
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "input '%s' gives %lld features but the first layer takes %lld",
                      info->input_name, (long long)(w->reshape_d0 > 0 ? w->reshape_d0 : features), (long long)d0);
        return -1;
    }
    const Onnx__TypeProto__Tensor *tt =
        tensor_type(value_info((const Onnx__ValueInfoProto *const *)w->g->output, w->g->n_output, out->name));
    if (tt && tt->shape && tt->shape->n_dim > 0) {
        const Onnx__TensorShapeProto__Dimension *last = tt->shape->dim[tt->shape->n_dim - 1];
        int fixed = last->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        if (tt->shape->n_dim != 2 || (fixed && last->dim_value != dL)) {
            dws_error_set(err, DWS_E_SHAPE_MISMATCH, "output '%s' is declared with rank %zu and %lld classes, but the last layer has %lld",
                          info->output_name, tt->shape->n_dim, fixed ? (long long)last->dim_value : -1LL, (long long)dL);
            return -1;
        }
    }
    return 0;
}

static void fill_model_info(const walker *w)
{
    dws_onnx_info *info = w->info;
    dws_safe_copy(info->producer_name, sizeof info->producer_name, w->model->producer_name);
    dws_safe_copy(info->producer_version, sizeof info->producer_version, w->model->producer_version);
    info->ir_version = w->model->ir_version;
    info->opset = w->opset;
    dws_safe_copy(info->graph_name, sizeof info->graph_name, w->g->name);
}

static int recognise_graph(walker *w, dws_error *err)
{
    const Onnx__GraphProto *g = w->g;
    if (dws_graph_init(&w->gr, g, err) != 0) return -1;
    const dws_graph_tensor *in = NULL;
    int n_inputs = 0;
    for (size_t k = 0; k < w->gr.n_tensors; k++) {
        if (w->gr.tensors[k].producer == DWS_FROM_INPUT) {
            in = &w->gr.tensors[k];
            n_inputs++;
        }
    }
    if (n_inputs != 1 || g->n_output != 1) {
        dws_error_set(err, DWS_E_NOT_AN_MLP, "the graph has %d inputs (besides initializers) and %zu outputs; an MLP has one of each",
                      n_inputs, g->n_output);
        return -1;
    }
    const dws_graph_tensor *out = dws_graph_find(&w->gr, g->output[0]->name);
    dws_safe_copy(w->info->input_name, sizeof w->info->input_name, in->name);
    dws_safe_copy(w->info->output_name, sizeof w->info->output_name, out->name);
    if (read_input(w, in, err) != 0 || walk_chain(w, in, err) != 0 || check_all_used(w, err) != 0 ||
        check_io_widths(w, out, err) != 0)
        return -1;
    return 0;
}

int dws_onnx_recognise(const Onnx__ModelProto *model, const dws_onnx_limits *lim,
                       dws_mlp_layout *layout, dws_onnx_info *info, dws_error *err)
{
    walker w = {.model = model, .g = model->graph, .lim = lim, .layout = layout, .info = info, .reshape_d0 = -1};
    memset(layout, 0, sizeof *layout);
    memset(info, 0, sizeof *info);
    if (w.g->n_node > (size_t)lim->max_nodes) {
        dws_error_set(err, DWS_E_TOO_LARGE, "the graph has %zu nodes (limit %d)", w.g->n_node, lim->max_nodes);
        return -1;
    }
    /* The operators first: that names the real reason for a CNN of any opset. */
    if (check_operators(&w, err) != 0 || check_opset(&w, err) != 0) return -1;
    fill_model_info(&w);
    int rc = recognise_graph(&w, err);
    dws_graph_free(&w.gr);
    return rc;
}
