/* Request bodies of /adapt and /embed: the ONNX file itself (application/octet-stream)
 * or the `model` file field of a multipart/form-data form (with, for /adapt, an
 * optional `domain` text field), streamed through
 * libmicrohttpd's post processor. The limit is enforced on the raw body, from
 * Content-Length before anything is read and again while it streams. */
#ifndef DWSD_BODY_H
#define DWSD_BODY_H

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

#define DWSD_FILENAME_MAX 100
#define DWSD_FORM_TEXT_MAX 255   /* longest text field of a form (domain) */

typedef struct {
    size_t limit;
    uint8_t *data;             /* the model bytes */
    size_t len, cap;
    size_t seen;               /* raw body bytes read, kept or not */
    int has_length;            /* Content-Length was given ... */
    size_t declared;           /* ... and said this */
    int discarding;            /* the reply is decided: bytes are read and dropped */
    struct MHD_PostProcessor *form;
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

/* The body is complete: checks the form was whole and a model came with it. */
void dwsd_body_end(dwsd_body *b);

void dwsd_body_free(dwsd_body *b);

/* Fills out with a file name's stem safe for a Content-Disposition header:
 * no directory, no .onnx suffix, only [A-Za-z0-9._-]; "" when nothing is left. */
void dwsd_filename_stem(const char *name, char out[DWSD_FILENAME_MAX + 1]);

#endif
