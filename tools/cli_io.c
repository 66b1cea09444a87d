#include "cli_io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_write_file(const char *path, const void *data, size_t len, dws_error *err)
{
    if (!strcmp(path, "-")) {
        if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
            dws_error_set(err, DWS_E_IO, "cannot write to stdout: %s", strerror(errno));
            return -1;
        }
        return 0;
    }
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot allocate a file name");
        return -1;
    }
    snprintf(tmp, n, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    int ok = f && fwrite(data, 1, len, f) == len;
    if (f && fclose(f) != 0) ok = 0;
    if (ok && rename(tmp, path) != 0) ok = 0;
    if (!ok) {
        dws_error_set(err, DWS_E_IO, "cannot write %s: %s", path, strerror(errno));
        remove(tmp);
    }
    free(tmp);
    return ok ? 0 : -1;
}

int cli_fail(const char *cmd, const dws_error *err)
{
    fprintf(stderr, "dwsnet %s: %s: %s\n", cmd, err->code ? err->code : "error", err->message);
    return 1;
}

void cli_sibling_path(const char *path, const char *ext, const char *new_ext, char *buf, size_t size)
{
    size_t len = strlen(path), el = strlen(ext);
    int stem = len > el && !strcmp(path + len - el, ext) ? (int)(len - el) : (int)len;
    snprintf(buf, size, "%.*s%s", stem, path, new_ext);
}

int cli_parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int cli_parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) return -1;   /* !(...) also refuses NaN */
    *out = v;
    return 0;
}

int cli_print_json(cJSON *o)
{
    char *text = cJSON_PrintUnformatted(o);
    if (text) printf("%s\n", text);
    free(text);
    cJSON_Delete(o);
    return text ? 0 : -1;
}

int cli_flag_value(const char *cmd, int argc, char **argv, void (*usage)(FILE *), int *i, const char **value)
{
    const char *f = argv[*i];
    if (!strcmp(f, "--help") || !strcmp(f, "-h")) {
        usage(stdout);
        return 0;
    }
    if (*i + 1 >= argc) {
        fprintf(stderr, "dwsnet %s: %s: unknown or incomplete option '%s'\n", cmd, DWS_E_INVALID_ARGUMENT, f);
        return 2;
    }
    *value = argv[++*i];
    return -1;
}

int cli_missing_option(const char *cmd, void (*usage)(FILE *), const char *what)
{
    usage(stderr);
    dws_error err;
    dws_error_set(&err, DWS_E_INVALID_ARGUMENT, "%s", what);
    return cli_fail(cmd, &err);
}

int cli_unknown_option(const char *cmd, const char *flag)
{
    fprintf(stderr, "dwsnet %s: %s: unknown option '%s'\n", cmd, DWS_E_INVALID_ARGUMENT, flag);
    return 2;
}
