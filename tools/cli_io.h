/* Small helpers the dwsnet subcommands share: whole-file writes, the one error
 * format every command prints, strict number parsing under the option helpers
 * of data_cli.h, model_cli.h and embedder_cli.h (bounded reads: core/base/base.h). */
#ifndef DWS_CLI_IO_H
#define DWS_CLI_IO_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/base.h"

/* Writes data to path ("-" = stdout) through a temporary file renamed into place,
 * so a failed write never leaves half a model behind. */
int cli_write_file(const char *path, const void *data, size_t len, dws_error *err);
/* Prints "dwsnet CMD: code: message" to stderr and returns 1 (the exit status). */
int cli_fail(const char *cmd, const dws_error *err);

/* s is, as a whole, a number in [lo, hi] (finite bounds): 0 and *out, else -1
 * (the caller prints its error line). */
int cli_parse_long(const char *s, long lo, long hi, long *out);
int cli_parse_double(const char *s, double lo, double hi, double *out);

/* Prints o on one line to stdout (the summary every command ends with) and
 * deletes it; -1 when it cannot be rendered (out of memory). */
int cli_print_json(cJSON *o);

/* The step of the commands' `--flag VALUE` loops that takes the value of argv[*i].
 * -1 when *value = argv[++*i] and the loop goes on; else the exit status the
 * command returns: 0 after usage(stdout) for --help or -h, 2 after the
 * "unknown or incomplete option" line when no value follows. */
int cli_flag_value(const char *cmd, int argc, char **argv, void (*usage)(FILE *), int *i, const char **value);
/* For a command run without an option it needs: usage(stderr), then the
 * invalid_argument line saying what (e.g. "--zoo is required"); returns 1. */
int cli_missing_option(const char *cmd, void (*usage)(FILE *), const char *what);
/* Prints the "unknown option" line for flag and returns 2 (the exit status). */
int cli_unknown_option(const char *cmd, const char *flag);

/* path with its ending ext (when present) replaced by new_ext: model.dws -> model.csv */
void cli_sibling_path(const char *path, const char *ext, const char *new_ext, char *buf, size_t size);

#endif
