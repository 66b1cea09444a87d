/* Domain strings and the loop that applies a domain to a set of images. */
#include "data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corrupt_ops.h"

#define MAX_SIDE 4096

static const struct {
    const char *name;
    dws_corrupt_fn fn;
    int needs_rgb;
} CORRUPTIONS[DWS_CORRUPT_COUNT] = {
    [DWS_CORRUPT_GAUSSIAN_NOISE] = {"gaussian_noise", dws_gaussian_noise, 0},
    [DWS_CORRUPT_SHOT_NOISE] = {"shot_noise", dws_shot_noise, 0},
    [DWS_CORRUPT_IMPULSE_NOISE] = {"impulse_noise", dws_impulse_noise, 0},
    [DWS_CORRUPT_SPECKLE_NOISE] = {"speckle_noise", dws_speckle_noise, 0},
    [DWS_CORRUPT_CONTRAST] = {"contrast", dws_contrast, 0},
    [DWS_CORRUPT_BRIGHTNESS] = {"brightness", dws_brightness, 1},
    [DWS_CORRUPT_SATURATE] = {"saturate", dws_saturate, 1},
    [DWS_CORRUPT_GAUSSIAN_BLUR] = {"gaussian_blur", dws_gaussian_blur, 0},
    [DWS_CORRUPT_DEFOCUS_BLUR] = {"defocus_blur", dws_defocus_blur, 0},
    [DWS_CORRUPT_PIXELATE] = {"pixelate", dws_pixelate, 0},
};

const char *dws_corruption_name(dws_corruption c)
{
    return (unsigned)c < DWS_CORRUPT_COUNT ? CORRUPTIONS[c].name : "unknown";
}

const char *dws_corruption_names(void)
{
    return "gaussian_noise, shot_noise, impulse_noise, speckle_noise, contrast, brightness, saturate, "
           "gaussian_blur, defocus_blur, pixelate";
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
    double *scratch = malloc(DWS_CORRUPT_SCRATCH(height, width) * sizeof(double));
    if (!scratch) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate corruption scratch");
        return -1;
    }
    dws_image_dims dims = {channels, height, width};
    size_t dim = (size_t)channels * (size_t)height * (size_t)width;
    for (size_t i = 0; i < n; i++) {
        dws_rng rng;
        dws_rng_seed_stream(&rng, seed, first_index + i);
        for (int s = 0; s < d->n_steps; s++)
            CORRUPTIONS[d->steps[s].kind].fn(x + i * dim, &dims, d->steps[s].severity, &rng, scratch);
    }
    free(scratch);
    return 0;
}
