#include "eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "zoo/zoo.h"

const char *dws_result_split_name(int split)
{
    return split == DWS_RESULT_EXTRA ? "extra" : dws_zoo_split_name((dws_zoo_split)split);
}

int dws_result_same_classifier(const dws_result_row *a, const dws_result_row *b)
{
    return a->split == b->split && (a->split == DWS_RESULT_EXTRA ? !strcmp(a->name, b->name) : a->id == b->id);
}

void dws_results_summarise(const dws_result_row *rows, int n, int split, dws_result_summary *s)
{
    memset(s, 0, sizeof *s);
    double sq_before = 0, sq_after = 0, sq_gain = 0;
    for (int i = 0; i < n; i++) {
        const dws_result_row *r = &rows[i];
        if (split >= 0 && (int)r->split != split) continue;
        double gain = r->target_after - r->target_before;
        s->n++;
        s->target_before_mean += r->target_before;
        s->target_after_mean += r->target_after;
        s->gain_mean += gain;
        s->improved_fraction += gain > 0;
        s->clean_before_mean += r->clean_before;
        s->clean_after_mean += r->clean_after;
        sq_before += r->target_before * r->target_before;
        sq_after += r->target_after * r->target_after;
        sq_gain += gain * gain;
    }
    if (!s->n) return;
    double k = s->n;
    s->target_before_mean /= k;
    s->target_after_mean /= k;
    s->gain_mean /= k;
    s->improved_fraction /= k;
    s->clean_before_mean /= k;
    s->clean_after_mean /= k;
    s->target_before_std = sqrt(fmax(0, sq_before / k - s->target_before_mean * s->target_before_mean));
    s->target_after_std = sqrt(fmax(0, sq_after / k - s->target_after_mean * s->target_after_mean));
    s->gain_std = sqrt(fmax(0, sq_gain / k - s->gain_mean * s->gain_mean));
}

static cJSON *summary_json(const dws_result_summary *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "n", s->n);
    cJSON_AddNumberToObject(o, "target_before_mean", s->target_before_mean);
    cJSON_AddNumberToObject(o, "target_before_std", s->target_before_std);
    cJSON_AddNumberToObject(o, "target_after_mean", s->target_after_mean);
    cJSON_AddNumberToObject(o, "target_after_std", s->target_after_std);
    cJSON_AddNumberToObject(o, "gain_mean", s->gain_mean);
    cJSON_AddNumberToObject(o, "gain_std", s->gain_std);
    cJSON_AddNumberToObject(o, "improved_fraction", s->improved_fraction);
    cJSON_AddNumberToObject(o, "clean_before_mean", s->clean_before_mean);
    cJSON_AddNumberToObject(o, "clean_after_mean", s->clean_after_mean);
    return o;
}

cJSON *dws_results_to_json(const char *method, cJSON *settings, const dws_result_row *rows, int n)
{
    cJSON *doc = cJSON_CreateObject(), *list = cJSON_CreateArray(), *summary = cJSON_CreateObject();
    if (!doc || !list || !summary) {
        cJSON_Delete(doc);
        cJSON_Delete(list);
        cJSON_Delete(summary);
        cJSON_Delete(settings);
        return NULL;
    }
    cJSON_AddStringToObject(doc, "method", method);
    cJSON_AddItemToObject(doc, "settings", settings ? settings : cJSON_CreateObject());
    for (int i = 0; i < n; i++) {
        const dws_result_row *r = &rows[i];
        cJSON *o = cJSON_CreateObject();
        char id[16];
        snprintf(id, sizeof id, "%06d", r->id);
        cJSON_AddStringToObject(o, "id", r->split == DWS_RESULT_EXTRA ? r->name : id);
        cJSON_AddStringToObject(o, "split", dws_result_split_name(r->split));
        cJSON *w = cJSON_AddArrayToObject(o, "widths");
        for (int l = 0; l <= r->n_layers; l++) cJSON_AddItemToArray(w, cJSON_CreateNumber((double)r->widths[l]));
        if (r->activation != DWS_ACT_IDENTITY) cJSON_AddStringToObject(o, "activation", dws_activation_name(r->activation));
        cJSON_AddNumberToObject(o, "target_before", r->target_before);
        cJSON_AddNumberToObject(o, "target_after", r->target_after);
        cJSON_AddNumberToObject(o, "clean_before", r->clean_before);
        cJSON_AddNumberToObject(o, "clean_after", r->clean_after);
        cJSON_AddItemToArray(list, o);
    }
    cJSON_AddItemToObject(doc, "per_classifier", list);
    for (int k = -1; k <= DWS_RESULT_EXTRA; k++) {
        dws_result_summary s;
        dws_results_summarise(rows, n, k, &s);
        if (s.n) cJSON_AddItemToObject(summary, k < 0 ? "all" : dws_result_split_name(k), summary_json(&s));
    }
    cJSON_AddItemToObject(doc, "summary", summary);
    return doc;
}

int dws_results_write(const char *path, const char *method, cJSON *settings, const dws_result_row *rows, int n,
                      dws_error *err)
{
    cJSON *doc = dws_results_to_json(method, settings, rows, n);
    char *text = doc ? cJSON_Print(doc) : NULL;
    cJSON_Delete(doc);
    if (!text) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot format the results of %s", method);
        return -1;
    }
    size_t len = strlen(text);
    text[len] = '\n';   /* over the terminator: the buffer is written by length */
    int rc = dws_write_file_atomic(path, text, len + 1, err);
    free(text);
    return rc;
}

static int number_field(const cJSON *o, const char *name, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) return -1;
    *out = v->valuedouble;
    return 0;
}

static int parse_row(const cJSON *o, dws_result_row *r)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
    const cJSON *split = cJSON_GetObjectItemCaseSensitive(o, "split");
    const cJSON *widths = cJSON_GetObjectItemCaseSensitive(o, "widths");
    char *end;
    dws_zoo_split zs;
    memset(r, 0, sizeof *r);
    if (!cJSON_IsString(id) || !cJSON_IsString(split) || !cJSON_IsArray(widths)) return -1;
    int nw = cJSON_GetArraySize(widths);
    if (nw < 2 || nw > DWS_MAX_LAYERS + 1) return -1;
    if (!strcmp(split->valuestring, "extra")) {
        if (!id->valuestring[0] || strlen(id->valuestring) >= sizeof r->name) return -1;
        r->id = -1;
        r->split = DWS_RESULT_EXTRA;
        strcpy(r->name, id->valuestring);
    } else {
        long idv = strtol(id->valuestring, &end, 10);
        if (*end || end == id->valuestring || idv < 0 || idv > DWS_ZOO_MAX_COUNT ||
            dws_zoo_split_parse(split->valuestring, &zs))
            return -1;
        r->id = (int)idv;
        r->split = zs;
    }
    r->n_layers = nw - 1;
    int l = 0;
    for (const cJSON *w = widths->child; w; w = w->next, l++) {
        if (!cJSON_IsNumber(w) || w->valuedouble < 1 || w->valuedouble > (1 << 20)) return -1;
        r->widths[l] = (int64_t)w->valuedouble;
    }
    /* Absent in files written before activations were recorded: not recorded. */
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(o, "activation");
    if (act && (!cJSON_IsString(act) || dws_activation_parse(act->valuestring, &r->activation) != 0)) return -1;
    return number_field(o, "target_before", &r->target_before) || number_field(o, "target_after", &r->target_after) ||
                   number_field(o, "clean_before", &r->clean_before) || number_field(o, "clean_after", &r->clean_after)
               ? -1
               : 0;
}

int dws_results_read(const char *path, char *method, size_t method_size, dws_result_row **rows, int *n,
                     dws_error *err)
{
    uint8_t *buf;
    size_t len;
    *rows = NULL;
    *n = 0;
    if (dws_gz_read_all(path, DWS_RESULTS_MAX_BYTES, &buf, &len, err)) return -1;
    cJSON *doc = cJSON_ParseWithLength((const char *)buf, len);
    free(buf);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, "method");
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "per_classifier");
    if (!cJSON_IsString(m) || !cJSON_IsArray(list)) {
        cJSON_Delete(doc);
        dws_error_set(err, DWS_E_BAD_DATA, "%s is not a results file (needs \"method\" and \"per_classifier\")", path);
        return -1;
    }
    int count = cJSON_GetArraySize(list), i = 0;
    dws_result_row *r = calloc((size_t)count + 1, sizeof *r);
    if (!r) {
        cJSON_Delete(doc);
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "out of memory reading %s", path);
        return -1;
    }
    for (const cJSON *o = list->child; o; o = o->next, i++)
        if (parse_row(o, &r[i])) {
            dws_error_set(err, DWS_E_BAD_DATA, "%s: per_classifier[%d] lacks a valid field", path, i);
            free(r);
            cJSON_Delete(doc);
            return -1;
        }
    snprintf(method, method_size, "%s", m->valuestring);
    cJSON_Delete(doc);
    *rows = r;
    *n = count;
    return 0;
}
