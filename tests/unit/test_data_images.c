/* The image decoders of data/data.h ("image decode") on files written here with libpng
 * and libjpeg: good 32 x 32 RGB files (PNG 8/16-bit and palette, JPEG, records plain and
 * gzip), other sizes and colour types, cut-off files, headers that declare huge
 * dimensions (refused before any allocation: a budget of a few bytes does not matter),
 * and the budget's byte and image limits. */
#include <check.h>
#include <math.h>
#include <stdio.h>   /* before jpeglib.h, which uses FILE */
#include <jpeglib.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "data/data.h"
#include "helper_check.h"

#define BIG ((size_t)1 << 30)

/* ---- writing test files ---- */

typedef struct {
    uint8_t *data;
    size_t len;
} blob;

static void blob_write(png_structp png, png_bytep data, size_t n)
{
    blob *b = png_get_io_ptr(png);
    b->data = realloc(b->data, b->len + n);
    memcpy(b->data + b->len, data, n);
    b->len += n;
}

static void blob_flush(png_structp png) { (void)png; }

/* A w x h PNG of colour type `type` and bit depth `depth`; sample (y, x, c) = (y * 7 + x * 3 + c * 50) % 256. */
static blob png_file(int w, int h, int type, int depth)
{
    blob b = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    ck_assert(png && info);
    ck_assert(!setjmp(png_jmpbuf(png)));
    png_set_write_fn(png, &b, blob_write, blob_flush);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_color palette[256];
    if (type == PNG_COLOR_TYPE_PALETTE) {
        for (int i = 0; i < 256; i++) palette[i] = (png_color){(png_byte)i, (png_byte)(255 - i), (png_byte)(i / 2)};
        png_set_PLTE(png, info, palette, 256);
    }
    int channels = type == PNG_COLOR_TYPE_RGB ? 3 : type == PNG_COLOR_TYPE_RGBA ? 4
                 : type == PNG_COLOR_TYPE_GRAY_ALPHA ? 2 : 1;
    size_t row_bytes = (size_t)w * channels * (depth == 16 ? 2 : 1);
    png_bytep pixels = calloc((size_t)h, row_bytes);
    png_bytep *rows = malloc(sizeof *rows * (size_t)h);
    for (int y = 0; y < h; y++) {
        rows[y] = pixels + (size_t)y * row_bytes;
        for (int x = 0; x < w; x++)
            for (int c = 0; c < channels; c++) {
                int v = (y * 7 + x * 3 + c * 50) % 256;
                png_bytep at = rows[y] + (x * channels + c) * (depth == 16 ? 2 : 1);
                at[0] = (png_byte)v;
                if (depth == 16) at[1] = 0x80;
            }
    }
    png_set_rows(png, info, rows);
    png_write_png(png, info, PNG_TRANSFORM_IDENTITY, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    free(pixels);
    return b;
}

/* A w x h JPEG of `components` (1 grey, 3 colour), quality 90, same samples. */
static blob jpeg_file(int w, int h, int components)
{
    struct jpeg_compress_struct enc;
    struct jpeg_error_mgr mgr;
    enc.err = jpeg_std_error(&mgr);
    jpeg_create_compress(&enc);
    unsigned char *out = NULL;
    unsigned long size = 0;
    jpeg_mem_dest(&enc, &out, &size);
    enc.image_width = (JDIMENSION)w;
    enc.image_height = (JDIMENSION)h;
    enc.input_components = components;
    enc.in_color_space = components == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(&enc);
    jpeg_set_quality(&enc, 90, TRUE);
    jpeg_start_compress(&enc, TRUE);
    JSAMPLE *row = malloc((size_t)w * components);
    while (enc.next_scanline < enc.image_height) {
        int y = (int)enc.next_scanline;
        for (int x = 0; x < w; x++)
            for (int c = 0; c < components; c++) row[x * components + c] = (JSAMPLE)((y * 7 + x * 3 + c * 50) % 256);
        jpeg_write_scanlines(&enc, &row, 1);
    }
    jpeg_finish_compress(&enc);
    jpeg_destroy_compress(&enc);
    free(row);
    blob b = {malloc(size), size};
    memcpy(b.data, out, size);
    free(out);
    return b;
}

/* n records, label 200 + r (labels are ignored), pixel j of record r = (r * 5 + j) % 256. */
static blob records(size_t n)
{
    blob b = {malloc(n * DWS_CIFAR10_RECORD), n * DWS_CIFAR10_RECORD};
    for (size_t r = 0; r < n; r++) {
        b.data[r * DWS_CIFAR10_RECORD] = (uint8_t)(200 + r);
        for (size_t j = 0; j < DWS_CIFAR10_DIM; j++)
            b.data[r * DWS_CIFAR10_RECORD + 1 + j] = (uint8_t)((r * 5 + j) % 256);
    }
    return b;
}

static blob gzipped(blob in)
{
    uLongf cap = compressBound((uLong)in.len) + 32;
    blob out = {malloc(cap), 0};
    z_stream z = {0};
    ck_assert_int_eq(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = in.data;
    z.avail_in = (uInt)in.len;
    z.next_out = out.data;
    z.avail_out = (uInt)cap;
    ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.len = z.total_out;
    deflateEnd(&z);
    return out;
}

/* ---- decoding them ---- */

static dws_image_budget budget(size_t bytes, size_t images)
{
    return (dws_image_budget){.max_bytes = bytes, .max_images = images};
}

/* Decodes b; returns the error code (NULL on success); err holds the message. */
static const char *decode(blob b, dws_image_list *l, dws_image_budget *bud, dws_error *err)
{
    dws_error_clear(err);
    int rc = dws_image_decode(b.data, b.len, "test", l, bud, err);
    ck_assert_int_eq(rc != 0, err->code != NULL);
    return err->code;
}

static void expect_refused(blob b, const char *code, const char *says)
{
    dws_image_list l = {0};
    dws_image_budget bud = budget(BIG, 0);
    dws_error err;
    const char *got = decode(b, &l, &bud, &err);
    ck_assert_msg(got && !strcmp(got, code), "expected %s, got %s: %s", code, got ? got : "success", err.message);
    ck_assert_msg(strstr(err.message, says), "message '%s' does not say '%s'", err.message, says);
    ck_assert_uint_eq(l.n, 0);
    dws_image_list_free(&l, &bud);
    ck_assert_uint_eq(bud.used, 0);   /* every working buffer given back */
    free(b.data);
}

START_TEST(png_rgb_8_and_16_bit_and_palette_decode)
{
    const int kinds[3][2] = {{PNG_COLOR_TYPE_RGB, 8}, {PNG_COLOR_TYPE_RGB, 16}, {PNG_COLOR_TYPE_PALETTE, 8}};
    for (int k = 0; k < 3; k++) {
        blob b = png_file(32, 32, kinds[k][0], kinds[k][1]);
        ck_assert_int_eq(dws_image_sniff(b.data, b.len), DWS_IMAGE_PNG);
        dws_image_list l = {0};
        dws_image_budget bud = budget(BIG, 0);
        dws_error err;
        ck_assert_msg(!decode(b, &l, &bud, &err), "%s", err.message);
        ck_assert_uint_eq(l.n, 1);
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 32; x++)
                for (int c = 0; c < 3; c++) {
                    int v = (y * 7 + x * 3 + c * 50) % 256;
                    float want = kinds[k][1] == 16 ? (v * 256 + 0x80) / 65535.0f : v / 255.0f;
                    if (kinds[k][0] == PNG_COLOR_TYPE_PALETTE) {   /* index (y*7+x*3) % 256 of the palette */
                        int i = (y * 7 + x * 3) % 256;
                        want = (c == 0 ? i : c == 1 ? 255 - i : i / 2) / 255.0f;
                    }
                    ck_assert_float_eq_tol(l.x[c * 1024 + y * 32 + x], want, 1e-6f);
                }
        dws_image_list_free(&l, &bud);
        ck_assert_uint_eq(bud.used, 0);
        free(b.data);
    }
}
END_TEST

START_TEST(png_encoder_round_trips_bytes)
{
    float x[DWS_CIFAR10_DIM];
    for (int i = 0; i < DWS_CIFAR10_DIM; i++) x[i] = (float)((i * 37) % 256) / 255.0f;
    blob b;
    dws_error err;
    ck_assert_int_eq(dws_png_encode(x, &b.data, &b.len, &err), 0);
    dws_image_list l = {0};
    dws_image_budget bud = budget(BIG, 0);
    ck_assert(!decode(b, &l, &bud, &err));
    ck_assert_mem_eq(l.x, x, sizeof x);
    dws_image_list_free(&l, NULL);
    free(b.data);
}
END_TEST

START_TEST(png_other_sizes_and_colour_types_refused)
{
    expect_refused(png_file(33, 32, PNG_COLOR_TYPE_RGB, 8), DWS_E_BAD_IMAGE, "33 x 32 pixels; only 32 x 32");
    expect_refused(png_file(64, 64, PNG_COLOR_TYPE_RGB, 8), DWS_E_BAD_IMAGE, "64 x 64");
    expect_refused(png_file(32, 32, PNG_COLOR_TYPE_GRAY, 8), DWS_E_BAD_IMAGE, "greyscale");
    expect_refused(png_file(32, 32, PNG_COLOR_TYPE_RGBA, 8), DWS_E_BAD_IMAGE, "RGBA");
    expect_refused(png_file(32, 32, PNG_COLOR_TYPE_GRAY_ALPHA, 8), DWS_E_BAD_IMAGE, "greyscale with alpha");
}
END_TEST

START_TEST(png_truncated_or_corrupt_refused)
{
    blob b = png_file(32, 32, PNG_COLOR_TYPE_RGB, 8);
    blob cut = {malloc(b.len), b.len - 20};
    memcpy(cut.data, b.data, cut.len);
    expect_refused(cut, DWS_E_BAD_IMAGE, "bad PNG");
    blob head = {malloc(20), 20};
    memcpy(head.data, b.data, 20);
    expect_refused(head, DWS_E_BAD_IMAGE, "IHDR");
    b.data[b.len / 2] ^= 0x55;   /* a CRC that no longer matches, or corrupt deflate data */
    expect_refused(b, DWS_E_BAD_IMAGE, "bad PNG");
}
END_TEST

/* A header declaring 100000 x 100000 (CRC fixed): refused from the header, with a
 * budget too small for anything to have been allocated. */
START_TEST(png_huge_declared_size_refused_before_allocation)
{
    blob b = png_file(32, 32, PNG_COLOR_TYPE_RGB, 8);
    const uint8_t dims[8] = {0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0};
    memcpy(b.data + 16, dims, 8);
    uint32_t crc = (uint32_t)crc32(0, b.data + 12, 17);
    for (int i = 0; i < 4; i++) b.data[29 + i] = (uint8_t)(crc >> (24 - 8 * i));
    dws_image_list l = {0};
    dws_image_budget bud = budget(16, 0);
    dws_error err;
    const char *code = decode(b, &l, &bud, &err);
    ck_assert_str_eq(code, DWS_E_BAD_IMAGE);
    ck_assert_msg(strstr(err.message, "100000 x 100000"), "%s", err.message);
    ck_assert_uint_eq(bud.used, 0);
    free(b.data);
}
END_TEST

START_TEST(jpeg_colour_decodes_close_to_its_pixels)
{
    blob b = jpeg_file(32, 32, 3);
    ck_assert_int_eq(dws_image_sniff(b.data, b.len), DWS_IMAGE_JPEG);
    dws_image_list l = {0};
    dws_image_budget bud = budget(BIG, 0);
    dws_error err;
    ck_assert_msg(!decode(b, &l, &bud, &err), "%s", err.message);
    ck_assert_uint_eq(l.n, 1);
    double diff = 0;
    for (int y = 0; y < 32; y++)
        for (int x = 0; x < 32; x++)
            for (int c = 0; c < 3; c++)
                diff += fabs(l.x[c * 1024 + y * 32 + x] - ((y * 7 + x * 3 + c * 50) % 256) / 255.0);
    ck_assert_msg(diff / DWS_CIFAR10_DIM < 0.1, "mean difference %g", diff / DWS_CIFAR10_DIM);
    dws_image_list_free(&l, &bud);
    ck_assert_uint_eq(bud.used, 0);
    free(b.data);
}
END_TEST

START_TEST(jpeg_other_sizes_grey_and_truncated_refused)
{
    expect_refused(jpeg_file(48, 32, 3), DWS_E_BAD_IMAGE, "48 x 32 pixels; only 32 x 32");
    expect_refused(jpeg_file(32, 32, 1), DWS_E_BAD_IMAGE, "greyscale");
    blob b = jpeg_file(32, 32, 3);
    b.len = b.len * 2 / 3;
    expect_refused(b, DWS_E_BAD_IMAGE, "corrupt or truncated");
}
END_TEST

/* SOF0 patched to 60000 x 60000: refused from the header (no image buffer). */
START_TEST(jpeg_huge_declared_size_refused_before_allocation)
{
    blob b = jpeg_file(32, 32, 3);
    size_t i = 2;
    while (i + 9 < b.len && !(b.data[i] == 0xff && b.data[i + 1] == 0xc0)) i++;
    ck_assert(i + 9 < b.len);
    b.data[i + 5] = b.data[i + 7] = 0xea;   /* height, width: 0xea60 = 60000 */
    b.data[i + 6] = b.data[i + 8] = 0x60;
    dws_image_list l = {0};
    dws_image_budget bud = budget((size_t)1 << 20, 0);   /* the decoder's fixed share, nothing for 60000^2 pixels */
    dws_error err;
    ck_assert_str_eq(decode(b, &l, &bud, &err), DWS_E_BAD_IMAGE);
    ck_assert_msg(strstr(err.message, "60000 x 60000"), "%s", err.message);
    ck_assert_uint_eq(bud.used, 0);
    free(b.data);
}
END_TEST

START_TEST(records_plain_and_gzip_decode_ignoring_labels)
{
    for (int gz = 0; gz < 2; gz++) {
        blob plain = records(130), b = gz ? gzipped(plain) : plain;
        ck_assert_int_eq(dws_image_sniff(b.data, b.len), DWS_IMAGE_RECORDS);
        dws_image_list l = {0};
        dws_image_budget bud = budget(BIG, 0);
        dws_error err;
        ck_assert_msg(!decode(b, &l, &bud, &err), "%s", err.message);
        ck_assert_uint_eq(l.n, 130);
        for (size_t r = 0; r < 130; r += 43)
            for (size_t j = 0; j < DWS_CIFAR10_DIM; j += 101)
                ck_assert_float_eq(l.x[r * DWS_CIFAR10_DIM + j], (float)((r * 5 + j) % 256) / 255.0f);
        dws_image_list_free(&l, &bud);
        ck_assert_uint_eq(bud.used, 0);
        if (gz) free(b.data);
        free(plain.data);
    }
}
END_TEST

START_TEST(records_cut_or_not_records_refused)
{
    blob b = records(3);
    b.len -= 100;
    expect_refused(b, DWS_E_BAD_IMAGE, "is not a PNG, a JPEG or CIFAR-10 binary records");
    blob plain = records(3), gz = gzipped(plain);
    free(plain.data);
    gz.len -= 10;
    expect_refused(gz, DWS_E_BAD_IMAGE, "gzip");
    blob odd = records(2);
    odd.len -= 1;   /* gzip of 2 records minus a byte: inflates to a partial record */
    blob odd_gz = gzipped(odd);
    free(odd.data);
    expect_refused(odd_gz, DWS_E_BAD_IMAGE, "not a whole number");
    blob empty = {malloc(1), 0};
    expect_refused(empty, DWS_E_BAD_IMAGE, "empty");
}
END_TEST

START_TEST(budget_limits_images_and_bytes)
{
    blob b = records(5);
    dws_image_list l = {0};
    dws_image_budget bud = budget(BIG, 4);
    dws_error err;
    ck_assert_str_eq(decode(b, &l, &bud, &err), DWS_E_TOO_MANY_IMAGES);
    ck_assert_uint_eq(l.n, 0);
    bud = budget(3 * DWS_IMAGE_BYTES, 0);
    ck_assert_str_eq(decode(b, &l, &bud, &err), DWS_E_TOO_LARGE);
    ck_assert_uint_eq(l.n, 0);
    /* a gzip file that inflates to 5 records, against a limit of 4: stopped while inflating */
    blob gz = gzipped(b);
    bud = budget(BIG, 4);
    ck_assert_str_eq(decode(gz, &l, &bud, &err), DWS_E_TOO_MANY_IMAGES);
    dws_image_list_free(&l, &bud);
    ck_assert_uint_eq(bud.used, 0);
    /* files add up: 3 + 2 records within 5 */
    bud = budget(BIG, 5);
    blob three = {b.data, 3 * DWS_CIFAR10_RECORD}, two = {b.data, 2 * DWS_CIFAR10_RECORD};
    ck_assert(!decode(three, &l, &bud, &err));
    ck_assert(!decode(two, &l, &bud, &err));
    ck_assert_uint_eq(l.n, 5);
    ck_assert_str_eq(decode(two, &l, &bud, &err), DWS_E_TOO_MANY_IMAGES);
    ck_assert_uint_eq(l.n, 5);
    dws_image_list_free(&l, &bud);
    ck_assert_uint_eq(bud.used, 0);
    free(gz.data);
    free(b.data);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        png_rgb_8_and_16_bit_and_palette_decode,
        png_encoder_round_trips_bytes,
        png_other_sizes_and_colour_types_refused,
        png_truncated_or_corrupt_refused,
        png_huge_declared_size_refused_before_allocation,
        jpeg_colour_decodes_close_to_its_pixels,
        jpeg_other_sizes_grey_and_truncated_refused,
        jpeg_huge_declared_size_refused_before_allocation,
        records_plain_and_gzip_decode_ignoring_labels,
        records_cut_or_not_records_refused,
        budget_limits_images_and_bytes,
    };
    return th_run_tests("data_images", tests, (int)(sizeof tests / sizeof *tests));
}
