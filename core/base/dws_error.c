#include "base.h"

#include <stdarg.h>
#include <stdio.h>

void dws_error_set(dws_error *err, const char *code, const char *fmt, ...)
{
    if (!err) return;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

void dws_error_clear(dws_error *err)
{
    if (!err) return;
    err->code = NULL;
    err->message[0] = '\0';
}
