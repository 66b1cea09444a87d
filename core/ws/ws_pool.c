#include "ws_pool.h"

#include <stdlib.h>
#include <string.h>


int dws_axes_init(dws_axes *ax, int n_layers, const int64_t *widths, int in_groups, dws_error *err)
{
    memset(ax, 0, sizeof *ax);
    if (n_layers < 1 || n_layers > DWS_MAX_LAYERS) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "depth %d is outside 1..%d", n_layers, DWS_MAX_LAYERS);
        return -1;
    }
    int L = n_layers;
    for (int n = 0; n <= L; n++) {
        if (widths[n] < 1) {
            dws_error_set(err, DWS_E_SHAPE_MISMATCH, "width d_%d is %lld", n, (long long)widths[n]);
            return -1;
        }
    }
    if (widths[L] > DWS_MAX_EXACT_CLASSES) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "%lld classes: at most %d are supported", (long long)widths[L],
                      DWS_MAX_EXACT_CLASSES);
        return -1;
    }
    if (in_groups < 1 || in_groups > DWS_MAX_IN_GROUPS || widths[0] % in_groups != 0) {
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "d_0 = %lld cannot be cut into %d input groups (at most %d)",
                      (long long)widths[0], in_groups, DWS_MAX_IN_GROUPS);
        return -1;
    }
    ax->n_layers = L;
    for (int n = 0; n <= L; n++) {
        ax->d[n] = widths[n];
        ax->s[n] = n == L ? widths[L] : n == 0 ? in_groups : 1;
        ax->z[n] = widths[n] / ax->s[n];
    }
    for (int n = 0; n < L; n++) {
        int f = 0;
        if (n >= 1) {
            ax->row_slot0[n] = f;
            f += (int)ax->s[n - 1];
            ax->bias_slot0[n] = f;
            f += 1;
        }
        ax->col_slot0[n] = f;
        f += (int)ax->s[n + 1];
        ax->feat_slots[n] = f;
    }
    int a = 0;
    for (int t = 0; t < L; t++) {
        ax->gW[t] = a;
        a += (int)(ax->s[t + 1] * ax->s[t]);
        ax->gb[t] = a;
        a += (int)ax->s[t + 1];
    }
    ax->n_global = a;
    return 0;
}

size_t dws_pool_floats(const dws_axes *ax, int batch, int channels)
{
    size_t n = (size_t)ax->n_global;
    for (int f = 0; f < ax->n_layers; f++) n += (size_t)ax->d[f] * (size_t)ax->feat_slots[f];
    return n * (size_t)batch * (size_t)channels;
}

void dws_pool_place(dws_pool *p, const dws_axes *ax, int batch, int channels, float *data)
{
    memset(p, 0, sizeof *p);
    p->ax = *ax;
    p->batch = batch;
    p->channels = channels;
    p->data = data;
    p->n_floats = dws_pool_floats(ax, batch, channels);
    size_t per_net = (size_t)batch * (size_t)channels;
    float *q = data;
    for (int n = 0; n < ax->n_layers; n++) {
        p->feat[n] = q;
        q += (size_t)ax->d[n] * (size_t)ax->feat_slots[n] * per_net;
    }
    p->global = q;
}

int dws_pool_init(dws_pool *p, const dws_axes *ax, int batch, int channels, dws_error *err)
{
    float *data = calloc(dws_pool_floats(ax, batch, channels), sizeof(float));
    if (!data) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate pooled summaries");
        return -1;
    }
    dws_pool_place(p, ax, batch, channels, data);
    p->owns_data = 1;
    return 0;
}

void dws_pool_free(dws_pool *p)
{
    if (!p) return;
    if (p->owns_data) free(p->data);
    memset(p, 0, sizeof *p);
}

static void scale_slots(float *v, int64_t n_slots, int c, float s)
{
    for (int64_t i = 0; i < n_slots * c; i++) v[i] *= s;
}

void dws_pool_divide_counts(dws_pool *p)
{
    const dws_axes *ax = &p->ax;
    int c = p->channels, L = ax->n_layers;
    for (int b = 0; b < p->batch; b++) {
        for (int n = 0; n < L; n++) {
            for (int64_t j = 0; j < ax->d[n]; j++) {
                float *row = dws_pool_feat(p, n, b, j);
                if (n >= 1) scale_slots(row + (size_t)ax->row_slot0[n] * c, ax->s[n - 1], c, 1.f / (float)ax->z[n - 1]);
                scale_slots(row + (size_t)ax->col_slot0[n] * c, ax->s[n + 1], c, 1.f / (float)ax->z[n + 1]);
            }
        }
        float *g = dws_pool_global(p, b);
        for (int t = 0; t < L; t++) {
            scale_slots(g + (size_t)ax->gW[t] * c, ax->s[t + 1] * ax->s[t], c, 1.f / (float)(ax->z[t + 1] * ax->z[t]));
            scale_slots(g + (size_t)ax->gb[t] * c, ax->s[t + 1], c, 1.f / (float)ax->z[t + 1]);
        }
    }
}
