/* A problem+json response written straight to a connection's socket, for the one
 * case libmicrohttpd 0.9.75 cannot answer itself: a request line whose query
 * arguments overflow its per-connection memory pool. It then neither sends its own
 * 431 nor closes the connection until the idle timeout (30 s by default), and never
 * calls the application again. The request line has just been read and nothing of
 * this request has been sent, so the response cannot interleave with another; the
 * socket is then shut for writing, which makes the client close and libmicrohttpd
 * clean up at once. */
#ifndef DWSD_DIRECT_REPLY_H
#define DWSD_DIRECT_REPLY_H

#include <microhttpd.h>
#include <stddef.h>

/* Writes the response (status from the problem table); the bytes sent, or 0. */
size_t dwsd_direct_reply(struct MHD_Connection *c, const char *code, const char *detail, const char *request_id,
                         const char *instance);

#endif
