#include "data_cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "data/data.h"

int data_cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "dwsnet %s: %s: ", cmd, DWS_E_INVALID_ARGUMENT);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see dwsnet %s --help)\n", cmd);
    va_end(ap);
    return 2;
}

int data_cli_long(const char *cmd, const char *flag, const char *s, long lo, long hi, long *out)
{
    if (cli_parse_long(s, lo, hi, out) == 0) return 0;
    data_cli_usage(cmd, "%s must be an integer from %ld to %ld, got '%s'", flag, lo, hi, s);
    return -1;
}

int data_cli_u64(const char *cmd, const char *flag, const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-') {
        data_cli_usage(cmd, "%s must be a non-negative integer, got '%s'", flag, s);
        return -1;
    }
    *out = v;
    return 0;
}

int data_cli_double(const char *cmd, const char *flag, const char *s, double lo, double hi, double *out)
{
    if (cli_parse_double(s, lo, hi, out) == 0) return 0;
    data_cli_usage(cmd, "%s must be a number from %g to %g, got '%s'", flag, lo, hi, s);
    return -1;
}

int data_cli_shard(const char *cmd, const char *s, int *index, int *count)
{
    int i, n, used = 0;
    if (sscanf(s, "%d/%d%n", &i, &n, &used) != 2 || s[used] || n < 1 || i < 0 || i >= n) {
        data_cli_usage(cmd, "--shard must be i/n with 0 <= i < n, got '%s'", s);
        return -1;
    }
    *index = i;
    *count = n;
    return 0;
}

int data_cli_widths(const char *cmd, const char *s, int64_t *w, int max_n, int64_t max, int *n)
{
    *n = 0;
    const char *p = s;
    for (;;) {
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (errno || end == p || (*end && *end != ',') || v < 1 || v > max || *n == max_n) {
            data_cli_usage(cmd, "widths must be up to %d comma-separated integers from 1 to %lld, got '%s'", max_n,
                           (long long)max, s);
            return -1;
        }
        w[(*n)++] = v;
        if (!*end) return 0;
        p = end + 1;
    }
}

int data_cli_load_cifar(const char *dir, const dws_domain *d, uint64_t domain_seed, dws_image_set *train,
                        dws_image_set *test, float **target, dws_error *err)
{
    *train = *test = (dws_image_set){0};
    *target = NULL;
    if (dws_cifar10_load_split(dir, DWS_SPLIT_TRAIN, train, err) || dws_cifar10_load_split(dir, DWS_SPLIT_TEST, test, err))
        return -1;
    *target = dws_eval_corrupted_copy(test, d, domain_seed, err);
    return *target ? 0 : -1;
}

double data_cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

double data_cli_cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec * 1e-6;
}
