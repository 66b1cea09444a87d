/* Per-classifier results of one adaptation method, the file format that
 * `dwsnet eval` writes for the DWSNet adapter and reads from the baselines:
 *   {"method": NAME, "per_classifier": [{"id": "000123", "split": "test",
 *     "widths": [3072, 128, 64, 10], "target_before": x, "target_after": y,
 *     "clean_before": a, "clean_after": b}, ...]}
 * and the TASK.md table computed from several such files. */
#ifndef DWS_EVAL_RESULTS_H
#define DWS_EVAL_RESULTS_H

#include <stdint.h>
#include <stdio.h>

#include "dws_error.h"
#include "mlp.h"

#define EVAL_MAX_METHODS 16

typedef struct {
    char id[64];
    char split[32];
    int n_widths;
    int64_t widths[DWS_MAX_LAYERS + 1];
    double target_before, target_after, clean_before, clean_after;
} eval_row;

typedef struct {
    char method[64];
    int n, cap;
    eval_row *rows;
} eval_results;

int eval_results_add(eval_results *r, const eval_row *row, dws_error *err);
int eval_results_read(const char *path, eval_results *r, dws_error *err);
int eval_results_write(const char *path, const eval_results *r, dws_error *err);
void eval_results_free(eval_results *r);
const eval_row *eval_results_find(const eval_results *r, const char *id, const char *split);

/* One method's figures over the classifiers of a split that it shares with ours. */
typedef struct {
    const char *method;
    int n;
    double after_mean, after_std, gain_mean, gain_std, clean_before, clean_after, improved;
    double oracle_fraction;     /* gain / the oracle's gain on the same classifiers; NAN: no oracle */
} eval_summary;

/* Summaries of ours and every other method on split; out[0] is "no adaptation". */
int eval_summarise(const eval_results *ours, const eval_results *const *others, int n_others, const char *split,
                   eval_summary *out, dws_error *err);

/* The targets of issue 5 for ours (the method at index 1 of the summaries);
 * writes one line per target to f (markdown list) and returns how many failed. */
int eval_targets(FILE *f, const eval_summary *s, int n, const char *split);

#endif
