/* The individual corruptions behind data/data.h. Each works on one C x H x W image in
 * place, ends by clipping to [0,1], and may use `scratch`, which holds at least
 * DWS_CORRUPT_SCRATCH(h, w) doubles. Parameters: make_cifar_c.py, per severity 1..5. */
#ifndef DWS_CORRUPT_OPS_H
#define DWS_CORRUPT_OPS_H

#include <stddef.h>

#include "base/base.h"

#define DWS_CORRUPT_SCRATCH(h, w) (4 * (size_t)(h) * (size_t)(w) + 4 * ((size_t)(h) + (size_t)(w)) + 1024)

typedef struct {
    int c, h, w;
} dws_image_dims;

typedef void (*dws_corrupt_fn)(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch);

/* corrupt_pixel.c: per-value and per-pixel corruptions */
void dws_gaussian_noise(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch);
void dws_shot_noise(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch);
void dws_impulse_noise(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch);
void dws_speckle_noise(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch);
void dws_contrast(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch);
void dws_brightness(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch);
void dws_saturate(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch);

/* corrupt_spatial.c: filters and resampling */
void dws_gaussian_blur(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch);
void dws_defocus_blur(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch);
void dws_pixelate(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch);

static inline float dws_clip01(double v) { return v < 0.0 ? 0.f : v > 1.0 ? 1.f : (float)v; }

#endif
