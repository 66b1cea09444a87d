/* A labelled set of small images as the files store them: bytes, channel-major
 * (CHW) per image. Models see x = pixel / 255 as float32 (TASK.md's convention),
 * produced on demand so a 50,000-image set stays at 150 MB instead of 600 MB. */
#ifndef DWS_IMAGE_SET_H
#define DWS_IMAGE_SET_H

#include <stddef.h>
#include <stdint.h>

#include "base/dws_error.h"

typedef struct {
    size_t n;                     /* images */
    int channels, height, width;
    size_t dim;                   /* channels * height * width */
    int n_classes;                /* every label is < n_classes */
    uint8_t *pixels;              /* n x dim */
    uint8_t *labels;              /* n */
} dws_image_set;

void dws_image_set_free(dws_image_set *s);

/* x (count x dim) = pixels of images first .. first+count-1, divided by 255. */
void dws_image_set_to_float(const dws_image_set *s, size_t first, size_t count, float *x);

/* A float32 copy of the whole set (n x dim), malloc'd; NULL and err set on failure. */
float *dws_image_set_float_copy(const dws_image_set *s, dws_error *err);

/* Bytes for float pixels in [0,1]: round(x * 255), clamped to 0..255. */
void dws_float_to_pixels(const float *x, size_t n, uint8_t *out);

#endif
