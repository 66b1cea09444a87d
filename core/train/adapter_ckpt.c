#include "train.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define CKPT_MAGIC "DWSCKPT1"

typedef struct {
    char magic[8];
    uint64_t n_params;
    int64_t step, best_step, total_steps, opt_step;
    double best_val;
    dws_rng rng;
} ckpt_header;

int dws_ckpt_save(const char *path, const float *params, const dws_adamw *opt, const dws_ckpt_state *s,
                  dws_error *err)
{
    ckpt_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, CKPT_MAGIC, 8);
    h.n_params = opt->opt.n;
    h.step = s->step;
    h.best_step = s->best_step;
    h.total_steps = s->total_steps;
    h.opt_step = opt->opt.step;
    h.best_val = s->best_val;
    h.rng = s->rng;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    size_t n = opt->opt.n;
    int ok = f && fwrite(&h, sizeof h, 1, f) == 1 && fwrite(params, sizeof(float), n, f) == n &&
             fwrite(opt->opt.m, sizeof(float), n, f) == n && fwrite(opt->opt.v, sizeof(float), n, f) == n;
    if (f && fclose(f) != 0) ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        dws_error_set(err, DWS_E_IO, "cannot write checkpoint %s: %s", path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

int dws_ckpt_load(const char *path, float *params, dws_adamw *opt, dws_ckpt_state *s, dws_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        dws_error_set(err, DWS_E_IO, "cannot open checkpoint %s: %s", path, strerror(errno));
        return -1;
    }
    ckpt_header h;
    size_t n = opt->opt.n;
    int ok = fread(&h, sizeof h, 1, f) == 1 && !memcmp(h.magic, CKPT_MAGIC, 8) && h.n_params == n &&
             h.total_steps == s->total_steps && h.step >= 0 && h.step <= h.total_steps;
    ok = ok && fread(params, sizeof(float), n, f) == n && fread(opt->opt.m, sizeof(float), n, f) == n &&
         fread(opt->opt.v, sizeof(float), n, f) == n && fgetc(f) == EOF;
    fclose(f);
    if (!ok) {
        dws_error_set(err, DWS_E_BAD_MODEL_FILE,
                      "%s is not a checkpoint of this run (architecture or step count differ, or it is truncated)",
                      path);
        return -1;
    }
    opt->opt.step = h.opt_step;
    s->step = h.step;
    s->best_step = h.best_step;
    s->best_val = h.best_val;
    s->rng = h.rng;
    return 0;
}
