/* Reading a zoo's index.jsonl back: every record with its split and widths, and
 * numeric properties by name, for training and probing on a zoo (zoo.h writes it;
 * `dwsnet inr-zoo` writes the same layout). */
#ifndef DWS_ZOO_RECORDS_H
#define DWS_ZOO_RECORDS_H

#include <cjson/cJSON.h>

#include "dws_error.h"
#include "mlp.h"

#define DWS_ZOO_INDEX_MAX_BYTES (256u << 20)

typedef struct {
    int id;
    char split[32];        /* "train", "val", "test", "test_unseen_widths" */
    char file[256];        /* relative to the zoo folder */
    cJSON *record;         /* the whole line */
} dws_zoo_record;

typedef struct {
    int n;
    dws_zoo_record *r;
} dws_zoo_records;

/* Parses dir/index.jsonl; a line without id, split and file is an error
 * (DWS_E_BAD_DATA naming the line). */
int dws_zoo_records_read(const char *dir, dws_zoo_records *out, dws_error *err);
void dws_zoo_records_free(dws_zoo_records *z);

/* A numeric property of a record: a field ("clean_test_acc", "a"), a field of an
 * object ("recipe.epochs"), or "log_width", the mean of log(d_n) over the hidden
 * widths. 0 when found, -1 when absent or not a number. */
int dws_zoo_record_property(const dws_zoo_record *r, const char *name, double *out);

/* Decodes the network of record r (dir/file) into *m (initialised by the call). */
int dws_zoo_record_load(const char *dir, const dws_zoo_record *r, dws_mlp *m, dws_error *err);

#endif
