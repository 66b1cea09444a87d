#include "framing.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef struct {
    int te_lines, cl_lines;
    const char *te, *cl;
} framing_headers;

static enum MHD_Result count(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    framing_headers *h = cls;
    if (!strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING)) h->te_lines++, h->te = value;
    if (!strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH)) h->cl_lines++, h->cl = value;
    return MHD_YES;
}

/* The one coding this server decodes, alone, as the whole field value. */
static int is_chunked(const char *v)
{
    while (*v == ' ' || *v == '\t') v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t')) n--;
    return n == 7 && !strncasecmp(v, "chunked", 7);
}

static int all_digits(const char *v)
{
    if (!*v) return 0;
    for (; *v; v++)
        if (*v < '0' || *v > '9') return 0;
    return 1;
}

int dwsd_check_framing(struct MHD_Connection *c, const char *version, char *why, size_t why_len)
{
    framing_headers h = {0};
    MHD_get_connection_values(c, MHD_HEADER_KIND, count, &h);
    if (h.te_lines && version && !strcmp(version, MHD_HTTP_VERSION_1_0))
        snprintf(why, why_len, "Transfer-Encoding in an HTTP/1.0 request");
    else if (h.te_lines > 1)
        snprintf(why, why_len, "%d Transfer-Encoding lines; only one, 'chunked', is understood", h.te_lines);
    else if (h.te_lines && !is_chunked(h.te))
        snprintf(why, why_len, "Transfer-Encoding '%.60s' is not supported; only 'chunked' is", h.te);
    else if (h.te_lines && h.cl_lines)
        snprintf(why, why_len, "both Content-Length and Transfer-Encoding");
    else if (h.cl_lines > 1)
        snprintf(why, why_len, "%d Content-Length lines", h.cl_lines);
    else if (h.cl_lines && !all_digits(h.cl))
        snprintf(why, why_len, "Content-Length '%.40s' is not a decimal number", h.cl);
    else
        return 0;
    return -1;
}
