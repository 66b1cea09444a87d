/* The list decoded images go into and the budget every image decoder charges
 * (data/data.h, "image decode"). */
#include "data.h"

#include <stdlib.h>
#include <string.h>

int dws_image_budget_take(dws_image_budget *b, size_t bytes, const char *what, dws_error *err)
{
    if (bytes <= b->max_bytes && b->used <= b->max_bytes - bytes) {
        b->used += bytes;
        return 0;
    }
    dws_error_set(err, DWS_E_TOO_LARGE, "%s: decoding needs %zu more bytes; %zu of the %zu allowed are in use", what,
                  bytes, b->used, b->max_bytes);
    return -1;
}

void dws_image_budget_give(dws_image_budget *b, size_t bytes)
{
    b->used = bytes < b->used ? b->used - bytes : 0;
}

void dws_image_list_free(dws_image_list *l, dws_image_budget *b)
{
    if (b) dws_image_budget_give(b, l->cap * DWS_IMAGE_BYTES);
    free(l->x);
    memset(l, 0, sizeof *l);
}

float *dws_image_list_add(dws_image_list *l, size_t k, dws_image_budget *b, const char *what, dws_error *err)
{
    if (b->max_images && (l->n + k > b->max_images || k > b->max_images)) {
        dws_error_set(err, DWS_E_TOO_MANY_IMAGES, "%s: more than %zu images (%zu decoded before it, %zu in it)",
                      what, b->max_images, l->n, k);
        return NULL;
    }
    if (l->n + k > l->cap) {
        /* double, within what the budget and the image limit leave, and at least what is asked */
        size_t room = (b->max_bytes - (b->used < b->max_bytes ? b->used : b->max_bytes)) / DWS_IMAGE_BYTES;
        size_t cap = l->cap ? 2 * l->cap : 16, most = l->cap + room;
        if (b->max_images && most > b->max_images) most = b->max_images;
        if (cap > most) cap = most;
        if (cap < l->n + k) cap = l->n + k;
        if (dws_image_budget_take(b, (cap - l->cap) * DWS_IMAGE_BYTES, what, err)) return NULL;
        float *x = realloc(l->x, cap * DWS_IMAGE_BYTES);
        if (!x) {
            dws_image_budget_give(b, (cap - l->cap) * DWS_IMAGE_BYTES);
            dws_error_set(err, DWS_E_OUT_OF_MEMORY, "%s: no memory for %zu images", what, cap);
            return NULL;
        }
        l->x = x;
        l->cap = cap;
    }
    float *at = l->x + l->n * DWS_CIFAR10_DIM;
    l->n += k;
    return at;
}
