/* What a request is answered with, decided by whichever part handles it and
 * turned into an HTTP response in one place (respond.c). */
#ifndef DWSD_REPLY_H
#define DWSD_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "body.h"

#define DWSD_REPLY_HEADERS 8

/* An extra response header: value points at a static string, or is NULL and the
 * header's own text holds it (dwsd_reply_header). */
typedef struct {
    const char *name;
    const char *value;
    char text[48];
} dwsd_header;

typedef struct {
    int status;                   /* 0 while undecided */
    const char *code;             /* problem code of an error reply, else NULL */
    char detail[768];
    const char *content_type;     /* of a success reply */
    uint8_t *body;                /* of a success reply, malloc'd, owned */
    size_t len;
    char model[128];              /* the model that ran: X-DWSNet-Model */
    char filename[DWSD_FILENAME_MAX + 24];   /* Content-Disposition attachment, or "" */
    const char *allow;            /* Allow header of a 405 */
    int retry_after;              /* Retry-After seconds of a 503; 0 = none */
    dwsd_header headers[DWSD_REPLY_HEADERS];   /* more response headers, n_headers of them */
    int n_headers;
    int close;                    /* close the connection after the response */
} dwsd_reply;

/* An error reply: status from the problem table. Keeps the first decision. */
void dwsd_reply_error(dwsd_reply *r, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A success reply; takes ownership of body (malloc'd). */
void dwsd_reply_ok(dwsd_reply *r, const char *content_type, void *body, size_t len);

void dwsd_reply_free(dwsd_reply *r);
/* Forgets the decision (and frees the body) so that another can be made. */
void dwsd_reply_reset(dwsd_reply *r);

/* Adds a response header whose value is a static string, or formatted (at most
 * 47 characters); more than DWSD_REPLY_HEADERS are dropped. */
void dwsd_reply_header_static(dwsd_reply *r, const char *name, const char *value);
void dwsd_reply_header(dwsd_reply *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
