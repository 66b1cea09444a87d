#include "embedder_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_io.h"

void embedder_cli_close_zoo(embedder_zoo *z)
{
    for (int i = 0; z->nets && i < z->n; i++) dws_mlp_free(&z->nets[i]);
    free(z->nets);
    dws_zoo_records_free(&z->records);
    z->nets = NULL;
    z->n = 0;
}

int embedder_cli_open_zoo(const char *cmd, const char *dir, const char *split, embedder_zoo *z)
{
    memset(z, 0, sizeof *z);
    dws_error err;
    if (dws_zoo_records_read(dir, &z->records, &err) != 0) {
        cli_fail(cmd, &err);
        return -1;
    }
    if (!(z->nets = calloc((size_t)z->records.n + 1, sizeof(dws_mlp)))) {
        dws_error_set(&err, DWS_E_OUT_OF_MEMORY, "cannot hold %d networks", z->records.n);
        goto fail;
    }
    for (int i = 0; i < z->records.n; i++) {
        const dws_zoo_record *r = &z->records.r[i];
        if (split && strcmp(dws_zoo_split_name(r->split), split)) continue;
        if (dws_zoo_load_mlp(dir, r, &z->nets[z->n], &err) != 0) goto fail;
        z->n++;
    }
    return 0;
fail:
    embedder_cli_close_zoo(z);
    cli_fail(cmd, &err);
    return -1;
}
