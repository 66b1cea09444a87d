#include "template_conv.h"

#include <string.h>

#include "hot_loop.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("vect-cost-model=dynamic", "fp-contract=fast")   /* see hot_loop.h */
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
    const int64_t rowf = (int64_t)im->w * c;
    dws_tconv_pad_border(im, c, pad);
    for (int y = 0; y < im->h; y++)
        memcpy(dws_tconv_pad_row(im, c, pad, y), src + y * rowf, sizeof(float) * (size_t)rowf);
}

/* o = centre + sum over taps of k[tap] * (row dy, shifted dx) of a padded plane;
 * r points at padded row y (the output's own row) at column 0; k is the tiled
 * kernel, tap t at k + t * n. flip = 1 reflects the taps (the adjoint): tap t
 * then takes kernel 8 - t, which mirrors both dy and dx. */
DWS_HOT_LOOP static void conv_row(const float *restrict r, int64_t prow, int64_t c, int64_t n,
                                  const float *restrict k, int flip, float *restrict o)
{
    if (c % 8 == 0) {
        /* Eight channels at a time, the nine kernel values in registers, and each
         * input row's values at x - 1, x, x + 1 rotated along x (three loads per
         * output, not nine). */
        for (int64_t g = 0; g < c; g += 8) {
            v8f kv[DWS_TCONV_TAPS];
            for (int t = 0; t < DWS_TCONV_TAPS; t++) kv[t] = AT8(k + (flip ? 8 - t : t) * n + g);
            const float *up = r - prow + g, *mid = r + g, *dn = r + prow + g;
            v8f u0 = AT8(up - c), u1 = AT8(up), m0 = AT8(mid - c), m1 = AT8(mid), d0 = AT8(dn - c), d1 = AT8(dn);
            for (int64_t j = 0; j < n; j += c) {
                v8f u2 = AT8(up + j + c), m2 = AT8(mid + j + c), d2 = AT8(dn + j + c);
                v8f acc = m1;
                acc += kv[0] * u0 + kv[1] * u1 + kv[2] * u2;
                acc += kv[3] * m0 + kv[4] * m1 + kv[5] * m2;
                acc += kv[6] * d0 + kv[7] * d1 + kv[8] * d2;
                AT8(o + g + j) = acc;
                u0 = u1, u1 = u2, m0 = m1, m1 = m2, d0 = d1, d1 = d2;
            }
        }
        return;
    }
    const float *restrict above = flip ? r + prow : r - prow, *restrict below = flip ? r - prow : r + prow;
    const int64_t left = flip ? c : -c, right = -left;
    const float *restrict k0 = k, *restrict k1 = k + n, *restrict k2 = k + 2 * n, *restrict k3 = k + 3 * n;
    const float *restrict k4 = k + 4 * n, *restrict k5 = k + 5 * n, *restrict k6 = k + 6 * n;
    const float *restrict k7 = k + 7 * n, *restrict k8 = k + 8 * n;
    for (int64_t j = 0; j < n; j++) {
        o[j] = r[j] + k0[j] * above[j + left] + k1[j] * above[j] + k2[j] * above[j + right] +
                k3[j] * r[j + left] + k4[j] * r[j] + k5[j] * r[j + right] + k6[j] * below[j + left] +
                k7[j] * below[j] + k8[j] * below[j + right];
    }
}

/* dK[tap][ch] += sum over positions of g(y, x, ch) z(y + dy, x + dx, ch), from
 * both planes padded (g is zero on the border, so one flat run over the padded
 * plane from the first to the last inner position covers every row). */
DWS_HOT_LOOP static void kernel_grad_plane(const dws_image_shape *im, const float *restrict gp,
                                           const float *restrict zp, int64_t c, float *restrict dK)
{
    const int64_t prow = (int64_t)(im->w + 2) * c, first = prow + c;
    const int64_t count = (int64_t)(im->h - 1) * (im->w + 2) + im->w;   /* positions, first to last inner */
    if (c % 8 == 0) {   /* nine accumulators in registers, z rotated along x as in conv_row */
        for (int64_t g0 = 0; g0 < c; g0 += 8) {
            v8f acc[DWS_TCONV_TAPS] = {{0}};
            const float *gv = gp + first + g0, *up = zp + first - prow + g0, *mid = zp + first + g0,
                        *dn = zp + first + prow + g0;
            v8f u0 = AT8(up - c), u1 = AT8(up), m0 = AT8(mid - c), m1 = AT8(mid), d0 = AT8(dn - c), d1 = AT8(dn);
            for (int64_t j = 0; j < count * c; j += c) {
                v8f g = AT8(gv + j), u2 = AT8(up + j + c), m2 = AT8(mid + j + c), d2 = AT8(dn + j + c);
                acc[0] += g * u0, acc[1] += g * u1, acc[2] += g * u2;
                acc[3] += g * m0, acc[4] += g * m1, acc[5] += g * m2;
                acc[6] += g * d0, acc[7] += g * d1, acc[8] += g * d2;
                u0 = u1, u1 = u2, m0 = m1, m1 = m2, d0 = d1, d1 = d2;
            }
            for (int t = 0; t < DWS_TCONV_TAPS; t++) AT8(dK + t * c + g0) += acc[t];
        }
        return;
    }
    if (c == 1) {   /* eight positions at a time, nine accumulators */
        v8f acc[DWS_TCONV_TAPS] = {{0}};
        int64_t p = 0;
        for (; p + 8 <= count; p += 8) {
            const v8f g = LD8(gp + first + p);
#pragma GCC unroll 9
            for (int t = 0; t < DWS_TCONV_TAPS; t++)
                acc[t] += g * LD8(zp + first + (t / 3 - 1) * prow + (t % 3 - 1) + p);
        }
        for (int t = 0; t < DWS_TCONV_TAPS; t++) {
            float sum = v8f_sum(&acc[t]);
            for (int64_t q = p; q < count; q++) sum += gp[first + q] * zp[first + (t / 3 - 1) * prow + (t % 3 - 1) + q];
            dK[t] += sum;
        }
        return;
    }
    for (int t = 0; t < DWS_TCONV_TAPS; t++) {
        const float *restrict zs = zp + first + (t / 3 - 1) * prow + (t % 3 - 1) * c;
        for (int64_t ch = 0; ch < c; ch++) {
            float sum = 0.f;   /* in a register, not through dK */
            for (int64_t p = 0; p < count; p++) sum += gp[first + p * c + ch] * zs[p * c + ch];
            dK[t * c + ch] += sum;
        }
    }
}

void dws_tconv_pad_border(const dws_image_shape *im, int c, float *pad)
{
    const int64_t rowf = (int64_t)im->w * c, prow = rowf + 2 * c;
    memset(pad, 0, sizeof(float) * (size_t)prow);
    memset(pad + (im->h + 1) * prow, 0, sizeof(float) * (size_t)prow);
    for (int y = 0; y < im->h; y++) {
        float *r = pad + (y + 1) * prow;
        memset(r, 0, sizeof(float) * (size_t)c);
        memset(r + c + rowf, 0, sizeof(float) * (size_t)c);
    }
}

void dws_tconv_forward_padded(const dws_image_shape *im, int c, const float *K_tiled, const float *pad, float *out)
{
    const int64_t rowf = (int64_t)im->w * c, prow = rowf + 2 * c;
    for (int y = 0; y < im->h; y++) conv_row(pad + (y + 1) * prow + c, prow, c, rowf, K_tiled, 0, out + y * rowf);
}

void dws_tconv_forward(const dws_image_shape *im, int c, const float *K_tiled, const float *z, float *out,
                       float *scratch)
{
    pad_plane(im, c, z, scratch);
    dws_tconv_forward_padded(im, c, K_tiled, scratch, out);
}

void dws_tconv_backward_padded(const dws_image_shape *im, int c, const float *K_tiled, const float *zp,
                               const float *g, float *dz, float *dK, float *gp)
{
    const int64_t rowf = (int64_t)im->w * c, prow = rowf + 2 * c;
    pad_plane(im, c, g, gp);
    for (int y = 0; y < im->h; y++)   /* dz: the same convolution of g, kernel reflected */
        conv_row(gp + (y + 1) * prow + c, prow, c, rowf, K_tiled, 1, dz + y * rowf);
    kernel_grad_plane(im, gp, zp, c, dK);
}

void dws_tconv_backward(const dws_image_shape *im, int c, const float *K_tiled, const float *z, const float *g,
                        float *dz, float *dK, float *scratch)
{
    const int64_t prow = ((int64_t)im->w + 2) * c;
    float *zp = scratch + (im->h + 2) * prow;
    pad_plane(im, c, z, zp);
    dws_tconv_backward_padded(im, c, K_tiled, zp, g, dz, dK, scratch);
}
