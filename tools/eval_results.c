#include "eval_results.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli_io.h"
#include "read_file.h"

#define MAX_RESULTS_BYTES ((size_t)64 << 20)

int eval_results_add(eval_results *r, const eval_row *row, dws_error *err)
{
    if (r->n == r->cap) {
        int cap = r->cap ? 2 * r->cap : 64;
        eval_row *rows = realloc(r->rows, (size_t)cap * sizeof *rows);
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

const eval_row *eval_results_find(const eval_results *r, const char *id, const char *split)
{
    for (int i = 0; i < r->n; i++)
        if (!strcmp(r->rows[i].id, id) && !strcmp(r->rows[i].split, split)) return &r->rows[i];
    return NULL;
}

static int number(const cJSON *o, const char *key, double *v)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble)) return -1;
    *v = it->valuedouble;
    return 0;
}

static int parse_row(const cJSON *o, eval_row *row)
{
    memset(row, 0, sizeof *row);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id"), *split = cJSON_GetObjectItemCaseSensitive(o, "split");
    const cJSON *widths = cJSON_GetObjectItemCaseSensitive(o, "widths"), *w;
    if (!cJSON_IsString(id) || !cJSON_IsString(split) || strlen(id->valuestring) >= sizeof row->id ||
        strlen(split->valuestring) >= sizeof row->split)
        return -1;
    strcpy(row->id, id->valuestring);
    strcpy(row->split, split->valuestring);
    cJSON_ArrayForEach(w, widths)
    {
        if (!cJSON_IsNumber(w) || row->n_widths > DWS_MAX_LAYERS) return -1;
        row->widths[row->n_widths++] = (int64_t)w->valuedouble;
    }
    return number(o, "target_before", &row->target_before) | number(o, "target_after", &row->target_after) |
           number(o, "clean_before", &row->clean_before) | number(o, "clean_after", &row->clean_after);
}

int eval_results_read(const char *path, eval_results *r, dws_error *err)
{
    memset(r, 0, sizeof *r);
    size_t len;
    uint8_t *text = dws_read_file(path, MAX_RESULTS_BYTES, &len, err);
    if (!text) return -1;
    cJSON *root = cJSON_ParseWithLength((const char *)text, len);
    free(text);
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(root, "method");
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(root, "per_classifier"), *o;
    int rc = cJSON_IsString(method) && cJSON_IsArray(rows) && strlen(method->valuestring) < sizeof r->method ? 0 : -1;
    if (rc == 0) strcpy(r->method, method->valuestring);
    cJSON_ArrayForEach(o, rows)
    {
        eval_row row;
        if (rc == 0 && parse_row(o, &row) != 0) rc = -1;
        if (rc == 0 && eval_results_add(r, &row, err) != 0) rc = -2;
    }
    cJSON_Delete(root);
    if (rc == -1)
        dws_error_set(err, DWS_E_BAD_DATA,
                      "%s: not a results file ({\"method\", \"per_classifier\": [{\"id\", \"split\", \"widths\", "
                      "\"target_before\", \"target_after\", \"clean_before\", \"clean_after\"}]})",
                      path);
    if (rc != 0) eval_results_free(r);
    return rc ? -1 : 0;
}

int eval_results_write(const char *path, const eval_results *r, dws_error *err)
{
    cJSON *root = cJSON_CreateObject(), *rows = cJSON_CreateArray();
    cJSON_AddStringToObject(root, "method", r->method);
    cJSON_AddItemToObject(root, "per_classifier", rows);
    for (int i = 0; i < r->n; i++) {
        const eval_row *w = &r->rows[i];
        cJSON *o = cJSON_CreateObject(), *ws = cJSON_CreateArray();
        cJSON_AddStringToObject(o, "id", w->id);
        cJSON_AddStringToObject(o, "split", w->split);
        for (int k = 0; k < w->n_widths; k++) cJSON_AddItemToArray(ws, cJSON_CreateNumber((double)w->widths[k]));
        cJSON_AddItemToObject(o, "widths", ws);
        cJSON_AddNumberToObject(o, "target_before", w->target_before);
        cJSON_AddNumberToObject(o, "target_after", w->target_after);
        cJSON_AddNumberToObject(o, "clean_before", w->clean_before);
        cJSON_AddNumberToObject(o, "clean_after", w->clean_after);
        cJSON_AddItemToArray(rows, o);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    int rc = text ? cli_write_file(path, text, strlen(text), err) : -1;
    if (!text) dws_error_set(err, DWS_E_OUT_OF_MEMORY, "results JSON");
    free(text);
    return rc;
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
        const eval_row *o = &ours->rows[i];
        if (strcmp(o->split, split) != 0) continue;
        const eval_row *r = eval_results_find(m, o->id, split);
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
        const eval_row *q = oracle ? eval_results_find(oracle, o->id, split) : NULL;
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
