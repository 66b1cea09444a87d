/* Recognises an MLP classifier in an ONNX graph: walks from the one graph input
 * along a single chain of nodes to the one graph output, collecting layers
 * (Gemm, or MatMul and maybe an Add) and the activations between them; Identity
 * and Dropout pass through. Off the chain there may only be the constants and
 * Transposes that feed layers and the shape arithmetic that feeds a Reshape (the one
 * other kind of reader of the data before the first layer: Shape). Anything else (a branch, a second
 * input, an operator that is not part of an MLP, a weight that is not a constant)
 * rejects the model with a reason. */
#include <stdio.h>
#include <string.h>

#include "onnx_walk.h"

#define MIN_OPSET 9
#define MAX_OPSET 21

/* Every operator must be one an MLP is made of. */
static int check_operators(const dws_walker *w, dws_error *err)
{
    char lab[160], dom[48];
    for (size_t i = 0; i < w->g->n_node; i++) {
        const Onnx__NodeProto *n = w->g->node[i];
        dws_activation act;
        dws_op_kind k = dws_op_classify(n, &act);
        if (k == OP_UNKNOWN) {
            if (dws_onnx_default_domain(n->domain))
                dws_error_set(err, DWS_E_UNSUPPORTED_OPERATOR, "node %s: operator is not part of an MLP",
                              dws_walk_label(w, (int)i, lab, sizeof lab));
            else
                dws_error_set(err, DWS_E_UNSUPPORTED_OPERATOR, "node %s: operator from domain '%s' is not part of an MLP",
                              dws_walk_label(w, (int)i, lab, sizeof lab), (dws_safe_copy(dom, sizeof dom, n->domain), dom));
            return -1;
        }
        if (k == OP_OTHER_ACTIVATION) {
            dws_error_set(err, DWS_E_UNSUPPORTED_ACTIVATION,
                          "node %s: activation not supported (Relu, LeakyRelu, Tanh, Sigmoid and Gelu are)",
                          dws_walk_label(w, (int)i, lab, sizeof lab));
            return -1;
        }
        if (k == OP_ACTIVATION && act == DWS_ACT_GELU) {
            const Onnx__AttributeProto *a = dws_op_attr(n, "approximate");
            if (a && a->has_s && !(a->s.len == 4 && !memcmp(a->s.data, "none", 4))) {
                dws_error_set(err, DWS_E_UNSUPPORTED_ACTIVATION,
                              "node %s: only the exact (erf) Gelu is supported, not approximate",
                              dws_walk_label(w, (int)i, lab, sizeof lab));
                return -1;
            }
        }
    }
    return 0;
}

static int check_opset(dws_walker *w, dws_error *err)
{
    int found = 0;
    for (size_t i = 0; i < w->model->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = w->model->opset_import[i];
        if (dws_onnx_default_domain(o->domain)) {
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

static int softmax_axis_ok(dws_walker *w, int ni, dws_error *err)
{
    int64_t axis;
    if (dws_walk_attr_int(w, ni, "axis", w->opset < 13 ? 1 : -1, &axis, err) != 0) return -1;
    if (axis == 1 || axis == -1) return 0;
    char lab[160];
    dws_error_set(err, DWS_E_NOT_AN_MLP, "node %s normalises over axis %lld, not over the classes",
                  dws_walk_label(w, ni, lab, sizeof lab), (long long)axis);
    return -1;
}

/* Inputs each op on the chain takes (the data first, then constants). */
static int check_input_count(const dws_walker *w, int ni, dws_op_kind kind, dws_error *err)
{
    size_t n = w->g->node[ni]->n_input, lo = 1, hi = 1;
    if (kind == OP_RESHAPE || kind == OP_MATMUL || kind == OP_ADD) lo = hi = 2;
    if (kind == OP_GEMM) lo = 2, hi = 3;
    if (kind == OP_DROPOUT) hi = 3;
    if (n >= lo && n <= hi) return 0;
    char lab[160];
    dws_error_set(err, DWS_E_NOT_AN_MLP, "node %s has %zu inputs (expected %zu to %zu)", dws_walk_label(w, ni, lab, sizeof lab),
                  n, lo, hi);
    return -1;
}

/* The one node that reads cur next along the chain; before the first layer (the graph
 * input, its preprocessing) the data may also be read by Shape nodes, which a
 * Reshape's shape must then account for (onnx_shape.c). */
static int chain_reader(const dws_walker *w, const dws_graph_tensor *cur, int before_layers, dws_error *err)
{
    char q[96];
    int found = -1, readers = 0;
    for (int c = 0; c < cur->n_consumers; c++) {
        int ni = w->gr.consumers[cur->consumers_at + c];
        dws_activation unused;
        const char *op = w->g->node[ni]->op_type;
        if (before_layers && dws_op_classify(w->g->node[ni], &unused) == OP_SHAPE_MATH && !strcmp(op, "Shape"))
            continue;
        found = ni;
        readers++;
    }
    if (readers == 1) return found;
    if (readers == 0)
        dws_error_set(err, DWS_E_NOT_AN_MLP, "tensor '%s' is read by no node and is not the graph output",
                      (dws_safe_copy(q, sizeof q, cur->name), q));
    else
        dws_error_set(err, DWS_E_NOT_AN_MLP, "a branch: tensor '%s' is read by %d nodes",
                      (dws_safe_copy(q, sizeof q, cur->name), q), readers);
    return -1;
}

/* Where the walk stands: which nodes may come next. */
enum { BEFORE_LAYERS, AFTER_LAYER, AFTER_ACTIVATION, AFTER_HEAD };

static int walk_chain(dws_walker *w, const dws_graph_tensor *cur, dws_error *err)
{
    char lab[160], q[96];
    int phase = BEFORE_LAYERS, last_act = -1, last_identity = 0;
    for (;;) {
        if (cur->is_output) {
            if (cur->n_consumers > 0) {
                dws_error_set(err, DWS_E_NOT_AN_MLP, "a branch: graph output '%s' is also read by node %s",
                              (dws_safe_copy(q, sizeof q, cur->name), q),
                              dws_walk_label(w, w->gr.consumers[cur->consumers_at], lab, sizeof lab));
                return -1;
            }
            break;
        }
        if (phase == AFTER_LAYER) {   /* GELU or SiLU spelt out: x is read more than once */
            const dws_graph_tensor *gelu_out;
            dws_activation pact;
            int g = dws_walk_act_pattern(w, cur, &gelu_out, &pact, err);
            if (g < 0) return -1;
            if (g > 0) {
                w->layout->act[w->layout->n_layers - 1] = pact;
                last_act = w->gr.consumers[cur->consumers_at];
                phase = AFTER_ACTIVATION;
                last_identity = 0;
                cur = gelu_out;
                continue;
            }
        }
        int ni = chain_reader(w, cur, phase == BEFORE_LAYERS, err);
        if (ni < 0) return -1;
        const Onnx__NodeProto *n = w->g->node[ni];
        dws_walk_label(w, ni, lab, sizeof lab);
        if (w->gr.used[ni]) {
            dws_error_set(err, DWS_E_NOT_AN_MLP, "a cycle: the chain reaches node %s twice", lab);
            return -1;
        }
        w->gr.used[ni] = 1;
        dws_activation act = DWS_ACT_IDENTITY;
        dws_op_kind kind = dws_op_classify(n, &act);
        if (kind == OP_DROPOUT) {   /* it may have a second output, its mask, if nothing reads it */
            if (dws_walk_dropout(w, ni, err) != 0) return -1;
        } else if (n->n_output != 1 || !n->output[0][0]) {
            dws_error_set(err, DWS_E_NOT_AN_MLP, "node %s has %zu outputs; MLP nodes have one", lab, n->n_output);
            return -1;
        }
        if (phase == BEFORE_LAYERS && dws_walk_is_preprocess(w, ni)) {   /* onnx_preprocess.c */
            if (dws_walk_preprocess(w, ni, cur->name, err) != 0) return -1;
            cur = dws_graph_find(&w->gr, n->output[0]);
            continue;
        }
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
            if ((kind == OP_FLATTEN ? dws_walk_flatten(w, ni, err) : dws_walk_reshape(w, ni, err)) != 0 ||
                (w->layout->n_pre > 0 && dws_walk_preprocess_flatten(w, ni, err) != 0))
                return -1;
            w->info->input_flatten = 1;
            break;
        case OP_IDENTITY:
            last_identity = 1;
            break;
        case OP_DROPOUT:   /* checked above; the identity at inference */
            break;
        case OP_GEMM:
        case OP_MATMUL:
            if (phase == AFTER_HEAD) {
                dws_error_set(err, DWS_E_NOT_AN_MLP, "layer node %s comes after the Softmax head", lab);
                return -1;
            }
            if (kind == OP_GEMM ? dws_walk_gemm(w, ni, err) : dws_walk_matmul(w, ni, &next, err)) return -1;
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
                dws_walk_attr_float(w, ni, "alpha", 0.01f, &w->layout->leaky_alpha[w->layout->n_layers - 1], err) != 0)
                return -1;
            last_act = ni;
            phase = AFTER_ACTIVATION;
            break;
        case OP_SOFTMAX:
        case OP_LOG_SOFTMAX:
            if (phase == AFTER_ACTIVATION) {
                dws_error_set(err, DWS_E_UNSUPPORTED_ACTIVATION, "activation node %s follows the last layer; logits must be linear",
                              dws_walk_label(w, last_act, lab, sizeof lab));
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
        case OP_TRANSPOSE:
        case OP_SHAPE_MATH:
            dws_error_set(err, DWS_E_UNSUPPORTED_OPERATOR,
                          "node %s works on the data; in an MLP it may only transpose a weight or compute a Reshape's shape", lab);
            return -1;
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
                      dws_walk_label(w, last_act, lab, sizeof lab));
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
static int check_all_used(const dws_walker *w, dws_error *err)
{
    for (size_t i = 0; i < w->g->n_node; i++) {
        if (w->gr.used[i]) continue;
        char lab[160];
        dws_error_set(err, DWS_E_NOT_AN_MLP, "a branch: node %s is not on the chain from the input to the output",
                      dws_walk_label(w, (int)i, lab, sizeof lab));
        return -1;
    }
    return 0;
}

static void fill_model_info(const dws_walker *w)
{
    dws_onnx_info *info = w->info;
    dws_safe_copy_bytes(info->producer_name, sizeof info->producer_name, &w->model->producer_name);
    dws_safe_copy_bytes(info->producer_version, sizeof info->producer_version, &w->model->producer_version);
    info->ir_version = w->model->ir_version;
    info->opset = w->opset;
    dws_safe_copy(info->graph_name, sizeof info->graph_name, w->g->name);
}

static int recognise_graph(dws_walker *w, dws_error *err)
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
    if (dws_walk_read_input(w, in, err) != 0 || walk_chain(w, in, err) != 0 || check_all_used(w, err) != 0 ||
        dws_walk_check_io(w, out, err) != 0)
        return -1;
    return 0;
}

int dws_onnx_recognise(const Onnx__ModelProto *model, const dws_onnx_limits *lim,
                       dws_mlp_layout *layout, dws_onnx_info *info, dws_error *err)
{
    dws_walker w = {.model = model, .g = model->graph, .lim = lim, .layout = layout, .info = info, .reshape_d0 = -1};
    memset(layout, 0, sizeof *layout);
    memset(info, 0, sizeof *info);
    if (w.g->n_node > (size_t)lim->max_nodes) {
        dws_error_set(err, DWS_E_TOO_LARGE, "the graph has %zu nodes (limit %d)", w.g->n_node, lim->max_nodes);
        return -1;
    }
    /* The operators first: that names the real reason for a CNN of any opset. */
    if (check_operators(&w, err) != 0 || check_opset(&w, err) != 0 || dws_onnx_check_rules(model, w.opset, err) != 0)
        return -1;
    fill_model_info(&w);
    int rc = recognise_graph(&w, err);
    dws_graph_free(&w.gr);
    return rc;
}
