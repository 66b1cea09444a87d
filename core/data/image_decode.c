/* Images from outside (data/data.h, "image decode"): the choice of decoder by the first
 * bytes, and files. The decoders: image_png.c, image_jpeg.c, image_records.c; the list
 * they fill and the budget they charge: image_list.c. */
#include "data.h"

#include <stdlib.h>
#include <string.h>

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
