#include "input_map.h"

#include <string.h>

#include "hot_loop.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("vect-cost-model=dynamic", "fp-contract=fast")   /* see hot_loop.h */
#endif

static size_t plane_floats(const dws_image_shape *im)
{
    return (size_t)im->h * (size_t)im->w;
}

/* The planes of im, each with a border of k / 2 zeros on every side. */
static size_t padded_floats(const dws_image_shape *im, int k)
{
    return (size_t)im->planes * (size_t)(im->h + k - 1) * (size_t)(im->w + k - 1);
}

size_t dws_inmap_scratch_floats(const dws_image_shape *im, int k)
{
    const size_t d = (size_t)im->planes * plane_floats(im);
    return 2 * padded_floats(im, k) + 2 * d + dws_inmap_mix_floats(im, k);
}

/* src (P x h x w) into the interior of pad, whose border stays as it is (zero). */
static void pad_planes(const dws_image_shape *im, int k, const float *src, float *pad)
{
    const int r = k / 2, pw = im->w + k - 1, ph = im->h + k - 1;
    for (int p = 0; p < im->planes; p++)
        for (int y = 0; y < im->h; y++)
            memcpy(pad + ((size_t)p * ph + (size_t)(y + r)) * pw + r, src + ((size_t)p * im->h + y) * im->w,
                   sizeof(float) * (size_t)im->w);
}

/* Calls op for every tap t = (o, p, dy, dx) of a [P][P][k][k] kernel with plane o
 * of img (h x w) and padded plane p of pad shifted by (dy, dx). */
typedef void tap_op(const dws_image_shape *im, int pw, const void *ctx, int t, const float *shifted, float *plane);

static void each_tap(const dws_image_shape *im, int k, const float *pad, float *img, tap_op *op, const void *ctx)
{
    const int P = im->planes, pw = im->w + k - 1, ph = im->h + k - 1;
    for (int o = 0; o < P; o++)
        for (int p = 0; p < P; p++)
            for (int dy = 0; dy < k; dy++)
                for (int dx = 0; dx < k; dx++)
                    op(im, pw, ctx, ((o * P + p) * k + dy) * k + dx, pad + ((size_t)p * ph + (size_t)dy) * pw + dx,
                       img + (size_t)o * (size_t)(im->h * im->w));
}

/* plane += K[t] shifted. */
DWS_HOT_LOOP static void conv_tap(const dws_image_shape *im, int pw, const void *K, int t,
                                  const float *restrict shifted, float *restrict plane)
{
    const float c = ((const float *)K)[t];
    if (c == 0.f) return;
    for (int y = 0; y < im->h; y++)
        for (int x = 0; x < im->w; x++) plane[y * im->w + x] += c * shifted[(size_t)y * pw + x];
}

/* out[o] += sum over p, dy, dx of K[o][p][dy][dx] pad[p] shifted by (dy, dx). */
static void conv_add(const dws_image_shape *im, int k, const float *K, const float *pad, float *out)
{
    each_tap(im, k, pad, out, conv_tap, K);
}

/* Kt[p][o][dy][dx] = K[o][p][k-1-dy][k-1-dx]: the adjoint's kernel. */
static void adjoint_kernel(int P, int k, const float *K, float *Kt)
{
    for (int o = 0; o < P; o++)
        for (int p = 0; p < P; p++)
            for (int dy = 0; dy < k; dy++)
                for (int dx = 0; dx < k; dx++)
                    Kt[((p * P + o) * k + dy) * k + dx] = K[((o * P + p) * k + (k - 1 - dy)) * k + (k - 1 - dx)];
}

DWS_HOT_LOOP static float dot(const float *restrict a, const float *restrict b, size_t n)
{
    float s = 0.f;
    for (size_t j = 0; j < n; j++) s += a[j] * b[j];
    return s;
}

void dws_inmap_forward(const dws_image_shape *im, int k, const float *mix, const float *shift, float *rows, float *b,
                       int64_t n, float *scratch)
{
    const size_t d = (size_t)im->planes * plane_floats(im);
    float *pad = scratch;
    memset(pad, 0, sizeof(float) * padded_floats(im, k));
    for (int64_t i = 0; i < n; i++) {
        float *row = rows + (size_t)i * d;
        pad_planes(im, k, row, pad);
        conv_add(im, k, mix, pad, row);
        b[i] += dot(row, shift, d);
    }
}

/* g_mix[t] += <plane, shifted> over the image. */
DWS_HOT_LOOP static void grad_tap(const dws_image_shape *im, int pw, const void *g_mix, int t,
                                  const float *restrict shifted, float *restrict plane)
{
    float s = 0.f;
    for (int y = 0; y < im->h; y++) s += dot(plane + (size_t)y * im->w, shifted + (size_t)y * pw, (size_t)im->w);
    ((float *)g_mix)[t] += s;
}

size_t dws_inmap_mix_floats(const dws_image_shape *im, int k)
{
    return (size_t)im->planes * (size_t)im->planes * (size_t)(k * k);
}

void dws_inmap_backward_shift(const dws_image_shape *im, int k, const float *mix, const float *y, const float *gb,
                              int64_t n, float *g_shift, float *scratch)
{
    const size_t d = (size_t)im->planes * plane_floats(im), padn = padded_floats(im, k);
    float *ypad = scratch, *u = ypad + 2 * padn, *ru = u + d;
    memset(ypad, 0, sizeof(float) * padn);
    /* d/dshift = sum_i gb_i R y_i = R (sum_i gb_i y_i): one convolution, not n. */
    memset(u, 0, sizeof(float) * d);
    for (int64_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) u[j] += gb[i] * y[(size_t)i * d + j];
    memcpy(ru, u, sizeof(float) * d);
    pad_planes(im, k, u, ypad);
    conv_add(im, k, mix, ypad, ru);
    for (size_t j = 0; j < d; j++) g_shift[j] += ru[j];
}

void dws_inmap_backward_rows(const dws_image_shape *im, int k, const float *mix, const float *shift, const float *y,
                             float *g, const float *gb, int64_t n, float *g_mix_rows, float *scratch)
{
    const int P = im->planes;
    const size_t d = (size_t)P * plane_floats(im), padn = padded_floats(im, k), taps = dws_inmap_mix_floats(im, k);
    float *ypad = scratch, *gpad = ypad + padn, *Kt = gpad + padn + 2 * d;
    memset(ypad, 0, sizeof(float) * 2 * padn);
    adjoint_kernel(P, k, mix, Kt);
    for (int64_t i = 0; i < n; i++) {
        float *G = g + (size_t)i * d, *g_mix = g_mix_rows + (size_t)i * taps;
        for (size_t j = 0; j < d; j++) G[j] += gb[i] * shift[j];   /* the shift's path into the row */
        pad_planes(im, k, y + (size_t)i * d, ypad);
        memset(g_mix, 0, sizeof(float) * taps);
        each_tap(im, k, ypad, G, grad_tap, g_mix);   /* g_mix[o][p][dy][dx] = <G[o], y[p] shifted> */
        pad_planes(im, k, G, gpad);
        conv_add(im, k, Kt, gpad, G);
    }
}
