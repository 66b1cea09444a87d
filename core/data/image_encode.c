/* Writing images as files (data/data.h, "image encode"): PNG through libpng and JPEG
 * through libjpeg-turbo with Pillow's settings (the encoder jpeg_compression also uses),
 * for `dwsnet corrupt --format png|jpeg`. */
#include "data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corrupt_ops.h"
#include "jpeg_errors.h"
#include "png_errors.h"

/* Interleaved RGB bytes of a CHW float image. */
static uint8_t *interleave(const float *x, int h, int w, dws_error *err)
{
    size_t plane = (size_t)h * (size_t)w;
    uint8_t *planar = malloc(3 * plane), *rgb = malloc(3 * plane);
    if (!planar || !rgb) {
        free(planar);
        free(rgb);
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "no memory for a %d x %d image", h, w);
        return NULL;
    }
    dws_float_to_pixels(x, 3 * plane, planar);
    for (size_t i = 0; i < plane; i++)
        for (int c = 0; c < 3; c++) rgb[3 * i + c] = planar[c * plane + i];
    free(planar);
    return rgb;
}

typedef struct {
    dws_jpeg_errors errors;
    struct jpeg_compress_struct enc;
} jpeg_writer;

static int jpeg_write(jpeg_writer *wr, const uint8_t *rgb, int h, int w, int quality, unsigned char **file,
                      unsigned long *size)
{
    if (setjmp(wr->errors.jump)) return -1;
    wr->enc.err = dws_jpeg_errors_init(&wr->errors);
    jpeg_create_compress(&wr->enc);
    jpeg_mem_dest(&wr->enc, file, size);
    wr->enc.image_width = (JDIMENSION)w;
    wr->enc.image_height = (JDIMENSION)h;
    wr->enc.input_components = 3;
    wr->enc.in_color_space = JCS_RGB;
    jpeg_set_defaults(&wr->enc);
    jpeg_set_quality(&wr->enc, quality, TRUE);
    jpeg_start_compress(&wr->enc, TRUE);
    while (wr->enc.next_scanline < wr->enc.image_height) {
        JSAMPROW row = (JSAMPROW)rgb + (size_t)wr->enc.next_scanline * w * 3;
        jpeg_write_scanlines(&wr->enc, &row, 1);
    }
    jpeg_finish_compress(&wr->enc);
    return 0;
}

int dws_jpeg_encode_rgb(const uint8_t *rgb, int h, int w, int quality, unsigned char **file, unsigned long *size,
                        dws_error *err)
{
    *file = NULL;
    *size = 0;
    jpeg_writer *wr = calloc(1, sizeof *wr);
    int rc = wr ? jpeg_write(wr, rgb, h, w, quality, file, size) : -1;
    if (rc) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "libjpeg: %s", wr ? wr->errors.message : "no memory for the encoder");
        free(*file);
        *file = NULL;
    }
    if (wr) jpeg_destroy_compress(&wr->enc);
    free(wr);
    return rc;
}

int dws_jpeg_encode(const float *x, int quality, uint8_t **out, size_t *len, dws_error *err)
{
    uint8_t *rgb = interleave(x, 32, 32, err);
    if (!rgb) return -1;
    unsigned char *file;
    unsigned long size;
    int rc = dws_jpeg_encode_rgb(rgb, 32, 32, quality, &file, &size, err);
    free(rgb);
    *out = file;
    *len = rc ? 0 : (size_t)size;
    return rc;
}

typedef struct {
    dws_png_errors errors;
    uint8_t *data;
    size_t len, cap;
} png_sink;

static void png_sink_write(png_structp png, png_bytep data, size_t n)
{
    png_sink *s = png_get_io_ptr(png);
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 4096;
        while (cap < s->len + n) cap *= 2;
        uint8_t *p = realloc(s->data, cap);
        if (!p) png_error(png, "out of memory");
        s->data = p;
        s->cap = cap;
    }
    memcpy(s->data + s->len, data, n);
    s->len += n;
}

static void png_sink_flush(png_structp png) { (void)png; }

static int png_write(png_sink *s, png_structp png, png_infop info, uint8_t *rgb)
{
    if (setjmp(s->errors.jump)) return -1;
    png_set_write_fn(png, s, png_sink_write, png_sink_flush);
    png_set_IHDR(png, info, 32, 32, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_bytep rows[32];
    for (int r = 0; r < 32; r++) rows[r] = rgb + (size_t)r * 32 * 3;
    png_set_rows(png, info, rows);
    png_write_png(png, info, PNG_TRANSFORM_IDENTITY, NULL);
    return 0;
}

int dws_png_encode(const float *x, uint8_t **out, size_t *len, dws_error *err)
{
    *out = NULL;
    *len = 0;
    uint8_t *rgb = interleave(x, 32, 32, err);
    if (!rgb) return -1;
    png_sink *s = calloc(1, sizeof *s);
    png_structp png = s ? png_create_write_struct(PNG_LIBPNG_VER_STRING, &s->errors, dws_png_fail, NULL) : NULL;
    png_infop info = png ? png_create_info_struct(png) : NULL;
    int rc = info ? png_write(s, png, info, rgb) : -1;
    if (rc) dws_error_set(err, DWS_E_OUT_OF_MEMORY, "libpng: %s", s && *s->errors.message ? s->errors.message : "no memory");
    if (png) png_destroy_write_struct(&png, info ? &info : NULL);
    if (rc == 0) *out = s->data, *len = s->len;
    else if (s) free(s->data);
    free(s);
    free(rgb);
    return rc;
}
