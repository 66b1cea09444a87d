/* libFuzzer target for the PNG decoder (libpng) of data/data.h, dws_png_decode: the input is one untrusted
 * file; the checks are fuzz_image.h's. Seeds: tests/fuzz/corpus/png/. */
#include "fuzz_image.h"
#include "fuzz_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_image(dws_png_decode, data, size);
}
