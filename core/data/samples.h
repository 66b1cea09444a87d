/* A read-only view of labelled vectors for training and evaluation: rows of bytes
 * (x = byte / 255, as image sets store them) or of floats (e.g. corrupted images),
 * optionally restricted to a subset of rows. Views never own memory. */
#ifndef DWS_SAMPLES_H
#define DWS_SAMPLES_H

#include <stddef.h>
#include <stdint.h>

#include "image_set.h"

typedef struct {
    size_t n;                 /* rows in the view */
    size_t dim;               /* values per row */
    const uint8_t *pixels;    /* storage as bytes (x = p / 255) ... */
    const float *x;           /* ... or as floats; exactly one is set */
    const uint8_t *labels;    /* per storage row */
    const uint32_t *rows;     /* view row i is storage row rows[i]; NULL: row i */
} dws_samples;

dws_samples dws_samples_of_image_set(const dws_image_set *s);
dws_samples dws_samples_of_floats(const float *x, const uint8_t *labels, size_t n, size_t dim);

/* x (k x dim) and y (k) for view rows which[0..k); which NULL means rows first..first+k. */
void dws_samples_gather(const dws_samples *s, const uint32_t *which, size_t first, size_t k, float *x, uint8_t *y);

#endif
