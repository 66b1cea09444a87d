/* Blurs and pixelation: the same linear filter on every channel plane, computed in
 * double. Borders follow the reference: scipy's 'nearest' (edge replicated) for
 * gaussian_blur, OpenCV's default reflect-101 for defocus_blur, Pillow's BOX
 * resampling for pixelate. */
#include <math.h>
#include <stdlib.h>

#include "corrupt_ops.h"

static const double GAUSSIAN_BLUR_SIGMA[5] = {0.4, 0.6, 0.7, 0.8, 1.0};
static const double DEFOCUS_RADIUS[5] = {0.3, 0.4, 0.5, 1.0, 1.5};
static const double DEFOCUS_ALIAS_SIGMA[5] = {0.4, 0.5, 0.6, 0.2, 0.1};
static const double PIXELATE_FACTOR[5] = {0.95, 0.9, 0.85, 0.75, 0.65};

/* The disk kernel of make_cifar_c.py is 17 x 17 (radius <= 8). */
#define DISK_HALF 8
#define DISK_SIZE (2 * DISK_HALF + 1)

/* skimage.filters.gaussian -> scipy gaussian_filter: truncate 4, mode 'nearest'. */
int dws_gaussian_blur(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch, dws_error *err)
{
    (void)err;
    (void)rng;
    size_t plane = (size_t)d->h * (size_t)d->w;
    double *p = scratch, *tmp = scratch + plane;
    for (int c = 0; c < d->c; c++) {
        float *q = img + (size_t)c * plane;
        for (size_t i = 0; i < plane; i++) p[i] = q[i];
        dws_gaussian_plane(p, d->h, d->w, GAUSSIAN_BLUR_SIGMA[severity - 1], 4.0, dws_border_nearest, tmp);
        for (size_t i = 0; i < plane; i++) q[i] = dws_clip01(p[i]);
    }
    return 0;
}

/* make_cifar_c.py's disk(): a normalised 17 x 17 disk, anti-aliased by a 3 x 3
 * Gaussian (cv2.GaussianBlur, reflect-101 borders). */
static void defocus_kernel(double radius, double alias_sigma, double *k, double *tmp)
{
    double count = 0.0;
    for (int y = 0; y < DISK_SIZE; y++)
        for (int x = 0; x < DISK_SIZE; x++) {
            int dy = y - DISK_HALF, dx = x - DISK_HALF;
            tmp[y * DISK_SIZE + x] = dx * dx + dy * dy <= radius * radius ? 1.0 : 0.0;
            count += tmp[y * DISK_SIZE + x];
        }
    double e = exp(-1.0 / (2.0 * alias_sigma * alias_sigma));
    double g[3] = {e / (1 + 2 * e), 1 / (1 + 2 * e), e / (1 + 2 * e)};
    double rows[DISK_SIZE * DISK_SIZE];
    for (int y = 0; y < DISK_SIZE; y++)
        for (int x = 0; x < DISK_SIZE; x++) {
            double s = 0.0;
            for (int t = -1; t <= 1; t++) s += g[t + 1] * tmp[y * DISK_SIZE + dws_border_reflect101(x + t, DISK_SIZE)];
            rows[y * DISK_SIZE + x] = s / count;
        }
    for (int y = 0; y < DISK_SIZE; y++)
        for (int x = 0; x < DISK_SIZE; x++) {
            double s = 0.0;
            for (int t = -1; t <= 1; t++) s += g[t + 1] * rows[dws_border_reflect101(y + t, DISK_SIZE) * DISK_SIZE + x];
            k[y * DISK_SIZE + x] = s;
        }
}

/* cv2.filter2D of each channel with the disk kernel, reflect-101 borders. The kernel
 * is zero outside a few pixels of its centre, so only that window is visited. */
int dws_defocus_blur(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch, dws_error *err)
{
    (void)err;
    (void)rng;
    double *k = scratch, *out = scratch + 2 * DISK_SIZE * DISK_SIZE;
    defocus_kernel(DEFOCUS_RADIUS[severity - 1], DEFOCUS_ALIAS_SIGMA[severity - 1], k, scratch + DISK_SIZE * DISK_SIZE);
    int reach = 0;
    for (int y = 0; y < DISK_SIZE; y++)
        for (int x = 0; x < DISK_SIZE; x++)
            if (k[y * DISK_SIZE + x] != 0.0) {
                int r = abs(y - DISK_HALF) > abs(x - DISK_HALF) ? abs(y - DISK_HALF) : abs(x - DISK_HALF);
                if (r > reach) reach = r;
            }
    size_t plane = (size_t)d->h * (size_t)d->w;
    for (int c = 0; c < d->c; c++) {
        float *p = img + (size_t)c * plane;
        for (int y = 0; y < d->h; y++)
            for (int x = 0; x < d->w; x++) {
                double s = 0.0;
                for (int dy = -reach; dy <= reach; dy++) {
                    const float *row = p + (size_t)dws_border_reflect101(y + dy, d->h) * d->w;
                    const double *krow = k + (dy + DISK_HALF) * DISK_SIZE + DISK_HALF;
                    for (int dx = -reach; dx <= reach; dx++) s += krow[dx] * row[dws_border_reflect101(x + dx, d->w)];
                }
                out[(size_t)y * d->w + x] = s;
            }
        for (size_t i = 0; i < plane; i++) p[i] = dws_clip01(out[i]);
    }
    return 0;
}

/* Pillow's resampling with the BOX filter along one axis: output sample o covers
 * input positions within half a (scaled) box of its centre, weighted equally.
 * `in` has n_in samples `stride_in` apart, `out` n_out samples `stride_out` apart. */
static void box_resample_1d(const double *in, int n_in, size_t stride_in, double *out, int n_out, size_t stride_out)
{
    double scale = (double)n_in / n_out;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = 0.5 * filterscale;
    for (int o = 0; o < n_out; o++) {
        double center = (o + 0.5) * scale;
        int lo = (int)(center - support + 0.5), hi = (int)(center + support + 0.5);
        if (lo < 0) lo = 0;
        if (hi > n_in) hi = n_in;
        double sum = 0.0, weight = 0.0;
        for (int i = lo; i < hi; i++) {
            double t = (i - center + 0.5) / filterscale;
            if (t > -0.5 && t <= 0.5) {
                sum += in[(size_t)i * stride_in];
                weight += 1.0;
            }
        }
        out[(size_t)o * stride_out] = weight > 0.0 ? sum / weight : 0.0;
    }
}

/* Resizes an ih x iw plane to oh x ow: horizontal pass then vertical, as Pillow. */
static void box_resize(const double *in, int ih, int iw, double *out, int oh, int ow, double *tmp)
{
    for (int y = 0; y < ih; y++) box_resample_1d(in + (size_t)y * iw, iw, 1, tmp + (size_t)y * ow, ow, 1);
    for (int x = 0; x < ow; x++) box_resample_1d(tmp + x, ih, (size_t)ow, out + x, oh, (size_t)ow);
}

/* Down to int(size * factor) with BOX, then back up with BOX. */
int dws_pixelate(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch, dws_error *err)
{
    (void)err;
    (void)rng;
    double f = PIXELATE_FACTOR[severity - 1];
    int h = d->h, w = d->w;
    int sh = (int)(h * f), sw = (int)(w * f);
    if (sh < 1) sh = 1;
    if (sw < 1) sw = 1;
    size_t plane = (size_t)h * (size_t)w;
    double *full = scratch, *tmp = full + plane, *small = tmp + plane;
    for (int c = 0; c < d->c; c++) {
        float *p = img + (size_t)c * plane;
        for (size_t i = 0; i < plane; i++) full[i] = p[i];
        box_resize(full, h, w, small, sh, sw, tmp);
        box_resize(small, sh, sw, full, h, w, tmp);
        for (size_t i = 0; i < plane; i++) p[i] = dws_clip01(full[i]);
    }
    return 0;
}
