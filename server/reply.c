#include "reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problem.h"

/* Length of the valid UTF-8 sequence at s, or 0. */
static size_t utf8_sequence(const unsigned char *s)
{
    size_t n = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3
             : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
    if (n == 2 && s[0] < 0xc2) return 0;   /* overlong */
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    return n;
}

/* Details quote names from uploaded files, which may hold any bytes; the problem
 * body must stay valid JSON text, so invalid UTF-8 becomes '?'. */
static void scrub_utf8(char *text)
{
    unsigned char *s = (unsigned char *)text;
    while (*s) {
        size_t n = utf8_sequence(s);
        if (n) s += n;
        else *s++ = '?';
    }
}

void dwsd_reply_error(dwsd_reply *r, const char *code, const char *fmt, ...)
{
    if (r->status) return;
    r->status = dwsd_problem_status(code);
    r->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
    scrub_utf8(r->detail);
}

void dwsd_reply_ok(dwsd_reply *r, const char *content_type, void *body, size_t len)
{
    free(r->body);
    r->status = 200;
    r->code = NULL;
    r->content_type = content_type;
    r->body = body;
    r->len = len;
}

void dwsd_reply_free(dwsd_reply *r)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
}

void dwsd_reply_reset(dwsd_reply *r)
{
    dwsd_reply_free(r);
    r->status = 0;
    r->code = NULL;
    r->n_headers = 0;
}

static dwsd_header *next_header(dwsd_reply *r, const char *name)
{
    if (r->n_headers >= DWSD_REPLY_HEADERS) return NULL;
    dwsd_header *h = &r->headers[r->n_headers++];
    h->name = name;
    h->value = NULL;
    h->text[0] = '\0';
    return h;
}

void dwsd_reply_header_static(dwsd_reply *r, const char *name, const char *value)
{
    dwsd_header *h = next_header(r, name);
    if (h) h->value = value;
}

void dwsd_reply_header(dwsd_reply *r, const char *name, const char *fmt, ...)
{
    dwsd_header *h = next_header(r, name);
    if (!h) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->text, sizeof h->text, fmt, ap);
    va_end(ap);
}
