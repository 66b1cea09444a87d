#include "base.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint8_t *dws_read_file(const char *path, size_t max_bytes, size_t *len, dws_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        dws_error_set(err, DWS_E_IO, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            dws_error_set(err, DWS_E_OUT_OF_MEMORY, "cannot buffer %s", path);
            break;
        }
        if (n == cap) {   /* grow, but never past max_bytes + 1 */
            size_t next = cap > max_bytes / 2 ? max_bytes + 1 : cap * 2;
            uint8_t *grown = realloc(buf, next);
            if (!grown) free(buf);
            buf = grown;
            cap = next;
            continue;
        }
        n += fread(buf + n, 1, cap - n, f);
        if (n > max_bytes) {
            dws_error_set(err, DWS_E_TOO_LARGE, "%s is larger than %zu bytes", path, max_bytes);
            break;
        }
        if (n < cap) {
            if (!ferror(f)) {
                fclose(f);
                *len = n;
                return buf;
            }
            dws_error_set(err, DWS_E_IO, "cannot read %s: %s", path, strerror(errno));
            break;
        }
    }
    free(buf);
    fclose(f);
    return NULL;
}
