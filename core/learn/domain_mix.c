/* The domains a conditioned adapter trains and validates on (learn.h, domain mix). */
#include <stdio.h>
#include <string.h>

#include "learn.h"

void dws_domain_mix_defaults(dws_domain_mix *m)
{
    memset(m, 0, sizeof *m);
    m->p_any = 0.15;
    m->p_default = 0.10;
    m->p_chain = 0.10;
    for (int t = 0; t < DWS_CORRUPT_COUNT; t++) m->type_weight[t] = 1;
    dws_error e;
    dws_domain_parse(DWS_DEFAULT_DOMAIN, &m->default_domain, &e);
}

int dws_domain_mix_emphasise(dws_domain_mix *m, const char *types, double weight, dws_error *err)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", types);
    for (char *save = NULL, *name = strtok_r(buf, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        int t = 0;
        while (t < DWS_CORRUPT_COUNT && strcmp(name, dws_corruption_name(t))) t++;
        if (t == DWS_CORRUPT_COUNT) {
            dws_error_set(err, DWS_E_INVALID_ARGUMENT, "unknown corruption '%s'; known: %s", name,
                          dws_corruption_names());
            return -1;
        }
        m->type_weight[t] = weight;
    }
    return 0;
}

void dws_domain_mix_json(const dws_domain_mix *m, cJSON *obj)
{
    cJSON_AddNumberToObject(obj, "p_any", m->p_any);
    cJSON_AddNumberToObject(obj, "p_default", m->p_default);
    cJSON_AddNumberToObject(obj, "p_chain", m->p_chain);
    cJSON *w = cJSON_AddObjectToObject(obj, "type_weight");
    for (int t = 0; t < DWS_CORRUPT_COUNT; t++) cJSON_AddNumberToObject(w, dws_corruption_name(t), m->type_weight[t]);
}

static dws_domain_step draw_step(const dws_domain_mix *m, dws_rng *rng)
{
    double total = 0;
    for (int t = 0; t < DWS_CORRUPT_COUNT; t++) total += m->type_weight[t];
    double u = dws_rng_uniform(rng) * total;
    int t = 0;
    while (t + 1 < DWS_CORRUPT_COUNT && u >= m->type_weight[t]) u -= m->type_weight[t++];
    dws_domain_step s = {(dws_corruption)t, 1 + (int)dws_rng_below(rng, 5)};
    return s;
}

void dws_domain_mix_draw_named(const dws_domain_mix *m, dws_rng *rng, dws_domain *d)
{
    double u = dws_rng_uniform(rng) * (1.0 - m->p_any);
    memset(d, 0, sizeof *d);
    if (u < m->p_default) {
        *d = m->default_domain;
        return;
    }
    d->n_steps = u < m->p_default + m->p_chain ? 2 : 1;
    for (int k = 0; k < d->n_steps; k++) d->steps[k] = draw_step(m, rng);
}

void dws_domain_mix_draw(const dws_domain_mix *m, dws_rng *rng, int *any, dws_domain *d)
{
    *any = dws_rng_uniform(rng) < m->p_any;
    if (!*any) dws_domain_mix_draw_named(m, rng, d);
}

dws_cond dws_domain_mix_cond(int any, const dws_domain *d)
{
    dws_cond c = {.any = any};
    for (int k = 0; !any && k < d->n_steps && k < DWS_COND_MAX_STEPS; k++) {
        c.type[k] = (int)d->steps[k].kind;
        c.severity[k] = d->steps[k].severity;
        c.n_steps = k + 1;
    }
    return c;
}

int dws_domain_mix_apply_any(const dws_domain_mix *m, dws_rng *rng, int chunk, float *x, size_t n, uint64_t seed,
                             dws_error *err)
{
    for (size_t i = 0; i < n; i += (size_t)chunk) {
        dws_domain d;
        dws_domain_mix_draw_named(m, rng, &d);
        size_t k = n - i < (size_t)chunk ? n - i : (size_t)chunk;
        if (dws_domain_apply(&d, 3, 32, 32, x + i * 3072, k, seed, i, err) != 0) return -1;
    }
    return 0;
}

int dws_val_grid(dws_domain *grid, int max)
{
    static const char *const SPECS[] = {
        DWS_DEFAULT_DOMAIN, "contrast:3",   "contrast:5",       "fog:3",          "fog:5",
        "brightness:5",     "saturate:5",   "frost:3",          "snow:3",         "spatter:3",
        "gaussian_noise:5", "gaussian_blur:3", "jpeg_compression:5", "pixelate:5",
    };
    int n = 0;
    for (size_t i = 0; i < sizeof SPECS / sizeof SPECS[0] && n < max; i++) {
        dws_error e;
        if (dws_domain_parse(SPECS[i], &grid[n], &e) == 0) n++;
    }
    return n;
}
