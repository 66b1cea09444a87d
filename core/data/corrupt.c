/* Domain strings and the loop that applies a domain to a set of images. */
#include "data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corrupt_ops.h"

#define MAX_SIDE 4096

/* planes: the h x w planes of doubles each needs in its scratch; plasma: also an n x
 * n plasma map (n = dws_plasma_side). */
static const struct {
    const char *name;
    dws_corrupt_fn fn;
    int needs_rgb, planes, plasma;
    const char *about;
} CORRUPTIONS[DWS_CORRUPT_COUNT] = {
    [DWS_CORRUPT_GAUSSIAN_NOISE] = {"gaussian_noise", dws_gaussian_noise, 0, 0, 0, "x + N(0, s^2), s 0.04 to 0.10"},
    [DWS_CORRUPT_SHOT_NOISE] = {"shot_noise", dws_shot_noise, 0, 0, 0, "Poisson(x c) / c, c 500 to 50"},
    [DWS_CORRUPT_IMPULSE_NOISE] = {"impulse_noise", dws_impulse_noise, 0, 0, 0,
                                   "salt and pepper on 1% to 7% of values"},
    [DWS_CORRUPT_SPECKLE_NOISE] = {"speckle_noise", dws_speckle_noise, 0, 0, 0, "x + x N(0, s^2), s 0.06 to 0.20"},
    [DWS_CORRUPT_CONTRAST] = {"contrast", dws_contrast, 0, 0, 0, "deviations from channel means x 0.75 to 0.15"},
    [DWS_CORRUPT_BRIGHTNESS] = {"brightness", dws_brightness, 1, 0, 0, "HSV value + 0.05 to 0.3"},
    [DWS_CORRUPT_SATURATE] = {"saturate", dws_saturate, 1, 0, 0, "HSV saturation x 0.3 .. 2.5 (+ 0 .. 0.2)"},
    [DWS_CORRUPT_GAUSSIAN_BLUR] = {"gaussian_blur", dws_gaussian_blur, 0, 2, 0, "Gaussian blur, sigma 0.4 to 1"},
    [DWS_CORRUPT_DEFOCUS_BLUR] = {"defocus_blur", dws_defocus_blur, 0, 1, 0, "disk blur, radius 0.3 to 1.5"},
    [DWS_CORRUPT_PIXELATE] = {"pixelate", dws_pixelate, 0, 3, 0, "box down to 95% .. 65% of the side and back"},
    [DWS_CORRUPT_GLASS_BLUR] = {"glass_blur", dws_glass_blur, 0, 2, 0,
                                "blur, local pixel shuffle (1 or 2 passes), blur; sigma 0.05 to 0.4"},
    [DWS_CORRUPT_MOTION_BLUR] = {"motion_blur", dws_motion_blur, 0, 2, 0,
                                 "ImageMagick motion blur, radius 6 to 9, sigma 1 to 2.5, random angle"},
    [DWS_CORRUPT_ZOOM_BLUR] = {"zoom_blur", dws_zoom_blur, 0, 4, 0, "mean of the image zoomed by 7 to 26 factors from 1 up to 1.06 .. 1.25"},
    [DWS_CORRUPT_SNOW] = {"snow", dws_snow, 1, 4, 0, "motion-blurred snow flakes over a brightened image"},
    [DWS_CORRUPT_FROST] = {"frost", dws_frost, 1, 2, 1,
                           "PROCEDURAL ice texture blended in (not the reference's frost photographs)"},
    [DWS_CORRUPT_FOG] = {"fog", dws_fog, 0, 0, 1, "plasma fractal haze, strength 0.2 to 1.5"},
    [DWS_CORRUPT_ELASTIC_TRANSFORM] = {"elastic_transform", dws_elastic_transform, 0, 4, 0,
                                       "random affine warp, then a smooth random displacement"},
    [DWS_CORRUPT_JPEG_COMPRESSION] = {"jpeg_compression", dws_jpeg_compression, 1, 1, 0,
                                      "libjpeg round trip, quality 80 to 40"},
    [DWS_CORRUPT_SPATTER] = {"spatter", dws_spatter, 1, 6, 0, "water drops (1-3) or mud (4-5)"},
};

const char *dws_corruption_name(dws_corruption c)
{
    return (unsigned)c < DWS_CORRUPT_COUNT ? CORRUPTIONS[c].name : "unknown";
}

const char *dws_corruption_about(dws_corruption c)
{
    return (unsigned)c < DWS_CORRUPT_COUNT ? CORRUPTIONS[c].about : "unknown";
}

const char *dws_corruption_names(void)
{
    return "gaussian_noise, shot_noise, impulse_noise, speckle_noise, contrast, brightness, saturate, "
           "gaussian_blur, defocus_blur, pixelate, glass_blur, motion_blur, zoom_blur, snow, frost, fog, "
           "elastic_transform, jpeg_compression, spatter";
}

static int lookup(const char *name, size_t len)
{
    for (int i = 0; i < DWS_CORRUPT_COUNT; i++)
        if (strlen(CORRUPTIONS[i].name) == len && !strncmp(CORRUPTIONS[i].name, name, len)) return i;
    return -1;
}

int dws_domain_parse(const char *spec, dws_domain *d, dws_error *err)
{
    memset(d, 0, sizeof *d);
    if (!spec || !*spec || !strcmp(spec, "clean")) return 0;
    const char *p = spec;
    for (;;) {
        const char *end = p + strcspn(p, ",");
        const char *colon = memchr(p, ':', (size_t)(end - p));
        if (!colon) {
            dws_error_set(err, DWS_E_INVALID_ARGUMENT, "domain step '%.*s' is not name:severity (e.g. %s)",
                          (int)(end - p), p, DWS_DEFAULT_DOMAIN);
            return -1;
        }
        int kind = lookup(p, (size_t)(colon - p));
        if (kind < 0) {
            dws_error_set(err, DWS_E_INVALID_ARGUMENT, "unknown corruption '%.*s'; known: %s", (int)(colon - p), p,
                          dws_corruption_names());
            return -1;
        }
        if (end - colon != 2 || colon[1] < '1' || colon[1] > '5') {
            dws_error_set(err, DWS_E_INVALID_ARGUMENT, "severity of %s must be 1 to 5, got '%.*s'",
                          CORRUPTIONS[kind].name, (int)(end - colon - 1), colon + 1);
            return -1;
        }
        if (d->n_steps == DWS_DOMAIN_MAX_STEPS) {
            dws_error_set(err, DWS_E_INVALID_ARGUMENT, "a domain has at most %d steps", DWS_DOMAIN_MAX_STEPS);
            return -1;
        }
        d->steps[d->n_steps].kind = (dws_corruption)kind;
        d->steps[d->n_steps].severity = colon[1] - '0';
        d->n_steps++;
        if (!*end) return 0;
        p = end + 1;
    }
}

void dws_domain_format(const dws_domain *d, char *buf, size_t size)
{
    if (size == 0) return;
    buf[0] = '\0';
    if (d->n_steps == 0) {
        snprintf(buf, size, "clean");
        return;
    }
    size_t used = 0;
    for (int i = 0; i < d->n_steps && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s:%d", i ? "," : "",
                                 dws_corruption_name(d->steps[i].kind), d->steps[i].severity);
}

/* 1 when a and b have the same steps in order: their corruptions, and their severities too
 * when severities is 1. */
static int same_steps(const dws_domain *a, const dws_domain *b, int severities)
{
    if (a->n_steps != b->n_steps) return 0;
    for (int k = 0; k < a->n_steps; k++)
        if (a->steps[k].kind != b->steps[k].kind || (severities && a->steps[k].severity != b->steps[k].severity))
            return 0;
    return 1;
}

int dws_domain_same(const dws_domain *a, const dws_domain *b)
{
    return same_steps(a, b, 1);
}

int dws_domain_same_kinds(const dws_domain *a, const dws_domain *b)
{
    return same_steps(a, b, 0);
}

int dws_domain_check_shape(const dws_domain *d, int channels, int height, int width, dws_error *err)
{
    if (channels < 1 || height < 1 || width < 1 || channels > 16 || height > MAX_SIDE || width > MAX_SIDE) {
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "cannot corrupt %d x %d x %d images", channels, height, width);
        return -1;
    }
    for (int i = 0; i < d->n_steps; i++)
        if (CORRUPTIONS[d->steps[i].kind].needs_rgb && channels != 3) {
            dws_error_set(err, DWS_E_SHAPE_MISMATCH, "%s needs RGB images, these have %d channel(s)",
                          CORRUPTIONS[d->steps[i].kind].name, channels);
            return -1;
        }
    return 0;
}

int dws_domain_apply(const dws_domain *d, int channels, int height, int width, float *x, size_t n,
                     uint64_t seed, uint64_t first_index, dws_error *err)
{
    if (dws_domain_check_shape(d, channels, height, width, err)) return -1;
    if (d->n_steps == 0 || n == 0) return 0;
    size_t most = 0, hw = (size_t)height * (size_t)width;
    for (int s = 0; s < d->n_steps; s++) {
        size_t need = (size_t)CORRUPTIONS[d->steps[s].kind].planes * hw;
        if (CORRUPTIONS[d->steps[s].kind].plasma) {
            size_t side = (size_t)dws_plasma_side(height, width);
            need += side * side;
        }
        if (need > most) most = need;
    }
    double *scratch = malloc((most + 4 * ((size_t)height + (size_t)width) + 1024) * sizeof(double));
    if (!scratch) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate corruption scratch");
        return -1;
    }
    dws_image_dims dims = {channels, height, width};
    size_t dim = (size_t)channels * hw;
    for (size_t i = 0; i < n; i++) {
        dws_rng rng;
        dws_rng_seed_stream(&rng, seed, first_index + i);
        for (int s = 0; s < d->n_steps; s++)
            if (CORRUPTIONS[d->steps[s].kind].fn(x + i * dim, &dims, d->steps[s].severity, &rng, scratch, err)) {
                free(scratch);
                return -1;
            }
    }
    free(scratch);
    return 0;
}
