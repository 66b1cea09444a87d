/* Where each named parameter tensor of a model lives in its one flat buffer. The
 * same table names the tensors of the model file and drives gradient checks. */
#ifndef DWS_PARAM_TABLE_H
#define DWS_PARAM_TABLE_H

#include <stddef.h>
#include <stdint.h>

#define DWS_PARAM_MAX_TENSORS 512
#define DWS_PARAM_MAX_DIMS 4

typedef struct {
    char name[64];
    size_t offset;   /* floats from the start of the flat buffer */
    size_t count;
    int ndim;
    int64_t shape[DWS_PARAM_MAX_DIMS];
} dws_param_tensor;

typedef struct {
    int n;
    size_t total;    /* floats in the flat buffer */
    dws_param_tensor t[DWS_PARAM_MAX_TENSORS];
} dws_param_table;

/* Appends a tensor at the end of the buffer; returns its offset, or (size_t)-1
 * when the table is full or the name too long (a programming error). */
size_t dws_param_table_add(dws_param_table *pt, const char *name, int ndim, const int64_t *shape);
const dws_param_tensor *dws_param_table_find(const dws_param_table *pt, const char *name);

#endif
