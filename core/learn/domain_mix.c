/* The domains a conditioned adapter trains and validates on (learn.h, domain mix). */
#include <string.h>

#include "learn.h"

void dws_domain_mix_defaults(dws_domain_mix *m)
{
    memset(m, 0, sizeof *m);
    m->p_any = 0.15;
    m->p_default = 0.10;
    m->p_chain = 0.10;
    dws_error e;
    dws_domain_parse(DWS_DEFAULT_DOMAIN, &m->default_domain, &e);
}

static dws_domain_step draw_step(dws_rng *rng)
{
    dws_domain_step s = {(dws_corruption)dws_rng_below(rng, DWS_CORRUPT_COUNT), 1 + (int)dws_rng_below(rng, 5)};
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
    for (int k = 0; k < d->n_steps; k++) d->steps[k] = draw_step(rng);
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
