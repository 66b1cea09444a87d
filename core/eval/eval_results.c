#include "eval_results.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int eval_results_add(eval_results *r, const dws_result_row *row, dws_error *err)
{
    if (r->n == r->cap) {
        int cap = r->cap ? 2 * r->cap : 64;
        dws_result_row *rows = realloc(r->rows, (size_t)cap * sizeof *rows);
        if (!rows) {
            dws_error_set(err, DWS_E_OUT_OF_MEMORY, "results of %d classifiers", cap);
            return -1;
        }
        r->rows = rows;
        r->cap = cap;
    }
    r->rows[r->n++] = *row;
    return 0;
}

void eval_results_free(eval_results *r)
{
    free(r->rows);
    memset(r, 0, sizeof *r);
}

const dws_result_row *eval_results_find(const eval_results *r, const dws_result_row *key)
{
    for (int i = 0; i < r->n; i++)
        if (dws_result_same_classifier(&r->rows[i], key)) return &r->rows[i];
    return NULL;
}

int eval_results_read(const char *path, eval_results *r, dws_error *err)
{
    memset(r, 0, sizeof *r);
    if (dws_results_read(path, r->method, sizeof r->method, &r->rows, &r->n, err)) return -1;
    r->cap = r->n;
    return 0;
}

static int is_oracle(const char *method)
{
    return strcasestr(method, "oracle") != NULL;
}

/* ours's figures (before_only: as if it had adapted nothing) or another method's,
 * over the classifiers of split that m shares with ours: dws_results_summarise
 * of those rows, and the gain as a fraction of the oracle's on them. */
static int takes(const eval_filter *f, const dws_result_row *r)
{
    if (f->split ? strcmp(dws_result_split_name(r->split), f->split) != 0 : r->split == DWS_RESULT_EXTRA) return 0;
    return (!f->depth || r->n_layers == f->depth) && (f->activation == DWS_ACT_IDENTITY || r->activation == f->activation);
}

static int summarise_one(const eval_results *ours, const eval_results *m, int before_only, const eval_filter *f,
                         const eval_results *oracle, eval_summary *s, dws_error *err)
{
    dws_result_row *rows = malloc(sizeof *rows * ((size_t)ours->n + 1));
    if (!rows) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "out of memory summarising %s", m->method);
        return -1;
    }
    double og = 0, mg = 0;
    int n = 0, no = 0;
    for (int i = 0; i < ours->n; i++) {
        const dws_result_row *o = &ours->rows[i];
        if (!takes(f, o)) continue;
        const dws_result_row *r = eval_results_find(m, o);
        if (!r) continue;
        dws_result_row *row = &rows[n++];
        *row = *r;
        if (before_only) {
            row->target_after = r->target_before;
            row->clean_after = r->clean_before;
        }
        const dws_result_row *q = oracle ? eval_results_find(oracle, o) : NULL;
        if (q) {
            no++;
            og += q->target_after - q->target_before;
            mg += row->target_after - row->target_before;
        }
    }
    dws_result_summary rs;
    dws_results_summarise(rows, n, -1, &rs);
    free(rows);
    s->n = rs.n;
    s->after_mean = rs.target_after_mean;
    s->after_std = rs.target_after_std;
    s->gain_mean = rs.gain_mean;
    s->gain_std = rs.gain_std;
    s->clean_before = rs.clean_before_mean;
    s->clean_after = rs.clean_after_mean;
    s->improved = rs.improved_fraction;
    s->oracle_fraction = no && og != 0 ? mg / og : NAN;
    return 0;
}

int eval_summarise(const eval_results *ours, const eval_results *const *others, int n_others, const eval_filter *f,
                   eval_summary *out, dws_error *err)
{
    if (n_others + 2 > EVAL_MAX_METHODS) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "at most %d baseline files", EVAL_MAX_METHODS - 2);
        return -1;
    }
    const eval_results *oracle = NULL;
    for (int i = 0; i < n_others; i++)
        if (is_oracle(others[i]->method)) oracle = others[i];
    out[0].method = "no adaptation";
    out[1].method = ours->method;
    if (summarise_one(ours, ours, 1, f, oracle, &out[0], err) != 0 ||
        summarise_one(ours, ours, 0, f, oracle, &out[1], err) != 0)
        return -1;
    for (int i = 0; i < n_others; i++) {
        out[i + 2].method = others[i]->method;
        if (summarise_one(ours, others[i], 0, f, oracle, &out[i + 2], err) != 0) return -1;
    }
    return 0;
}

static void target_line(FILE *f, int *failed, int met, const char *fmt, double a, double b)
{
    fprintf(f, "- [%s] ", met ? "x" : " ");
    fprintf(f, fmt, a, b);
    fprintf(f, "\n");
    *failed += !met;
}

int eval_targets(FILE *f, const eval_summary *s, int n, const char *split)
{
    const eval_summary *ours = &s[1];
    int failed = 0, unseen = strcmp(split, "test") != 0;
    double need = unseen ? 0.7 : 0.8;
    if (!isnan(ours->oracle_fraction))
        target_line(f, &failed, ours->oracle_fraction >= need, "gain %.0f%% of the fine-tuning oracle's (target %.0f%%)",
                    100 * ours->oracle_fraction, 100 * need);
    else
        fprintf(f, "- [?] no oracle results for this split\n");
    if (!unseen) {
        for (int i = 2; i < n; i++)
            if (!is_oracle(s[i].method) && s[i].n > 0)
                fprintf(f, "- [%s] gain %+.2f points vs %s's %+.2f (target: 2 points above)\n",
                        ours->gain_mean - s[i].gain_mean >= 0.02 ? "x" : " ", 100 * ours->gain_mean, s[i].method,
                        100 * s[i].gain_mean),
                    failed += ours->gain_mean - s[i].gain_mean < 0.02;
        target_line(f, &failed, ours->improved >= 0.95, "%.0f%% of classifiers improved (target %.0f%%)",
                    100 * ours->improved, 95);
    }
    return failed;
}
