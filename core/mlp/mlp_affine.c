/* Folding element-wise input preprocessing (and a permutation) into layer 1 and
 * back: the frame change of docs/onnx.md section 2.1. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mlp.h"

int dws_input_affine_init(dws_input_affine *t, int64_t d0, dws_error *err)
{
    memset(t, 0, sizeof *t);
    t->d0 = d0;
    t->scale = malloc((size_t)d0 * sizeof *t->scale);
    t->shift = malloc((size_t)d0 * sizeof *t->shift);
    t->src = malloc((size_t)d0 * sizeof *t->src);
    if (!t->scale || !t->shift || !t->src) {
        dws_input_affine_free(t);
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate the input preprocessing");
        return -1;
    }
    for (int64_t j = 0; j < d0; j++) {
        t->scale[j] = 1.0;
        t->shift[j] = 0.0;
        t->src[j] = j;
    }
    return 0;
}

void dws_input_affine_free(dws_input_affine *t)
{
    free(t->scale);
    free(t->shift);
    free(t->src);
    memset(t, 0, sizeof *t);
}

int dws_input_affine_is_identity(const dws_input_affine *t)
{
    for (int64_t j = 0; j < t->d0; j++)
        if (t->scale[j] != 1.0 || t->shift[j] != 0.0 || t->src[j] != j) return 0;
    return 1;
}

int dws_input_affine_check(const dws_input_affine *t, dws_error *err)
{
    unsigned char *seen = calloc((size_t)t->d0 + 1, 1);
    if (!seen) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot check the input preprocessing");
        return -1;
    }
    int rc = 0;
    for (int64_t j = 0; j < t->d0 && rc == 0; j++) {
        if (!isfinite(t->scale[j]) || t->scale[j] == 0.0 || !isfinite(t->shift[j])) {
            dws_error_set(err, DWS_E_INVALID_ARGUMENT,
                          "the input preprocessing of feature %lld is not invertible (scale %g, shift %g)",
                          (long long)j, t->scale[j], t->shift[j]);
            rc = -1;
        } else if (t->src[j] < 0 || t->src[j] >= t->d0 || seen[t->src[j]]++) {
            dws_error_set(err, DWS_E_INVALID_ARGUMENT, "the input permutation is not a permutation");
            rc = -1;
        }
    }
    free(seen);
    return rc;
}

int dws_mlp_fold_input(const dws_mlp *w, const dws_input_affine *t, dws_mlp *out, dws_error *err)
{
    if (t->d0 != w->widths[0]) {
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "input preprocessing for %lld features, layer 1 takes %lld",
                      (long long)t->d0, (long long)w->widths[0]);
        return -1;
    }
    if (dws_input_affine_check(t, err) != 0 || dws_mlp_clone(out, w, err) != 0) return -1;
    int64_t rows = w->widths[1], d0 = t->d0;
    for (int64_t r = 0; r < rows; r++) {
        const float *wr = w->W[0] + r * d0;
        float *orow = out->W[0] + r * d0;
        double acc = w->b[0][r];
        for (int64_t j = 0; j < d0; j++) {
            orow[t->src[j]] = (float)((double)wr[j] * t->scale[j]);
            acc += (double)wr[j] * t->shift[j];
        }
        out->b[0][r] = (float)acc;
    }
    return 0;
}

int dws_mlp_unfold_input(dws_mlp *w, const dws_input_affine *t, const dws_mlp *orig, const dws_mlp *folded,
                         dws_error *err)
{
    int64_t rows = w->widths[1], d0 = t->d0;
    float *row = malloc((size_t)d0 * sizeof *row);
    if (!row) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot unfold the input preprocessing");
        return -1;
    }
    for (int64_t r = 0; r < rows; r++) {
        float *wr = w->W[0] + r * d0;
        const float *fr = folded->W[0] + r * d0, *orow = orig->W[0] + r * d0;
        int same = memcmp(&w->b[0][r], &folded->b[0][r], sizeof(float)) == 0;
        double acc = w->b[0][r];
        for (int64_t j = 0; j < d0; j++) {
            int64_t s = t->src[j];
            double v = (double)wr[s] / t->scale[j];
            acc -= v * t->shift[j];
            if (memcmp(&wr[s], &fr[s], sizeof(float)) == 0) row[j] = orow[j];
            else row[j] = (float)v, same = 0;
        }
        memcpy(wr, row, (size_t)d0 * sizeof *row);
        w->b[0][r] = same ? orig->b[0][r] : (float)acc;
    }
    free(row);
    return 0;
}

int dws_mlp_fold_input_backward(dws_mlp *g, const dws_input_affine *t, dws_error *err)
{
    int64_t rows = g->widths[1], d0 = t->d0;
    float *row = malloc((size_t)d0 * sizeof *row);
    if (!row) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot map a gradient through the input fold");
        return -1;
    }
    for (int64_t r = 0; r < rows; r++) {
        float *gr = g->W[0] + r * d0;
        const double gb = g->b[0][r];
        for (int64_t j = 0; j < d0; j++) row[j] = (float)((double)gr[t->src[j]] * t->scale[j] + gb * t->shift[j]);
        memcpy(gr, row, (size_t)d0 * sizeof *row);
    }
    free(row);
    return 0;
}

const dws_input_norm DWS_CIFAR10_STANDARDIZATION = {
    .n = 3, .mean = {0.4914, 0.4822, 0.4465}, .std = {0.2470, 0.2435, 0.2616}};

static const char *const FRAME_NAMES[DWS_FRAME_COUNT] = {"pixel", "standardized"};

const char *dws_frame_name(dws_frame f)
{
    return f >= 0 && f < DWS_FRAME_COUNT ? FRAME_NAMES[f] : "?";
}

int dws_frame_parse(const char *name, dws_frame *out)
{
    for (int f = 0; f < DWS_FRAME_COUNT; f++)
        if (!strcmp(name, FRAME_NAMES[f])) {
            *out = (dws_frame)f;
            return 0;
        }
    return -1;
}

int dws_input_affine_compose_frame(dws_input_affine *t, dws_frame f, dws_error *err)
{
    if (f == DWS_FRAME_PIXEL) return 0;
    /* x = std z + mean is the normalisation (z - mean') / std' with std' = 1 / std
     * and mean' = -mean / std. */
    const dws_input_norm *s = &DWS_CIFAR10_STANDARDIZATION;
    dws_input_norm inverse = {.n = s->n};
    for (int c = 0; c < s->n; c++) inverse.std[c] = 1.0 / s->std[c], inverse.mean[c] = -s->mean[c] / s->std[c];
    return dws_input_affine_compose_norm(t, &inverse, err);
}

int dws_input_affine_of_frame(dws_input_affine *t, int64_t d0, dws_frame f, dws_error *err)
{
    if (dws_input_affine_init(t, d0, err) != 0) return -1;
    if (f == DWS_FRAME_PIXEL || dws_input_affine_compose_norm(t, &DWS_CIFAR10_STANDARDIZATION, err) == 0) return 0;
    dws_input_affine_free(t);
    return -1;
}

int dws_mlp_to_frame(const dws_mlp *w, dws_frame f, dws_mlp *out, dws_error *err)
{
    dws_input_affine t;
    if (dws_input_affine_init(&t, w->widths[0], err) != 0) return -1;
    int rc = dws_input_affine_compose_frame(&t, f, err);
    if (rc == 0) rc = dws_mlp_fold_input(w, &t, out, err);
    if (rc == 0) out->frame = (int)f;
    dws_input_affine_free(&t);
    return rc;
}

int dws_mlp_to_pixel_frame(const dws_mlp *w, dws_frame from, dws_mlp *out, dws_error *err)
{
    dws_input_affine t;
    if (dws_input_affine_of_frame(&t, w->widths[0], from, err) != 0) return -1;
    int rc = dws_mlp_fold_input(w, &t, out, err);
    if (rc == 0) out->frame = DWS_FRAME_PIXEL;
    dws_input_affine_free(&t);
    return rc;
}

int dws_mlp_to_pixel_frame_backward(dws_mlp *g, dws_frame from, dws_error *err)
{
    dws_input_affine t;
    if (dws_input_affine_of_frame(&t, g->widths[0], from, err) != 0) return -1;
    int rc = dws_mlp_fold_input_backward(g, &t, err);
    dws_input_affine_free(&t);
    return rc;
}

int dws_input_affine_compose_norm(dws_input_affine *t, const dws_input_norm *norm, dws_error *err)
{
    if (!norm || norm->n == 0) return 0;
    if (norm->n < 0 || norm->n > DWS_INPUT_NORM_MAX || t->d0 % norm->n != 0) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "%d normalisation channels do not split %lld input features",
                      norm->n, (long long)t->d0);
        return -1;
    }
    for (int c = 0; c < norm->n; c++) {
        if (!isfinite(norm->mean[c]) || !isfinite(norm->std[c]) || norm->std[c] == 0.0) {
            dws_error_set(err, DWS_E_INVALID_ARGUMENT, "input normalisation of channel %d: mean %g, std %g", c,
                          norm->mean[c], norm->std[c]);
            return -1;
        }
    }
    int64_t per = t->d0 / norm->n;
    for (int64_t j = 0; j < t->d0; j++) {
        int c = (int)(t->src[j] / per);
        double ae = 1.0 / norm->std[c], ce = -norm->mean[c] / norm->std[c];
        t->shift[j] += t->scale[j] * ce;
        t->scale[j] *= ae;
    }
    return 0;
}

#define NORM_TEXT_MAX 256

/* Up to max comma-separated finite numbers; -1 on anything else. */
static int parse_list(const char *text, const char *what, double *out, int max, dws_error *err)
{
    if (strlen(text) > NORM_TEXT_MAX) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "%s is longer than %d characters", what, NORM_TEXT_MAX);
        return -1;
    }
    int n = 0;
    const char *p = text;
    for (;;) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno || !isfinite(v) || (*end && *end != ',') || n == max ||
            (unsigned char)*p <= ' ') {
            dws_error_set(err, DWS_E_INVALID_ARGUMENT, "%s must be %s finite numbers separated by commas",
                          what, max == 2 ? "2" : "1 or 3");
            return -1;
        }
        out[n++] = v;
        if (!*end) break;
        p = end + 1;
    }
    return n;
}

int dws_input_norm_parse(dws_input_norm *norm, const char *mean, const char *std, const char *range, dws_error *err)
{
    memset(norm, 0, sizeof *norm);
    if (range && (mean || std)) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "input range and input mean/std exclude each other");
        return -1;
    }
    if (range) {
        double r[2];
        int n = parse_list(range, "input range", r, 2, err);
        if (n < 0) return -1;
        if (n != 2 || !(r[0] < r[1]) || !isfinite(r[1] - r[0])) {
            dws_error_set(err, DWS_E_INVALID_ARGUMENT, "input range must be lo,hi with lo < hi");
            return -1;
        }
        norm->n = 1;   /* x = lo + (hi - lo) * pixel/255 = (pixel/255 - mean) / std */
        norm->std[0] = 1.0 / (r[1] - r[0]);
        norm->mean[0] = -r[0] / (r[1] - r[0]);
        return 0;
    }
    if (!mean && !std) return 0;
    if (!mean || !std) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "input mean and input std go together");
        return -1;
    }
    int nm = parse_list(mean, "input mean", norm->mean, DWS_INPUT_NORM_MAX, err);
    if (nm < 0) return -1;
    int ns = parse_list(std, "input std", norm->std, DWS_INPUT_NORM_MAX, err);
    if (ns < 0) return -1;
    if (nm != ns || nm == 2) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "input mean and std need 1 or 3 values each, the same count (%d and %d)",
                      nm, ns);
        return -1;
    }
    for (int c = 0; c < ns; c++) {
        if (norm->std[c] == 0.0) {
            dws_error_set(err, DWS_E_INVALID_ARGUMENT, "input std of channel %d is 0", c);
            return -1;
        }
    }
    norm->n = nm;
    return 0;
}
