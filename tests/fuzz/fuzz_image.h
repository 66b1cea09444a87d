/* What the image decoders' fuzz targets (fuzz_png.c, fuzz_jpeg.c, fuzz_records.c)
 * share: one untrusted file through one decoder of data/data.h ("image decode"), and
 * the decoder's promises checked besides crashes, leaks and over-reads: an error code
 * exactly when it fails, 3 x 32 x 32 values in [0, 1] when it succeeds, nothing decoded
 * past the image limit, and every byte charged to the budget given back. */
#ifndef DWS_FUZZ_IMAGE_H
#define DWS_FUZZ_IMAGE_H

#include <stdlib.h>

#include "data/data.h"

typedef int (*fuzz_image_decoder)(const uint8_t *buf, size_t len, const char *what, dws_image_list *out,
                                  dws_image_budget *b, dws_error *err);

static inline int fuzz_image(fuzz_image_decoder decode, const uint8_t *data, size_t size)
{
    dws_image_budget budget = {.max_bytes = (size_t)64 << 20, .max_images = 1024};
    dws_image_list images = {0};
    dws_error err;
    dws_error_clear(&err);
    int rc = decode(data, size, "fuzz", &images, &budget, &err);
    if ((rc != 0) != (err.code != NULL)) abort();
    if (rc == 0 && (images.n < 1 || images.n > budget.max_images)) abort();
    if (rc != 0 && images.n != 0) abort();
    for (size_t i = 0; i < images.n * DWS_CIFAR10_DIM; i++)
        if (!(images.x[i] >= 0.f && images.x[i] <= 1.f)) abort();
    dws_image_list_free(&images, &budget);
    if (budget.used != 0) abort();
    return 0;
}

#endif
