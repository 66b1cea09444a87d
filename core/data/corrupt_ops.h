/* The individual corruptions behind data/data.h. Each works on one C x H x W image in
 * place, ends by clipping to [0,1], and may use `scratch`, which holds the h x w
 * planes of doubles its table entry in corrupt.c asks for (plus the plasma map for
 * those that ask for one) and 4 (h + w) + 1024 doubles more. Each returns 0, or -1 with err
 * set (only jpeg_compression can fail: libjpeg out of memory). Parameters:
 * make_cifar_c.py (the CIFAR file of Hendrycks' robustness repository), per severity
 * 1..5, in a table beside each implementation. */
#ifndef DWS_CORRUPT_OPS_H
#define DWS_CORRUPT_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

typedef struct {
    int c, h, w;
} dws_image_dims;

typedef int (*dws_corrupt_fn)(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch,
                              dws_error *err);

#define DWS_CORRUPT_OP(name) \
    int name(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch, dws_error *err)

/* corrupt_pixel.c: per-value and per-pixel corruptions */
DWS_CORRUPT_OP(dws_gaussian_noise);
DWS_CORRUPT_OP(dws_shot_noise);
DWS_CORRUPT_OP(dws_impulse_noise);
DWS_CORRUPT_OP(dws_speckle_noise);
DWS_CORRUPT_OP(dws_contrast);
DWS_CORRUPT_OP(dws_brightness);
DWS_CORRUPT_OP(dws_saturate);

/* corrupt_spatial.c: filters and resampling */
DWS_CORRUPT_OP(dws_gaussian_blur);
DWS_CORRUPT_OP(dws_defocus_blur);
DWS_CORRUPT_OP(dws_pixelate);

/* corrupt_blur.c: blurs that move pixels */
DWS_CORRUPT_OP(dws_glass_blur);
DWS_CORRUPT_OP(dws_motion_blur);
DWS_CORRUPT_OP(dws_zoom_blur);

/* corrupt_weather.c: layers added to the image */
DWS_CORRUPT_OP(dws_snow);
DWS_CORRUPT_OP(dws_frost);
DWS_CORRUPT_OP(dws_fog);

/* corrupt_digital.c: warps and the JPEG codec */
DWS_CORRUPT_OP(dws_elastic_transform);
DWS_CORRUPT_OP(dws_jpeg_compression);

/* corrupt_spatter.c: water drops and mud */
DWS_CORRUPT_OP(dws_spatter);

/* ---- shared pieces ---- */
/* image_encode.c: h x w x 3 interleaved bytes as a JPEG of the given quality with
 * Pillow's settings (libjpeg defaults: 4:2:0 chroma, baseline, islow DCT); *file is
 * malloc'd (*size bytes). */
int dws_jpeg_encode_rgb(const uint8_t *rgb, int h, int w, int quality, unsigned char **file, unsigned long *size,
                        dws_error *err);

/* corrupt_filter.c */
/* How an index outside 0..n-1 is brought back inside, in the names of the libraries
 * the reference calls: scipy's 'nearest' (edge replicated), scipy's 'reflect'
 * (d c b a | a b c d), OpenCV's default BORDER_REFLECT_101 (d c b | a b c d). */
typedef int (*dws_border_fn)(int i, int n);
int dws_border_nearest(int i, int n);
int dws_border_reflect(int i, int n);
int dws_border_reflect101(int i, int n);

/* The largest Gaussian half-width the filters accept (sigma 6.4 x truncate 3 = 19). */
#define DWS_GAUSS_MAX_RADIUS 32

/* scipy.ndimage.gaussian_filter of one h x w plane of doubles, in place: the
 * normalised kernel exp(-t^2 / 2 sigma^2) of half-width int(truncate sigma + 0.5),
 * rows then columns; sigma <= 1e-15 leaves the plane alone, as scipy does. tmp holds
 * h*w doubles. This is also skimage.filters.gaussian (which calls it). */
void dws_gaussian_plane(double *p, int h, int w, double sigma, double truncate, dws_border_fn border, double *tmp);

/* make_cifar_c.py's clipped_zoom(): the centre ceil(h / z) x ceil(w / z) crop scaled
 * by z (>= 1) with scipy.ndimage.zoom (order 1) and its centre h x w kept, from `in`
 * to `out` (both h x w, distinct). tmp holds DWS_ZOOM_TMP(h, w) doubles. */
#define DWS_ZOOM_TMP(h, w) (2 * ((size_t)(h) + (size_t)(w)))
void dws_clipped_zoom(const double *in, double *out, int h, int w, double z, double *tmp);

/* ImageMagick 6's MotionBlurImage (what Wand's motion_blur calls) on one h x w plane:
 * out(x, y) = sum_i k_i in(x + ox_i, y + oy_i), i = 0 .. 2 ceil(radius), with k_i the
 * normalised exp(-i^2 / 2 sigma^2) and (ox_i, oy_i) = ceil(i (cos a, sin a) - 0.5)
 * for the angle a in degrees; samples outside the image repeat its edge. */
void dws_motion_blur_plane(const double *in, double *out, int h, int w, double radius, double sigma,
                           double angle_degrees);

/* make_cifar_c.py's plasma_fractal(): an n x n diamond-square height map in [0,1] (n a
 * power of two), whose random offsets shrink by `decay` each level. */
void dws_plasma_fractal(double *map, int n, double decay, dws_rng *rng);
/* The side of the plasma map used for an h x w image: 32 (the reference's), or the
 * smallest power of two holding a larger image. */
int dws_plasma_side(int h, int w);

static inline float dws_clip01(double v) { return v < 0.0 ? 0.f : v > 1.0 ? 1.f : (float)v; }

#endif
