#include "zoo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


int dws_zoo_set_load(const char *dir, unsigned split_mask, int limit, dws_zoo_set *out, dws_error *err)
{
    memset(out, 0, sizeof *out);
    dws_zoo_record *recs;
    int n_recs;
    if (dws_zoo_catalog_read_mode(dir, DWS_ZOO_READ_CLASSIFIERS, &recs, &n_recs, &out->index_crc32, err)) return -1;
    int rc = 0, n = 0;
    for (int i = 0; i < n_recs; i++) n += split_mask >> recs[i].split & 1u;
    if (limit > 0 && n > limit) n = limit;
    if (n && !(out->m = calloc((size_t)n, sizeof *out->m))) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "zoo set of %d classifiers", n);
        rc = -1;
    }
    for (int i = 0; i < n_recs && out->n < n && rc == 0; i++) {
        const dws_zoo_record *r = &recs[i];
        if (!(split_mask >> r->split & 1u)) continue;
        dws_zoo_member *mem = &out->m[out->n];
        mem->id = r->id;
        mem->split = r->split;
        mem->clean_acc = r->clean_test_acc;
        mem->target_acc = r->target_test_acc;
        mem->frame = r->frame;
        rc = dws_zoo_load_mlp(dir, r, &mem->mlp, err);
        if (rc == 0) out->n++;
    }
    free(recs);
    if (rc != 0) dws_zoo_set_free(out);
    return rc;
}

void dws_zoo_set_free(dws_zoo_set *s)
{
    for (int i = 0; i < s->n; i++) dws_mlp_free(&s->m[i].mlp);
    free(s->m);
    memset(s, 0, sizeof *s);
}

void dws_widths_format(const dws_mlp *m, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = 0;
    for (int l = 0; l <= m->n_layers && used < size; l++)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld", l ? "-" : "", (long long)m->widths[l]);
}
