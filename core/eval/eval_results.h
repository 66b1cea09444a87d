/* The report of docs/task.md section 6 across methods: the per-classifier results
 * of several methods (eval/eval.h's rows and file format), summarised over the
 * classifiers they share with ours, and the targets ours should meet. */
#ifndef DWS_EVAL_RESULTS_H
#define DWS_EVAL_RESULTS_H

#include <stdint.h>
#include <stdio.h>

#include "eval.h"

#define EVAL_MAX_METHODS 16

/* One method's rows, growing as dwsnet eval measures classifiers. */
typedef struct {
    char method[64];
    int n, cap;
    dws_result_row *rows;
} eval_results;

int eval_results_add(eval_results *r, const dws_result_row *row, dws_error *err);
int eval_results_read(const char *path, eval_results *r, dws_error *err);
void eval_results_free(eval_results *r);
/* r's row for the classifier of key (same split and id), or NULL. */
const dws_result_row *eval_results_find(const eval_results *r, const dws_result_row *key);

/* One method's figures over the classifiers of a split that it shares with ours. */
typedef struct {
    const char *method;
    int n;
    double after_mean, after_std, gain_mean, gain_std, clean_before, clean_after, improved;
    double oracle_fraction;     /* gain / the oracle's gain on the same classifiers; NAN: no oracle */
} eval_summary;

/* Which of ours's rows a summary covers: those of a split (NULL: both held-out zoo
 * splits), of a depth (0: any) and of a hidden activation (DWS_ACT_IDENTITY: any). */
typedef struct {
    const char *split;
    int depth;
    dws_activation activation;
} eval_filter;

/* Summaries of ours and every other method on the rows f takes; out[0] is "no adaptation". */
int eval_summarise(const eval_results *ours, const eval_results *const *others, int n_others, const eval_filter *f,
                   eval_summary *out, dws_error *err);

/* The targets of issue 5 for ours (the method at index 1 of the summaries);
 * writes one line per target to f (markdown list) and returns how many failed. */
int eval_targets(FILE *f, const eval_summary *s, int n, const char *split);

#endif
