/* The libFuzzer entry points a fuzz target defines (and replay.c calls without
 * libFuzzer). LLVMFuzzerInitialize is optional: weak, NULL where a target has none. */
#ifndef DWS_FUZZ_TARGET_H
#define DWS_FUZZ_TARGET_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#endif
