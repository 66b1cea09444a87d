/* The .dws container: bit-exact round trips, the exact byte layout, and rejection of
 * every truncation, every single-byte corruption and every oversized length field.
 * Malformed files are built with an independent little-endian writer below, with a
 * correct CRC, so it is the structural checks (not the CRC) that must catch them. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "base/base.h"

/* ---- an independent encoder for hand-made files ---- */

typedef struct {
    uint8_t b[8192];
    size_t n;
} bytes;

static void put(bytes *o, uint64_t v, int width)
{
    for (int i = 0; i < width; i++) o->b[o->n++] = (uint8_t)(v >> (8 * i));
}

static void put_raw(bytes *o, const void *p, size_t n)
{
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void put_header(bytes *o, uint32_t version, const char *card)
{
    put_raw(o, "DWSNET\0\1", 8);
    put(o, version, 4);
    put(o, strlen(card), 4);
    put_raw(o, card, strlen(card));
}

static void put_crc(bytes *o)
{
    put(o, crc32(0L, o->b, (uInt)o->n), 4);
}

/* A one-tensor file whose single tensor record is whatever the caller appends. */
static void put_one_tensor_prefix(bytes *o)
{
    put_header(o, 1, "{}");
    put(o, 1, 4);
}

/* Room for one minimal tensor record, so a file passes the tensor-count bound and
 * reaches the field under test. */
static void pad(bytes *o)
{
    put(o, 0, 8);
}

/* Parses from a heap copy of exactly len bytes so ASan catches any over-read. */
static int parse_exact(const uint8_t *src, size_t len, dws_model_file *out, dws_error *err)
{
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, src, len);
    int rc = dws_model_file_parse(copy, len, out, err);
    free(copy);
    return rc;
}

static void assert_rejected(const bytes *o, const char *code, const char *message_part)
{
    dws_model_file f;
    dws_error err = {0};
    ck_assert_int_eq(parse_exact(o->b, o->n, &f, &err), -1);
    ck_assert_str_eq(err.code, code);
    ck_assert_msg(strstr(err.message, message_part), "message \"%s\" lacks \"%s\"", err.message, message_part);
    ck_assert_ptr_null(f.card_json);
    ck_assert_ptr_null(f.tensors);
    ck_assert_int_eq(f.n_tensors, 0);
}

/* A huge allocation would make these tests fail with out_of_memory instead of the expected
 * code. ASan reserves terabytes of shadow address space, so the cap only works without it. */
static void cap_address_space(void)
{
    if (getenv("DWSNET_SANITIZED")) return;
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    ck_assert(f && fscanf(f, "%lu", &pages) == 1);
    fclose(f);
    rlim_t cap = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (64u << 20);
    struct rlimit rl = {cap, cap};
    ck_assert_int_eq(setrlimit(RLIMIT_AS, &rl), 0);
}

/* ---- sample models ---- */

static float w1[12], b1[3], scalar[1], t3[6], t4[8];

static int sample_tensors(dws_named_tensor *t)
{
    for (int i = 0; i < 12; i++) w1[i] = (float)i * 0.25f - 1.0f;
    b1[0] = -0.0f;   /* signed zero, inf, denormal */
    b1[1] = INFINITY;
    b1[2] = 1e-45f;
    uint32_t nan_payload = 0x7fc12345u;
    memcpy(&scalar[0], &nan_payload, 4);
    for (int i = 0; i < 6; i++) t3[i] = (float)(i * i) / 7.0f;
    for (int i = 0; i < 8; i++) t4[i] = -(float)i;
    t[0] = (dws_named_tensor){.name = "layers.0.weight", .ndim = 2, .shape = {3, 4}, .count = 12, .data = w1};
    t[1] = (dws_named_tensor){.name = "layers.0.bias", .ndim = 1, .shape = {3}, .count = 3, .data = b1};
    t[2] = (dws_named_tensor){.name = "temperature", .ndim = 0, .count = 1, .data = scalar};
    t[3] = (dws_named_tensor){.name = "t3", .ndim = 3, .shape = {2, 1, 3}, .count = 6, .data = t3};
    t[4] = (dws_named_tensor){.name = "t4", .ndim = 4, .shape = {1, 2, 2, 2}, .count = 8, .data = t4};
    return 5;
}

/* A small file for the exhaustive truncation and corruption loops. */
static void small_file(uint8_t **buf, size_t *len)
{
    dws_named_tensor t[5];
    sample_tensors(t);
    dws_error err = {0};
    ck_assert_msg(dws_model_file_encode("{\"id\":\"x\",\"notes\":\"\"}", t + 1, 2, buf, len, &err) == 0,
                  "%s", err.message);
}

/* ---- temporary directories ---- */

static char dir[64];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void make_dir(void)
{
    strcpy(dir, "/tmp/test_model_file.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(void)
{
    chmod(dir, 0700);
    nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static int count_entries(const char *path)
{
    DIR *d = opendir(path);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static size_t read_whole(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

/* ---- tests ---- */

START_TEST(round_trip_is_bit_exact)
{
    dws_named_tensor t[5];
    int n = sample_tensors(t);
    const char *cards[] = {"{\"id\":\"\",\"description\":\"\",\"tags\":[]}", "{}",
                           "{\"id\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\",\"x\":{\"y\":[1,2.5,null]}}"};
    make_dir();
    char path[128];
    snprintf(path, sizeof path, "%s/model.dws", dir);
    for (int c = 0; c < 3; c++) {
        dws_error err = {0};
        ck_assert_msg(dws_model_file_write(path, cards[c], t, n, &err) == 0, "%s", err.message);
        dws_model_file f;
        ck_assert_msg(dws_model_file_read(path, &f, &err) == 0, "%s", err.message);
        ck_assert_str_eq(f.card_json, cards[c]);
        ck_assert_int_eq(f.n_tensors, n);
        for (int i = 0; i < n; i++) {
            const dws_named_tensor *g = dws_model_file_find(&f, t[i].name);
            ck_assert_ptr_eq(g, &f.tensors[i]);
            ck_assert_str_eq(g->name, t[i].name);
            ck_assert_int_eq(g->ndim, t[i].ndim);
            for (int d = 0; d < g->ndim; d++) ck_assert_int_eq(g->shape[d], t[i].shape[d]);
            ck_assert_uint_eq(g->count, t[i].count);
            ck_assert_int_eq(memcmp(g->data, t[i].data, t[i].count * sizeof(float)), 0);
        }
        ck_assert_ptr_null(dws_model_file_find(&f, "missing"));
        dws_model_file_free(&f);
        ck_assert_int_eq(count_entries(dir), 1);   /* no temporary file left behind */
    }
    remove_dir();
}
END_TEST

START_TEST(null_card_and_no_tensors)
{
    uint8_t *buf;
    size_t len;
    dws_error err = {0};
    ck_assert_int_eq(dws_model_file_encode(NULL, NULL, 0, &buf, &len, &err), 0);
    ck_assert_uint_eq(len, 26);
    dws_model_file f;
    ck_assert_int_eq(dws_model_file_parse(buf, len, &f, &err), 0);
    ck_assert_str_eq(f.card_json, "{}");
    ck_assert_int_eq(f.n_tensors, 0);
    ck_assert_ptr_null(dws_model_file_find(&f, "x"));
    dws_model_file_free(&f);
    free(buf);
}
END_TEST

/* The layout in base/base.h, byte for byte, from the independent writer above. */
START_TEST(layout_matches_the_spec)
{
    float data[2] = {1.0f, -2.0f};
    dws_named_tensor t = {.name = "w", .ndim = 2, .shape = {1, 2}, .count = 2, .data = data};
    uint8_t *buf;
    size_t len;
    dws_error err = {0};
    ck_assert_int_eq(dws_model_file_encode("{\"a\":1}", &t, 1, &buf, &len, &err), 0);
    bytes want = {.n = 0};
    put_header(&want, DWS_MODEL_FILE_VERSION, "{\"a\":1}");
    put(&want, 1, 4);
    put(&want, 1, 2);
    put_raw(&want, "w", 1);
    put(&want, 2, 4);
    put(&want, 1, 8);
    put(&want, 2, 8);
    put_raw(&want, "\x00\x00\x80\x3f\x00\x00\x00\xc0", 8);   /* 1.0f, -2.0f little-endian */
    put_crc(&want);
    ck_assert_uint_eq(len, want.n);
    ck_assert_int_eq(memcmp(buf, want.b, len), 0);
    free(buf);
}
END_TEST

START_TEST(every_truncation_is_rejected)
{
    uint8_t *buf;
    size_t len;
    small_file(&buf, &len);
    for (size_t n = 0; n < len; n++) {
        dws_model_file f;
        dws_error err = {0};
        ck_assert_msg(parse_exact(buf, n, &f, &err) == -1, "prefix of %zu/%zu bytes accepted", n, len);
        ck_assert_str_eq(err.code, DWS_E_BAD_MODEL_FILE);
        ck_assert_ptr_null(f.tensors);
        ck_assert_ptr_null(f.card_json);
    }
    free(buf);
}
END_TEST

START_TEST(every_byte_corruption_is_detected)
{
    uint8_t *buf;
    size_t len;
    small_file(&buf, &len);
    int incompatible = 0;
    for (size_t i = 0; i < len; i++) {
        for (int x = 1; x < 256; x++) {
            buf[i] ^= (uint8_t)x;
            dws_model_file f;
            dws_error err = {0};
            ck_assert_msg(parse_exact(buf, len, &f, &err) == -1, "byte %zu ^ %d accepted", i, x);
            if (strcmp(err.code, DWS_E_INCOMPATIBLE_MODEL) == 0) incompatible++;
            else ck_assert_str_eq(err.code, DWS_E_BAD_MODEL_FILE);
            buf[i] ^= (uint8_t)x;
        }
    }
    ck_assert_int_gt(incompatible, 0);   /* a corrupted version field reads as a newer format */
    free(buf);
}
END_TEST

START_TEST(trailing_garbage_and_crc)
{
    uint8_t *buf;
    size_t len;
    small_file(&buf, &len);
    bytes o = {.n = 0};
    put_raw(&o, buf, len);
    put(&o, 0, 1);
    assert_rejected(&o, DWS_E_BAD_MODEL_FILE, "1 bytes of trailing garbage");
    o.n = len;
    o.b[len - 1] ^= 0x80;
    assert_rejected(&o, DWS_E_BAD_MODEL_FILE, "CRC32 mismatch");
    free(buf);
}
END_TEST

START_TEST(header_fields_are_checked)
{
    bytes o = {.n = 0};
    put_raw(&o, "DWSNET\0\2", 8); put(&o, 1, 4); put(&o, 0, 4); put_crc(&o);
    assert_rejected(&o, DWS_E_BAD_MODEL_FILE, "bad magic");
    o.n = 0; put_header(&o, DWS_MODEL_FILE_VERSION + 1, "{}"); put(&o, 0, 4); put_crc(&o);
    assert_rejected(&o, DWS_E_INCOMPATIBLE_MODEL, "format version 3");
    /* Every version up to this build's parses (version 1: files before conditioned adapters). */
    for (uint32_t v = 1; v <= DWS_MODEL_FILE_VERSION; v++) {
        dws_model_file f;
        dws_error err = {0};
        o.n = 0; put_header(&o, v, "{}"); put(&o, 0, 4); put_crc(&o);
        ck_assert_msg(parse_exact(o.b, o.n, &f, &err) == 0, "version %u: %s", v, err.message);
        dws_model_file_free(&f);
    }
    o.n = 0; put_header(&o, 0, "{}"); put(&o, 0, 4); put_crc(&o);
    assert_rejected(&o, DWS_E_BAD_MODEL_FILE, "format version 0");
}
END_TEST

START_TEST(bad_cards_are_rejected)
{
    static const struct { const char *card; size_t len; const char *why; } cases[] = {
        {"{\"a\":\"\xc0\xaf\"}", 0, "UTF-8"},         /* overlong '/' */
        {"{\"a\":\"\xed\xa0\x80\"}", 0, "UTF-8"},     /* surrogate */
        {"{\"a\":\"\xf4\x90\x80\x80\"}", 0, "UTF-8"}, /* past U+10FFFF */
        {"{\"a\":\"\x80\"}", 0, "UTF-8"},             /* lone continuation byte */
        {"{\"a\":\"\xe2\x82\"}", 0, "UTF-8"},         /* cut sequence */
        {"{\"a\":1}\0", 8, "UTF-8"},                  /* embedded NUL */
        {"{", 0, "JSON object"},
        {"[]", 0, "JSON object"},
        {"1", 0, "JSON object"},
        {"", 0, "JSON object"},
        {"{} x", 0, "JSON object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = cases[i].len ? cases[i].len : strlen(cases[i].card);
        bytes o = {.n = 0};
        put_raw(&o, "DWSNET\0\1", 8); put(&o, 1, 4); put(&o, n, 4); put_raw(&o, cases[i].card, n);
        put(&o, 0, 4); put_crc(&o);
        assert_rejected(&o, DWS_E_BAD_MODEL_FILE, cases[i].why);
    }
}
END_TEST

START_TEST(oversized_lengths_are_rejected_before_allocating)
{
    cap_address_space();
    bytes o = {.n = 0};
    put_raw(&o, "DWSNET\0\1", 8); put(&o, 1, 4); put(&o, 0xffffffffu, 4); put_crc(&o);
    assert_rejected(&o, DWS_E_BAD_MODEL_FILE, "card length 4294967295 exceeds");
    o.n = 0; put_raw(&o, "DWSNET\0\1", 8); put(&o, 1, 4); put(&o, 1000, 4); put_raw(&o, "{}", 2); put_crc(&o);
    assert_rejected(&o, DWS_E_BAD_MODEL_FILE, "truncated: card needs 1000 bytes");
    o.n = 0; put_header(&o, 1, "{}"); put(&o, 0xffffffffu, 4); put_crc(&o);
    assert_rejected(&o, DWS_E_BAD_MODEL_FILE, "tensor count 4294967295");
    o.n = 0; put_header(&o, 1, "{}"); put(&o, 3, 4); put_crc(&o);   /* 3 tensors cannot fit in 4 bytes */
    assert_rejected(&o, DWS_E_BAD_MODEL_FILE, "tensor count 3");
    o.n = 0; put_one_tensor_prefix(&o); put(&o, 0xffff, 2); pad(&o); put_crc(&o);
    assert_rejected(&o, DWS_E_BAD_MODEL_FILE, "name length 65535 is outside 1..127");
    o.n = 0; put_one_tensor_prefix(&o); put(&o, 128, 2); pad(&o); put_crc(&o);
    assert_rejected(&o, DWS_E_BAD_MODEL_FILE, "name length 128");
    o.n = 0; put_one_tensor_prefix(&o); put(&o, 0, 2); pad(&o); put_crc(&o);
    assert_rejected(&o, DWS_E_BAD_MODEL_FILE, "name length 0");
    o.n = 0; put_one_tensor_prefix(&o); put(&o, 1, 2); put_raw(&o, "w", 1); put(&o, 5, 4); put_crc(&o);
    assert_rejected(&o, DWS_E_BAD_MODEL_FILE, "tensor 0 \"w\": ndim 5 exceeds 4");
    o.n = 0; put_one_tensor_prefix(&o); put(&o, 1, 2); put_raw(&o, "w", 1); put(&o, 0xffffffffu, 4); put_crc(&o);
    assert_rejected(&o, DWS_E_BAD_MODEL_FILE, "ndim 4294967295");
    o.n = 0; put_one_tensor_prefix(&o); put(&o, 1, 2); put_raw(&o, "w", 1); put(&o, 1, 4);
    put(&o, 1ull << 62, 8); put_crc(&o);
    assert_rejected(&o, DWS_E_BAD_MODEL_FILE, "dimension 0 is 4611686018427387904");
    /* 2^16 four times is 2^64: a product that wraps to 0 must not pass as an empty tensor. */
    o.n = 0; put_one_tensor_prefix(&o); put(&o, 1, 2); put_raw(&o, "w", 1); put(&o, 4, 4);
    for (int d = 0; d < 4; d++) put(&o, 1u << 16, 8);
    put_crc(&o);
    assert_rejected(&o, DWS_E_BAD_MODEL_FILE, "dimension 0 is 65536");
    o.n = 0; put_one_tensor_prefix(&o); put(&o, 1, 2); put_raw(&o, "w", 1); put(&o, 2, 4);
    put(&o, 1, 8); put(&o, 0, 8); put_crc(&o);
    assert_rejected(&o, DWS_E_BAD_MODEL_FILE, "dimension 1 is 0");
    o.n = 0; put_one_tensor_prefix(&o); put(&o, 1, 2); put_raw(&o, "w", 1); put(&o, 1, 4);
    put(&o, 4, 8); put(&o, 0, 4); put(&o, 0, 4); put_crc(&o);   /* 12 bytes left cannot hold 4 floats */
    assert_rejected(&o, DWS_E_BAD_MODEL_FILE, "dimension 0 is 4");
    o.n = 0; put_one_tensor_prefix(&o); put(&o, 1, 2); put_raw(&o, "w", 1); put(&o, 1, 4);
    put(&o, 3, 8); put(&o, 0, 4); put(&o, 0, 4); put_crc(&o);   /* 3 floats fit only by eating the CRC */
    assert_rejected(&o, DWS_E_BAD_MODEL_FILE, "truncated: CRC32");
}
END_TEST

START_TEST(bad_names_are_rejected)
{
    bytes o = {.n = 0};
    put_one_tensor_prefix(&o); put(&o, 2, 2); put_raw(&o, "a\0", 2); put(&o, 0, 4); put(&o, 0, 4); put_crc(&o);
    assert_rejected(&o, DWS_E_BAD_MODEL_FILE, "name is not valid UTF-8 (or contains NUL)");
    o.n = 0; put_one_tensor_prefix(&o); put(&o, 1, 2); put_raw(&o, "\xff", 1); put(&o, 0, 4); put(&o, 0, 4);
    put_crc(&o);
    assert_rejected(&o, DWS_E_BAD_MODEL_FILE, "name is not valid UTF-8");
    o.n = 0; put_header(&o, 1, "{}"); put(&o, 3, 4);
    const char *names[] = {"b", "a", "b"};
    for (int i = 0; i < 3; i++) {
        put(&o, 1, 2); put_raw(&o, names[i], 1); put(&o, 0, 4); put(&o, 0, 4);
    }
    put_crc(&o);
    assert_rejected(&o, DWS_E_BAD_MODEL_FILE, "duplicate tensor name \"b\"");
}
END_TEST

START_TEST(encoder_refuses_what_the_reader_rejects)
{
    dws_named_tensor t[5];
    int n = sample_tensors(t);
    uint8_t *buf = (uint8_t *)1;
    size_t len = 1;
    dws_error err = {0};
    ck_assert_int_eq(dws_model_file_encode("{", t, n, &buf, &len, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "card is not a JSON object"));
    ck_assert_ptr_null(buf);
    ck_assert_uint_eq(len, 0);
    strcpy(t[3].name, t[0].name);
    ck_assert_int_eq(dws_model_file_encode(NULL, t, n, &buf, &len, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.message, "duplicate tensor name"));
    n = sample_tensors(t);
    t[1].ndim = 5;
    ck_assert_int_eq(dws_model_file_encode(NULL, t, n, &buf, &len, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_INVALID_ARGUMENT);
    ck_assert_str_eq(err.message, "tensor 1: ndim is outside 0..4");
    n = sample_tensors(t);
    t[4].data = NULL;
    ck_assert_int_eq(dws_model_file_encode(NULL, t, n, &buf, &len, &err), -1);
    ck_assert_str_eq(err.message, "tensor 4: data is NULL");
    n = sample_tensors(t);
    t[0].shape[1] = 0;
    ck_assert_int_eq(dws_model_file_encode(NULL, t, n, &buf, &len, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.message, "tensor 0: dimension 1 is 0"));
    n = sample_tensors(t);
    t[0].count = 11;
    ck_assert_int_eq(dws_model_file_encode(NULL, t, n, &buf, &len, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.message, "count 11 is not the product"));
    n = sample_tensors(t);
    t[2].name[0] = '\0';
    ck_assert_int_eq(dws_model_file_encode(NULL, t, n, &buf, &len, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.message, "name length 0"));
}
END_TEST

START_TEST(failed_writes_keep_the_old_file)
{
    dws_named_tensor t[5];
    int n = sample_tensors(t);
    make_dir();
    char path[128], sub[128];
    snprintf(path, sizeof path, "%s/model.dws", dir);
    snprintf(sub, sizeof sub, "%s/sub", dir);
    dws_error err = {0};
    ck_assert_int_eq(dws_model_file_write(path, "{\"v\":\"old\"}", t, 1, &err), 0);
    uint8_t before[4096], after[4096];
    size_t before_len = read_whole(path, before, sizeof before);

    /* The disk fills up mid-write (RLIMIT_FSIZE makes write() fail with EFBIG). */
    /* No ck_assert while the limit holds: check itself writes a file to record each one. */
    struct rlimit saved;
    getrlimit(RLIMIT_FSIZE, &saved);
    struct rlimit small = {64, saved.rlim_max};
    signal(SIGXFSZ, SIG_IGN);
    int limited = setrlimit(RLIMIT_FSIZE, &small);
    int rc = dws_model_file_write(path, "{\"v\":\"new\"}", t, n, &err);
    setrlimit(RLIMIT_FSIZE, &saved);
    ck_assert_int_eq(limited, 0);
    ck_assert_int_eq(rc, -1);
    ck_assert_str_eq(err.code, DWS_E_IO);
    ck_assert_ptr_nonnull(strstr(err.message, "write"));
    ck_assert_uint_eq(read_whole(path, after, sizeof after), before_len);
    ck_assert_int_eq(memcmp(before, after, before_len), 0);
    ck_assert_int_eq(count_entries(dir), 1);

    /* The target is a directory: the temporary file is written, the rename fails. */
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    ck_assert_int_eq(dws_model_file_write(sub, NULL, t, n, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_IO);
    ck_assert_ptr_nonnull(strstr(err.message, "rename"));
    ck_assert_int_eq(count_entries(dir), 2);
    ck_assert_int_eq(count_entries(sub), 0);

    /* The directory does not exist. */
    snprintf(sub, sizeof sub, "%s/missing/model.dws", dir);
    ck_assert_int_eq(dws_model_file_write(sub, NULL, t, n, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_IO);

    /* An unwritable directory (root ignores permissions, so only as another user). */
    if (geteuid() != 0) {
        ck_assert_int_eq(chmod(dir, 0500), 0);
        ck_assert_int_eq(dws_model_file_write(path, NULL, t, n, &err), -1);
        ck_assert_str_eq(err.code, DWS_E_IO);
        chmod(dir, 0700);
        ck_assert_uint_eq(read_whole(path, after, sizeof after), before_len);
        ck_assert_int_eq(memcmp(before, after, before_len), 0);
    }

    /* A successful write replaces the old file. */
    ck_assert_int_eq(dws_model_file_write(path, "{\"v\":\"new\"}", t, n, &err), 0);
    dws_model_file f;
    ck_assert_int_eq(dws_model_file_read(path, &f, &err), 0);
    ck_assert_str_eq(f.card_json, "{\"v\":\"new\"}");
    ck_assert_int_eq(f.n_tensors, n);
    dws_model_file_free(&f);
    ck_assert_int_eq(count_entries(dir), 2);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0644);
    remove_dir();
}
END_TEST

START_TEST(read_errors)
{
    cap_address_space();
    make_dir();
    char path[128];
    dws_model_file f;
    dws_error err = {0};
    snprintf(path, sizeof path, "%s/none.dws", dir);
    ck_assert_int_eq(dws_model_file_read(path, &f, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_IO);
    ck_assert_ptr_nonnull(strstr(err.message, path));
    ck_assert_int_eq(dws_model_file_read(dir, &f, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_IO);

    /* A sparse file just over the limit: refused from its size, before any read. */
    snprintf(path, sizeof path, "%s/huge.dws", dir);
    int fd = open(path, O_CREAT | O_WRONLY, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, (off_t)DWS_MODEL_FILE_MAX_BYTES + 1), 0);
    close(fd);
    ck_assert_int_eq(dws_model_file_read(path, &f, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_TOO_LARGE);

    /* A corrupt file names itself in the message. */
    snprintf(path, sizeof path, "%s/junk.dws", dir);
    FILE *j = fopen(path, "wb");
    fputs("not a model", j);
    fclose(j);
    ck_assert_int_eq(dws_model_file_read(path, &f, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_BAD_MODEL_FILE);
    ck_assert_ptr_nonnull(strstr(err.message, path));
    remove_dir();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("model_file");
    TCase *tc = tcase_create("model_file");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, round_trip_is_bit_exact);
    tcase_add_test(tc, null_card_and_no_tensors);
    tcase_add_test(tc, layout_matches_the_spec);
    tcase_add_test(tc, every_truncation_is_rejected);
    tcase_add_test(tc, every_byte_corruption_is_detected);
    tcase_add_test(tc, trailing_garbage_and_crc);
    tcase_add_test(tc, header_fields_are_checked);
    tcase_add_test(tc, bad_cards_are_rejected);
    tcase_add_test(tc, oversized_lengths_are_rejected_before_allocating);
    tcase_add_test(tc, bad_names_are_rejected);
    tcase_add_test(tc, encoder_refuses_what_the_reader_rejects);
    tcase_add_test(tc, failed_writes_keep_the_old_file);
    tcase_add_test(tc, read_errors);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
