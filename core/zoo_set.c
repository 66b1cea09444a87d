#include "zoo_set.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "onnx_codec.h"
#include "read_file.h"

static int split_parse(const char *s, dws_zoo_split *out)
{
    for (int k = DWS_ZOO_TRAIN; k <= DWS_ZOO_TEST_UNSEEN_WIDTHS; k++)
        if (!strcmp(s, dws_zoo_split_name((dws_zoo_split)k))) {
            *out = (dws_zoo_split)k;
            return 0;
        }
    return -1;
}

static int load_member(const char *dir, const cJSON *rec, dws_zoo_member *mem, dws_error *err)
{
    const cJSON *id = cJSON_GetObjectItem(rec, "id"), *file = cJSON_GetObjectItem(rec, "file");
    const cJSON *clean = cJSON_GetObjectItem(rec, "clean_test_acc"), *target = cJSON_GetObjectItem(rec, "target_test_acc");
    if (!cJSON_IsNumber(id) || !cJSON_IsString(file) || !cJSON_IsNumber(clean) || !cJSON_IsNumber(target) ||
        strstr(file->valuestring, "..") || file->valuestring[0] == '/') {
        dws_error_set(err, DWS_E_BAD_DATA, "%s/index.jsonl: a record lacks id, file or accuracies", dir);
        return -1;
    }
    mem->id = id->valueint;
    mem->clean_acc = clean->valuedouble;
    mem->target_acc = target->valuedouble;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file->valuestring);
    dws_onnx_limits lim;
    dws_onnx_limits_default(&lim);
    dws_onnx *onnx = dws_onnx_decode_file(path, &lim, err);
    if (!onnx) return -1;
    int rc = dws_mlp_clone(&mem->mlp, dws_onnx_weights(onnx), err);
    dws_onnx_free(onnx);
    return rc;
}

int dws_zoo_set_load(const char *dir, unsigned split_mask, int limit, dws_zoo_set *out, dws_error *err)
{
    memset(out, 0, sizeof *out);
    char path[4096];
    snprintf(path, sizeof path, "%s/index.jsonl", dir);
    size_t len = 0;
    uint8_t *text = dws_read_file(path, DWS_ZOO_SET_MAX_INDEX_BYTES, &len, err);
    if (!text) return -1;
    out->index_crc32 = (uint32_t)crc32(0L, text, (uInt)len);
    int cap = 0, rc = 0;
    for (char *line = (char *)text, *end = (char *)text + len; line < end && rc == 0;) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t n = nl ? (size_t)(nl - line) : (size_t)(end - line);
        cJSON *rec = n ? cJSON_ParseWithLength(line, n) : NULL;
        line += n + 1;
        if (!n) continue;
        const cJSON *split = cJSON_GetObjectItem(rec, "split");
        dws_zoo_split sp;
        if (!rec || !cJSON_IsString(split) || split_parse(split->valuestring, &sp) != 0) {
            dws_error_set(err, DWS_E_BAD_DATA, "%s: a line is not a zoo record", path);
            rc = -1;
        } else if ((split_mask >> sp & 1u) && (limit <= 0 || out->n < limit)) {
            if (out->n == cap) {
                cap = cap ? 2 * cap : 64;
                dws_zoo_member *m = realloc(out->m, (size_t)cap * sizeof *m);
                if (!m) {
                    dws_error_set(err, DWS_E_OUT_OF_MEMORY, "zoo set of %d classifiers", cap);
                    rc = -1;
                }
                else out->m = m;
            }
            if (rc == 0) {
                dws_zoo_member *mem = &out->m[out->n];
                memset(mem, 0, sizeof *mem);
                mem->split = sp;
                rc = load_member(dir, rec, mem, err);
                if (rc == 0) out->n++;
            }
        }
        cJSON_Delete(rec);
    }
    free(text);
    if (rc != 0) dws_zoo_set_free(out);
    return rc;
}

void dws_zoo_set_free(dws_zoo_set *s)
{
    for (int i = 0; i < s->n; i++) dws_mlp_free(&s->m[i].mlp);
    free(s->m);
    memset(s, 0, sizeof *s);
}

void dws_widths_format(const dws_mlp *m, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = 0;
    for (int l = 0; l <= m->n_layers && used < size; l++)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld", l ? "-" : "", (long long)m->widths[l]);
}
