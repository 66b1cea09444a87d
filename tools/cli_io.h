/* Small helpers the dwsnet subcommands share: the one error format every command
 * prints, the JSON summary line and clocks (options: options.h; whole-file reads
 * and atomic writes: core/base/base.h). */
#ifndef DWS_CLI_IO_H
#define DWS_CLI_IO_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/base.h"

/* Prints "dwsnet CMD: code: message" to stderr and returns 1 (the exit status). */
int cli_fail(const char *cmd, const dws_error *err);

/* Prints o on one line to stdout (the summary every command ends with) and
 * deletes it; -1 when it cannot be rendered (out of memory). */
int cli_print_json(cJSON *o);

/* Seconds since an arbitrary start, monotonic; and user+system CPU seconds of this process. */
double cli_now(void);
double cli_cpu_seconds(void);

#endif
