#include "embedder_cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_io.h"

int embedder_cli_float(const char *cmd, const char *flag, const char *s, double lo, double hi, float *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi) {
        fprintf(stderr, "dwsnet %s: %s: %s needs a number in %g..%g, got '%s'\n", cmd, DWS_E_INVALID_ARGUMENT, flag,
                lo, hi, s);
        return -1;
    }
    *out = (float)v;
    return 0;
}

void embedder_cli_free_nets(dws_mlp *nets, int n)
{
    for (int i = 0; nets && i < n; i++) dws_mlp_free(&nets[i]);
    free(nets);
}

int embedder_cli_load_nets(const char *cmd, const char *dir, const dws_zoo_records *z, const char *split,
                           dws_mlp **nets, int **rec, int *n)
{
    *n = 0;
    *nets = calloc((size_t)z->n + 1, sizeof(dws_mlp));
    *rec = malloc(sizeof(int) * ((size_t)z->n + 1));
    dws_error err;
    if (!*nets || !*rec) {
        dws_error_set(&err, DWS_E_OUT_OF_MEMORY, "cannot hold %d networks", z->n);
        goto fail;
    }
    for (int i = 0; i < z->n; i++) {
        if (split && strcmp(dws_zoo_split_name(z->r[i].split), split)) continue;
        if (dws_zoo_load_mlp(dir, &z->r[i], &(*nets)[*n], &err) != 0) goto fail;
        (*rec)[(*n)++] = i;
    }
    return 0;
fail:
    embedder_cli_free_nets(*nets, *n);
    free(*rec);
    *nets = NULL;
    *rec = NULL;
    *n = 0;
    cli_fail(cmd, &err);
    return -1;
}
