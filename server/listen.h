/* The listening socket, made here rather than by libmicrohttpd so that a failure
 * names the address and the reason ("127.0.0.1:8080: Address already in use";
 * libmicrohttpd, handed only a sockaddr, logs "Failed to bind to port 0"). */
#ifndef DWSD_LISTEN_H
#define DWSD_LISTEN_H

#include <stddef.h>

/* A bound, listening, non-blocking socket on host:port (port 0: any free port,
 * *bound_port says which), or -1 with why filled. */
int dwsd_listen(const char *host, int port, int backlog, int *bound_port, char *why, size_t why_len);

#endif
