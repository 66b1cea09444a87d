/* A zoo split in memory: the classifiers listed in a zoo's index.jsonl (zoo.h),
 * decoded from their ONNX files, with what the index records about them. What the
 * adapter trainer, the baselines and `dwsnet eval` read. */
#ifndef DWS_ZOO_SET_H
#define DWS_ZOO_SET_H

#include <stdint.h>

#include "base/dws_error.h"
#include "mlp/mlp.h"
#include "zoo.h"

typedef struct {
    int id;
    dws_zoo_split split;
    double clean_acc, target_acc;   /* as the zoo measured them (test split) */
    dws_mlp mlp;
} dws_zoo_member;

typedef struct {
    int n;
    dws_zoo_member *m;
    uint32_t index_crc32;           /* of index.jsonl, to name the zoo a model came from */
} dws_zoo_set;

/* Loads the entries of dir/index.jsonl (read by zoo_catalog.h) whose split bit
 * (1 << split) is in split_mask, in index order, at most limit of them (0: all). */
int dws_zoo_set_load(const char *dir, unsigned split_mask, int limit, dws_zoo_set *out, dws_error *err);
void dws_zoo_set_free(dws_zoo_set *s);

/* "3072-128-64-10" */
void dws_widths_format(const dws_mlp *m, char *buf, size_t size);

#endif
