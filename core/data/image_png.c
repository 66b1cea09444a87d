/* PNG images from outside (data/data.h, "image decode"), through libpng: 32 x 32 RGB
 * (8 or 16 bits) or palette images only. The header is read from the bytes before libpng
 * sees them, so another size or colour type is refused before anything is allocated;
 * libpng's own allocations go through the caller's budget, and its limits are set to
 * 32 x 32 and small ancillary chunks as a second fence. */
#include "data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "png_errors.h"

#define SIDE 32
#define PLANE (SIDE * SIDE)
#define CHUNK_MALLOC_MAX (64 * 1024)   /* ancillary chunks (text, ICC profiles) larger than this: error */
#define CHUNK_CACHE_MAX 64             /* ancillary chunks kept, at most */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const char *colour_name(int type)
{
    switch (type) {
    case 0: return "greyscale";
    case 2: return "RGB";
    case 3: return "palette";
    case 4: return "greyscale with alpha";
    case 6: return "RGBA";
    }
    return "of an unknown colour type";
}

/* The IHDR chunk, read from the bytes: 32 x 32, RGB or palette, or why not. */
static int check_header(const uint8_t *buf, size_t len, const char *what, dws_error *err)
{
    if (len < 8 + 8 + 13 + 4 || be32(buf + 8) != 13 || memcmp(buf + 12, "IHDR", 4)) {
        dws_error_set(err, DWS_E_BAD_IMAGE, "%s: PNG without a whole IHDR header (truncated?)", what);
        return -1;
    }
    uint32_t w = be32(buf + 16), h = be32(buf + 20);
    int depth = buf[24], type = buf[25];
    if (w != SIDE || h != SIDE) {
        dws_error_set(err, DWS_E_BAD_IMAGE, "%s: PNG of %u x %u pixels; only 32 x 32 images are accepted", what, w, h);
        return -1;
    }
    if (type != 2 && type != 3) {
        dws_error_set(err, DWS_E_BAD_IMAGE, "%s: PNG is %s (colour type %d); only RGB images (colour type 2, or a "
                      "palette) are accepted", what, colour_name(type), type);
        return -1;
    }
    int depth_ok = type == 2 ? depth == 8 || depth == 16 : depth == 1 || depth == 2 || depth == 4 || depth == 8;
    if (!depth_ok) {
        dws_error_set(err, DWS_E_BAD_IMAGE, "%s: PNG with an invalid bit depth %d", what, depth);
        return -1;
    }
    return 0;
}

/* Everything that must survive a longjmp lives here, not in locals. */
typedef struct {
    const uint8_t *buf;
    size_t len, at;
    const char *what;
    dws_image_budget *budget;
    size_t held;                 /* libpng's allocations, charged to the budget */
    int over_budget;
    png_structp png;
    png_infop info;
    png_bytep rows[SIDE];
    png_bytep pixels;
    size_t pixels_bytes;
    dws_png_errors errors;
} png_job;

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png, (void)msg;   /* benign: a warning never changes the pixels we read */
}

static void on_read(png_structp png, png_bytep data, size_t n)
{
    png_job *j = png_get_io_ptr(png);
    if (n > j->len - j->at) png_error(png, "the file ends early (truncated)");
    memcpy(data, j->buf + j->at, n);
    j->at += n;
}

/* libpng's allocations, each with a header recording its size, charged to the budget. */
static png_voidp on_malloc(png_structp png, png_alloc_size_t n)
{
    png_job *j = png_get_mem_ptr(png);
    size_t total = n + sizeof(max_align_t);
    if (n > SIZE_MAX - sizeof(max_align_t) || total > j->budget->max_bytes ||
        j->budget->used > j->budget->max_bytes - total) {
        j->over_budget = 1;
        return NULL;
    }
    max_align_t *p = malloc(total);
    if (!p) return NULL;
    *(size_t *)p = total;
    j->budget->used += total;
    j->held += total;
    return p + 1;
}

static void on_free(png_structp png, png_voidp ptr)
{
    if (!ptr) return;
    png_job *j = png_get_mem_ptr(png);
    max_align_t *p = (max_align_t *)ptr - 1;
    size_t total = *(size_t *)p;
    dws_image_budget_give(j->budget, total);
    j->held -= total;
    free(p);
}

/* Decodes into dst (CHW floats); 0, or -1 with j->errors.message set (by longjmp). */
static int decode(png_job *j, float *dst)
{
    if (setjmp(j->errors.jump)) return -1;
    png_set_user_limits(j->png, SIDE, SIDE);
    png_set_chunk_cache_max(j->png, CHUNK_CACHE_MAX);
    png_set_chunk_malloc_max(j->png, CHUNK_MALLOC_MAX);
    png_set_keep_unknown_chunks(j->png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
    png_set_read_fn(j->png, j, on_read);
    png_read_info(j->png, j->info);
    png_uint_32 w, h;
    int depth, type, interlace;
    png_get_IHDR(j->png, j->info, &w, &h, &depth, &type, &interlace, NULL, NULL);
    if (w != SIDE || h != SIDE || (type != PNG_COLOR_TYPE_RGB && type != PNG_COLOR_TYPE_PALETTE))
        png_error(j->png, "the header changed under the reader");
    if (type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(j->png);   /* a tRNS chunk is ignored */
    png_set_interlace_handling(j->png);
    png_read_update_info(j->png, j->info);
    size_t row_bytes = png_get_rowbytes(j->png, j->info);
    int bytes = depth == 16 ? 2 : 1;
    if (row_bytes != (size_t)SIDE * 3 * bytes || png_get_channels(j->png, j->info) != 3)
        png_error(j->png, "unexpected row layout");
    j->pixels_bytes = row_bytes * SIDE;
    if (!(j->pixels = png_malloc(j->png, j->pixels_bytes))) png_error(j->png, "out of memory");
    for (int r = 0; r < SIDE; r++) j->rows[r] = j->pixels + (size_t)r * row_bytes;
    png_read_image(j->png, j->rows);
    png_read_end(j->png, NULL);
    for (int i = 0; i < PLANE; i++)
        for (int c = 0; c < 3; c++) {   /* divided, as dws_image_set_to_float does: the same floats */
            const png_byte *p = j->pixels + ((size_t)i * 3 + c) * bytes;
            dst[c * PLANE + i] = bytes == 2 ? (float)(p[0] << 8 | p[1]) / 65535.0f : (float)p[0] / 255.0f;
        }
    return 0;
}

int dws_png_decode(const uint8_t *buf, size_t len, const char *what, dws_image_list *out, dws_image_budget *b,
                   dws_error *err)
{
    if (check_header(buf, len, what, err)) return -1;
    float img[DWS_CIFAR10_DIM];
    png_job *j = calloc(1, sizeof *j);
    if (!j) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "%s: no memory for the PNG decoder", what);
        return -1;
    }
    *j = (png_job){.buf = buf, .len = len, .what = what, .budget = b};
    int rc = -1;
    j->png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, &j->errors, dws_png_fail, on_warning, j, on_malloc,
                                      on_free);
    if (j->png) j->info = png_create_info_struct(j->png);
    if (!j->png || !j->info) {
        dws_error_set(err, j->over_budget ? DWS_E_TOO_LARGE : DWS_E_OUT_OF_MEMORY,
                      "%s: no memory for the PNG decoder", what);
    } else if (decode(j, img) == 0) {
        rc = 0;
    } else if (j->over_budget) {
        dws_error_set(err, DWS_E_TOO_LARGE, "%s: decoding the PNG needs more memory than the budget allows (%zu of "
                      "%zu bytes in use)", what, b->used, b->max_bytes);
    } else {
        dws_error_set(err, DWS_E_BAD_IMAGE, "%s: bad PNG: %s", what, j->errors.message);
    }
    if (j->pixels) png_free(j->png, j->pixels);
    if (j->png) png_destroy_read_struct(&j->png, j->info ? &j->info : NULL, NULL);
    free(j);
    float *dst = rc == 0 ? dws_image_list_add(out, 1, b, what, err) : NULL;
    if (!dst) return -1;
    memcpy(dst, img, sizeof img);
    return 0;
}
