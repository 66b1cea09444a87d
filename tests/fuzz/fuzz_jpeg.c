/* libFuzzer target for the JPEG decoder (libjpeg-turbo) of data/data.h, dws_jpeg_decode: the input is one untrusted
 * file; the checks are fuzz_image.h's. Seeds: tests/fuzz/corpus/jpeg/. */
#include "fuzz_image.h"
#include "fuzz_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_image(dws_jpeg_decode, data, size);
}
