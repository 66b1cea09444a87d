/* Reading a finished zoo back: the records of index.jsonl (id, split, widths,
 * accuracies) and the classifiers they name, for everything that trains on or
 * evaluates over a zoo (adapters, baselines, eval). */
#ifndef DWS_ZOO_CATALOG_H
#define DWS_ZOO_CATALOG_H

#include <stdint.h>

#include "dws_error.h"
#include "mlp.h"
#include "zoo.h"

#define DWS_ZOO_MAX_INDEX_BYTES (256u << 20)

typedef struct {
    int id;
    dws_zoo_split split;
    int n_layers;
    int64_t widths[DWS_MAX_LAYERS + 1];
    double clean_test_acc, target_test_acc;   /* as the zoo measured them */
    char file[64];                            /* relative to the zoo folder */
} dws_zoo_record;

/* "train", "val", "test", "test_unseen_widths"; -1 for anything else. */
int dws_zoo_split_parse(const char *name, dws_zoo_split *out);

/* Every record of dir/index.jsonl, in file order, into a malloc'd array. A line that
 * does not hold a valid record is an error (DWS_E_BAD_DATA) naming its line. */
int dws_zoo_catalog_read(const char *dir, dws_zoo_record **records, int *n, dws_error *err);

/* The same, also giving the CRC-32 of index.jsonl's text, which names the zoo a
 * trained model came from. */
int dws_zoo_catalog_read_crc(const char *dir, dws_zoo_record **records, int *n, uint32_t *index_crc32,
                             dws_error *err);

/* Decodes record r's ONNX file into m (a fresh MLP the caller frees); its widths
 * must be the record's. */
int dws_zoo_load_mlp(const char *dir, const dws_zoo_record *r, dws_mlp *m, dws_error *err);

#endif
