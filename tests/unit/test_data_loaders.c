/* CIFAR-10 binary and idx loaders on synthetic files written here: plain and gzip,
 * several files in numeric order, and the malformed files they must reject. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "data/data.h"

static char dir[64];

static void setup(void)
{
    strcpy(dir, "/tmp/dws-loaders-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void write_bytes(const char *name, const uint8_t *data, size_t len, int gz)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (gz) {
        gzFile f = gzopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(gzwrite(f, data, (unsigned)len), (int)len);
        ck_assert_int_eq(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(data, 1, len, f), len);
        fclose(f);
    }
}

/* n records; record r has label (r + base) % 10 and pixel j = (r * 7 + j + base) % 256. */
static uint8_t *cifar_records(size_t n, int base)
{
    uint8_t *buf = malloc(n * DWS_CIFAR10_RECORD);
    for (size_t r = 0; r < n; r++) {
        buf[r * DWS_CIFAR10_RECORD] = (uint8_t)((r + (size_t)base) % 10);
        for (size_t j = 0; j < DWS_CIFAR10_DIM; j++)
            buf[r * DWS_CIFAR10_RECORD + 1 + j] = (uint8_t)((r * 7 + j + (size_t)base) % 256);
    }
    return buf;
}

static void write_cifar(const char *name, size_t n, int base, int gz)
{
    uint8_t *buf = cifar_records(n, base);
    write_bytes(name, buf, n * DWS_CIFAR10_RECORD, gz);
    free(buf);
}

START_TEST(cifar_split_from_gz_files_in_numeric_order)
{
    /* Batch 10 must come after batch 2, and gzip and plain files read alike. */
    write_cifar("data_batch_2.bin.gz", 3, 100, 1);
    write_cifar("data_batch_10.bin.gz", 2, 200, 1);
    write_cifar("data_batch_1.bin.gz", 4, 0, 1);
    write_cifar("test_batch.bin.gz", 5, 50, 1);
    dws_image_set s;
    dws_error err = {0};
    ck_assert_int_eq(dws_cifar10_load_split(dir, DWS_SPLIT_TRAIN, &s, &err), 0);
    ck_assert_uint_eq(s.n, 9);
    ck_assert_int_eq(s.channels, 3);
    ck_assert_int_eq(s.height, 32);
    ck_assert_uint_eq(s.dim, 3072);
    const int base[9] = {0, 0, 0, 0, 100, 100, 100, 200, 200}, rec[9] = {0, 1, 2, 3, 0, 1, 2, 0, 1};
    for (int i = 0; i < 9; i++) {
        ck_assert_uint_eq(s.labels[i], (unsigned)((rec[i] + base[i]) % 10));
        ck_assert_uint_eq(s.pixels[(size_t)i * 3072 + 5], (unsigned)((rec[i] * 7 + 5 + base[i]) % 256));
    }
    float x[3072];
    dws_image_set_to_float(&s, 4, 1, x);
    ck_assert_float_eq(x[0], (float)(100 % 256) / 255.0f);
    ck_assert_float_eq(x[155], 255.0f / 255.0f);   /* (0*7 + 155 + 100) % 256 = 255 */
    dws_image_set_free(&s);
    ck_assert_int_eq(dws_cifar10_load_split(dir, DWS_SPLIT_TEST, &s, &err), 0);
    ck_assert_uint_eq(s.n, 5);
    ck_assert_uint_eq(s.labels[0], 0);             /* (0 + 50) % 10 */
    dws_image_set_free(&s);
}
END_TEST

START_TEST(cifar_plain_bin_preferred_and_subfolder_found)
{
    /* The official archive extracts to cifar-10-batches-bin/ with plain .bin files. */
    char sub[128];
    snprintf(sub, sizeof sub, "%s/cifar-10-batches-bin", dir);
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    write_cifar("cifar-10-batches-bin/test_batch.bin", 3, 1, 0);
    write_cifar("cifar-10-batches-bin/test_batch.bin.gz", 7, 1, 1);
    dws_image_set s;
    dws_error err = {0};
    ck_assert_int_eq(dws_cifar10_load_split(dir, DWS_SPLIT_TEST, &s, &err), 0);
    ck_assert_uint_eq(s.n, 3);
    dws_image_set_free(&s);
}
END_TEST

START_TEST(cifar_truncated_file_rejected)
{
    uint8_t *buf = cifar_records(2, 0);
    write_bytes("test_batch.bin", buf, 2 * DWS_CIFAR10_RECORD - 100, 0);
    free(buf);
    dws_image_set s;
    dws_error err = {0};
    ck_assert_int_eq(dws_cifar10_load_split(dir, DWS_SPLIT_TEST, &s, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_BAD_DATA);
    ck_assert_ptr_nonnull(strstr(err.message, "whole number of 3073-byte records"));
    ck_assert_ptr_null(s.pixels);
}
END_TEST

START_TEST(cifar_bad_label_rejected)
{
    uint8_t *buf = cifar_records(4, 0);
    buf[2 * DWS_CIFAR10_RECORD] = 10;
    write_bytes("test_batch.bin.gz", buf, 4 * DWS_CIFAR10_RECORD, 1);
    free(buf);
    dws_image_set s;
    dws_error err = {0};
    ck_assert_int_eq(dws_cifar10_load_split(dir, DWS_SPLIT_TEST, &s, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_BAD_DATA);
    ck_assert_ptr_nonnull(strstr(err.message, "record 2 has label 10"));
}
END_TEST

START_TEST(cifar_cut_gzip_stream_rejected)
{
    write_cifar("test_batch.bin.gz", 20, 0, 1);
    char path[256];
    snprintf(path, sizeof path, "%s/test_batch.bin.gz", dir);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(truncate(path, st.st_size / 2), 0);
    dws_image_set s;
    dws_error err = {0};
    ck_assert_int_eq(dws_cifar10_load_split(dir, DWS_SPLIT_TEST, &s, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_BAD_DATA);
}
END_TEST

START_TEST(cifar_empty_and_missing_rejected_with_hint)
{
    dws_image_set s;
    dws_error err = {0};
    ck_assert_int_eq(dws_cifar10_load_split(dir, DWS_SPLIT_TRAIN, &s, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_IO);
    ck_assert_ptr_nonnull(strstr(err.message, "cifar-10-binary.tar.gz"));
    ck_assert_int_eq(dws_cifar10_load_split(NULL, DWS_SPLIT_TRAIN, &s, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.message, "DWSNET_DATA"));
    write_bytes("test_batch.bin", (const uint8_t *)"", 0, 0);
    ck_assert_int_eq(dws_cifar10_load_split(dir, DWS_SPLIT_TEST, &s, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_BAD_DATA);
}
END_TEST

START_TEST(cifar_write_roundtrip)
{
    uint8_t labels[3] = {9, 0, 4}, *pixels = malloc(3 * 3072);
    for (size_t i = 0; i < 3 * 3072; i++) pixels[i] = (uint8_t)(i * 13);
    char path[256];
    snprintf(path, sizeof path, "%s/out.bin.gz", dir);
    dws_error err = {0};
    ck_assert_int_eq(dws_cifar10_write(path, labels, pixels, 3, &err), 0);
    const char *paths[1] = {path};
    dws_image_set s;
    ck_assert_int_eq(dws_cifar10_load_files(paths, 1, &s, &err), 0);
    ck_assert_uint_eq(s.n, 3);
    ck_assert_mem_eq(s.labels, labels, 3);
    ck_assert_mem_eq(s.pixels, pixels, 3 * 3072);
    dws_image_set_free(&s);
    free(pixels);
}
END_TEST

START_TEST(float_to_pixels_rounds_and_clamps)
{
    const float x[6] = {0.f, 1.f, 0.5f, -0.2f, 1.7f, 2.f / 255.f + 0.49f / 255.f};
    uint8_t out[6];
    dws_float_to_pixels(x, 6, out);
    const uint8_t want[6] = {0, 255, 128, 0, 255, 2};
    ck_assert_mem_eq(out, want, 6);
}
END_TEST

/* idx: magic 0 0 8 ndim, big-endian sizes, bytes. */
static size_t idx_header(uint8_t *b, int ndim, const uint32_t *dims)
{
    b[0] = b[1] = 0;
    b[2] = 8;
    b[3] = (uint8_t)ndim;
    for (int i = 0; i < ndim; i++) {
        b[4 + 4 * i] = (uint8_t)(dims[i] >> 24);
        b[5 + 4 * i] = (uint8_t)(dims[i] >> 16);
        b[6 + 4 * i] = (uint8_t)(dims[i] >> 8);
        b[7 + 4 * i] = (uint8_t)dims[i];
    }
    return 4 + 4 * (size_t)ndim;
}

static void write_idx_pair(uint32_t n_images, uint32_t n_labels, int bad_label, int cut)
{
    uint8_t img[16 + 3 * 28 * 28], lab[8 + 3];
    uint32_t d3[3] = {n_images, 28, 28}, d1[1] = {n_labels};
    size_t h = idx_header(img, 3, d3);
    for (size_t i = 0; i < (size_t)n_images * 784; i++) img[h + i] = (uint8_t)(i % 251);
    size_t hl = idx_header(lab, 1, d1);
    for (uint32_t i = 0; i < n_labels; i++) lab[hl + i] = (uint8_t)(i + 3);
    if (bad_label) lab[hl + 1] = 10;
    write_bytes("images-idx3-ubyte.gz", img, h + (size_t)n_images * 784 - (size_t)cut, 1);
    write_bytes("labels-idx1-ubyte", lab, hl + n_labels, 0);
}

static int load_idx(dws_image_set *s, dws_error *err)
{
    char ip[256], lp[256];
    snprintf(ip, sizeof ip, "%s/images-idx3-ubyte.gz", dir);
    snprintf(lp, sizeof lp, "%s/labels-idx1-ubyte", dir);
    return dws_idx_load(ip, lp, 10, s, err);
}

START_TEST(idx_loads_grayscale_set)
{
    write_idx_pair(3, 3, 0, 0);
    dws_image_set s;
    dws_error err = {0};
    ck_assert_int_eq(load_idx(&s, &err), 0);
    ck_assert_uint_eq(s.n, 3);
    ck_assert_int_eq(s.channels, 1);
    ck_assert_int_eq(s.height, 28);
    ck_assert_int_eq(s.width, 28);
    ck_assert_uint_eq(s.dim, 784);
    ck_assert_uint_eq(s.labels[2], 5);
    ck_assert_uint_eq(s.pixels[784 + 10], (784 + 10) % 251);
    dws_image_set_free(&s);
}
END_TEST

START_TEST(idx_malformed_rejected)
{
    dws_image_set s;
    dws_error err = {0};
    write_idx_pair(3, 2, 0, 0);           /* counts differ */
    ck_assert_int_eq(load_idx(&s, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.message, "3 images"));
    write_idx_pair(3, 3, 1, 0);           /* label 10 of 10 classes */
    ck_assert_int_eq(load_idx(&s, &err), -1);
    ck_assert_str_eq(err.code, DWS_E_BAD_DATA);
    write_idx_pair(3, 3, 0, 5);           /* pixels cut short */
    ck_assert_int_eq(load_idx(&s, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.message, "truncated"));
    uint8_t bad[12] = {0, 0, 0x0d, 1, 0, 0, 0, 2, 0, 0, 0, 0}; /* float data */
    write_bytes("labels-idx1-ubyte", bad, sizeof bad, 0);
    write_idx_pair(2, 2, 0, 0);
    write_bytes("images-idx3-ubyte.gz", bad, sizeof bad, 1);
    ck_assert_int_eq(load_idx(&s, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.message, "unsigned byte"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("data_loaders");
    TCase *tc = tcase_create("loaders");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, cifar_split_from_gz_files_in_numeric_order);
    tcase_add_test(tc, cifar_plain_bin_preferred_and_subfolder_found);
    tcase_add_test(tc, cifar_truncated_file_rejected);
    tcase_add_test(tc, cifar_bad_label_rejected);
    tcase_add_test(tc, cifar_cut_gzip_stream_rejected);
    tcase_add_test(tc, cifar_empty_and_missing_rejected_with_hint);
    tcase_add_test(tc, cifar_write_roundtrip);
    tcase_add_test(tc, float_to_pixels_rounds_and_clamps);
    tcase_add_test(tc, idx_loads_grayscale_set);
    tcase_add_test(tc, idx_malformed_rejected);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
