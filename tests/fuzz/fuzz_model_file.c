/* libFuzzer target for the .dws parser. Besides crashes, leaks and over-reads, it checks
 * that the format is canonical: whatever parses must re-encode to the identical bytes.
 *   clang -fsanitize=fuzzer,address -Icore tests/fuzz/fuzz_model_file.c core/model_file.c \
 *         core/dws_error.c -lcjson -lz
 * Seeds: tests/fuzz/corpus/model_file/. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/base.h"
#include "fuzz_target.h"

static void parse_and_check(const uint8_t *data, size_t size)
{
    dws_model_file f;
    dws_error err = {0};
    if (dws_model_file_parse(data, size, &f, &err) != 0) {
        if (!err.code || f.card_json || f.tensors || f.n_tensors) abort();
        return;
    }
    for (int i = 0; i < f.n_tensors; i++)
        if (dws_model_file_find(&f, f.tensors[i].name) != &f.tensors[i]) abort();
    uint8_t *again;
    size_t len;
    if (dws_model_file_encode(f.card_json, f.tensors, f.n_tensors, &again, &len, &err) != 0) abort();
    if (len != size) abort();
    /* An older version re-encodes as the current one: the same bytes but the version
     * field (after the 8-byte magic) and the CRC that covers it. */
    uint8_t *want = malloc(size);
    memcpy(want, data, size);
    if (want[8] != DWS_MODEL_FILE_VERSION) {
        want[8] = DWS_MODEL_FILE_VERSION;
        uint32_t crc = (uint32_t)crc32(0L, want, (uInt)(size - 4));
        for (int i = 0; i < 4; i++) want[size - 4 + i] = (uint8_t)(crc >> (8 * i));
    }
    if (memcmp(again, want, size) != 0) abort();
    free(want);
    free(again);
    dws_model_file_free(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parse_and_check(data, size);
    /* Mutations almost never carry a matching CRC; a copy with a correct one lets them
     * reach the success path and the re-encoding check as well. */
    if (size < 4) return 0;
    uint8_t *fixed = malloc(size);
    memcpy(fixed, data, size);
    uint32_t crc = (uint32_t)crc32(0L, fixed, (uInt)(size - 4));
    for (int i = 0; i < 4; i++) fixed[size - 4 + i] = (uint8_t)(crc >> (8 * i));
    parse_and_check(fixed, size);
    free(fixed);
    return 0;
}
