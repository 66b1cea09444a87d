/* The request line as the daemon echoes it (access log, problem bodies) and the
 * checks libmicrohttpd does not make on it. */
#ifndef DWSD_TARGET_H
#define DWSD_TARGET_H

#include <stddef.h>

/* Copies a method or the path of a raw request target (up to '?') into out (n
 * bytes), every byte outside printable ASCII, and '"' and '\', replaced by '_':
 * both logs and JSON bodies take it as it is (a method byte 0xff would make the
 * JSON log invalid UTF-8; ESC or CR would reach a terminal through the text log). */
void dwsd_printable_copy(char *out, size_t n, const char *in, int stop_at_query);

/* 1 when the raw target (path or query) percent-encodes a NUL: libmicrohttpd
 * decodes "/healthz%00x" to the C string "/healthz", which would then be served. */
int dwsd_target_has_nul(const char *uri);

/* Query arguments in the raw target ('&'-separated, as libmicrohttpd splits them). */
int dwsd_query_arg_count(const char *uri);

#endif
