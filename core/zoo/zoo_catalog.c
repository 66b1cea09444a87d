#include "zoo.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/base.h"
#include "onnx/onnx_codec.h"

int dws_zoo_split_parse(const char *name, dws_zoo_split *out)
{
    for (int k = 0; k <= DWS_ZOO_TEST_UNSEEN_WIDTHS; k++)
        if (!strcmp(name, dws_zoo_split_name((dws_zoo_split)k))) {
            *out = (dws_zoo_split)k;
            return 0;
        }
    return -1;
}

static int parse_record(const char *line, size_t len, dws_zoo_read_mode mode, dws_zoo_record *r)
{
    cJSON *o = cJSON_ParseWithLength(line, len);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
    const cJSON *split = cJSON_GetObjectItemCaseSensitive(o, "split");
    const cJSON *widths = cJSON_GetObjectItemCaseSensitive(o, "widths");
    const cJSON *file = cJSON_GetObjectItemCaseSensitive(o, "file");
    const cJSON *clean = cJSON_GetObjectItemCaseSensitive(o, "clean_test_acc");
    const cJSON *target = cJSON_GetObjectItemCaseSensitive(o, "target_test_acc");
    const cJSON *depth = cJSON_GetObjectItemCaseSensitive(o, "depth");
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(o, "activation");
    const cJSON *frame = cJSON_GetObjectItemCaseSensitive(o, "frame");
    int ok = cJSON_IsNumber(id) && id->valuedouble >= 0 && id->valuedouble <= DWS_ZOO_MAX_COUNT &&
             cJSON_IsString(split) && !dws_zoo_split_parse(split->valuestring, &r->split) && cJSON_IsArray(widths) &&
             cJSON_IsString(file) && file->valuestring[0] && strlen(file->valuestring) < sizeof r->file &&
             !strstr(file->valuestring, "..") && file->valuestring[0] != '/' &&
             (mode == DWS_ZOO_READ_FIELDS || (cJSON_IsNumber(clean) && cJSON_IsNumber(target)));
    int n = ok ? cJSON_GetArraySize(widths) : 0;
    ok = ok && n >= 2 && n <= DWS_MAX_LAYERS + 1;
    /* depth and activation: absent in a default-family zoo (3 weight layers, ReLU) */
    ok = ok && (!depth || (cJSON_IsNumber(depth) && depth->valuedouble == n - 1));
    r->activation = DWS_ACT_RELU;
    ok = ok && (!act || (cJSON_IsString(act) && dws_activation_parse(act->valuestring, &r->activation) == 0));
    r->frame = DWS_FRAME_PIXEL;   /* absent: trained on pixel/255 */
    ok = ok && (!frame || (cJSON_IsString(frame) && dws_frame_parse(frame->valuestring, &r->frame) == 0));
    if (ok) {
        r->id = id->valueint;
        r->n_layers = n - 1;
        int l = 0;
        for (const cJSON *w = widths->child; w; w = w->next, l++) {
            if (!cJSON_IsNumber(w) || w->valuedouble < 1 || w->valuedouble > (1 << 20)) ok = 0;
            else r->widths[l] = (int64_t)w->valuedouble;
        }
        strcpy(r->file, file->valuestring);
        r->clean_test_acc = cJSON_IsNumber(clean) ? clean->valuedouble : 0;
        r->target_test_acc = cJSON_IsNumber(target) ? target->valuedouble : 0;
    }
    if (ok && mode == DWS_ZOO_READ_FIELDS) r->fields = o;
    else cJSON_Delete(o);
    return ok ? 0 : -1;
}

void dws_zoo_catalog_free(dws_zoo_record *records, int n)
{
    for (int i = 0; records && i < n; i++) cJSON_Delete(records[i].fields);
    free(records);
}

int dws_zoo_catalog_read(const char *dir, dws_zoo_record **records, int *n, dws_error *err)
{
    return dws_zoo_catalog_read_mode(dir, DWS_ZOO_READ_CLASSIFIERS, records, n, NULL, err);
}

int dws_zoo_catalog_read_mode(const char *dir, dws_zoo_read_mode mode, dws_zoo_record **records, int *n,
                              uint32_t *index_crc32, dws_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/index.jsonl", dir);
    uint8_t *buf;
    size_t len;
    *records = NULL;
    *n = 0;
    if (dws_gz_read_all(path, DWS_ZOO_MAX_INDEX_BYTES, &buf, &len, err)) return -1;
    if (index_crc32) *index_crc32 = (uint32_t)crc32(0L, buf, (uInt)len);
    size_t lines = 0;
    for (size_t i = 0; i < len; i++) lines += buf[i] == '\n';
    dws_zoo_record *recs = calloc(lines + 1, sizeof *recs);
    if (!recs) {
        free(buf);
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "out of memory reading %s", path);
        return -1;
    }
    int count = 0, line_no = 0;
    for (size_t start = 0; start < len;) {
        const char *line = (const char *)buf + start;
        const char *end = memchr(line, '\n', len - start);
        size_t line_len = end ? (size_t)(end - line) : len - start;
        line_no++;
        if (line_len > 0 && parse_record(line, line_len, mode, &recs[count++])) {
            dws_error_set(err, DWS_E_BAD_DATA, "%s line %d is not a zoo record", path, line_no);
            dws_zoo_catalog_free(recs, count);
            free(buf);
            return -1;
        }
        start += line_len + 1;
    }
    free(buf);
    *records = recs;
    *n = count;
    return 0;
}

int dws_zoo_load_mlp(const char *dir, const dws_zoo_record *r, dws_mlp *m, dws_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, r->file);
    dws_onnx_limits lim;
    dws_onnx_limits_default(&lim);
    dws_onnx *model = dws_onnx_decode_file(path, &lim, err);
    if (!model) return -1;
    const dws_mlp *w = dws_onnx_weights(model);
    int same = w->n_layers == r->n_layers;
    for (int l = 0; same && l <= w->n_layers; l++) same = w->widths[l] == r->widths[l];
    for (int l = 0; same && l + 1 < w->n_layers; l++) same = w->act[l] == r->activation;
    int rc = -1;
    if (!same)
        dws_error_set(err, DWS_E_SHAPE_MISMATCH, "%s does not have the widths and activation its zoo record says",
                      path);
    else rc = dws_mlp_to_pixel_frame(w, r->frame, m, err);
    dws_onnx_free(model);
    return rc;
}
