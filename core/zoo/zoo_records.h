/* A zoo's records with every field of their index.jsonl lines kept (zoo_catalog.h
 * reads them), and numeric properties by name, for training and probing on any zoo
 * (zoo.h's classifier zoos and `dwsnet inr-zoo`'s sine INRs alike). */
#ifndef DWS_ZOO_RECORDS_H
#define DWS_ZOO_RECORDS_H

#include "base/dws_error.h"
#include "zoo_catalog.h"

typedef struct {
    int n;
    dws_zoo_record *r;   /* read with DWS_ZOO_READ_FIELDS: r[i].fields is line i */
} dws_zoo_records;

/* Every record of dir/index.jsonl; a line without id, split, widths and file is
 * an error (DWS_E_BAD_DATA naming the line). Records of a zoo of classifiers
 * need not carry accuracies here: properties are looked up by name. */
int dws_zoo_records_read(const char *dir, dws_zoo_records *out, dws_error *err);
void dws_zoo_records_free(dws_zoo_records *z);

/* A numeric property of a record: a field ("clean_test_acc", "a"), a field of an
 * object ("recipe.epochs"), or "log_width", the mean of log(d_n) over the hidden
 * widths. 0 when found, -1 when absent or not a number. */
int dws_zoo_record_property(const dws_zoo_record *r, const char *name, double *out);

#endif
