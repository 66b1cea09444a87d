/* Argument helpers shared by the data commands (corrupt, train-classifier, zoo):
 * strict number parsing and the `dwsnet NAME: code: message` error line. */
#ifndef DWS_DATA_CLI_H
#define DWS_DATA_CLI_H

#include <stdint.h>

#include "dws_error.h"

/* Prints the error line for err and returns 1 (the exit status). */
int data_cli_fail(const char *cmd, const dws_error *err);
/* Prints an invalid_argument error line and returns 2. */
int data_cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Whole-string numbers within [lo, hi]; 0 on success, else an error line and -1. */
int data_cli_long(const char *cmd, const char *flag, const char *s, long lo, long hi, long *out);
int data_cli_u64(const char *cmd, const char *flag, const char *s, uint64_t *out);
int data_cli_double(const char *cmd, const char *flag, const char *s, double lo, double hi, double *out);
/* "i/n" with 0 <= i < n. */
int data_cli_shard(const char *cmd, const char *s, int *index, int *count);
/* "128,64": hidden widths, each 1..max; at most max_n of them. */
int data_cli_widths(const char *cmd, const char *s, int64_t *w, int max_n, int64_t max, int *n);

/* Seconds since an arbitrary start, monotonic; and user+system CPU seconds of this process. */
double data_cli_now(void);
double data_cli_cpu_seconds(void);

#endif
