#include "base.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

int dws_gz_read_all(const char *path, size_t max_bytes, uint8_t **out, size_t *len, dws_error *err)
{
    *out = NULL;
    *len = 0;
    gzFile f = gzopen(path, "rb");
    if (!f) {
        dws_error_set(err, DWS_E_IO, "cannot open %s: %s", path, strerror(errno ? errno : ENOENT));
        return -1;
    }
    gzbuffer(f, 1 << 17);
    size_t cap = max_bytes < (1u << 20) ? max_bytes : (1u << 20), n = 0;
    uint8_t *buf = malloc(cap ? cap : 1);
    if (!buf) goto oom;
    for (;;) {
        if (n == cap) {
            if (cap >= max_bytes) {
                /* One more byte decides whether the file really exceeds the limit. */
                uint8_t probe;
                int got = gzread(f, &probe, 1);
                if (got == 0) break;
                dws_error_set(err, DWS_E_TOO_LARGE, "%s holds more than %zu bytes", path, max_bytes);
                goto fail;
            }
            size_t next = cap * 2 > max_bytes ? max_bytes : cap * 2;
            uint8_t *grown = realloc(buf, next);
            if (!grown) goto oom;
            buf = grown;
            cap = next;
        }
        size_t want = cap - n;
        if (want > (1u << 30)) want = 1u << 30;
        int got = gzread(f, buf + n, (unsigned)want);
        if (got < 0) {
            int zerr;
            const char *msg = gzerror(f, &zerr);
            dws_error_set(err, zerr == Z_ERRNO ? DWS_E_IO : DWS_E_BAD_DATA, "cannot read %s: %s", path,
                          zerr == Z_ERRNO ? strerror(errno) : msg);
            goto fail;
        }
        if (got == 0) break;
        n += (size_t)got;
    }
    /* gzread reports a gzip stream cut short only through gzerror after EOF. */
    int zerr;
    const char *msg = gzerror(f, &zerr);
    if (zerr != Z_OK && zerr != Z_STREAM_END) {
        dws_error_set(err, DWS_E_BAD_DATA, "cannot read %s: %s", path, msg);
        goto fail;
    }
    gzclose(f);
    *out = buf;
    *len = n;
    return 0;
oom:
    dws_error_set(err, DWS_E_OUT_OF_MEMORY, "out of memory reading %s", path);
fail:
    free(buf);
    gzclose(f);
    return -1;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

int dws_write_file_atomic(const char *path, const void *data, size_t len, dws_error *err)
{
    if (!strcmp(path, "-")) {
        if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
            dws_error_set(err, DWS_E_IO, "cannot write to stdout: %s", strerror(errno));
            return -1;
        }
        return 0;
    }
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "out of memory");
        return -1;
    }
    /* mkstemp, not a pid suffix: writers in other containers on a shared volume may have our pid. */
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        dws_error_set(err, DWS_E_IO, "cannot create a temporary file next to %s: %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    int ok = fchmod(fd, 0644) == 0;
    if (ends_with(path, ".gz")) {
        gzFile g = ok ? gzdopen(fd, "wb6") : NULL;
        ok = g != NULL;
        const uint8_t *p = data;
        for (size_t done = 0; ok && done < len;) {
            unsigned chunk = len - done > (1u << 30) ? (1u << 30) : (unsigned)(len - done);
            ok = gzwrite(g, p + done, chunk) == (int)chunk;
            done += chunk;
        }
        if (g) {
            if (gzclose(g) != Z_OK) ok = 0;
        } else {
            close(fd);
        }
    } else {
        const uint8_t *p = data;
        for (size_t done = 0; ok && done < len;) {
            ssize_t w = write(fd, p + done, len - done);
            if (w < 0 && errno == EINTR) continue;
            ok = w > 0;
            if (ok) done += (size_t)w;
        }
        if (close(fd) != 0) ok = 0;
    }
    if (ok && rename(tmp, path) != 0) ok = 0;
    if (!ok) {
        dws_error_set(err, DWS_E_IO, "cannot write %s: %s", path, strerror(errno ? errno : EIO));
        unlink(tmp);
    }
    free(tmp);
    return ok ? 0 : -1;
}
