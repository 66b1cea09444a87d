#include "data.h"

#include <stdlib.h>
#include <string.h>

#include "base/base.h"

#define IDX_UBYTE 0x08

typedef struct {
    uint8_t *buf;           /* whole file; data points into it */
    int ndim;
    uint32_t dims[3];
    const uint8_t *data;
    size_t count;           /* product of dims */
} idx_array;

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int idx_read(const char *path, int want_ndim, idx_array *a, dws_error *err)
{
    size_t len;
    memset(a, 0, sizeof *a);
    if (dws_gz_read_all(path, DWS_IDX_MAX_BYTES, &a->buf, &len, err)) return -1;
    const uint8_t *b = a->buf;
    if (len < 4 || b[0] || b[1]) {
        dws_error_set(err, DWS_E_BAD_DATA, "%s is not an idx file (bad magic)", path);
        goto fail;
    }
    if (b[2] != IDX_UBYTE) {
        dws_error_set(err, DWS_E_BAD_DATA, "%s: idx data type 0x%02x is not unsigned byte (0x08)", path, b[2]);
        goto fail;
    }
    if (b[3] != want_ndim) {
        dws_error_set(err, DWS_E_BAD_DATA, "%s has %u dimensions, expected %d", path, b[3], want_ndim);
        goto fail;
    }
    size_t header = 4 + 4 * (size_t)want_ndim;
    if (len < header) {
        dws_error_set(err, DWS_E_BAD_DATA, "%s: idx header is truncated", path);
        goto fail;
    }
    a->ndim = want_ndim;
    a->count = 1;
    for (int i = 0; i < want_ndim; i++) {
        a->dims[i] = be32(b + 4 + 4 * i);
        /* Every factor is < 2^32 and the running product is bounded by the file size. */
        a->count *= a->dims[i];
        if (a->count > len) break;
    }
    if (a->count != len - header) {
        dws_error_set(err, DWS_E_BAD_DATA, "%s: header declares %zu values but %zu bytes follow (truncated?)",
                      path, a->count, len - header);
        goto fail;
    }
    a->data = b + header;
    return 0;
fail:
    free(a->buf);
    a->buf = NULL;
    return -1;
}

int dws_idx_load(const char *images_path, const char *labels_path, int n_classes, dws_image_set *out,
                 dws_error *err)
{
    memset(out, 0, sizeof *out);
    idx_array img, lab;
    if (idx_read(images_path, 3, &img, err)) return -1;
    if (idx_read(labels_path, 1, &lab, err)) {
        free(img.buf);
        return -1;
    }
    int rc = -1;
    if (img.dims[0] != lab.dims[0]) {
        dws_error_set(err, DWS_E_BAD_DATA, "%s has %u images but %s has %u labels", images_path, img.dims[0],
                      labels_path, lab.dims[0]);
        goto done;
    }
    if (img.dims[0] == 0 || img.dims[1] == 0 || img.dims[2] == 0) {
        dws_error_set(err, DWS_E_BAD_DATA, "%s holds no pixels", images_path);
        goto done;
    }
    for (size_t i = 0; i < lab.count; i++) {
        if (lab.data[i] >= n_classes) {
            dws_error_set(err, DWS_E_BAD_DATA, "%s: label %zu is %u, expected 0..%d", labels_path, i,
                          (unsigned)lab.data[i], n_classes - 1);
            goto done;
        }
    }
    out->n = img.dims[0];
    out->channels = 1;
    out->height = (int)img.dims[1];
    out->width = (int)img.dims[2];
    out->dim = (size_t)img.dims[1] * img.dims[2];
    out->n_classes = n_classes;
    out->pixels = malloc(img.count);
    out->labels = malloc(lab.count);
    if (!out->pixels || !out->labels) {
        dws_image_set_free(out);
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot hold %zu images", (size_t)img.dims[0]);
        goto done;
    }
    memcpy(out->pixels, img.data, img.count);
    memcpy(out->labels, lab.data, lab.count);
    rc = 0;
done:
    free(img.buf);
    free(lab.buf);
    return rc;
}
