#include "param_table.h"

#include <string.h>

size_t dws_param_table_add(dws_param_table *pt, const char *name, int ndim, const int64_t *shape)
{
    if (pt->n >= DWS_PARAM_MAX_TENSORS || strlen(name) >= sizeof pt->t[0].name || ndim < 1 ||
        ndim > DWS_PARAM_MAX_DIMS)
        return (size_t)-1;
    dws_param_tensor *t = &pt->t[pt->n++];
    memset(t, 0, sizeof *t);
    strcpy(t->name, name);
    t->ndim = ndim;
    t->count = 1;
    for (int i = 0; i < ndim; i++) {
        t->shape[i] = shape[i];
        t->count *= (size_t)shape[i];
    }
    t->offset = pt->total;
    pt->total += t->count;
    return t->offset;
}

const dws_param_tensor *dws_param_table_find(const dws_param_table *pt, const char *name)
{
    for (int i = 0; i < pt->n; i++)
        if (!strcmp(pt->t[i].name, name)) return &pt->t[i];
    return NULL;
}
