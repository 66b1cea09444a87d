/* Open-addressing hash table from tensor names to indices. The keys belong to the
 * parsed model; the table only points at them. */
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

int dws_names_init(dws_name_table *t, size_t max_entries, dws_error *err)
{
    memset(t, 0, sizeof *t);
    size_t cap = 16;
    while (cap < 2 * max_entries) {
        if (cap > ((size_t)1 << 40)) {
            dws_error_set(err, DWS_E_TOO_LARGE, "too many tensor names (%zu)", max_entries);
            return -1;
        }
        cap *= 2;
    }
    t->keys = calloc(cap, sizeof *t->keys);
    t->vals = calloc(cap, sizeof *t->vals);
    if (!t->keys || !t->vals) {
        dws_names_free(t);
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot index %zu tensor names", max_entries);
        return -1;
    }
    t->cap = cap;
    return 0;
}

void dws_names_free(dws_name_table *t)
{
    free(t->keys);
    free(t->vals);
    memset(t, 0, sizeof *t);
}

static size_t slot_of(const dws_name_table *t, const char *key)
{
    size_t i = (size_t)hash_name(key) & (t->cap - 1);
    while (t->keys[i] && strcmp(t->keys[i], key) != 0) i = (i + 1) & (t->cap - 1);
    return i;
}

int dws_names_find(const dws_name_table *t, const char *key)
{
    size_t i = slot_of(t, key);
    return t->keys[i] ? t->vals[i] : -1;
}

int dws_names_add(dws_name_table *t, const char *key, int val)
{
    size_t i = slot_of(t, key);
    if (t->keys[i]) return -1;
    t->keys[i] = key;
    t->vals[i] = val;
    return 0;
}
