#include "eval.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define MAGIC "DWSBASE1"
#define METHOD_BYTES 16

static int put(FILE *f, const void *p, size_t n) { return fwrite(p, 1, n, f) == n ? 0 : -1; }
static int get(FILE *f, void *p, size_t n) { return fread(p, 1, n, f) == n ? 0 : -1; }

int dws_baseline_save(const dws_baseline *a, const char *path, dws_error *err)
{
    char method[METHOD_BYTES] = {0};
    snprintf(method, sizeof method, "%s", a->method);
    uint32_t n_layers = 0, hidden = 0;
    int64_t widths[DWS_MAX_LAYERS + 1] = {0};
    float scales[2 * DWS_MAX_LAYERS] = {0};
    if (!strcmp(a->method, "flat-mlp")) {
        int nl, h, ns;
        dws_flat_shape(a, &nl, widths, &h);
        const float *sc = dws_flat_scales(a, &ns);
        memcpy(scales, sc, sizeof(float) * (size_t)ns);
        n_layers = (uint32_t)nl;
        hidden = (uint32_t)h;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    uint64_t n = a->n_params;
    int bad = !f || put(f, MAGIC, 8) || put(f, method, METHOD_BYTES) || put(f, &n_layers, 4) ||
              put(f, widths, 8 * (n_layers + 1)) || put(f, &hidden, 4) || put(f, scales, 4 * 2 * n_layers) ||
              put(f, &n, 8) || put(f, a->params, sizeof(float) * a->n_params);
    if (f && fclose(f)) bad = 1;
    if (bad || rename(tmp, path)) {
        remove(tmp);
        dws_error_set(err, DWS_E_IO, "cannot write %s", path);
        return -1;
    }
    return 0;
}

dws_baseline *dws_baseline_load(const char *path, int max_batch, dws_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        dws_error_set(err, DWS_E_IO, "cannot read %s", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char magic[8], method[METHOD_BYTES];
    uint32_t n_layers, hidden;
    int64_t widths[DWS_MAX_LAYERS + 1];
    float scales[2 * DWS_MAX_LAYERS];
    uint64_t n;
    dws_baseline *a = NULL;
    if (get(f, magic, 8) || memcmp(magic, MAGIC, 8) || get(f, method, METHOD_BYTES) || method[METHOD_BYTES - 1] ||
        get(f, &n_layers, 4) || n_layers > DWS_MAX_LAYERS || get(f, widths, 8 * (n_layers + 1)) || get(f, &hidden, 4) ||
        get(f, scales, 4 * 2 * n_layers) || get(f, &n, 8) || size < 0 || n != ((uint64_t)size - (uint64_t)ftell(f)) / 4)
        goto bad;
    if (!strcmp(method, "rescale")) {
        if (n != 2) goto bad;
        a = dws_rescale_create(err);
    } else if (!strcmp(method, "flat-mlp") && n_layers >= 1 && hidden >= 1 && hidden <= 4096) {
        /* The size the shape implies must be the size present before anything is allocated. */
        for (uint32_t l = 0; l <= n_layers; l++)
            if (widths[l] < 1 || widths[l] > (1 << 16)) goto bad;
        uint64_t P = dws_mlp_param_count((int)n_layers, widths), H = hidden;
        if (n != 2 * H * P + H * H + 2 * H + P) goto bad;
        a = dws_flat_create((int)n_layers, widths, (int)hidden, max_batch, 0, err);
    } else {
        goto bad;
    }
    if (!a) goto fail;
    if (a->n_params != n) goto bad;
    if (get(f, a->params, sizeof(float) * a->n_params)) goto bad;
    if (!strcmp(method, "flat-mlp")) dws_flat_set_scales(a, scales);
    fclose(f);
    return a;
bad:
    dws_error_set(err, DWS_E_BAD_MODEL_FILE, "%s is not a baseline adapter file this build reads", path);
fail:
    if (a) a->destroy(a);
    fclose(f);
    return NULL;
}
