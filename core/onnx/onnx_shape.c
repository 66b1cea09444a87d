/* Reshape before the first layer, to [N, d0]. Its shape is a constant, or is
 * computed from the Shape of the input (or of the input preprocessed: normalised,
 * transposed) and constants by the integer ops torch.onnx.export writes for
 * x.view(x.size(0), -1) and x.reshape(x.shape[0], -1): Shape, Gather,
 * Unsqueeze, Concat, Constant (also Squeeze, Slice, Cast, Mul, Div, Identity).
 * Those are evaluated symbolically, each number as c * (a product of input dims), so
 * a dynamic batch stays a symbol and the result can be checked to keep the batch
 * first and flatten everything else. The work is bounded: a value holds at most
 * SHAPE_MAX_VALUES numbers, and one Reshape's shape may take SHAPE_MAX_NODES nodes. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "onnx_walk.h"

#define SHAPE_MAX_VALUES DWS_ONNX_MAX_RANK
#define SHAPE_MAX_NODES 64

/* c times the input dims k for every bit k of dims. Dims the input declares with a
 * fixed size are folded into c; the batch (dim 0) and dynamic dims stay symbols. */
typedef struct {
    int64_t c;
    unsigned dims;
} shape_num;

typedef struct {
    int rank;   /* 0: a scalar, 1: a vector */
    int n;
    shape_num v[SHAPE_MAX_VALUES];
} shape_value;

typedef struct {
    dws_walker *w;
    int nodes_left;
    char lab[160];   /* the Reshape node, named in every message */
} shape_eval;

__attribute__((format(printf, 4, 5)))
static int fail(const shape_eval *se, dws_error *err, const char *code, const char *fmt, ...)
{
    char why[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    dws_error_set(err, code, "Reshape node %s: %s", se->lab, why);
    return -1;
}

static const char *num_text(shape_num x, char *buf, size_t cap)
{
    size_t at = 0;
    buf[0] = '\0';
    if (x.dims == 0 || x.c != 1) at += (size_t)snprintf(buf, cap, "%lld%s", (long long)x.c, x.dims ? "*" : "");
    for (int k = 0; k < SHAPE_MAX_VALUES && at < cap; k++) {
        if (!(x.dims >> k & 1u)) continue;
        const char *sep = at > 0 && buf[at - 1] != '*' ? "*" : "";
        at += k == 0 ? (size_t)snprintf(buf + at, cap - at, "%sN", sep) : (size_t)snprintf(buf + at, cap - at, "%sd%d", sep, k);
    }
    return buf;
}

static int eval(shape_eval *se, const char *name, shape_value *out, dws_error *err);

static int from_tensor(const shape_eval *se, const Onnx__TensorProto *t, const char *what, shape_value *out,
                       dws_error *err)
{
    int64_t vals[SHAPE_MAX_VALUES];
    size_t n;
    char desc[240];
    snprintf(desc, sizeof desc, "Reshape node %s: %s", se->lab, what);
    if (dws_tensor_read_ints(t, vals, SHAPE_MAX_VALUES, &n, &out->rank, desc, err) != 0) return -1;
    out->n = (int)n;
    for (size_t k = 0; k < n; k++) out->v[k] = (shape_num){vals[k], 0};
    return 0;
}

/* An operand that must be known numbers (indices, axes, slice bounds). */
static int eval_known(shape_eval *se, const char *name, const char *what, shape_value *out, dws_error *err)
{
    if (eval(se, name, out, err) != 0) return -1;
    for (int k = 0; k < out->n; k++)
        if (out->v[k].dims) return fail(se, err, DWS_E_NOT_AN_MLP, "the %s depends on the input's size", what);
    return 0;
}

/* Input k of node n if given (an optional input may be absent or ""). */
static const char *input_at(const Onnx__NodeProto *n, size_t k)
{
    return k < n->n_input && n->input[k][0] ? n->input[k] : NULL;
}

/* Node ni takes lo to hi inputs, the first lo of them given. */
static int check_inputs(const shape_eval *se, int ni, size_t lo, size_t hi, dws_error *err)
{
    const Onnx__NodeProto *n = se->w->g->node[ni];
    int ok = n->n_input >= lo && n->n_input <= hi;
    for (size_t k = 0; ok && k < lo; k++) ok = n->input[k][0] != '\0';
    if (ok) return 0;
    char lab[160];
    return fail(se, err, DWS_E_NOT_AN_MLP, "node %s in its shape has %zu inputs (%zu to %zu expected)",
                dws_walk_label(se->w, ni, lab, sizeof lab), n->n_input, lo, hi);
}

/* An operand that older opsets give as an INTS attribute and newer ones as input k
 * (axes of Unsqueeze and Squeeze, bounds of Slice); out->n = 0 when absent. */
static int eval_operand(shape_eval *se, int ni, int as_input, size_t k, const char *name, shape_value *out,
                        dws_error *err)
{
    const Onnx__NodeProto *n = se->w->g->node[ni];
    out->rank = 1, out->n = 0;
    if (as_input) return input_at(n, k) ? eval_known(se, n->input[k], name, out, err) : 0;
    int64_t vals[SHAPE_MAX_VALUES];
    size_t count;
    if (dws_walk_attr_ints(se->w, ni, name, vals, SHAPE_MAX_VALUES, &count, err) < 0) return -1;
    out->n = (int)count;
    for (size_t i = 0; i < count; i++) out->v[i] = (shape_num){vals[i], 0};
    return 0;
}

static int only_axis_zero(const shape_value *axes, int allow_none)
{
    return (axes->n == 0 && allow_none) || (axes->n == 1 && (axes->v[0].c == 0 || axes->v[0].c == -1));
}

/* The data operand of chain node p (a preprocessing op, Identity or Dropout): the
 * input the chain came through, not its constant. */
static const char *data_operand(const dws_walker *w, const Onnx__NodeProto *p)
{
    for (size_t k = 0; k < p->n_input && k < 2; k++) {
        const dws_graph_tensor *t = p->input[k][0] ? dws_graph_find(&w->gr, p->input[k]) : NULL;
        dws_activation unused;
        if (t && (t->producer == DWS_FROM_INPUT ||
                  (t->producer >= 0 && w->gr.used[t->producer] &&
                   dws_op_classify(w->g->node[t->producer], &unused) != OP_CONSTANT)))
            return p->input[k];
    }
    return NULL;
}

/* Which input axis each axis of `name` holds, when name is the graph input or comes
 * from it through the chain's preprocessing (element-wise ops keep the axes, a
 * Transpose permutes them), Identity and Dropout: 0, else -1. */
static int axes_from_input(const shape_eval *se, const char *name, int64_t rank, int64_t *axes)
{
    const dws_walker *w = se->w;
    for (int64_t k = 0; k < rank; k++) axes[k] = k;
    for (int hops = 0; hops <= SHAPE_MAX_NODES; hops++) {
        const dws_graph_tensor *t = dws_graph_find(&w->gr, name);
        if (t->producer == DWS_FROM_INPUT) return 0;
        if (t->producer < 0 || !w->gr.used[t->producer]) return -1;
        const Onnx__NodeProto *p = w->g->node[t->producer];
        dws_activation unused;
        dws_op_kind kind = dws_op_classify(p, &unused);
        if (!dws_walk_is_preprocess(w, t->producer) && kind != OP_IDENTITY && kind != OP_DROPOUT) return -1;
        if (p->op_type && !strcmp(p->op_type, "Transpose")) {
            const Onnx__AttributeProto *a = dws_op_attr(p, "perm");
            if (!a || (int64_t)a->n_ints != rank) return -1;
            for (int64_t k = 0; k < rank; k++) {
                if (axes[k] < 0 || axes[k] >= rank) return -1;
                axes[k] = a->ints[axes[k]];   /* output axis j is the Transpose's input axis perm[j] */
            }
        }
        if (!(name = data_operand(w, p))) return -1;
    }
    return -1;
}

static int eval_shape_of(shape_eval *se, int ni, shape_value *out, dws_error *err)
{
    const dws_walker *w = se->w;
    const Onnx__NodeProto *n = w->g->node[ni];
    char lab[160];
    dws_walk_label(w, ni, lab, sizeof lab);
    if (check_inputs(se, ni, 1, 1, err) != 0) return -1;
    int64_t rank = w->info->input_rank, start, end, axes[DWS_ONNX_MAX_RANK];
    if (rank > 0 && axes_from_input(se, n->input[0], rank, axes) != 0)
        return fail(se, err, DWS_E_NOT_AN_MLP,
                    "node %s takes the Shape of something other than the input or its preprocessing", lab);
    if (rank == 0) return fail(se, err, DWS_E_NOT_AN_MLP, "the input declares no shape, so node %s cannot be checked", lab);
    if (dws_walk_attr_int(w, ni, "start", 0, &start, err) || dws_walk_attr_int(w, ni, "end", rank, &end, err)) return -1;
    start = start < 0 ? start + rank : start;
    end = end < 0 ? end + rank : end;
    start = start < 0 ? 0 : start > rank ? rank : start;
    end = end < start ? start : end > rank ? rank : end;
    out->rank = 1, out->n = 0;
    for (int64_t k = start; k < end; k++) {
        int64_t a = axes[k], d = w->info->input_dims[a];
        out->v[out->n++] = a > 0 && d > 0 ? (shape_num){d, 0} : (shape_num){1, 1u << a};
    }
    return 0;
}

static int eval_gather(shape_eval *se, int ni, shape_value *out, dws_error *err)
{
    const Onnx__NodeProto *n = se->w->g->node[ni];
    shape_value data, idx;
    int64_t axis;
    if (check_inputs(se, ni, 2, 2, err) || eval(se, n->input[0], &data, err) ||
        eval_known(se, n->input[1], "Gather index", &idx, err) || dws_walk_attr_int(se->w, ni, "axis", 0, &axis, err))
        return -1;
    if (data.rank != 1 || (axis != 0 && axis != -1))
        return fail(se, err, DWS_E_NOT_AN_MLP, "a Gather in its shape indexes other than a vector's axis 0");
    out->rank = idx.rank, out->n = idx.n;
    for (int k = 0; k < idx.n; k++) {
        int64_t i = idx.v[k].c < 0 ? idx.v[k].c + data.n : idx.v[k].c;
        if (i < 0 || i >= data.n)
            return fail(se, err, DWS_E_NOT_AN_MLP, "a Gather in its shape reads index %lld of %d", (long long)idx.v[k].c, data.n);
        out->v[k] = data.v[i];
    }
    return 0;
}

/* Unsqueeze of a scalar into a 1-vector, or Squeeze of a 1-vector into a scalar. */
static int eval_squeeze(shape_eval *se, int ni, int unsqueeze, shape_value *out, dws_error *err)
{
    const Onnx__NodeProto *n = se->w->g->node[ni];
    shape_value axes;
    if (check_inputs(se, ni, 1, 2, err) || eval(se, n->input[0], out, err) ||
        eval_operand(se, ni, se->w->opset >= 13, 1, "axes", &axes, err))
        return -1;
    int ok = unsqueeze ? out->rank == 0 && only_axis_zero(&axes, 0) : out->rank == 1 && out->n == 1 && only_axis_zero(&axes, 1);
    if (!ok)
        return fail(se, err, DWS_E_NOT_AN_MLP, "%s in its shape does more than turn a scalar into a 1-vector or back",
                    unsqueeze ? "an Unsqueeze" : "a Squeeze");
    out->rank = unsqueeze;
    return 0;
}

static int eval_concat(shape_eval *se, int ni, shape_value *out, dws_error *err)
{
    const Onnx__NodeProto *n = se->w->g->node[ni];
    int64_t axis;
    if (dws_walk_attr_int(se->w, ni, "axis", 0, &axis, err) != 0) return -1;
    if (axis != 0 && axis != -1) return fail(se, err, DWS_E_NOT_AN_MLP, "a Concat in its shape joins along axis %lld", (long long)axis);
    if (check_inputs(se, ni, n->n_input ? n->n_input : 1, SHAPE_MAX_VALUES, err) != 0) return -1;
    out->rank = 1, out->n = 0;
    for (size_t i = 0; i < n->n_input; i++) {
        shape_value part;
        if (eval(se, n->input[i], &part, err) != 0) return -1;
        if (part.rank != 1) return fail(se, err, DWS_E_NOT_AN_MLP, "a Concat in its shape joins a scalar");
        if (out->n + part.n > SHAPE_MAX_VALUES)
            return fail(se, err, DWS_E_NOT_AN_MLP, "a Concat in its shape makes more than %d numbers", SHAPE_MAX_VALUES);
        memcpy(out->v + out->n, part.v, (size_t)part.n * sizeof part.v[0]);
        out->n += part.n;
    }
    return 0;
}

/* A Slice parameter: one known number, from an attribute before opset 10, an input since. */
static int slice_param(shape_eval *se, int ni, size_t input, const char *attr, int required, int64_t dflt, int64_t *out,
                       dws_error *err)
{
    shape_value v;
    *out = dflt;
    if (eval_operand(se, ni, se->w->opset >= 10, input, attr, &v, err) != 0) return -1;
    if (v.n > 1 || (v.n == 0 && required))
        return fail(se, err, DWS_E_NOT_AN_MLP, "a Slice in its shape has %d %s; one was expected", v.n, attr);
    if (v.n == 1) *out = v.v[0].c;
    return 0;
}

static int eval_slice(shape_eval *se, int ni, shape_value *out, dws_error *err)
{
    int64_t start, end, axis, step;
    if (check_inputs(se, ni, se->w->opset >= 10 ? 3 : 1, se->w->opset >= 10 ? 5 : 1, err) ||
        eval(se, se->w->g->node[ni]->input[0], out, err) || slice_param(se, ni, 1, "starts", 1, 0, &start, err) ||
        slice_param(se, ni, 2, "ends", 1, 0, &end, err) || slice_param(se, ni, 3, "axes", 0, 0, &axis, err) ||
        slice_param(se, ni, 4, "steps", 0, 1, &step, err))
        return -1;
    if (out->rank != 1 || (axis != 0 && axis != -1) || step != 1)
        return fail(se, err, DWS_E_NOT_AN_MLP, "a Slice in its shape does more than cut a vector with step 1");
    int64_t len = out->n;
    start = start < 0 ? start + len : start;
    end = end < 0 ? end + len : end;
    start = start < 0 ? 0 : start > len ? len : start;
    end = end < start ? start : end > len ? len : end;
    memmove(out->v, out->v + start, (size_t)(end - start) * sizeof out->v[0]);
    out->n = (int)(end - start);
    return 0;
}

static int eval_cast(shape_eval *se, int ni, shape_value *out, dws_error *err)
{
    int64_t to;
    if (check_inputs(se, ni, 1, 1, err) || eval(se, se->w->g->node[ni]->input[0], out, err) ||
        dws_walk_attr_int(se->w, ni, "to", 0, &to, err))
        return -1;
    if (to != ONNX__TENSOR_PROTO__DATA_TYPE__INT64 && to != ONNX__TENSOR_PROTO__DATA_TYPE__INT32)
        return fail(se, err, DWS_E_NOT_AN_MLP, "a Cast in its shape converts to %s", dws_tensor_type_name((int32_t)to));
    for (int k = 0; k < out->n; k++)
        if (to == ONNX__TENSOR_PROTO__DATA_TYPE__INT32 && (out->v[k].c > INT32_MAX || out->v[k].c < INT32_MIN))
            return fail(se, err, DWS_E_NOT_AN_MLP, "a Cast in its shape overflows INT32");
    return 0;
}

/* Element-wise Mul or Div of two shape values, a one-number operand broadcast. */
static int eval_arith(shape_eval *se, int ni, int div, shape_value *out, dws_error *err)
{
    const Onnx__NodeProto *n = se->w->g->node[ni];
    shape_value a, b;
    if (check_inputs(se, ni, 2, 2, err) || eval(se, n->input[0], &a, err) || eval(se, n->input[1], &b, err)) return -1;
    if (a.n != b.n && a.n != 1 && b.n != 1)
        return fail(se, err, DWS_E_NOT_AN_MLP, "a %s in its shape combines %d and %d numbers", n->op_type, a.n, b.n);
    out->rank = a.rank > b.rank ? a.rank : b.rank;
    out->n = a.n > b.n ? a.n : b.n;
    for (int k = 0; k < out->n; k++) {
        shape_num x = a.v[a.n == 1 ? 0 : k], y = b.v[b.n == 1 ? 0 : k], *r = &out->v[k];
        if (!div) {
            if ((x.dims & y.dims) || __builtin_mul_overflow(x.c, y.c, &r->c))
                return fail(se, err, DWS_E_NOT_AN_MLP, "a Mul in its shape squares an input dim or overflows");
            r->dims = x.dims | y.dims;
        } else {
            /* INT64_MIN / -1 overflows, and so does INT64_MIN % -1 on x86 (SIGFPE):
             * test it before either operator runs. */
            if (y.c == 0 || (x.c == INT64_MIN && y.c == -1) || (y.dims & ~x.dims) || x.c % y.c != 0)
                return fail(se, err, DWS_E_NOT_AN_MLP, "a Div in its shape does not divide exactly or overflows");
            r->c = x.c / y.c;
            r->dims = x.dims & ~y.dims;
        }
    }
    return 0;
}

static int eval_constant_node(shape_eval *se, int ni, shape_value *out, dws_error *err)
{
    const Onnx__NodeProto *n = se->w->g->node[ni];
    const Onnx__AttributeProto *a = dws_op_attr(n, "value");
    if (a && a->t) return from_tensor(se, a->t, "a Constant in its shape", out, err);
    if ((a = dws_op_attr(n, "value_int")) != NULL && a->has_i) {
        out->rank = 0, out->n = 1, out->v[0] = (shape_num){a->i, 0};
        return 0;
    }
    if ((a = dws_op_attr(n, "value_ints")) != NULL && a->n_ints <= SHAPE_MAX_VALUES) {
        out->rank = 1, out->n = (int)a->n_ints;
        for (size_t k = 0; k < a->n_ints; k++) out->v[k] = (shape_num){a->ints[k], 0};
        return 0;
    }
    return fail(se, err, DWS_E_NOT_AN_MLP, "a Constant in its shape holds no integer value of at most %d numbers",
                SHAPE_MAX_VALUES);
}

static int eval(shape_eval *se, const char *name, shape_value *out, dws_error *err)
{
    dws_walker *w = se->w;
    const dws_graph_tensor *t = dws_graph_find(&w->gr, name);   /* graph init checked that it exists */
    char lab[160];
    if (t->producer == DWS_FROM_INPUT) return fail(se, err, DWS_E_NOT_AN_MLP, "its shape is computed from the input's values");
    if (t->producer == DWS_FROM_INITIALIZER)
        return from_tensor(se, w->g->initializer[t->init_index], "an initializer in its shape", out, err);
    if (--se->nodes_left < 0)
        return fail(se, err, DWS_E_TOO_LARGE, "its shape takes more than %d nodes to compute", SHAPE_MAX_NODES);
    int ni = t->producer;
    const Onnx__NodeProto *n = w->g->node[ni];
    const char *op = n->op_type ? n->op_type : "";
    dws_activation unused;
    dws_op_kind kind = dws_op_classify(n, &unused);
    w->gr.used[ni] = 1;
    if (kind == OP_CONSTANT) return eval_constant_node(se, ni, out, err);
    if (kind == OP_IDENTITY) return check_inputs(se, ni, 1, 1, err) ? -1 : eval(se, n->input[0], out, err);
    if (kind == OP_SHAPE_MATH) {
        if (!strcmp(op, "Shape")) return eval_shape_of(se, ni, out, err);
        if (!strcmp(op, "Gather")) return eval_gather(se, ni, out, err);
        if (!strcmp(op, "Unsqueeze")) return eval_squeeze(se, ni, 1, out, err);
        if (!strcmp(op, "Squeeze")) return eval_squeeze(se, ni, 0, out, err);
        if (!strcmp(op, "Concat")) return eval_concat(se, ni, out, err);
        if (!strcmp(op, "Slice")) return eval_slice(se, ni, out, err);
        if (!strcmp(op, "Cast")) return eval_cast(se, ni, out, err);
        if (!strcmp(op, "Mul") || !strcmp(op, "Div")) return eval_arith(se, ni, op[0] == 'D', out, err);
    }
    return fail(se, err, DWS_E_NOT_AN_MLP, "its shape is computed by node %s, which is not shape arithmetic",
                dws_walk_label(w, ni, lab, sizeof lab));
}

/* c and dims of the product of the input's non-batch dims (dims 0 when all are fixed). */
static shape_num input_features(const dws_onnx_info *info)
{
    shape_num f = {1, 0};
    for (int k = 1; k < info->input_rank; k++) {
        if (info->input_dims[k] > 0 && !__builtin_mul_overflow(f.c, info->input_dims[k], &f.c)) continue;
        f.dims |= 1u << k;
    }
    return f;
}

int dws_walk_reshape(dws_walker *w, int ni, dws_error *err)
{
    const Onnx__NodeProto *n = w->g->node[ni];
    shape_eval se = {.w = w, .nodes_left = SHAPE_MAX_NODES};
    dws_walk_label(w, ni, se.lab, sizeof se.lab);
    if (n->n_input != 2 || !n->input[1][0]) return fail(&se, err, DWS_E_NOT_AN_MLP, "it needs a shape input");
    int64_t allow_zero;
    shape_value s;
    if (dws_walk_attr_int(w, ni, "allowzero", 0, &allow_zero, err) != 0 || eval(&se, n->input[1], &s, err) != 0) return -1;
    if (s.rank != 1 || s.n != 2)
        return fail(&se, err, DWS_E_NOT_AN_MLP, "it reshapes to rank %d; a layer needs [batch, features]", s.rank ? s.n : 0);
    shape_num batch = s.v[0], feat = s.v[1], want = input_features(w->info);
    if (batch.dims == 0 && batch.c == 0 && !allow_zero) batch = (shape_num){1, 1};   /* 0 copies the input's dim 0 */
    int batch_ok = (batch.dims == 1 && batch.c == 1) || (batch.dims == 0 && (batch.c == -1 || batch.c > 0));
    int feat_ok = feat.dims == 0 ? feat.c > 0 || (feat.c == -1 && !(batch.dims == 0 && batch.c == -1))
                                 : w->info->input_rank > 0 && feat.dims == want.dims && feat.c == want.c;
    int64_t declared_batch = w->info->input_rank > 0 ? w->info->input_dims[0] : -1;
    if (batch_ok && batch.dims == 0 && batch.c > 0 && declared_batch > 0 && declared_batch != batch.c) batch_ok = 0;
    if (!batch_ok || !feat_ok) {
        char b[64], f[64];
        return fail(&se, err, DWS_E_NOT_AN_MLP, "its target shape [%s, %s] does not keep the batch first and flatten the rest",
                    num_text(s.v[0], b, sizeof b), num_text(s.v[1], f, sizeof f));
    }
    if (feat.dims == 0 && feat.c > 0) w->reshape_d0 = feat.c;
    return 0;
}
