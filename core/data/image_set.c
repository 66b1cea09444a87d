#include "data.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void dws_image_set_free(dws_image_set *s)
{
    if (!s) return;
    free(s->pixels);
    free(s->labels);
    memset(s, 0, sizeof *s);
}

void dws_image_set_to_float(const dws_image_set *s, size_t first, size_t count, float *x)
{
    const uint8_t *p = s->pixels + first * s->dim;
    size_t total = count * s->dim;
    for (size_t i = 0; i < total; i++) x[i] = (float)p[i] / 255.0f;
}

float *dws_image_set_float_copy(const dws_image_set *s, dws_error *err)
{
    float *x = malloc(s->n * s->dim * sizeof(float) + 1);
    if (!x) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate %zu x %zu floats", s->n, s->dim);
        return NULL;
    }
    dws_image_set_to_float(s, 0, s->n, x);
    return x;
}

void dws_float_to_pixels(const float *x, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        float v = roundf(x[i] * 255.0f);
        out[i] = v > 0.f ? (v < 255.f ? (uint8_t)v : 255) : 0;   /* NaN -> 0 */
    }
}
