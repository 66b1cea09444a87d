/* Per-classifier adaptation results: the JSON that `dwsnet baseline` writes for every
 * baseline and that `dwsnet eval` reads (and writes for the DWSNet adapter), so every
 * row of the TASK.md table comes from the same format:
 *
 *   {"method": "rescale", "settings": {...},
 *    "per_classifier": [{"id": "000123", "split": "test", "widths": [3072,64,128,10],
 *                        "target_before": 0.251, "target_after": 0.301,
 *                        "clean_before": 0.41, "clean_after": 0.39}, ...],
 *    "summary": {"test": {...}, "test_unseen_widths": {...}}}
 *
 * A classifier from outside the zoo (`dwsnet eval --extra`) has split "extra" and
 * its file's name (without .onnx) as id.
 *
 * target_* is accuracy on the corrupted test set of eval_data.h, clean_* on the clean
 * test images, before and after adaptation. "summary" is derived from the rows
 * (dws_results_summarise) and ignored when reading. */
#ifndef DWS_ADAPT_RESULTS_H
#define DWS_ADAPT_RESULTS_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "base/dws_error.h"
#include "mlp/mlp.h"
#include "zoo/zoo.h"

#define DWS_RESULTS_MAX_BYTES (64u << 20)

/* The split of a row for a classifier from outside the zoo. */
#define DWS_RESULT_EXTRA (DWS_ZOO_TEST_UNSEEN_WIDTHS + 1)

typedef struct {
    int id;                 /* zoo id; -1 in an extra row */
    int split;              /* a dws_zoo_split, or DWS_RESULT_EXTRA */
    char name[64];          /* extra rows: the id, a file name; "" otherwise */
    int n_layers;
    int64_t widths[DWS_MAX_LAYERS + 1];
    double target_before, target_after, clean_before, clean_after;
} dws_result_row;

typedef struct {
    int n;
    double target_before_mean, target_before_std;
    double target_after_mean, target_after_std;
    double gain_mean, gain_std;               /* target_after - target_before */
    double improved_fraction;                 /* rows with gain > 0 */
    double clean_before_mean, clean_after_mean;
} dws_result_summary;

/* "extra" for DWS_RESULT_EXTRA, else dws_zoo_split_name. */
const char *dws_result_split_name(int split);

/* Whether a and b are results for the same classifier (same split and id). */
int dws_result_same_classifier(const dws_result_row *a, const dws_result_row *b);

/* Means and (population) standard deviations over the rows of one split; split -1: all rows. */
void dws_results_summarise(const dws_result_row *rows, int n, int split, dws_result_summary *s);

/* The whole document; settings (may be NULL) is taken over. NULL when out of memory. */
cJSON *dws_results_to_json(const char *method, cJSON *settings, const dws_result_row *rows, int n);

/* dws_results_to_json written to path ("-": stdout) with a final newline. */
int dws_results_write(const char *path, const char *method, cJSON *settings, const dws_result_row *rows, int n,
                      dws_error *err);

/* Reads a results file: method (truncated to method_size), rows (malloc'd). Any row
 * missing a field, or with a bad split or widths, is DWS_E_BAD_DATA. */
int dws_results_read(const char *path, char *method, size_t method_size, dws_result_row **rows, int *n,
                     dws_error *err);

#endif
