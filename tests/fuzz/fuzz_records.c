/* libFuzzer target for the CIFAR-10 records decoder (plain or gzip) of data/data.h, dws_records_decode: the input is one untrusted
 * file; the checks are fuzz_image.h's. Seeds: tests/fuzz/corpus/records/. */
#include "fuzz_image.h"
#include "fuzz_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_image(dws_records_decode, data, size);
}
