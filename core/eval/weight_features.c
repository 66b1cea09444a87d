#include "eval.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int dws_weight_stats_count(int n_layers)
{
    return 2 * n_layers * DWS_WEIGHT_STATS_PER_TENSOR;
}

static int by_value(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static void tensor_stats(float *sorted, size_t n, double *out)
{
    double s = 0, ss = 0;
    for (size_t j = 0; j < n; j++) s += sorted[j];
    double mean = s / (double)n;
    for (size_t j = 0; j < n; j++) ss += (sorted[j] - mean) * (sorted[j] - mean);
    qsort(sorted, n, sizeof(float), by_value);
    out[0] = mean;
    out[1] = sqrt(ss / (double)n);
    for (int q = 0; q <= 4; q++) {   /* linear interpolation between order statistics */
        double pos = (double)(n - 1) * q / 4.0;
        size_t lo = (size_t)pos;
        double frac = pos - (double)lo;
        out[2 + q] = lo + 1 < n ? sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]) : sorted[lo];
    }
}

int dws_weight_stats(const dws_mlp *m, double *out, dws_error *err)
{
    size_t largest = 0;
    for (int l = 0; l < m->n_layers; l++) {
        size_t n = (size_t)m->widths[l + 1] * (size_t)m->widths[l];
        if (n > largest) largest = n;
    }
    float *buf = malloc(sizeof(float) * largest);
    if (!buf) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "weight statistics: out of memory");
        return -1;
    }
    for (int l = 0; l < m->n_layers; l++)
        for (int bias = 0; bias < 2; bias++) {
            size_t n = (size_t)m->widths[l + 1] * (bias ? 1 : (size_t)m->widths[l]);
            memcpy(buf, bias ? m->b[l] : m->W[l], sizeof(float) * n);
            tensor_stats(buf, n, out + (2 * l + bias) * DWS_WEIGHT_STATS_PER_TENSOR);
        }
    free(buf);
    return 0;
}

double dws_padded_dot(const dws_mlp *a, const dws_mlp *b)
{
    int L = a->n_layers;
    if (L != b->n_layers || a->widths[0] != b->widths[0] || a->widths[L] != b->widths[L]) return NAN;
    double s = 0;
    for (int l = 0; l < L; l++) {
        int64_t rows = a->widths[l + 1] < b->widths[l + 1] ? a->widths[l + 1] : b->widths[l + 1];
        int64_t cols = a->widths[l] < b->widths[l] ? a->widths[l] : b->widths[l];
        for (int64_t r = 0; r < rows; r++)
            s += cblas_sdot((int)cols, a->W[l] + r * a->widths[l], 1, b->W[l] + r * b->widths[l], 1);
        s += cblas_sdot((int)rows, a->b[l], 1, b->b[l], 1);
    }
    return s;
}
