/* Argument helpers shared by the data commands (corrupt, train-classifier, zoo):
 * strict number parsing, the usage error line (the other error lines: cli_io.h),
 * and the images a classifier is trained and measured on. */
#ifndef DWS_DATA_CLI_H
#define DWS_DATA_CLI_H

#include <stdint.h>

#include "cli_io.h"
#include "data/data.h"
#include "base/base.h"

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

/* CIFAR-10's train and test splits from dir, and *target: a float copy of the test
 * images through domain d with noise seed domain_seed. The three start empty and
 * are the caller's to free, on failure too. */
int data_cli_load_cifar(const char *dir, const dws_domain *d, uint64_t domain_seed, dws_image_set *train,
                        dws_image_set *test, float **target, dws_error *err);

/* Seconds since an arbitrary start, monotonic; and user+system CPU seconds of this process. */
double data_cli_now(void);
double data_cli_cpu_seconds(void);

#endif
