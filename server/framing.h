/* Message framing (RFC 9112 section 6): how the body of a request is delimited.
 * libmicrohttpd 0.9.75 reads any Transfer-Encoding other than a bare "chunked" as
 * a body running to the end of the connection, serves the next pipelined request
 * after one that carried both Content-Length and Transfer-Encoding, and keeps the
 * first of several Content-Length lines. Requests framed like that get a 400
 * before their body is read, and the connection is closed after it: what follows
 * on it cannot be told apart from the body. */
#ifndef DWSD_FRAMING_H
#define DWSD_FRAMING_H

#include <microhttpd.h>
#include <stddef.h>

/* 0 when the framing is one this server reads unambiguously; else -1 with why. */
int dwsd_check_framing(struct MHD_Connection *c, const char *version, char *why, size_t why_len);

#endif
