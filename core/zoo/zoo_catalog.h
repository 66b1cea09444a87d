/* Reading a finished zoo back: the records of index.jsonl (id, split, widths,
 * accuracies) and the classifiers they name, for everything that trains on or
 * evaluates over a zoo (adapters, baselines, eval, the embedder through
 * zoo_records.h). The one reader of index.jsonl. */
#ifndef DWS_ZOO_CATALOG_H
#define DWS_ZOO_CATALOG_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "base/dws_error.h"
#include "mlp/mlp.h"
#include "zoo.h"

#define DWS_ZOO_MAX_INDEX_BYTES (256u << 20)

typedef struct {
    int id;
    dws_zoo_split split;
    int n_layers;
    int64_t widths[DWS_MAX_LAYERS + 1];
    double clean_test_acc, target_test_acc;   /* as the zoo measured them; 0 in a zoo that does not */
    char file[64];                            /* relative to the zoo folder */
    cJSON *fields;                            /* the whole line, kept by DWS_ZOO_READ_FIELDS only */
} dws_zoo_record;

/* What a line must hold beyond id, split, widths and file, and what is kept of it. */
typedef enum {
    DWS_ZOO_READ_CLASSIFIERS,   /* clean_test_acc and target_test_acc (zoo.h's zoos); the line is dropped */
    DWS_ZOO_READ_FIELDS,        /* nothing more (inr-zoo's zoos record a, b instead); the line is kept */
} dws_zoo_read_mode;

/* "train", "val", "test", "test_unseen_widths"; -1 for anything else. */
int dws_zoo_split_parse(const char *name, dws_zoo_split *out);

/* Every record of dir/index.jsonl, in file order, into a malloc'd array. A line that
 * does not hold a valid record is an error (DWS_E_BAD_DATA) naming its line. */
int dws_zoo_catalog_read(const char *dir, dws_zoo_record **records, int *n, dws_error *err);

/* The same in either mode, also giving (when index_crc32 is not NULL) the CRC-32 of
 * index.jsonl's text, which names the zoo a trained model came from. Records read
 * with DWS_ZOO_READ_FIELDS are freed with dws_zoo_catalog_free, others with free(). */
int dws_zoo_catalog_read_mode(const char *dir, dws_zoo_read_mode mode, dws_zoo_record **records, int *n,
                              uint32_t *index_crc32, dws_error *err);
void dws_zoo_catalog_free(dws_zoo_record *records, int n);

/* Decodes record r's ONNX file into m (a fresh MLP the caller frees); its widths
 * must be the record's. */
int dws_zoo_load_mlp(const char *dir, const dws_zoo_record *r, dws_mlp *m, dws_error *err);

#endif
