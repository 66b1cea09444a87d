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

/* Mean and std (population) of after - before (gain) or after alone. */
static void summarise_one(const eval_results *ours, const eval_results *m, int before_only, const char *split,
                          const eval_results *oracle, eval_summary *s)
{
    double sa = 0, qa = 0, sg = 0, qg = 0, cb = 0, ca = 0, imp = 0, og = 0, mg = 0;
    int n = 0, no = 0;
    for (int i = 0; i < ours->n; i++) {
        const dws_result_row *o = &ours->rows[i];
        if (strcmp(dws_result_split_name(o->split), split) != 0) continue;
        const dws_result_row *r = eval_results_find(m, o);
        if (!r) continue;
        double after = before_only ? r->target_before : r->target_after;
        double g = after - r->target_before;
        n++;
        sa += after;
        qa += after * after;
        sg += g;
        qg += g * g;
        cb += r->clean_before;
        ca += before_only ? r->clean_before : r->clean_after;
        imp += g > 0;
        const dws_result_row *q = oracle ? eval_results_find(oracle, o) : NULL;
        if (q) {
            no++;
            og += q->target_after - q->target_before;
            mg += g;
        }
    }
    s->n = n;
    double k = n ? n : 1;
    s->after_mean = sa / k;
    s->after_std = sqrt(fmax(0, qa / k - s->after_mean * s->after_mean));
    s->gain_mean = sg / k;
    s->gain_std = sqrt(fmax(0, qg / k - s->gain_mean * s->gain_mean));
    s->clean_before = cb / k;
    s->clean_after = ca / k;
    s->improved = imp / k;
    s->oracle_fraction = no && og != 0 ? mg / og : NAN;
}

int eval_summarise(const eval_results *ours, const eval_results *const *others, int n_others, const char *split,
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
    summarise_one(ours, ours, 1, split, oracle, &out[0]);
    out[1].method = ours->method;
    summarise_one(ours, ours, 0, split, oracle, &out[1]);
    for (int i = 0; i < n_others; i++) {
        out[i + 2].method = others[i]->method;
        summarise_one(ours, others[i], 0, split, oracle, &out[i + 2]);
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
