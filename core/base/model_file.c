/* The .dws container (layout in base/base.h). Integers and floats go through
 * explicit little-endian byte packing, so a file is byte-identical on any host. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* mkostemp; the Makefile defines it, a bare fuzzer build does not */
#endif
#include "base.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static const uint8_t MAGIC[8] = {'D', 'W', 'S', 'N', 'E', 'T', 0, 1};
#define NAME_MAX_LEN (sizeof(((dws_named_tensor *)0)->name) - 1)
/* The smallest tensor record: u16 name length, 1-byte name, u32 ndim = 0, one float. */
#define MIN_TENSOR_BYTES 11u
/* Sets a bad_model_file error and evaluates to -1: `return BAD(c, ...);`. */
#define BAD(c, ...) (dws_error_set((c)->err, DWS_E_BAD_MODEL_FILE, __VA_ARGS__), -1)

static void prefix_error(dws_error *err, const char *prefix)
{
    if (!err) return;
    char msg[sizeof err->message];
    memcpy(msg, err->message, sizeof msg);
    dws_error_set(err, err->code, "%s: %s", prefix, msg);
}

/* Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF) and no NUL,
 * so the text survives both as a C string and inside JSON. */
static int valid_utf8(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        if (c == 0) return 0;
        if (c < 0x80) { i++; continue; }
        size_t len;
        uint32_t cp, min;
        if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; min = 0x80; }
        else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; min = 0x800; }
        else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; min = 0x10000; }
        else return 0;
        if (len > n - i) return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return 0;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += len;
    }
    return 1;
}

/* ---- decoding ---- */

typedef struct {
    const uint8_t *p;
    size_t left;
    dws_error *err;
} cursor;

static int take(cursor *c, size_t n, const char *what, const uint8_t **bytes)
{
    if (n > c->left) return BAD(c, "truncated: %s needs %zu bytes, only %zu left", what, n, c->left);
    *bytes = c->p;
    c->p += n;
    c->left -= n;
    return 0;
}

static uint64_t get_le(const uint8_t *b, int n)
{
    uint64_t v = 0;
    for (int i = n; i-- > 0;) v = v << 8 | b[i];
    return v;
}

static int take_uint(cursor *c, int n, const char *what, uint64_t *v)
{
    const uint8_t *b;
    if (take(c, (size_t)n, what, &b)) return -1;
    *v = get_le(b, n);
    return 0;
}

static int parse_card(cursor *c, char **card_json)
{
    uint64_t len;
    const uint8_t *bytes;
    if (take_uint(c, 4, "card length", &len)) return -1;
    if (len > DWS_MODEL_CARD_MAX_BYTES)
        return BAD(c, "card length %" PRIu64 " exceeds the limit of %u bytes", len, DWS_MODEL_CARD_MAX_BYTES);
    if (take(c, len, "card", &bytes)) return -1;
    if (!valid_utf8(bytes, len)) return BAD(c, "card is not valid UTF-8 (or contains NUL)");
    if (!(*card_json = malloc(len + 1))) {
        dws_error_set(c->err, DWS_E_OUT_OF_MEMORY, "no memory for a %" PRIu64 "-byte card", len);
        return -1;
    }
    memcpy(*card_json, bytes, len);
    (*card_json)[len] = '\0';
    cJSON *json = cJSON_ParseWithOpts(*card_json, NULL, 1);
    int is_object = cJSON_IsObject(json);
    cJSON_Delete(json);
    if (!is_object) return BAD(c, "card is not a JSON object");
    return 0;
}

static int parse_tensor(cursor *c, dws_named_tensor *t)
{
    uint64_t name_len, ndim;
    const uint8_t *bytes;
    if (take_uint(c, 2, "name length", &name_len)) return -1;
    if (name_len < 1 || name_len > NAME_MAX_LEN)
        return BAD(c, "name length %" PRIu64 " is outside 1..%zu", name_len, NAME_MAX_LEN);
    if (take(c, name_len, "name", &bytes)) return -1;
    if (!valid_utf8(bytes, name_len)) return BAD(c, "name is not valid UTF-8 (or contains NUL)");
    memcpy(t->name, bytes, name_len);
    t->name[name_len] = '\0';
    if (take_uint(c, 4, "ndim", &ndim)) return -1;
    if (ndim > DWS_TENSOR_MAX_DIMS) return BAD(c, "ndim %" PRIu64 " exceeds %d", ndim, DWS_TENSOR_MAX_DIMS);
    t->ndim = (int)ndim;
    size_t count = 1;
    for (int d = 0; d < t->ndim; d++) {
        uint64_t dim;
        if (take_uint(c, 8, "dimension", &dim)) return -1;
        /* count * dim <= left / 4 keeps the product overflow-free and the data inside the file. */
        if (dim < 1 || dim > c->left / sizeof(float) / count)
            return BAD(c, "dimension %d is %" PRIu64 ": must be >= 1 and fit the %zu bytes left", d, dim, c->left);
        t->shape[d] = (int64_t)dim;
        count *= dim;
    }
    if (take(c, count * sizeof(float), "data", &bytes)) return -1;
    if (!(t->data = malloc(count * sizeof(float)))) {
        dws_error_set(c->err, DWS_E_OUT_OF_MEMORY, "no memory for %zu floats", count);
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        uint32_t u = (uint32_t)get_le(bytes + 4 * i, 4);
        memcpy(&t->data[i], &u, sizeof u);
    }
    t->count = count;
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp((*(const dws_named_tensor *const *)a)->name, (*(const dws_named_tensor *const *)b)->name);
}

/* Sorting keeps the check O(n log n): a quadratic scan over 65536 names would stall a request. */
static int check_unique_names(const dws_model_file *f, dws_error *err)
{
    if (f->n_tensors < 2) return 0;
    const dws_named_tensor **sorted = malloc(sizeof *sorted * (size_t)f->n_tensors);
    if (!sorted) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "no memory to check %d tensor names", f->n_tensors);
        return -1;
    }
    for (int i = 0; i < f->n_tensors; i++) sorted[i] = &f->tensors[i];
    qsort(sorted, (size_t)f->n_tensors, sizeof *sorted, compare_names);
    int rc = 0;
    for (int i = 1; i < f->n_tensors && rc == 0; i++) {
        if (strcmp(sorted[i - 1]->name, sorted[i]->name) == 0) {
            dws_error_set(err, DWS_E_BAD_MODEL_FILE, "duplicate tensor name \"%s\"", sorted[i]->name);
            rc = -1;
        }
    }
    free(sorted);
    return rc;
}

/* Structure before CRC: a newer version may change everything after the version field,
 * and checking lengths first keeps the parser's own bounds checks reachable by fuzzing. */
static int parse_body(cursor *c, const uint8_t *buf, dws_model_file *out)
{
    const uint8_t *bytes;
    uint64_t version, n, crc;
    if (take(c, sizeof MAGIC, "magic", &bytes)) return -1;
    if (memcmp(bytes, MAGIC, sizeof MAGIC) != 0) return BAD(c, "not a .dws model file (bad magic)");
    if (take_uint(c, 4, "format version", &version)) return -1;
    if (version == 0 || version > DWS_MODEL_FILE_VERSION) {
        dws_error_set(c->err, version ? DWS_E_INCOMPATIBLE_MODEL : DWS_E_BAD_MODEL_FILE,
                      "format version %" PRIu64 " is not supported (this build reads 1..%d)",
                      version, DWS_MODEL_FILE_VERSION);
        return -1;
    }
    if (parse_card(c, &out->card_json)) return -1;
    if (take_uint(c, 4, "tensor count", &n)) return -1;
    if (n > DWS_MODEL_FILE_MAX_TENSORS || n > c->left / MIN_TENSOR_BYTES)
        return BAD(c, "tensor count %" PRIu64 " exceeds the limit of %d or the %zu bytes left", n,
                   DWS_MODEL_FILE_MAX_TENSORS, c->left);
    if (n > 0 && !(out->tensors = calloc(n, sizeof *out->tensors))) {
        dws_error_set(c->err, DWS_E_OUT_OF_MEMORY, "no memory for %" PRIu64 " tensors", n);
        return -1;
    }
    out->n_tensors = (int)n;
    for (int i = 0; i < out->n_tensors; i++) {
        if (parse_tensor(c, &out->tensors[i])) {
            char where[NAME_MAX_LEN + 32];
            snprintf(where, sizeof where, "tensor %d%s%s%s", i, out->tensors[i].name[0] ? " \"" : "",
                     out->tensors[i].name, out->tensors[i].name[0] ? "\"" : "");
            prefix_error(c->err, where);
            return -1;
        }
    }
    if (check_unique_names(out, c->err)) return -1;
    size_t covered = (size_t)(c->p - buf);
    if (take_uint(c, 4, "CRC32", &crc)) return -1;
    if (c->left) return BAD(c, "%zu bytes of trailing garbage after the CRC", c->left);
    uint32_t actual = (uint32_t)crc32(0L, buf, (uInt)covered);
    if (actual != crc) return BAD(c, "CRC32 mismatch (stored %08" PRIx64 ", computed %08x)", crc, actual);
    return 0;
}

int dws_model_file_parse(const uint8_t *buf, size_t len, dws_model_file *out, dws_error *err)
{
    memset(out, 0, sizeof *out);
    if (len > DWS_MODEL_FILE_MAX_BYTES) {
        dws_error_set(err, DWS_E_TOO_LARGE, "model file is %zu bytes, the limit is %u", len,
                      DWS_MODEL_FILE_MAX_BYTES);
        return -1;
    }
    cursor c = {buf, len, err};
    if (parse_body(&c, buf, out)) {
        dws_model_file_free(out);
        return -1;
    }
    return 0;
}

void dws_model_file_free(dws_model_file *f)
{
    if (!f) return;
    for (int i = 0; i < f->n_tensors; i++) free(f->tensors[i].data);
    free(f->tensors);
    free(f->card_json);
    memset(f, 0, sizeof *f);
}

const dws_named_tensor *dws_model_file_find(const dws_model_file *f, const char *name)
{
    for (int i = 0; f && name && i < f->n_tensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
    return NULL;
}

/* ---- encoding ---- */

static uint8_t *put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) *p++ = (uint8_t)(v >> (8 * i));
    return p;
}

/* Bytes of one tensor record, or 0 when the tensor cannot be described (err set). */
static size_t tensor_record_size(const dws_named_tensor *t, dws_error *err)
{
    size_t name_len = strnlen(t->name, sizeof t->name), count = 1;
    const char *why = name_len > NAME_MAX_LEN ? "name is not NUL-terminated"
                      : t->ndim < 0 || t->ndim > DWS_TENSOR_MAX_DIMS ? "ndim is outside 0..4"
                      : !t->data ? "data is NULL" : NULL;
    if (why) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "%s", why);
        return 0;
    }
    for (int d = 0; d < t->ndim; d++) {
        if (t->shape[d] < 1 || (uint64_t)t->shape[d] > DWS_MODEL_FILE_MAX_BYTES / sizeof(float) / count) {
            dws_error_set(err, DWS_E_INVALID_ARGUMENT, "dimension %d is %" PRId64 ": must be >= 1 and fit %u bytes",
                          d, t->shape[d], DWS_MODEL_FILE_MAX_BYTES);
            return 0;
        }
        count *= (size_t)t->shape[d];
    }
    if (count != t->count) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "count %zu is not the product of the shape (%zu)",
                      t->count, count);
        return 0;
    }
    return 2 + name_len + 4 + 8 * (size_t)t->ndim + sizeof(float) * count;
}

static uint8_t *put_tensor(uint8_t *p, const dws_named_tensor *t)
{
    size_t name_len = strlen(t->name);
    p = put_le(p, name_len, 2);
    memcpy(p, t->name, name_len);
    p = put_le(p + name_len, (uint64_t)t->ndim, 4);
    for (int d = 0; d < t->ndim; d++) p = put_le(p, (uint64_t)t->shape[d], 8);
    for (size_t i = 0; i < t->count; i++) {
        uint32_t u;
        memcpy(&u, &t->data[i], sizeof u);
        p = put_le(p, u, 4);
    }
    return p;
}

int dws_model_file_encode(const char *card_json, const dws_named_tensor *tensors, int n_tensors,
                          uint8_t **buf, size_t *len, dws_error *err)
{
    *buf = NULL;
    *len = 0;
    if (!card_json) card_json = "{}";
    size_t card_len = strnlen(card_json, DWS_MODEL_CARD_MAX_BYTES + 1);
    if (card_len > DWS_MODEL_CARD_MAX_BYTES || n_tensors < 0 || n_tensors > DWS_MODEL_FILE_MAX_TENSORS ||
        (n_tensors > 0 && !tensors)) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "card over %u bytes or bad tensor list (%d tensors)",
                      DWS_MODEL_CARD_MAX_BYTES, n_tensors);
        return -1;
    }
    size_t size = sizeof MAGIC + 4 + 4 + card_len + 4 + 4;
    for (int i = 0; i < n_tensors; i++) {
        size_t record = tensor_record_size(&tensors[i], err);
        if (record == 0) {
            char where[32];
            snprintf(where, sizeof where, "tensor %d", i);
            prefix_error(err, where);
            return -1;
        }
        size += record;
        if (size > DWS_MODEL_FILE_MAX_BYTES) {
            dws_error_set(err, DWS_E_TOO_LARGE, "model file would exceed %u bytes", DWS_MODEL_FILE_MAX_BYTES);
            return -1;
        }
    }
    uint8_t *p = *buf = malloc(size);
    if (!p) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "no memory for a %zu-byte model file", size);
        return -1;
    }
    memcpy(p, MAGIC, sizeof MAGIC);
    p = put_le(p + sizeof MAGIC, DWS_MODEL_FILE_VERSION, 4);
    p = put_le(p, card_len, 4);
    memcpy(p, card_json, card_len);
    p = put_le(p + card_len, (uint64_t)n_tensors, 4);
    for (int i = 0; i < n_tensors; i++) p = put_tensor(p, &tensors[i]);
    put_le(p, crc32(0L, *buf, (uInt)(size - 4)), 4);
    *len = size;

    /* Decoding what we wrote enforces every reader rule (UTF-8, JSON, unique names) in one place. */
    dws_model_file check;
    if (dws_model_file_parse(*buf, size, &check, err)) {
        prefix_error(err, "refusing to encode a model the reader would reject");
        if (err && strcmp(err->code, DWS_E_BAD_MODEL_FILE) == 0) err->code = DWS_E_INVALID_ARGUMENT;
        free(*buf);
        *buf = NULL;
        *len = 0;
        return -1;
    }
    dws_model_file_free(&check);
    return 0;
}

/* ---- files ---- */

/* Best effort: makes the rename itself durable; the new file is already in place either way. */
static void sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, (size_t)(slash - path) + 1) : strdup(".");
    int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

/* Returns the step that failed (errno tells why), or NULL. */
static const char *fill_temp_file(int fd, const uint8_t *buf, size_t len)
{
    for (size_t off = 0; off < len;) {
        ssize_t n = write(fd, buf + off, len - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n == 0) errno = EIO;
            return "write";
        }
        off += (size_t)n;
    }
    if (fchmod(fd, 0644)) return "chmod";   /* mkstemp makes 0600; model files are not secret */
    if (fsync(fd)) return "fsync";
    return NULL;
}

static int write_atomically(const char *path, const uint8_t *buf, size_t len, dws_error *err)
{
    char *tmp = malloc(strlen(path) + sizeof ".tmp.XXXXXX");
    if (!tmp) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "no memory for a file name");
        return -1;
    }
    sprintf(tmp, "%s.tmp.XXXXXX", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        dws_error_set(err, DWS_E_IO, "cannot create a temporary file next to %s: %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    const char *failed = fill_temp_file(fd, buf, len);
    int saved_errno = errno;
    if (close(fd) && !failed) {
        failed = "close";
        saved_errno = errno;
    }
    if (!failed && rename(tmp, path)) {
        failed = "rename";
        saved_errno = errno;
    }
    if (failed) {
        unlink(tmp);
        dws_error_set(err, DWS_E_IO, "%s %s: %s (old file left untouched)", failed, path,
                      strerror(saved_errno));
    } else {
        sync_parent_dir(path);
    }
    free(tmp);
    return failed ? -1 : 0;
}

int dws_model_file_write(const char *path, const char *card_json, const dws_named_tensor *tensors,
                         int n_tensors, dws_error *err)
{
    uint8_t *buf;
    size_t len;
    if (dws_model_file_encode(card_json, tensors, n_tensors, &buf, &len, err)) return -1;
    int rc = write_atomically(path, buf, len, err);
    free(buf);
    return rc;
}

int dws_model_file_read(const char *path, dws_model_file *out, dws_error *err)
{
    memset(out, 0, sizeof *out);
    /* O_NONBLOCK: opening a FIFO (or a device) would otherwise wait for a writer,
     * forever; fstat then refuses anything but a regular file. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        dws_error_set(err, DWS_E_IO, "cannot read %s: %s", path, fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0) close(fd);
        return -1;
    }
    if ((uint64_t)st.st_size > DWS_MODEL_FILE_MAX_BYTES) {
        dws_error_set(err, DWS_E_TOO_LARGE, "%s is %lld bytes, the limit is %u", path, (long long)st.st_size,
                      DWS_MODEL_FILE_MAX_BYTES);
        close(fd);
        return -1;
    }
    size_t size = (size_t)st.st_size, got = 0;
    uint8_t *buf = malloc(size ? size : 1);
    while (buf && got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(fd);
    int rc = -1;
    if (!buf) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "no memory to read %s (%zu bytes)", path, size);
    } else if (got != size) {
        dws_error_set(err, DWS_E_IO, "cannot read %s: short read (%zu of %zu bytes)", path, got, size);
    } else if ((rc = dws_model_file_parse(buf, size, out, err)) != 0) {
        prefix_error(err, path);
    }
    free(buf);
    return rc;
}
