#include "request_id.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* Ids end up in headers, JSON logs and problem bodies: only a conservative
 * character set is echoed, so none of those can be forged or broken by a client. */
static int acceptable(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > DWSD_REQUEST_ID_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.' || c == ':';
        if (!ok) return 0;
    }
    return 1;
}

void dwsd_request_id(const char *given, char out[DWSD_REQUEST_ID_MAX + 1])
{
    if (given && acceptable(given)) {
        strcpy(out, given);
        return;
    }
    uint8_t r[16];
    if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
        /* No entropy yet (early boot): time and a counter are unique enough for an id. */
        static atomic_uint_fast64_t counter;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t a = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
        uint64_t b = atomic_fetch_add(&counter, 1);
        memcpy(r, &a, 8);
        memcpy(r + 8, &b, 8);
    }
    for (int i = 0; i < 16; i++) snprintf(out + 2 * i, 3, "%02x", r[i]);
}
