/* A small seeded random generator (xoshiro256++ seeded through splitmix64) with
 * uniform, normal and Poisson draws. State lives in the caller's struct, never in a
 * global, so concurrent users and reproducible per-image streams are both easy. */
#ifndef DWS_RNG_H
#define DWS_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
    int has_spare;      /* normal draws come in pairs */
    double spare;
} dws_rng;

/* splitmix64 step: also a good 64-bit mixing function for deriving seeds. */
uint64_t dws_mix64(uint64_t x);

void dws_rng_seed(dws_rng *r, uint64_t seed);
/* Seeds an independent stream for item `index` of a set seeded by `seed`, so that
 * item i gets the same numbers whatever order or batch it is processed in. */
void dws_rng_seed_stream(dws_rng *r, uint64_t seed, uint64_t index);

uint64_t dws_rng_u64(dws_rng *r);
double dws_rng_uniform(dws_rng *r);               /* [0, 1) with 53 random bits */
uint64_t dws_rng_below(dws_rng *r, uint64_t n);   /* uniform in [0, n), unbiased; n > 0 */
double dws_rng_normal(dws_rng *r);                /* N(0, 1) */
int64_t dws_rng_poisson(dws_rng *r, double lambda);

/* Fisher-Yates shuffle of idx[0..n). */
void dws_rng_shuffle_u32(dws_rng *r, uint32_t *idx, uint32_t n);

#endif
