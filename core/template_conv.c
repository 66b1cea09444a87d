#include "template_conv.h"

#include <string.h>

#include "hot_loop.h"

/* Eight floats as one value (GCC/clang vector extension: AVX in the x86-64-v3
 * variant, pairs of SSE registers otherwise); AT8 views 8 floats at any address. */
typedef float v8f __attribute__((vector_size(32)));
typedef float v8f_any __attribute__((vector_size(32), aligned(4), may_alias));
#define AT8(p) (*(v8f_any *)(p))

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("vect-cost-model=dynamic")   /* see hot_loop.h */
#endif

void dws_tconv_tile(const dws_image_shape *im, int c, const float *K, float *tiled)
{
    for (int tap = 0; tap < DWS_TCONV_TAPS; tap++)
        for (int x = 0; x < im->w; x++)
            memcpy(tiled + ((size_t)tap * im->w + x) * c, K + (size_t)tap * c, sizeof(float) * (size_t)c);
}

/* Copies a plane ([h][w][c]) into the middle of a zeroed (h + 2) x (w + 2) x c
 * buffer. */
static void pad_plane(const dws_image_shape *im, int c, const float *src, float *pad)
{
    const int64_t rowf = (int64_t)im->w * c, prow = rowf + 2 * c;
    memset(pad, 0, sizeof(float) * (size_t)prow);
    memset(pad + (im->h + 1) * prow, 0, sizeof(float) * (size_t)prow);
    for (int y = 0; y < im->h; y++) {
        float *r = pad + (y + 1) * prow;
        memset(r, 0, sizeof(float) * (size_t)c);
        memcpy(r + c, src + y * rowf, sizeof(float) * (size_t)rowf);
        memset(r + c + rowf, 0, sizeof(float) * (size_t)c);
    }
}

/* o += centre + sum over taps of k[tap] * (row dy, shifted dx) of a padded plane;
 * r points at padded row y (the output's own row) at column 0; k is the tiled
 * kernel, tap t at k + t * n. flip = 1 reflects the taps (the adjoint). */
DWS_HOT_LOOP static void conv_row(const float *restrict r, int64_t prow, int64_t c, int64_t n,
                                  const float *restrict k, int flip, float *restrict o)
{
    const float *restrict above = flip ? r + prow : r - prow, *restrict below = flip ? r - prow : r + prow;
    const int64_t left = flip ? c : -c, right = -left;
    if (c % 8 == 0) {
        /* Eight channels at a time with their nine kernel values held in registers. */
        for (int64_t g = 0; g < c; g += 8) {
            v8f kv[DWS_TCONV_TAPS];
            for (int t = 0; t < DWS_TCONV_TAPS; t++) kv[t] = AT8(k + t * n + g);
            for (int64_t j = g; j < n; j += c) {
                v8f acc = AT8(o + j) + AT8(r + j);
                acc += kv[0] * AT8(above + j + left) + kv[1] * AT8(above + j) + kv[2] * AT8(above + j + right);
                acc += kv[3] * AT8(r + j + left) + kv[4] * AT8(r + j) + kv[5] * AT8(r + j + right);
                acc += kv[6] * AT8(below + j + left) + kv[7] * AT8(below + j) + kv[8] * AT8(below + j + right);
                AT8(o + j) = acc;
            }
        }
        return;
    }
    const float *restrict k0 = k, *restrict k1 = k + n, *restrict k2 = k + 2 * n, *restrict k3 = k + 3 * n;
    const float *restrict k4 = k + 4 * n, *restrict k5 = k + 5 * n, *restrict k6 = k + 6 * n;
    const float *restrict k7 = k + 7 * n, *restrict k8 = k + 8 * n;
    for (int64_t j = 0; j < n; j++) {
        o[j] += r[j] + k0[j] * above[j + left] + k1[j] * above[j] + k2[j] * above[j + right] +
                k3[j] * r[j + left] + k4[j] * r[j] + k5[j] * r[j + right] + k6[j] * below[j + left] +
                k7[j] * below[j] + k8[j] * below[j + right];
    }
}

/* dK[tap][ch] += sum over x of g(y, x, ch) z(y + dy, x + dx, ch) for one output
 * row; r: padded row y of z. */
DWS_HOT_LOOP static void kernel_grad_row(const float *restrict g, const float *restrict r, int64_t prow, int64_t c,
                                         int64_t n, float *restrict dK)
{
    if (c % 8 == 0) {   /* nine accumulators in registers, as in conv_row */
        for (int64_t g0 = 0; g0 < c; g0 += 8) {
            v8f acc[DWS_TCONV_TAPS] = {{0}};
            for (int64_t j = g0; j < n; j += c) {
                v8f gv = AT8(g + j);
                for (int t = 0; t < DWS_TCONV_TAPS; t++) acc[t] += gv * AT8(r + (t / 3 - 1) * prow + (t % 3 - 1) * c + j);
            }
            for (int t = 0; t < DWS_TCONV_TAPS; t++) AT8(dK + t * c + g0) += acc[t];
        }
        return;
    }
    for (int t = 0; t < DWS_TCONV_TAPS; t++) {
        const float *restrict zs = r + (t / 3 - 1) * prow + (t % 3 - 1) * c;
        for (int64_t x = 0; x < n; x += c)
            for (int64_t ch = 0; ch < c; ch++) dK[t * c + ch] += g[x + ch] * zs[x + ch];
    }
}

void dws_tconv_forward(const dws_image_shape *im, int c, const float *K_tiled, const float *z, float *out,
                       float *scratch)
{
    const int64_t rowf = (int64_t)im->w * c, prow = rowf + 2 * c;
    pad_plane(im, c, z, scratch);
    for (int y = 0; y < im->h; y++)
        conv_row(scratch + (y + 1) * prow + c, prow, c, rowf, K_tiled, 0, out + y * rowf);
}

void dws_tconv_backward(const dws_image_shape *im, int c, const float *K_tiled, const float *z, const float *g,
                        float *dz, float *dK, float *scratch)
{
    const int64_t rowf = (int64_t)im->w * c, prow = rowf + 2 * c;
    /* dz: the same convolution of g with the kernel reflected. */
    pad_plane(im, c, g, scratch);
    for (int y = 0; y < im->h; y++)
        conv_row(scratch + (y + 1) * prow + c, prow, c, rowf, K_tiled, 1, dz + y * rowf);
    pad_plane(im, c, z, scratch);
    for (int y = 0; y < im->h; y++)
        kernel_grad_row(g + y * rowf, scratch + (y + 1) * prow + c, prow, c, rowf, dK);
}
