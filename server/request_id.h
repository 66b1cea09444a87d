/* Request ids: the client's X-Request-Id when it is safe to echo and log, else a
 * fresh random one. */
#ifndef DWSD_REQUEST_ID_H
#define DWSD_REQUEST_ID_H

#define DWSD_REQUEST_ID_MAX 64

/* given may be NULL. out receives at most DWSD_REQUEST_ID_MAX characters. */
void dwsd_request_id(const char *given, char out[DWSD_REQUEST_ID_MAX + 1]);

#endif
