/* Whole-file reads and atomic writes through zlib, so plain and gzip files are
 * handled alike (gzread passes uncompressed bytes through unchanged). */
#ifndef DWS_GZFILE_H
#define DWS_GZFILE_H

#include <stddef.h>
#include <stdint.h>

#include "dws_error.h"

/* Reads the (decompressed) contents of path into a malloc'd *out. Fails with
 * DWS_E_TOO_LARGE rather than reading more than max_bytes, DWS_E_IO when the file
 * cannot be opened, DWS_E_BAD_DATA when the gzip stream is corrupt or cut short. */
int dws_gz_read_all(const char *path, size_t max_bytes, uint8_t **out, size_t *len, dws_error *err);

/* Writes len bytes to path atomically (a temporary file in the same folder, then
 * rename), gzip-compressed when path ends in ".gz". "-" writes to stdout. */
int dws_write_file_atomic(const char *path, const void *data, size_t len, dws_error *err);

#endif
