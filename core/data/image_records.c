/* CIFAR-10 binary records from outside (data/data.h, "image decode"): 1 label byte
 * (ignored) and 3072 pixel bytes (R, G, B planes of 32 x 32) per record, plain or
 * gzip-compressed. A gzip stream is inflated a block of records at a time, so what is
 * held is the decoded images and one block, never the whole decompressed file, and the
 * image limit stops a small file that inflates to a huge one. */
#include "data.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define BLOCK_RECORDS 64
#define BLOCK_BYTES ((size_t)BLOCK_RECORDS * DWS_CIFAR10_RECORD)
#define INFLATE_BYTES ((size_t)48 * 1024)   /* zlib's state and its 32 KiB window */

/* Appends the n whole records at p. */
static int add_records(const uint8_t *p, size_t n, const char *what, dws_image_list *out, dws_image_budget *b,
                       dws_error *err)
{
    float *dst = dws_image_list_add(out, n, b, what, err);
    if (!dst) return -1;
    for (size_t r = 0; r < n; r++) {
        const uint8_t *px = p + r * DWS_CIFAR10_RECORD + 1;   /* after the label */
        for (int k = 0; k < DWS_CIFAR10_DIM; k++) dst[r * DWS_CIFAR10_DIM + k] = px[k] / 255.0f;
    }
    return 0;
}

static int bad_length(const char *what, size_t len, int gz, dws_error *err)
{
    dws_error_set(err, DWS_E_BAD_IMAGE,
                  "%s: %s%zu bytes is not a whole number of %d-byte CIFAR-10 records (1 label byte and 3 x 32 x 32 "
                  "pixel bytes; truncated?)", what, gz ? "inflates to " : "", len, DWS_CIFAR10_RECORD);
    return -1;
}

static int plain(const uint8_t *buf, size_t len, const char *what, dws_image_list *out, dws_image_budget *b,
                 dws_error *err)
{
    if (len == 0 || len % DWS_CIFAR10_RECORD) return bad_length(what, len, 0, err);
    return add_records(buf, len / DWS_CIFAR10_RECORD, what, out, b, err);
}

static int gzip(const uint8_t *buf, size_t len, const char *what, dws_image_list *out, dws_image_budget *b,
                dws_error *err)
{
    if (dws_image_budget_take(b, BLOCK_BYTES + INFLATE_BYTES, what, err)) return -1;
    uint8_t *block = malloc(BLOCK_BYTES);
    z_stream z;
    memset(&z, 0, sizeof z);
    int rc = -1, zrc = Z_OK;
    size_t total = 0, held = 0;   /* bytes inflated; bytes of a partial record at the block's start */
    if (!block || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "%s: no memory to inflate", what);
        free(block);
        dws_image_budget_give(b, BLOCK_BYTES + INFLATE_BYTES);
        return -1;
    }
    z.next_in = (Bytef *)buf;
    z.avail_in = 0;
    size_t left = len;
    for (;;) {
        if (z.avail_in == 0 && left) {
            uInt n = left > (1u << 30) ? 1u << 30 : (uInt)left;
            z.avail_in = n;
            left -= n;
        }
        z.next_out = block + held;
        z.avail_out = (uInt)(BLOCK_BYTES - held);
        zrc = inflate(&z, Z_NO_FLUSH);
        if (zrc != Z_OK && zrc != Z_STREAM_END && zrc != Z_BUF_ERROR) {
            dws_error_set(err, DWS_E_BAD_IMAGE, "%s: bad gzip data: %s", what, z.msg ? z.msg : "corrupt stream");
            goto done;
        }
        size_t have = BLOCK_BYTES - z.avail_out, whole = have / DWS_CIFAR10_RECORD * DWS_CIFAR10_RECORD;
        total += have - held;
        if (whole && add_records(block, whole / DWS_CIFAR10_RECORD, what, out, b, err)) goto done;
        held = have - whole;
        memmove(block, block + whole, held);
        if (zrc == Z_STREAM_END) break;
        if (zrc == Z_BUF_ERROR && z.avail_in == 0 && !left) {
            dws_error_set(err, DWS_E_BAD_IMAGE, "%s: the gzip stream ends early (truncated)", what);
            goto done;
        }
    }
    if (z.avail_in || left) {
        dws_error_set(err, DWS_E_BAD_IMAGE, "%s: bytes after the end of the gzip stream", what);
        goto done;
    }
    if (total == 0 || held) {
        bad_length(what, total, 1, err);
        goto done;
    }
    rc = 0;
done:
    inflateEnd(&z);
    free(block);
    dws_image_budget_give(b, BLOCK_BYTES + INFLATE_BYTES);
    return rc;
}

int dws_records_decode(const uint8_t *buf, size_t len, const char *what, dws_image_list *out, dws_image_budget *b,
                       dws_error *err)
{
    size_t before = out->n;
    int gz = len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b;
    int rc = gz ? gzip(buf, len, what, out, b, err) : plain(buf, len, what, out, b, err);
    if (rc) out->n = before;   /* no half file */
    return rc;
}
