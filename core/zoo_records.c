#include "zoo_records.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_codec.h"
#include "read_file.h"

void dws_zoo_records_free(dws_zoo_records *z)
{
    for (int i = 0; i < z->n; i++) cJSON_Delete(z->r[i].record);
    free(z->r);
    z->n = 0;
    z->r = NULL;
}

static int copy_string(const cJSON *o, const char *key, char *dst, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= cap || !v->valuestring[0]) return -1;
    strcpy(dst, v->valuestring);
    return 0;
}

static int parse_line(const char *line, size_t len, dws_zoo_record *r)
{
    memset(r, 0, sizeof *r);
    r->record = cJSON_ParseWithLength(line, len);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(r->record, "id");
    if (!cJSON_IsNumber(id) || id->valuedouble < 0 || id->valuedouble > 1e9 ||
        copy_string(r->record, "split", r->split, sizeof r->split) != 0 ||
        copy_string(r->record, "file", r->file, sizeof r->file) != 0 || strstr(r->file, "..") || r->file[0] == '/') {
        cJSON_Delete(r->record);
        r->record = NULL;
        return -1;
    }
    r->id = id->valueint;
    return 0;
}

int dws_zoo_records_read(const char *dir, dws_zoo_records *out, dws_error *err)
{
    memset(out, 0, sizeof *out);
    char path[4096];
    snprintf(path, sizeof path, "%s/index.jsonl", dir);
    size_t len;
    char *text = (char *)dws_read_file(path, DWS_ZOO_INDEX_MAX_BYTES, &len, err);
    if (!text) return -1;
    int lines = 0;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    out->r = calloc((size_t)lines + 1, sizeof(dws_zoo_record));
    if (!out->r) {
        free(text);
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot hold %d zoo records", lines + 1);
        return -1;
    }
    int line_no = 0;
    for (size_t start = 0; start < len;) {
        const char *nl = memchr(text + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - text) : len;
        line_no++;
        if (end > start && parse_line(text + start, end - start, &out->r[out->n]) != 0) {
            dws_error_set(err, DWS_E_BAD_DATA, "%s line %d: not a zoo record (id, split, file)", path, line_no);
            free(text);
            dws_zoo_records_free(out);
            return -1;
        }
        if (end > start) out->n++;
        start = end + 1;
    }
    free(text);
    return 0;
}

int dws_zoo_record_property(const dws_zoo_record *r, const char *name, double *out)
{
    if (!strcmp(name, "log_width")) {
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(r->record, "widths");
        int n = cJSON_GetArraySize(w);
        if (!cJSON_IsArray(w) || n < 3) return -1;
        double s = 0;
        for (int i = 1; i + 1 < n; i++) {
            const cJSON *v = cJSON_GetArrayItem(w, i);
            if (!cJSON_IsNumber(v) || v->valuedouble < 1) return -1;
            s += log(v->valuedouble);
        }
        *out = s / (n - 2);
        return 0;
    }
    char key[128];
    const char *dot = strchr(name, '.');
    const cJSON *o = r->record;
    if (dot) {
        size_t k = (size_t)(dot - name);
        if (k >= sizeof key) return -1;
        memcpy(key, name, k);
        key[k] = 0;
        o = cJSON_GetObjectItemCaseSensitive(o, key);
        name = dot + 1;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(v)) return -1;
    *out = v->valuedouble;
    return 0;
}

int dws_zoo_record_load(const char *dir, const dws_zoo_record *r, dws_mlp *m, dws_error *err)
{
    char path[4096 + 256];
    snprintf(path, sizeof path, "%s/%s", dir, r->file);
    dws_onnx_limits lim;
    dws_onnx_limits_default(&lim);
    dws_onnx *onnx = dws_onnx_decode_file(path, &lim, err);
    if (!onnx) return -1;
    int rc = dws_mlp_clone(m, dws_onnx_weights(onnx), err);
    dws_onnx_free(onnx);
    return rc;
}
