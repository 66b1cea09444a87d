#include "model_cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli_io.h"

int model_cli_int(const char *cmd, const char *flag, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "dwsnet %s: %s: %s needs an integer in %ld..%ld, got '%s'\n", cmd, DWS_E_INVALID_ARGUMENT,
                flag, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

dws_model *model_cli_load(const char *cmd, const char *path, const char *default_path)
{
    dws_error err;
    if (!path && access(default_path, F_OK) != 0) {
        dws_error_set(&err, DWS_E_IO, "no model given and the default %s does not exist (train one, or pass --model FILE)",
                      default_path);
        cli_fail(cmd, &err);
        return NULL;
    }
    dws_model *m = dws_model_load(path ? path : default_path, &err);
    if (!m) cli_fail(cmd, &err);
    return m;
}
