#include "data.h"

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/base.h"

#define GET_CIFAR10_HINT \
    "get the CIFAR-10 binary version (cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html), " \
    "extract it, and pass --data PATH/cifar-10-batches-bin or set DWSNET_DATA"

int dws_split_parse(const char *name, dws_split *out)
{
    if (!strcmp(name, "train")) *out = DWS_SPLIT_TRAIN;
    else if (!strcmp(name, "test")) *out = DWS_SPLIT_TEST;
    else return -1;
    return 0;
}

const char *dws_split_name(dws_split s) { return s == DWS_SPLIT_TRAIN ? "train" : "test"; }

const char *dws_data_dir_from_env(void)
{
    const char *d = getenv("DWSNET_DATA");
    return d && *d ? d : NULL;
}

/* One file's bytes must be whole records with CIFAR-10 labels. */
static int check_records(const char *path, const uint8_t *buf, size_t len, dws_error *err)
{
    if (len == 0) {
        dws_error_set(err, DWS_E_BAD_DATA, "%s is empty", path);
        return -1;
    }
    if (len % DWS_CIFAR10_RECORD) {
        dws_error_set(err, DWS_E_BAD_DATA,
                      "%s is not CIFAR-10 binary: %zu bytes is not a whole number of %d-byte records "
                      "(truncated, or not the binary version?)", path, len, DWS_CIFAR10_RECORD);
        return -1;
    }
    for (size_t r = 0; r < len / DWS_CIFAR10_RECORD; r++) {
        uint8_t label = buf[r * DWS_CIFAR10_RECORD];
        if (label >= DWS_CIFAR10_CLASSES) {
            dws_error_set(err, DWS_E_BAD_DATA, "%s: record %zu has label %u; CIFAR-10 labels are 0..9",
                          path, r, (unsigned)label);
            return -1;
        }
    }
    return 0;
}

int dws_cifar10_load_files(const char *const *paths, size_t n_paths, dws_image_set *out, dws_error *err)
{
    memset(out, 0, sizeof *out);
    out->channels = 3;
    out->height = out->width = 32;
    out->dim = DWS_CIFAR10_DIM;
    out->n_classes = DWS_CIFAR10_CLASSES;
    for (size_t f = 0; f < n_paths; f++) {
        uint8_t *buf;
        size_t len;
        if (dws_gz_read_all(paths[f], (size_t)DWS_CIFAR10_MAX_RECORDS_PER_FILE * DWS_CIFAR10_RECORD, &buf, &len, err))
            goto fail;
        if (check_records(paths[f], buf, len, err)) {
            free(buf);
            goto fail;
        }
        size_t add = len / DWS_CIFAR10_RECORD, n = out->n + add;
        uint8_t *px = realloc(out->pixels, n * DWS_CIFAR10_DIM);
        if (px) out->pixels = px;
        uint8_t *lb = px ? realloc(out->labels, n) : NULL;
        if (lb) out->labels = lb;
        if (!px || !lb) {
            free(buf);
            dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot hold %zu CIFAR-10 images", n);
            goto fail;
        }
        for (size_t r = 0; r < add; r++) {
            const uint8_t *rec = buf + r * DWS_CIFAR10_RECORD;
            out->labels[out->n + r] = rec[0];
            memcpy(out->pixels + (out->n + r) * DWS_CIFAR10_DIM, rec + 1, DWS_CIFAR10_DIM);
        }
        out->n = n;
        free(buf);
    }
    return 0;
fail:
    dws_image_set_free(out);
    return -1;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Number in "data_batch_<N>.bin[.gz]", for numeric ordering (10 after 9). */
static long batch_number(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return strtol(base + strlen("data_batch_"), NULL, 10);
}

static int by_batch_number(const void *a, const void *b)
{
    long x = batch_number(*(char *const *)a), y = batch_number(*(char *const *)b);
    return (x > y) - (x < y);
}

/* Files of a split under dir: .bin preferred over .bin.gz when both exist. */
static int find_split_files(const char *dir, dws_split split, glob_t *g)
{
    const char *stem = split == DWS_SPLIT_TRAIN ? "data_batch_*" : "test_batch";
    char pattern[4096];
    snprintf(pattern, sizeof pattern, "%s/%s.bin", dir, stem);
    glob(pattern, 0, NULL, g);
    if (g->gl_pathc == 0) {
        globfree(g);
        snprintf(pattern, sizeof pattern, "%s/%s.bin.gz", dir, stem);
        glob(pattern, 0, NULL, g);
    }
    if (g->gl_pathc > 1) qsort(g->gl_pathv, g->gl_pathc, sizeof(char *), by_batch_number);
    return (int)g->gl_pathc;
}

int dws_cifar10_load_split(const char *dir, dws_split split, dws_image_set *out, dws_error *err)
{
    memset(out, 0, sizeof *out);
    if (!dir) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "no CIFAR-10 folder given; " GET_CIFAR10_HINT);
        return -1;
    }
    if (!is_dir(dir)) {
        dws_error_set(err, DWS_E_IO, "CIFAR-10 folder %s does not exist; " GET_CIFAR10_HINT, dir);
        return -1;
    }
    glob_t g;
    if (find_split_files(dir, split, &g) == 0) {
        globfree(&g);
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/cifar-10-batches-bin", dir);
        if (is_dir(sub)) return dws_cifar10_load_split(sub, split, out, err);
        dws_error_set(err, DWS_E_IO, "no CIFAR-10 %s files (%s.bin or .bin.gz) in %s; " GET_CIFAR10_HINT,
                      dws_split_name(split), split == DWS_SPLIT_TRAIN ? "data_batch_*" : "test_batch", dir);
        return -1;
    }
    int rc = dws_cifar10_load_files((const char *const *)g.gl_pathv, g.gl_pathc, out, err);
    globfree(&g);
    return rc;
}

int dws_cifar10_write(const char *path, const uint8_t *labels, const uint8_t *pixels, size_t n, dws_error *err)
{
    uint8_t *buf = malloc(n * DWS_CIFAR10_RECORD + 1);
    if (!buf) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot encode %zu records", n);
        return -1;
    }
    for (size_t r = 0; r < n; r++) {
        buf[r * DWS_CIFAR10_RECORD] = labels[r];
        memcpy(buf + r * DWS_CIFAR10_RECORD + 1, pixels + r * DWS_CIFAR10_DIM, DWS_CIFAR10_DIM);
    }
    int rc = dws_write_file_atomic(path, buf, n * DWS_CIFAR10_RECORD, err);
    free(buf);
    return rc;
}
