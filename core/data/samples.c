#include "data.h"

#include <string.h>

dws_samples dws_samples_of_image_set(const dws_image_set *s)
{
    dws_samples v = {.n = s->n, .dim = s->dim, .pixels = s->pixels, .labels = s->labels};
    return v;
}

dws_samples dws_samples_of_floats(const float *x, const uint8_t *labels, size_t n, size_t dim)
{
    dws_samples v = {.n = n, .dim = dim, .x = x, .labels = labels};
    return v;
}

void dws_samples_gather(const dws_samples *s, const uint32_t *which, size_t first, size_t k, float *x, uint8_t *y)
{
    for (size_t i = 0; i < k; i++) {
        size_t view_row = which ? which[i] : first + i;
        size_t row = s->rows ? s->rows[view_row] : view_row;
        float *restrict dst = x + i * s->dim;
        const size_t dim = s->dim;
        if (s->x) {
            memcpy(dst, s->x + row * dim, dim * sizeof(float));
        } else {
            const uint8_t *restrict src = s->pixels + row * dim;
            for (size_t j = 0; j < dim; j++) dst[j] = (float)src[j] / 255.0f;
        }
        if (s->norm && s->norm->n > 0) {
            const size_t per = dim / (size_t)s->norm->n;
            for (size_t j = 0; j < dim; j++) {
                const int c = (int)(j / per);
                dst[j] = (float)((dst[j] - s->norm->mean[c]) / s->norm->std[c]);
            }
        }
        if (y) y[i] = s->labels[row];
    }
}
