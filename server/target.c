#include "target.h"

void dwsd_printable_copy(char *out, size_t n, const char *in, int stop_at_query)
{
    size_t k = 0;
    for (; in[k] && !(stop_at_query && in[k] == '?') && k + 1 < n; k++) {
        unsigned char c = (unsigned char)in[k];
        out[k] = c > ' ' && c < 0x7f && c != '"' && c != '\\' ? (char)c : '_';
    }
    if (n) out[k] = '\0';
}

int dwsd_target_has_nul(const char *uri)
{
    for (const char *p = uri; *p; p++)
        if (p[0] == '%' && p[1] == '0' && p[2] == '0') return 1;
    return 0;
}

int dwsd_query_arg_count(const char *uri)
{
    const char *q = uri;
    while (*q && *q != '?') q++;
    if (!*q || !q[1]) return 0;
    int n = 1;
    for (q++; *q; q++) n += *q == '&';
    return n;
}
