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
 * target_* is accuracy on the corrupted test set of eval_data.h, clean_* on the clean
 * test images, before and after adaptation. "summary" is derived from the rows
 * (dws_results_summarise) and ignored when reading. */
#ifndef DWS_ADAPT_RESULTS_H
#define DWS_ADAPT_RESULTS_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "dws_error.h"
#include "mlp.h"
#include "zoo.h"

#define DWS_RESULTS_MAX_BYTES (64u << 20)

typedef struct {
    int id;
    dws_zoo_split split;
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

/* Means and (population) standard deviations over the rows of one split; split -1: all rows. */
void dws_results_summarise(const dws_result_row *rows, int n, int split, dws_result_summary *s);

/* The whole document; settings (may be NULL) is taken over. NULL when out of memory. */
cJSON *dws_results_to_json(const char *method, cJSON *settings, const dws_result_row *rows, int n);

/* Reads a results file: method (truncated to method_size), rows (malloc'd). Any row
 * missing a field, or with a bad split or widths, is DWS_E_BAD_DATA. */
int dws_results_read(const char *path, char *method, size_t method_size, dws_result_row **rows, int *n,
                     dws_error *err);

#endif
