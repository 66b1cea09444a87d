#include "reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problem.h"

void dwsd_reply_error(dwsd_reply *r, const char *code, const char *fmt, ...)
{
    if (r->status) return;
    r->status = dwsd_problem_status(code);
    r->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
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
