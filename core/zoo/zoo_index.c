/* index.jsonl: every finished record of a zoo, rebuilt from entries/. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "zoo.h"

#define MAX_RECORD_BYTES (64 * 1024)

static int by_value(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Ids of the files entries/NNNNNN.json (temporary files and strays ignored), sorted. */
static int scan_ids(const char *dir, int **ids, int *n, dws_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/entries", dir);
    DIR *d = opendir(path);
    if (!d) {
        dws_error_set(err, DWS_E_IO, "cannot read %s", path);
        return -1;
    }
    int cap = 256;
    *n = 0;
    *ids = malloc(sizeof(int) * (size_t)cap);
    for (struct dirent *e; *ids && (e = readdir(d));) {
        const char *name = e->d_name;
        size_t digits = strspn(name, "0123456789");
        if (digits < 1 || digits > 7 || strcmp(name + digits, ".json")) continue;
        if (*n == cap) {
            int *grown = realloc(*ids, sizeof(int) * (size_t)(cap *= 2));
            if (!grown) {
                free(*ids);
                *ids = NULL;
                break;
            }
            *ids = grown;
        }
        (*ids)[(*n)++] = atoi(name);
    }
    closedir(d);
    if (!*ids) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "out of memory listing %s", path);
        return -1;
    }
    qsort(*ids, (size_t)*n, sizeof(int), by_value);
    return 0;
}

/* Appends one record, verbatim, as a line; a record that does not parse is left out
 * (dws_zoo_entry_done treats it as unfinished, so a rerun rebuilds it). */
static int append_record(const char *dir, int id, char **text, size_t *len, size_t *cap)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/entries/%06d.json", dir, id);
    uint8_t *buf;
    size_t n;
    dws_error ignored;
    if (dws_gz_read_all(path, MAX_RECORD_BYTES, &buf, &n, &ignored)) return 0;
    cJSON *o = cJSON_ParseWithLength((const char *)buf, n);
    const cJSON *idv = cJSON_GetObjectItemCaseSensitive(o, "id");
    int valid = cJSON_IsNumber(idv) && idv->valueint == id && !memchr(buf, '\n', n);
    cJSON_Delete(o);
    if (!valid) {
        free(buf);
        return 0;
    }
    if (*len + n + 1 > *cap) {
        size_t next = (*len + n + 1) * 2;
        char *grown = realloc(*text, next);
        if (!grown) {
            free(buf);
            return -1;
        }
        *text = grown;
        *cap = next;
    }
    memcpy(*text + *len, buf, n);
    (*text)[*len + n] = '\n';
    *len += n + 1;
    free(buf);
    return 1;
}

int dws_zoo_reindex(const char *dir, int *n_entries, dws_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/index.jsonl", dir);
    int *ids = NULL, n = 0;
    if (scan_ids(dir, &ids, &n, err)) return -1;
    /* Records only ever appear, so the loop ends once a scan after the rename finds no new one. */
    for (;;) {
        char *text = NULL;
        size_t len = 0, cap = 0;
        int written = 0;
        for (int i = 0; i < n; i++) {
            int r = append_record(dir, ids[i], &text, &len, &cap);
            if (r < 0) {
                free(text);
                free(ids);
                dws_error_set(err, DWS_E_OUT_OF_MEMORY, "out of memory building %s", path);
                return -1;
            }
            written += r;
        }
        int rc = dws_write_file_atomic(path, text ? text : "", len, err);
        free(text);
        int seen = n;
        free(ids);
        if (rc) return -1;
        if (scan_ids(dir, &ids, &n, err)) return -1;
        if (n == seen) {
            free(ids);
            if (n_entries) *n_entries = written;
            return 0;
        }
    }
}
