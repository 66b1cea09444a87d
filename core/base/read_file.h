/* Reading a whole file whose size is bounded before it is buffered. */
#ifndef DWS_READ_FILE_H
#define DWS_READ_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "dws_error.h"

/* Reads at most max_bytes (a larger file, a pipe or a device that goes on: DWS_E_TOO_LARGE,
 * after reading no more than max_bytes + 1). *len receives the size; free() the result. */
uint8_t *dws_read_file(const char *path, size_t max_bytes, size_t *len, dws_error *err);

#endif
