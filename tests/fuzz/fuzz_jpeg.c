/* libFuzzer target for the JPEG decoder of data/data.h ("image decode"), dws_jpeg_decode: the
 * input is one untrusted file. Besides crashes, leaks and over-reads, it checks the
 * decoder's promises: an error code exactly when it fails, 32 x 32 x 3 values in [0, 1]
 * when it succeeds, nothing decoded past the image limit, and every byte charged to the
 * budget given back. Seeds: tests/fuzz/corpus/jpeg/. */
#include <math.h>
#include <stdlib.h>

#include "data/data.h"
#include "fuzz_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dws_image_budget budget = {.max_bytes = (size_t)64 << 20, .max_images = 1024};
    dws_image_list images = {0};
    dws_error err;
    dws_error_clear(&err);
    int rc = dws_jpeg_decode(data, size, "fuzz", &images, &budget, &err);
    if ((rc != 0) != (err.code != NULL)) abort();
    if (rc == 0 && (images.n < 1 || images.n > budget.max_images)) abort();
    if (rc != 0 && images.n != 0) abort();
    for (size_t i = 0; i < images.n * DWS_CIFAR10_DIM; i++)
        if (!(images.x[i] >= 0.f && images.x[i] <= 1.f)) abort();
    dws_image_list_free(&images, &budget);
    if (budget.used != 0) abort();
    return 0;
}
