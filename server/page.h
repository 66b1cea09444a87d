/* GET / and /page/...: the page for people (an HTML page, a script, a style sheet
 * and an icon from server/assets/, compiled into the binary). It talks to the same
 * HTTP API as curl does; the server keeps no state for it and sets no cookies. */
#ifndef DWSD_PAGE_H
#define DWSD_PAGE_H

#include <stddef.h>

#include "reply.h"

/* One file of server/assets/, as scripts/embed-assets writes it into the build. */
typedef struct {
    const char *path;           /* "/" for index.html, else "/page/NAME" */
    const char *content_type;
    const unsigned char *data;
    size_t len;
    const char *etag;           /* "\"<hash of the content>\"" */
} dwsd_asset;

extern const dwsd_asset dwsd_assets[];
extern const int dwsd_n_assets;

/* The asset at path (404 when there is none), or 304 when if_none_match (the
 * request's If-None-Match, may be NULL) names its ETag. */
void dwsd_page_reply(const char *path, const char *if_none_match, dwsd_reply *out);

#endif
