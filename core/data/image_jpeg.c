/* JPEG images from outside (data/data.h, "image decode"), through libjpeg-turbo: 32 x 32
 * colour (YCbCr or RGB) images only. jpeg_read_header reads the frame header without
 * allocating for the image; its size and colour space are checked before
 * jpeg_start_decompress allocates anything for the pixels. libjpeg's working memory is
 * capped (max_memory_to_use) and charged to the caller's budget as a fixed amount. Any
 * warning (corrupt data, a file that ends early) makes the image an error: libjpeg
 * would otherwise fill the missing part with grey. */
#include "data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jpeg_errors.h"

#define SIDE 32
#define PLANE (SIDE * SIDE)
/* What one 32 x 32 decode may allocate inside libjpeg: its pools, Huffman and
 * quantisation tables, a progressive image's coefficients (6 KiB here). */
#define JPEG_WORK_BYTES ((size_t)512 * 1024)
/* A progressive file may hold any number of scans, each a pass over the image: more
 * than this is refused (the mitigation libjpeg-turbo's documentation gives). */
#define MAX_SCANS 64

typedef struct {
    dws_jpeg_errors errors;   /* first: libjpeg hands back a pointer to it */
    struct jpeg_decompress_struct dec;
    struct jpeg_progress_mgr progress;
    JSAMPLE rgb[PLANE * 3];
} jpeg_reader;

static void on_progress(j_common_ptr cinfo)
{
    j_decompress_ptr dec = (j_decompress_ptr)cinfo;
    if (dec->input_scan_number > MAX_SCANS) {
        dws_jpeg_errors *e = (dws_jpeg_errors *)cinfo->err;
        snprintf(e->message, sizeof e->message, "more than %d scans", MAX_SCANS);
        longjmp(e->jump, 1);
    }
}

static const char *space_name(J_COLOR_SPACE s)
{
    switch (s) {
    case JCS_GRAYSCALE: return "greyscale";
    case JCS_CMYK: return "CMYK";
    case JCS_YCCK: return "YCCK";
    default: return "of an unsupported colour space";
    }
}

/* 0 with r->rgb filled; 1 (r->errors.message) for a bad JPEG; 2 for a refused one (message set in err). */
static int decode(jpeg_reader *r, const uint8_t *buf, size_t len, const char *what, dws_error *err)
{
    if (setjmp(r->errors.jump)) return 1;
    r->dec.err = dws_jpeg_errors_init(&r->errors);
    jpeg_create_decompress(&r->dec);
    r->progress.progress_monitor = on_progress;
    r->dec.progress = &r->progress;
    r->dec.mem->max_memory_to_use = JPEG_WORK_BYTES / 2;
    jpeg_mem_src(&r->dec, buf, (unsigned long)len);
    jpeg_read_header(&r->dec, TRUE);
    if (r->dec.image_width != SIDE || r->dec.image_height != SIDE) {
        dws_error_set(err, DWS_E_BAD_IMAGE, "%s: JPEG of %u x %u pixels; only 32 x 32 images are accepted", what,
                      r->dec.image_width, r->dec.image_height);
        return 2;
    }
    if (r->dec.num_components != 3 || (r->dec.jpeg_color_space != JCS_YCbCr && r->dec.jpeg_color_space != JCS_RGB)) {
        dws_error_set(err, DWS_E_BAD_IMAGE, "%s: JPEG is %s (%d component%s); only colour (RGB) images are accepted",
                      what, space_name(r->dec.jpeg_color_space), r->dec.num_components,
                      r->dec.num_components == 1 ? "" : "s");
        return 2;
    }
    r->dec.out_color_space = JCS_RGB;
    jpeg_start_decompress(&r->dec);
    if (r->dec.output_width != SIDE || r->dec.output_height != SIDE || r->dec.output_components != 3) {
        dws_error_set(err, DWS_E_BAD_IMAGE, "%s: JPEG decodes to %u x %u x %d", what, r->dec.output_width,
                      r->dec.output_height, r->dec.output_components);
        return 2;
    }
    while (r->dec.output_scanline < r->dec.output_height) {
        JSAMPROW row = r->rgb + (size_t)r->dec.output_scanline * SIDE * 3;
        jpeg_read_scanlines(&r->dec, &row, 1);
    }
    jpeg_finish_decompress(&r->dec);
    return 0;
}

int dws_jpeg_decode(const uint8_t *buf, size_t len, const char *what, dws_image_list *out, dws_image_budget *b,
                    dws_error *err)
{
    if (dws_image_budget_take(b, JPEG_WORK_BYTES + sizeof(jpeg_reader), what, err)) return -1;
    jpeg_reader *r = calloc(1, sizeof *r);
    int rc = !r ? 3 : decode(r, buf, len, what, err);
    if (rc == 0 && r->errors.warnings) rc = 1;
    if (rc == 1)
        dws_error_set(err, DWS_E_BAD_IMAGE, "%s: bad JPEG (corrupt or truncated): %s", what, r->errors.message);
    if (rc == 3) dws_error_set(err, DWS_E_OUT_OF_MEMORY, "%s: no memory for the JPEG decoder", what);
    float *dst = rc == 0 ? dws_image_list_add(out, 1, b, what, err) : NULL;
    if (dst)
        for (int i = 0; i < PLANE; i++)
            for (int c = 0; c < 3; c++) dst[c * PLANE + i] = r->rgb[3 * i + c] / 255.0f;
    if (r) jpeg_destroy_decompress(&r->dec);
    free(r);
    dws_image_budget_give(b, JPEG_WORK_BYTES + sizeof(jpeg_reader));
    return dst ? 0 : -1;
}
