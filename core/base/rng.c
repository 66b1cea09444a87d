#include "base.h"

#include <math.h>

uint64_t dws_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

void dws_rng_seed(dws_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) {
        x += 0x9e3779b97f4a7c15ULL;
        r->s[i] = dws_mix64(x);
    }
    r->has_spare = 0;
    r->spare = 0.0;
}

void dws_rng_seed_stream(dws_rng *r, uint64_t seed, uint64_t index)
{
    dws_rng_seed(r, dws_mix64(seed) ^ dws_mix64(index * 0xd1342543de82ef95ULL + 1));
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t dws_rng_u64(dws_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[0] + s[3], 23) + s[0];
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double dws_rng_uniform(dws_rng *r)
{
    return (double)(dws_rng_u64(r) >> 11) * 0x1.0p-53;
}

uint64_t dws_rng_below(dws_rng *r, uint64_t n)
{
    /* Rejection keeps every residue equally likely. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = dws_rng_u64(r);
    while (x >= limit);
    return x % n;
}

double dws_rng_normal(dws_rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    /* Marsaglia's polar method: no trigonometry, two values per accepted pair. */
    double u, v, s;
    do {
        u = 2.0 * dws_rng_uniform(r) - 1.0;
        v = 2.0 * dws_rng_uniform(r) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    double f = sqrt(-2.0 * log(s) / s);
    r->spare = v * f;
    r->has_spare = 1;
    return u * f;
}

/* Hörmann's PTRS transformed rejection (1993), exact for lambda >= 10. */
static int64_t poisson_ptrs(dws_rng *r, double lam)
{
    double slam = sqrt(lam), loglam = log(lam);
    double b = 0.931 + 2.53 * slam;
    double a = -0.059 + 0.02483 * b;
    double invalpha = 1.1239 + 1.1328 / (b - 3.4);
    double vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
        double u = dws_rng_uniform(r) - 0.5;
        double v = dws_rng_uniform(r);
        double us = 0.5 - fabs(u);
        int64_t k = (int64_t)floor((2 * a / us + b) * u + lam + 0.43);
        if (us >= 0.07 && v <= vr) return k;
        if (k < 0 || (us < 0.013 && v > us)) continue;
        if (log(v) + log(invalpha) - log(a / (us * us) + b) <= -lam + (double)k * loglam - lgamma((double)k + 1))
            return k;
    }
}

int64_t dws_rng_poisson(dws_rng *r, double lambda)
{
    if (!(lambda > 0.0)) return 0;
    if (lambda >= 10.0) return poisson_ptrs(r, lambda);
    /* Knuth: multiply uniforms until the product drops below e^-lambda. */
    double limit = exp(-lambda), p = 1.0;
    int64_t k = -1;
    do {
        k++;
        p *= dws_rng_uniform(r);
    } while (p > limit);
    return k;
}

void dws_rng_shuffle_u32(dws_rng *r, uint32_t *idx, uint32_t n)
{
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = (uint32_t)dws_rng_below(r, i);
        uint32_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}
