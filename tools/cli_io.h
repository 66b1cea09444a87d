/* Small helpers the dwsnet subcommands share: whole-file writes and the one
 * error format every command prints (bounded reads: core/read_file.h). */
#ifndef DWS_CLI_IO_H
#define DWS_CLI_IO_H

#include <stddef.h>
#include <stdint.h>

#include "dws_error.h"

/* Writes data to path ("-" = stdout) through a temporary file renamed into place,
 * so a failed write never leaves half a model behind. */
int cli_write_file(const char *path, const void *data, size_t len, dws_error *err);
/* Prints "dwsnet CMD: code: message" to stderr and returns 1 (the exit status). */
int cli_fail(const char *cmd, const dws_error *err);

/* path with its ending ext (when present) replaced by new_ext: model.dws -> model.csv */
void cli_sibling_path(const char *path, const char *ext, const char *new_ext, char *buf, size_t size);

#endif
