#include "page.h"

#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "problem.h"

/* Scripts and styles only from this origin and never inline, no plugins, no
 * <base>, no form posts anywhere, never inside a frame. */
#define PAGE_CSP                                                                         \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "         \
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "      \
    "frame-ancestors 'none'"

static const dwsd_asset *find(const char *path)
{
    for (int i = 0; i < dwsd_n_assets; i++)
        if (!strcmp(dwsd_assets[i].path, path)) return &dwsd_assets[i];
    return NULL;
}

/* If-None-Match is "*" or a list of (possibly weak, W/) quoted tags. */
static int etag_matches(const char *if_none_match, const char *etag)
{
    if (!if_none_match) return 0;
    if (!strcmp(if_none_match, "*")) return 1;
    return strstr(if_none_match, etag) != NULL;
}

void dwsd_page_reply(const char *path, const char *if_none_match, dwsd_reply *out)
{
    const dwsd_asset *a = find(path);
    if (!a) {
        dwsd_reply_error(out, DWSD_E_NOT_FOUND, "no such endpoint: %s", path);
        return;
    }
    if (etag_matches(if_none_match, a->etag)) {
        dwsd_reply_ok(out, a->content_type, NULL, 0);
        out->status = 304;
    } else {
        void *copy = malloc(a->len ? a->len : 1);
        if (!copy) {
            dwsd_reply_error(out, DWS_E_OUT_OF_MEMORY, "out of memory");
            return;
        }
        memcpy(copy, a->data, a->len);
        dwsd_reply_ok(out, a->content_type, copy, a->len);
    }
    /* Revalidated on every load: a new build (new content, new ETag) is seen at once. */
    dwsd_reply_header_static(out, "Cache-Control", "no-cache");
    dwsd_reply_header_static(out, "ETag", a->etag);
    dwsd_reply_header_static(out, "Content-Security-Policy", PAGE_CSP);
    dwsd_reply_header_static(out, "X-Content-Type-Options", "nosniff");
    dwsd_reply_header_static(out, "Referrer-Policy", "no-referrer");
    dwsd_reply_header_static(out, "Cross-Origin-Opener-Policy", "same-origin");
    dwsd_reply_header_static(out, "Cross-Origin-Resource-Policy", "same-origin");
}
