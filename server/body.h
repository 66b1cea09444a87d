/* Request bodies of /adapt and /embed: the ONNX file itself (application/octet-stream)
 * or the `model` file field of a multipart/form-data form (with, for /adapt, an
 * optional `domain` text field), streamed through
 * libmicrohttpd's post processor. The limit is enforced on the raw body, from
 * Content-Length before anything is read and again while it streams.
 * Where images are accepted (accept_images: /v1/estimate-domain), every `images` field
 * of a form (repeated fields allowed, at most DWSD_MAX_IMAGE_FIELDS) is kept too, each a
 * part of one buffer; with images_only no model is expected, and a raw body is one
 * images file. */
#ifndef DWSD_BODY_H
#define DWSD_BODY_H

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

#define DWSD_FILENAME_MAX 100
#define DWSD_FORM_TEXT_MAX 255   /* longest text field of a form (domain) */
/* Images a request may carry (decoded, a records file counting each record), and
 * `images` fields a form may have. */
#define DWSD_MAX_IMAGES 1024
#define DWSD_MAX_IMAGE_FIELDS DWSD_MAX_IMAGES
#define DWSD_PART_NAME_MAX 64

/* One `images` field: its bytes in the body's image buffer and its file name. */
typedef struct {
    size_t off, len;
    char name[DWSD_PART_NAME_MAX + 1];   /* printable, "" if none */
} dwsd_part;

typedef struct {
    size_t limit;
    uint8_t *data;             /* the model bytes */
    size_t len, cap;
    size_t seen;               /* raw body bytes read, kept or not */
    int has_length;            /* Content-Length was given ... */
    size_t declared;           /* ... and said this */
    int discarding;            /* the reply is decided: bytes are read and dropped */
    struct MHD_PostProcessor *form;
    int was_form;              /* the body was a multipart form */
    int accept_images;         /* keep `images` fields (set after dwsd_body_begin) */
    int images_only;           /* ... and expect no model: a raw body is one images file */
    uint8_t *images;           /* every `images` field's bytes, back to back */
    size_t images_len, images_cap;
    dwsd_part *parts;
    int n_parts, parts_cap;
    int in_images;             /* the last piece the form handed over was of an `images` field */
    char filename[DWSD_FILENAME_MAX + 1];   /* stem of the uploaded file name, "" if none */
    char domain[DWSD_FORM_TEXT_MAX + 1];    /* the form's `domain` field, "" if none */
    const char *error;         /* problem code of the first fault found, or NULL */
    char detail[256];
} dwsd_body;

typedef enum {
    DWSD_BODY_READ = 0,    /* read it (or, when b->error is set, read and drop it) */
    DWSD_BODY_REFUSE,      /* Content-Length over the limit: answer before reading */
} dwsd_body_start;

/* Inspects Content-Type and Content-Length. */
dwsd_body_start dwsd_body_begin(dwsd_body *b, struct MHD_Connection *c, size_t limit);

/* Drops every further byte (the reply no longer depends on the body). */
void dwsd_body_discard(dwsd_body *b);

/* Takes the next n bytes. Returns -1 when the connection should be closed instead of
 * read further: after an error, at most one more limit's worth is read and dropped. */
int dwsd_body_feed(dwsd_body *b, const char *data, size_t n);

/* The body is complete: checks the form was whole and a model (or, with images_only,
 * an image file) came with it: else missing_body (no_images). */
void dwsd_body_end(dwsd_body *b);

void dwsd_body_free(dwsd_body *b);

/* name with anything but printable ASCII (and '"', '\\') replaced by '_', cut to size - 1. */
void dwsd_printable_name(const char *name, char *out, size_t size);

/* Fills out with a file name's stem safe for a Content-Disposition header:
 * no directory, no .onnx suffix, only [A-Za-z0-9._-]; "" when nothing is left. */
void dwsd_filename_stem(const char *name, char out[DWSD_FILENAME_MAX + 1]);

#endif
