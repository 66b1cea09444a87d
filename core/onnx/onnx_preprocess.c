/* Element-wise input preprocessing before layer 1: Sub, Add, Mul and Div with a
 * constant operand (a scalar, per channel or per feature, broadcast over the
 * input), and a Transpose of the data before its Flatten, in any order, as torch
 * writes `(x - mean) / std`, `x * 2 - 1` or `x.permute(0, 2, 3, 1).flatten(1)`.
 * The walk records the steps; dws_onnx_build_preprocess turns them into one
 * affine map with a permutation (mlp.h, docs/onnx.md section 2.1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_walk.h"

#define MAX_CONST_ELEMS ((int64_t)1 << 20)

static char op_char(const char *op)
{
    if (!strcmp(op, "Sub")) return '-';
    if (!strcmp(op, "Add")) return '+';
    if (!strcmp(op, "Mul")) return '*';
    if (!strcmp(op, "Div")) return '/';
    if (!strcmp(op, "Transpose")) return 'T';
    return 0;
}

int dws_walk_is_preprocess(const dws_walker *w, int ni)
{
    const Onnx__NodeProto *n = w->g->node[ni];
    return dws_onnx_default_domain(n->domain) && n->op_type && op_char(n->op_type) != 0;
}

static dws_pre_step *new_step(dws_walker *w, int ni, dws_error *err)
{
    if (w->layout->n_pre >= DWS_MAX_PRE_STEPS) {
        char lab[160];
        dws_error_set(err, DWS_E_TOO_LARGE, "node %s: more than %d preprocessing steps before the first layer",
                      dws_walk_label(w, ni, lab, sizeof lab), DWS_MAX_PRE_STEPS);
        return NULL;
    }
    dws_pre_step *s = &w->layout->pre[w->layout->n_pre++];
    memset(s, 0, sizeof *s);
    return s;
}

int dws_walk_preprocess_flatten(dws_walker *w, int ni, dws_error *err)
{
    dws_pre_step *s = new_step(w, ni, err);
    if (!s) return -1;
    s->op = 'F';
    return 0;
}

static int transpose_step(dws_walker *w, int ni, dws_pre_step *s, dws_error *err)
{
    const Onnx__NodeProto *n = w->g->node[ni];
    char lab[160];
    size_t np = 0;
    int has = dws_walk_attr_ints(w, ni, "perm", s->perm, DWS_ONNX_MAX_RANK, &np, err);
    if (has < 0) return -1;
    unsigned seen = 0;
    int ok = has && n->n_input == 1 && np >= 2 && s->perm[0] == 0;
    for (size_t k = 0; ok && k < np; k++) {
        if (s->perm[k] < 0 || s->perm[k] >= (int64_t)np || (seen >> s->perm[k] & 1u)) ok = 0;
        else seen |= 1u << s->perm[k];
    }
    if (!ok) {
        dws_error_set(err, DWS_E_NOT_AN_MLP,
                      "Transpose node %s on the data must keep the batch axis first and give its perm",
                      dws_walk_label(w, ni, lab, sizeof lab));
        return -1;
    }
    s->op = 'T';
    s->n_perm = (int)np;
    return 0;
}

int dws_walk_preprocess(dws_walker *w, int ni, const char *data, dws_error *err)
{
    const Onnx__NodeProto *n = w->g->node[ni];
    char lab[160], what[220];
    dws_walk_label(w, ni, lab, sizeof lab);
    dws_pre_step *s = new_step(w, ni, err);
    if (!s) return -1;
    char op = op_char(n->op_type);
    if (op == 'T') return transpose_step(w, ni, s, err);
    if (n->n_input != 2) {
        dws_error_set(err, DWS_E_NOT_AN_MLP, "node %s has %zu inputs (expected 2)", lab, n->n_input);
        return -1;
    }
    int first = strcmp(n->input[0], data) != 0;   /* the constant comes first */
    const char *kname = n->input[first ? 0 : 1];
    if (!strcmp(kname, data) || !kname[0]) {
        dws_error_set(err, DWS_E_NOT_AN_MLP, "node %s combines the data with itself; only constants may preprocess it", lab);
        return -1;
    }
    if (op == '/' && first) {
        dws_error_set(err, DWS_E_NOT_AN_MLP, "node %s divides a constant by the data: not an affine preprocessing", lab);
        return -1;
    }
    s->op = op;
    s->const_first = first;
    snprintf(what, sizeof what, "constant of node %s", lab);
    if (dws_graph_constant(&w->gr, kname, "preprocessing constant", &s->k, err) != 0) return -1;
    const Onnx__TensorProto *t = s->k.tensor;
    if (t->n_dims > DWS_ONNX_MAX_RANK) {
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "%s has rank %zu", what, t->n_dims);
        return -1;
    }
    int64_t count = 1;
    for (size_t d = 0; d < t->n_dims; d++) {
        if (t->dims[d] < 1 || t->dims[d] > MAX_CONST_ELEMS || __builtin_mul_overflow(count, t->dims[d], &count) ||
            count > MAX_CONST_ELEMS) {
            dws_error_set(err, DWS_E_SHAPE_MISMATCH, "%s has a dimension of %lld", what, (long long)t->dims[d]);
            return -1;
        }
        s->k_dims[d] = t->dims[d];
    }
    s->k_rank = (int)t->n_dims;
    if (dws_tensor_check_data(t, count, what, err) != 0) return -1;
    s->k.scale = 1.0;
    s->k.transposed = 0;
    s->k.rows = count;
    s->k.cols = 1;
    return 0;
}

/* ---- building the affine map ---- */

typedef struct {
    int rank;                            /* axes after the batch */
    int64_t dims[DWS_ONNX_MAX_RANK];
} shape;

static void unravel(const shape *sh, int64_t j, int64_t *idx)
{
    for (int a = sh->rank - 1; a >= 0; a--) {
        idx[a] = j % sh->dims[a];
        j /= sh->dims[a];
    }
}

static int apply_transpose(dws_input_affine *t, shape *sh, const dws_pre_step *s, double *tmp_d, int64_t *tmp_i,
                           dws_error *err)
{
    if (s->n_perm != sh->rank + 1) {
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "a Transpose with %d axes on data of rank %d", s->n_perm, sh->rank + 1);
        return -1;
    }
    shape nsh = {.rank = sh->rank};
    for (int k = 0; k < sh->rank; k++) nsh.dims[k] = sh->dims[s->perm[k + 1] - 1];
    int64_t q[DWS_ONNX_MAX_RANK], o[DWS_ONNX_MAX_RANK];
    int64_t n = t->d0;
    /* old flat index for each new position */
    for (int64_t j = 0; j < n; j++) {
        unravel(&nsh, j, q);
        for (int k = 0; k < sh->rank; k++) o[s->perm[k + 1] - 1] = q[k];
        int64_t old = 0;
        for (int a = 0; a < sh->rank; a++) old = old * sh->dims[a] + o[a];
        tmp_i[j] = old;
    }
    double *vals[2] = {t->scale, t->shift};
    for (int v = 0; v < 2; v++) {
        for (int64_t j = 0; j < n; j++) tmp_d[j] = vals[v][tmp_i[j]];
        memcpy(vals[v], tmp_d, (size_t)n * sizeof *tmp_d);
    }
    int64_t *src = malloc((size_t)n * sizeof *src);
    if (!src) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot build the input permutation");
        return -1;
    }
    for (int64_t j = 0; j < n; j++) src[j] = t->src[tmp_i[j]];
    memcpy(t->src, src, (size_t)n * sizeof *src);
    free(src);
    *sh = nsh;
    return 0;
}

static int apply_constant(dws_input_affine *t, const shape *sh, const dws_pre_step *s, dws_error *err)
{
    /* Broadcast k (rank k_rank) against [1, dims...], aligned on the right. */
    int R = sh->rank + 1;
    if (s->k_rank > R) {
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "a preprocessing constant of rank %d on data of rank %d", s->k_rank, R);
        return -1;
    }
    int64_t kstride[DWS_ONNX_MAX_RANK + 1] = {0};
    int64_t st = 1;
    for (int a = s->k_rank - 1; a >= 0; a--) {
        int full = R - s->k_rank + a;   /* axis of [1, dims...] */
        int64_t want = full == 0 ? 1 : sh->dims[full - 1];
        if (s->k_dims[a] != 1 && s->k_dims[a] != want) {
            dws_error_set(err, DWS_E_SHAPE_MISMATCH,
                          "a preprocessing constant of %lld values on axis %d does not broadcast over %lld",
                          (long long)s->k_dims[a], full, (long long)want);
            return -1;
        }
        if (full > 0) kstride[full - 1] = s->k_dims[a] == 1 ? 0 : st;
        st *= s->k_dims[a];
    }
    float *k = malloc((size_t)s->k.rows * sizeof *k);
    if (!k) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot read a preprocessing constant");
        return -1;
    }
    dws_tensor_read(&s->k, k);
    int64_t idx[DWS_ONNX_MAX_RANK];
    for (int64_t j = 0; j < t->d0; j++) {
        unravel(sh, j, idx);
        int64_t ki = 0;
        for (int a = 0; a < sh->rank; a++) ki += idx[a] * kstride[a];
        double kv = k[ki];
        switch (s->op) {
        case '+': t->shift[j] += kv; break;
        case '-':
            if (s->const_first) t->scale[j] = -t->scale[j], t->shift[j] = kv - t->shift[j];
            else t->shift[j] -= kv;
            break;
        case '*': t->scale[j] *= kv, t->shift[j] *= kv; break;
        default: t->scale[j] /= kv, t->shift[j] /= kv; break;
        }
    }
    free(k);
    return 0;
}

/* The expression inspect shows: "(x - mean) / std", "x * 2 - 1", "transpose(x, 0,2,3,1)". */
static void describe(const dws_mlp_layout *ly, char *text, size_t cap)
{
    char e[512] = "x", next[600];
    int atom = 1;   /* e needs no parentheses as an operand of * and / */
    for (int i = 0; i < ly->n_pre; i++) {
        const dws_pre_step *s = &ly->pre[i];
        if (s->op == 'F') continue;
        if (s->op == 'T') {
            int at = snprintf(next, sizeof next, "permute(%s, ", e);
            for (int k = 0; k < s->n_perm && at < (int)sizeof next; k++)
                at += snprintf(next + at, sizeof next - (size_t)at, "%s%lld", k ? "," : "", (long long)s->perm[k]);
            if (at < (int)sizeof next) snprintf(next + at, sizeof next - (size_t)at, ")");
            snprintf(e, sizeof e, "%.*s", (int)sizeof e - 1, next);
            atom = 1;
            continue;
        }
        char k[32];
        if (s->k.rows == 1) {
            float v;
            dws_tensor_read(&s->k, &v);
            snprintf(k, sizeof k, "%g", (double)v);
        } else {
            snprintf(k, sizeof k, "%s", s->op == '-' ? "mean" : s->op == '/' ? "std" : s->op == '*' ? "scale" : "shift");
        }
        int paren = !atom && (s->op == '*' || s->op == '/' || (s->op == '-' && s->const_first));
        char operand[520];
        snprintf(operand, sizeof operand, paren ? "(%s)" : "%s", e);
        if (s->const_first) snprintf(next, sizeof next, "%s %c %s", k, s->op, operand);
        else snprintf(next, sizeof next, "%s %c %s", operand, s->op, k);
        snprintf(e, sizeof e, "%.*s", (int)sizeof e - 1, next);
        atom = 0;
    }
    snprintf(text, cap, "%s", e);
}

int dws_onnx_build_preprocess(dws_onnx *m, dws_error *err)
{
    const dws_mlp_layout *ly = &m->layout;
    dws_onnx_info *info = &m->info;
    int n_ops = 0;
    for (int i = 0; i < ly->n_pre; i++) n_ops += ly->pre[i].op != 'F';
    if (n_ops == 0) return 0;
    int64_t d0 = ly->widths[0];
    /* The data's shape before the Flatten: the input's declared dims when they are
     * all fixed and give d0 features, else [d0]. */
    shape sh = {.rank = 1, .dims = {d0}};
    if (info->input_rank >= 2) {
        int64_t p = 1;
        int fixed = 1;
        for (int d = 1; d < info->input_rank; d++) {
            if (info->input_dims[d] < 0) fixed = 0;
            else p *= info->input_dims[d];
        }
        if (fixed && p == d0) {
            sh.rank = info->input_rank - 1;
            memcpy(sh.dims, info->input_dims + 1, (size_t)sh.rank * sizeof *sh.dims);
        }
    }
    if (dws_input_affine_init(&m->pre, d0, err) != 0) return -1;
    double *tmp_d = malloc((size_t)d0 * sizeof *tmp_d);
    int64_t *tmp_i = malloc((size_t)d0 * sizeof *tmp_i);
    int rc = tmp_d && tmp_i ? 0 : -1;
    if (rc) dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot build the input preprocessing");
    for (int i = 0; rc == 0 && i < ly->n_pre; i++) {
        const dws_pre_step *s = &ly->pre[i];
        if (s->op == 'F') {
            sh.rank = 1;
            sh.dims[0] = d0;
        } else if (s->op == 'T') {
            rc = apply_transpose(&m->pre, &sh, s, tmp_d, tmp_i, err);
        } else {
            rc = apply_constant(&m->pre, &sh, s, err);
        }
    }
    free(tmp_d);
    free(tmp_i);
    if (rc == 0) rc = dws_input_affine_check(&m->pre, err);
    if (rc != 0) {
        dws_input_affine_free(&m->pre);
        return -1;
    }
    m->has_pre = 1;
    for (int64_t j = 0; j < d0; j++)
        if (m->pre.src[j] != j) info->preprocess_permutes = 1;
    describe(ly, info->preprocess, sizeof info->preprocess);
    return 0;
}

const dws_input_affine *dws_onnx_input_affine(const dws_onnx *m)
{
    return m->has_pre ? &m->pre : NULL;
}
