/* CIFAR-10-C corruptions (Hendrycks & Dietterich, ICLR 2019) at severities 1-5 with
 * the parameters of their make_cifar_c.py, on float images x in [0,1], channel-major
 * (C x H x W), composable into a "domain": a comma-separated list name:severity
 * applied left to right, each step clipping to [0,1] as the original functions do.
 *
 * Differences from the reference, all below one grey level: the reference rounds to
 * bytes after every corruption (and pixelate works on 8-bit PIL images); here the
 * whole chain stays in float and only `dwsnet corrupt` rounds, once, at the end. */
#ifndef DWS_CORRUPT_H
#define DWS_CORRUPT_H

#include <stddef.h>
#include <stdint.h>

#include "base/dws_error.h"

/* TASK.md's target domain: contrast severity 4, then Gaussian noise severity 2. */
#define DWS_DEFAULT_DOMAIN "contrast:4,gaussian_noise:2"
#define DWS_DOMAIN_MAX_STEPS 8

typedef enum {
    DWS_CORRUPT_GAUSSIAN_NOISE = 0,
    DWS_CORRUPT_SHOT_NOISE,
    DWS_CORRUPT_IMPULSE_NOISE,
    DWS_CORRUPT_SPECKLE_NOISE,
    DWS_CORRUPT_CONTRAST,
    DWS_CORRUPT_BRIGHTNESS,
    DWS_CORRUPT_SATURATE,
    DWS_CORRUPT_GAUSSIAN_BLUR,
    DWS_CORRUPT_DEFOCUS_BLUR,
    DWS_CORRUPT_PIXELATE,
    DWS_CORRUPT_COUNT
} dws_corruption;

typedef struct {
    dws_corruption kind;
    int severity;                 /* 1..5 */
} dws_domain_step;

typedef struct {
    int n_steps;                  /* 0: the clean domain */
    dws_domain_step steps[DWS_DOMAIN_MAX_STEPS];
} dws_domain;

const char *dws_corruption_name(dws_corruption c);
/* Every corruption name, comma-separated, for help texts. */
const char *dws_corruption_names(void);

/* Parses "contrast:4,gaussian_noise:2". "clean" or "" is the empty domain. */
int dws_domain_parse(const char *spec, dws_domain *d, dws_error *err);
/* The canonical spec (parse(format(d)) == d); "clean" for the empty domain. */
void dws_domain_format(const dws_domain *d, char *buf, size_t size);

/* Checks that every step can run on images of this shape (colour corruptions need
 * 3 channels; sizes must be 1..4096). */
int dws_domain_check_shape(const dws_domain *d, int channels, int height, int width, dws_error *err);

/* Corrupts n images in place: x is n x (channels*height*width), values in [0,1].
 * Image i draws its random numbers from the stream (seed, first_index + i), so the
 * result is the same whether a set is processed whole, in batches or in parallel. */
int dws_domain_apply(const dws_domain *d, int channels, int height, int width, float *x, size_t n,
                     uint64_t seed, uint64_t first_index, dws_error *err);

#endif
