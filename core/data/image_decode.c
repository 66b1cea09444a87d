/* Images from outside (data/data.h, "image decode"): the list decoded images go into,
 * the budget every decoder charges, and the choice of decoder by the first bytes. The
 * decoders: image_png.c, image_jpeg.c, image_records.c. */
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

dws_image_format dws_image_sniff(const uint8_t *buf, size_t len)
{
    static const uint8_t png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (len >= 8 && !memcmp(buf, png, 8)) return DWS_IMAGE_PNG;
    if (len >= 3 && buf[0] == 0xff && buf[1] == 0xd8 && buf[2] == 0xff) return DWS_IMAGE_JPEG;
    if (len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b) return DWS_IMAGE_RECORDS;   /* gzip: records inside */
    if (len > 0 && len % DWS_CIFAR10_RECORD == 0) return DWS_IMAGE_RECORDS;
    return DWS_IMAGE_UNKNOWN;
}

int dws_image_decode(const uint8_t *buf, size_t len, const char *what, dws_image_list *out, dws_image_budget *b,
                     dws_error *err)
{
    switch (dws_image_sniff(buf, len)) {
    case DWS_IMAGE_PNG: return dws_png_decode(buf, len, what, out, b, err);
    case DWS_IMAGE_JPEG: return dws_jpeg_decode(buf, len, what, out, b, err);
    case DWS_IMAGE_RECORDS: return dws_records_decode(buf, len, what, out, b, err);
    case DWS_IMAGE_UNKNOWN: break;
    }
    if (len == 0) dws_error_set(err, DWS_E_BAD_IMAGE, "%s is empty", what);
    else
        dws_error_set(err, DWS_E_BAD_IMAGE,
                      "%s is not a PNG, a JPEG or CIFAR-10 binary records (%zu bytes is not a multiple of the %d-byte "
                      "record, and it is not gzip)", what, len, DWS_CIFAR10_RECORD);
    return -1;
}

int dws_image_read_file(const char *path, dws_image_list *out, dws_image_budget *b, dws_error *err)
{
    size_t len;
    uint8_t *buf = dws_read_file(path, DWS_IMAGE_FILE_MAX_BYTES, &len, err);
    if (!buf) return -1;
    int rc = dws_image_budget_take(b, len, path, err);
    if (rc == 0) {
        rc = dws_image_decode(buf, len, path, out, b, err);
        dws_image_budget_give(b, len);
    }
    free(buf);
    return rc;
}
