#include "template_conv.h"

#include <string.h>

/* Inner loops run over a runtime channel count (see ws_pass.c). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("vect-cost-model=dynamic")
#endif

/* Output positions [lo, hi) along an axis of n whose input at offset d exists. */
static void tap_range(int d, int n, int *lo, int *hi)
{
    *lo = d < 0 ? -d : 0;
    *hi = d > 0 ? n - d : n;
}

static inline int64_t at(const dws_image_shape *im, int plane, int y, int x)
{
    return ((int64_t)plane * im->h + y) * im->w + x;
}

void dws_tconv_forward(const dws_image_shape *im, int c, const float *K, const float *z, float *out)
{
    memcpy(out, z, sizeof(float) * (size_t)(at(im, im->planes, 0, 0) * c));
    for (int tap = 0; tap < DWS_TCONV_TAPS; tap++) {
        int dy = tap / 3 - 1, dx = tap % 3 - 1;
        const float *restrict k = K + (int64_t)tap * c;
        int y0, y1, x0, x1;
        tap_range(dy, im->h, &y0, &y1);
        tap_range(dx, im->w, &x0, &x1);
        for (int plane = 0; plane < im->planes; plane++)
            for (int y = y0; y < y1; y++) {
                float *restrict o = out + at(im, plane, y, x0) * c;
                const float *restrict s = z + at(im, plane, y + dy, x0 + dx) * c;
                for (int x = 0; x < x1 - x0; x++)
                    for (int ch = 0; ch < c; ch++) o[x * c + ch] += k[ch] * s[x * c + ch];
            }
    }
}

void dws_tconv_backward(const dws_image_shape *im, int c, const float *K, const float *z, const float *g, float *dz,
                        float *dK)
{
    memcpy(dz, g, sizeof(float) * (size_t)(at(im, im->planes, 0, 0) * c));
    for (int tap = 0; tap < DWS_TCONV_TAPS; tap++) {
        int dy = tap / 3 - 1, dx = tap % 3 - 1;
        const float *restrict k = K + (int64_t)tap * c;
        float *restrict dk = dK + (int64_t)tap * c;
        int y0, y1, x0, x1;
        tap_range(dy, im->h, &y0, &y1);
        tap_range(dx, im->w, &x0, &x1);
        for (int plane = 0; plane < im->planes; plane++)
            for (int y = y0; y < y1; y++) {
                const float *restrict go = g + at(im, plane, y, x0) * c;
                const float *restrict zs = z + at(im, plane, y + dy, x0 + dx) * c;
                float *restrict ds = dz + at(im, plane, y + dy, x0 + dx) * c;
                for (int x = 0; x < x1 - x0; x++)
                    for (int ch = 0; ch < c; ch++) {
                        ds[x * c + ch] += k[ch] * go[x * c + ch];
                        dk[ch] += go[x * c + ch] * zs[x * c + ch];
                    }
            }
    }
}
