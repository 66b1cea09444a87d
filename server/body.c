#include "body.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/base.h"
#include "problem.h"

#define FIRST_CAPACITY (64 * 1024)
#define FORM_BUFFER 16384

static void fail(dwsd_body *b, const char *code, const char *detail)
{
    if (!b->error) {
        b->error = code;
        snprintf(b->detail, sizeof b->detail, "%s", detail);
    }
    dwsd_body_discard(b);
}

/* Appends n bytes to a buffer of the body (the model's or the images'); the raw-body
 * limit already bounds the total. The post processor also reports empty pieces, before
 * anything is allocated: *buf + 0 on a NULL *buf is undefined (found by
 * tests/fuzz/fuzz_request.c). */
static int append(dwsd_body *b, uint8_t **buf, size_t *len, size_t *cap, const char *data, size_t n)
{
    if (n == 0) return 0;
    if (*len + n > *cap) {
        size_t c = *cap ? *cap : FIRST_CAPACITY;
        while (c < *len + n) c *= 2;
        if (c > b->limit) c = b->limit;
        uint8_t *p = realloc(*buf, c);
        if (!p) {
            fail(b, DWS_E_OUT_OF_MEMORY, "no memory for the request body");
            return -1;
        }
        *buf = p;
        *cap = c;
    }
    memcpy(*buf + *len, data, n);
    *len += n;
    return 0;
}

static int keep(dwsd_body *b, const char *data, size_t n)
{
    return append(b, &b->data, &b->len, &b->cap, data, n);
}

/* Appends n bytes of an `images` field: a new part when off is 0 and the current part
 * (if any) has bytes or belongs to another field. */
static int keep_image(dwsd_body *b, const char *filename, const char *data, uint64_t off, size_t n)
{
    if (off == 0 && (!b->in_images || b->n_parts == 0 || b->parts[b->n_parts - 1].len > 0)) {
        if (b->n_parts == DWSD_MAX_IMAGE_FIELDS) {
            char detail[120];
            snprintf(detail, sizeof detail, "the form has more than %d 'images' fields", DWSD_MAX_IMAGE_FIELDS);
            fail(b, DWS_E_TOO_MANY_IMAGES, detail);
            return -1;
        }
        if (b->n_parts == b->parts_cap) {
            int cap = b->parts_cap ? 2 * b->parts_cap : 16;
            dwsd_part *p = realloc(b->parts, sizeof *p * (size_t)cap);
            if (!p) {
                fail(b, DWS_E_OUT_OF_MEMORY, "no memory for the request body");
                return -1;
            }
            b->parts = p;
            b->parts_cap = cap;
        }
        dwsd_part *p = &b->parts[b->n_parts++];
        p->off = b->images_len;
        p->len = 0;
        dwsd_printable_name(filename ? filename : "", p->name, sizeof p->name);
    }
    b->in_images = 1;
    if (append(b, &b->images, &b->images_len, &b->images_cap, data, n)) return -1;
    b->parts[b->n_parts - 1].len += n;
    return 0;
}

static enum MHD_Result on_form_part(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *filename, const char *content_type,
                                    const char *transfer_encoding, const char *data, uint64_t off,
                                    size_t size)
{
    (void)kind, (void)content_type, (void)transfer_encoding;
    dwsd_body *b = cls;
    if (key && b->accept_images && !strcmp(key, "images"))
        return keep_image(b, filename, data, off, size) ? MHD_NO : MHD_YES;
    b->in_images = 0;
    if (key && !strcmp(key, "domain")) {   /* a short text field, kept whole */
        size_t have = strlen(b->domain);
        if (off != have || have + size > DWSD_FORM_TEXT_MAX) {
            fail(b, DWSD_E_INVALID_MULTIPART, "the form's 'domain' field is repeated or longer than 255 bytes");
            return MHD_NO;
        }
        memcpy(b->domain + have, data, size);
        b->domain[have + size] = '\0';
        return MHD_YES;
    }
    if (!key || strcmp(key, "model") || b->images_only) return MHD_YES;   /* other fields are ignored */
    if (off == 0 && size > 0 && b->len > 0) {
        fail(b, DWSD_E_INVALID_MULTIPART, "the form has more than one 'model' field");
        return MHD_NO;
    }
    if (off == 0 && filename) dwsd_filename_stem(filename, b->filename);
    return keep(b, data, size) ? MHD_NO : MHD_YES;
}

static int media_is(const char *content_type, const char *media)
{
    size_t n = strlen(media);
    if (strncasecmp(content_type, media, n)) return 0;
    char next = content_type[n];
    return next == '\0' || next == ';' || next == ' ' || next == '\t';
}

dwsd_body_start dwsd_body_begin(dwsd_body *b, struct MHD_Connection *c, size_t limit)
{
    memset(b, 0, sizeof *b);
    b->limit = limit;
    const char *length = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (length) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(length, &end, 10);
        if (!errno && end != length) b->has_length = 1, b->declared = (size_t)(n < limit ? n : limit);
        if (!errno && end != length && n > limit) {
            char detail[160];
            snprintf(detail, sizeof detail, "Content-Length %llu exceeds the limit of %zu bytes", n,
                     limit);
            fail(b, DWSD_E_BODY_TOO_LARGE, detail);
            return DWSD_BODY_REFUSE;
        }
        /* One allocation of the announced size instead of a doubling series of copies;
         * pages a client never sends are never touched. */
        if (!errno && end != length && n > 0 && (b->data = malloc(n))) b->cap = n;
    }
    /* RFC 9110: a body without a type may be taken as application/octet-stream. */
    const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!type || media_is(type, "application/octet-stream")) return DWSD_BODY_READ;
    if (media_is(type, "multipart/form-data")) {
        b->was_form = 1;
        b->form = MHD_create_post_processor(c, FORM_BUFFER, on_form_part, b);
        if (!b->form) fail(b, DWSD_E_INVALID_MULTIPART, "multipart/form-data without a boundary");
        return DWSD_BODY_READ;
    }
    char detail[sizeof b->detail];
    snprintf(detail, sizeof detail,
             "Content-Type '%.100s' is not supported; send application/octet-stream or "
             "multipart/form-data with a 'model' file field", type);
    fail(b, DWSD_E_UNSUPPORTED_MEDIA, detail);
    return DWSD_BODY_READ;
}

void dwsd_body_discard(dwsd_body *b)
{
    b->discarding = 1;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    free(b->images);
    free(b->parts);
    b->images = NULL;
    b->parts = NULL;
    b->images_len = b->images_cap = 0;
    b->n_parts = b->parts_cap = 0;
}

int dwsd_body_feed(dwsd_body *b, const char *data, size_t n)
{
    b->seen += n;
    if (b->discarding) return b->seen > 2 * b->limit ? -1 : 0;
    if (b->seen > b->limit) {
        char detail[160];
        snprintf(detail, sizeof detail, "the request body exceeds the limit of %zu bytes", b->limit);
        fail(b, DWSD_E_BODY_TOO_LARGE, detail);
        return 0;
    }
    if (!b->form) {
        keep(b, data, n);   /* a failure is recorded in b->error */
        return 0;
    }
    if (MHD_post_process(b->form, data, n) != MHD_YES)
        fail(b, DWSD_E_INVALID_MULTIPART, "the multipart/form-data body is malformed");
    return 0;
}

void dwsd_body_end(dwsd_body *b)
{
    if (b->form) {
        if (MHD_destroy_post_processor(b->form) != MHD_YES)
            fail(b, DWSD_E_INVALID_MULTIPART, "the multipart/form-data body ends early");
        b->form = NULL;
    }
    if (!b->error && b->images_only && b->n_parts == 0 && (b->was_form || b->len == 0))
        fail(b, DWSD_E_NO_IMAGES,
             "no images in the request: send PNG or JPEG files (32 x 32 RGB) or CIFAR-10 records files as "
             "'images' fields of a multipart form (curl -F images=@a.png -F images=@b.png ...), or one such file "
             "as the body");
    else if (!b->error && !b->images_only && b->len == 0)
        fail(b, DWSD_E_MISSING_BODY,
             "no model in the request: send the ONNX file as the body or as the 'model' "
             "field of a multipart form");
}

void dwsd_body_free(dwsd_body *b)
{
    if (b->form) MHD_destroy_post_processor(b->form);
    free(b->data);
    free(b->images);
    free(b->parts);
    memset(b, 0, sizeof *b);
}

void dwsd_printable_name(const char *name, char *out, size_t size)
{
    size_t k = 0;
    for (; *name && k + 1 < size; name++) {
        unsigned char c = (unsigned char)*name;
        out[k++] = c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? (char)c : '_';
    }
    out[k] = '\0';
}

void dwsd_filename_stem(const char *name, char out[DWSD_FILENAME_MAX + 1])
{
    const char *slash = strrchr(name, '/'), *back = strrchr(name, '\\');
    if (slash) name = slash + 1;
    if (back && back + 1 > name) name = back + 1;
    while (*name == '.') name++;   /* no hidden names */
    size_t n = strlen(name);
    if (n >= 5 && !strcasecmp(name + n - 5, ".onnx")) n -= 5;
    size_t k = 0;
    for (size_t i = 0; i < n && k < DWSD_FILENAME_MAX; i++) {
        char c = name[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        out[k++] = ok ? c : '_';
    }
    out[k] = '\0';
}
