/* Elastic transform (a random affine warp, then a smooth random displacement field)
 * and JPEG compression through the real codec (libjpeg-turbo, as Pillow uses it). */
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "corrupt_ops.h"
#include "jpeg_errors.h"
#include "data.h"

/* make_cifar_c.py elastic_transform(): (alpha, sigma, affine) as fractions of IMSIZE
 * = 32 (here the shorter image side, which is 32 for CIFAR). */
static const double ELASTIC[5][3] = {
    {0.0, 0.0, 0.08}, {0.05, 0.2, 0.07}, {0.08, 0.06, 0.06}, {0.1, 0.04, 0.05}, {0.1, 0.03, 0.03},
};

/* make_cifar_c.py jpeg_compression(): Pillow's save(..., 'JPEG', quality=q). */
static const int JPEG_QUALITY[5] = {80, 65, 58, 50, 40};

/* Bilinear sample of an h x w plane at (row, col), with `border` for the neighbours. */
static double bilinear(const double *p, int h, int w, double row, double col, dws_border_fn border)
{
    int r0 = (int)floor(row), c0 = (int)floor(col);
    double fr = row - r0, fc = col - c0;
    const double *a = p + (size_t)border(r0, h) * w, *b = p + (size_t)border(r0 + 1, h) * w;
    int x0 = border(c0, w), x1 = border(c0 + 1, w);
    double top = a[x0] + fc * (a[x1] - a[x0]), bottom = b[x0] + fc * (b[x1] - b[x0]);
    return top + fr * (bottom - top);
}

/* A source position as cv2.warpAffine computes it: in 10-bit fixed point from its
 * row-dependent and column-dependent parts (each rounded), then cut to 1/32 pixel
 * (INTER_BITS 5), rounding to nearest. */
static double cv_position(double row_part, double col_part)
{
    long fixed = lrint(row_part * 1024.0) + 16 + lrint(col_part * 1024.0);
    return floor(fixed / 32.0) / 32.0;
}

/* The affine map taking the three points src to dst (cv2.getAffineTransform), as
 * m = [a b c; d e f] with dst = (a x + b y + c, d x + e y + f). Returns -1 when src
 * is degenerate. */
static int affine_from_points(const double src[3][2], const double dst[3][2], double m[6])
{
    double det = src[0][0] * (src[1][1] - src[2][1]) - src[0][1] * (src[1][0] - src[2][0]) +
                 (src[1][0] * src[2][1] - src[2][0] * src[1][1]);
    if (fabs(det) < 1e-12) return -1;
    for (int row = 0; row < 2; row++) {
        double q0 = dst[0][row], q1 = dst[1][row], q2 = dst[2][row];
        m[3 * row + 0] = (q0 * (src[1][1] - src[2][1]) - src[0][1] * (q1 - q2) + (q1 * src[2][1] - q2 * src[1][1])) / det;
        m[3 * row + 1] = (src[0][0] * (q1 - q2) - q0 * (src[1][0] - src[2][0]) + (src[1][0] * q2 - src[2][0] * q1)) / det;
        m[3 * row + 2] = (src[0][0] * (src[1][1] * q2 - src[2][1] * q1) - src[0][1] * (src[1][0] * q2 - src[2][0] * q1) +
                          q0 * (src[1][0] * src[2][1] - src[2][0] * src[1][1])) /
                         det;
    }
    return 0;
}

/* 1. cv2.warpAffine (bilinear, BORDER_REFLECT_101) by the affine map that moves the
 *    points centre + (s, s), (s, -s), (-s, -s) (s = side / 3) by U(-affine, affine)
 *    each; 2. scipy map_coordinates (order 1, 'reflect') at (y + dy, x + dx), where dx
 *    and dy are U(-1, 1) fields smoothed by skimage gaussian (sigma, 'reflect',
 *    truncate 3) and scaled by alpha. */
int dws_elastic_transform(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch,
                          dws_error *err)
{
    (void)err;
    int h = d->h, w = d->w, side = h < w ? h : w;
    double alpha = side * ELASTIC[severity - 1][0], sigma = side * ELASTIC[severity - 1][1];
    double spread = side * ELASTIC[severity - 1][2];
    size_t plane = (size_t)h * (size_t)w;
    double *dx = scratch, *dy = dx + plane, *warped = dy + plane, *tmp = warped + plane;

    double cx = w / 2, cy = h / 2, s = side / 3;
    double src[3][2] = {{cx + s, cy + s}, {cx + s, cy - s}, {cx - s, cy - s}}, dst[3][2], inv[6];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 2; j++) dst[i][j] = src[i][j] + spread * (2.0 * dws_rng_uniform(rng) - 1.0);
    /* warpAffine inverts the map and samples the source at inv(x, y) */
    int warp = affine_from_points(dst, src, inv) == 0;
    for (size_t i = 0; i < plane; i++) dx[i] = 2.0 * dws_rng_uniform(rng) - 1.0;
    for (size_t i = 0; i < plane; i++) dy[i] = 2.0 * dws_rng_uniform(rng) - 1.0;
    dws_gaussian_plane(dx, h, w, sigma, 3.0, dws_border_reflect, tmp);
    dws_gaussian_plane(dy, h, w, sigma, 3.0, dws_border_reflect, tmp);
    for (int c = 0; c < d->c; c++) {
        float *q = img + (size_t)c * plane;
        for (size_t i = 0; i < plane; i++) tmp[i] = q[i];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                warped[(size_t)y * w + x] =
                    warp ? bilinear(tmp, h, w, cv_position(inv[4] * y + inv[5], inv[3] * x),
                                    cv_position(inv[1] * y + inv[2], inv[0] * x), dws_border_reflect101)
                         : tmp[(size_t)y * w + x];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                size_t i = (size_t)y * w + x;
                q[i] = dws_clip01(bilinear(warped, h, w, y + alpha * dy[i], x + alpha * dx[i], dws_border_reflect));
            }
    }
    return 0;
}

typedef struct {
    dws_jpeg_errors errors;
    struct jpeg_decompress_struct dec;
    unsigned char *file;
    unsigned long size;
} jpeg_job;

/* Decodes job->file (encoded by dws_jpeg_encode_rgb with Pillow's settings: libjpeg
 * defaults, 4:2:0 chroma, baseline, islow DCT) back into the h x w x 3 bytes `rgb`.
 * All state lives in *job so that nothing local changes between setjmp and longjmp. */
static int jpeg_decode_back(unsigned char *rgb, int h, int w, jpeg_job *job)
{
    if (setjmp(job->errors.jump)) {
        jpeg_destroy_decompress(&job->dec);
        return -1;
    }
    job->dec.err = dws_jpeg_errors_init(&job->errors);
    jpeg_create_decompress(&job->dec);
    jpeg_mem_src(&job->dec, job->file, job->size);
    jpeg_read_header(&job->dec, TRUE);
    job->dec.out_color_space = JCS_RGB;
    jpeg_start_decompress(&job->dec);
    if ((int)job->dec.output_width != w || (int)job->dec.output_height != h || job->dec.output_components != 3) {
        snprintf(job->errors.message, sizeof job->errors.message, "decoded %u x %u x %d", job->dec.output_width,
                 job->dec.output_height, job->dec.output_components);
        longjmp(job->errors.jump, 1);
    }
    while (job->dec.output_scanline < job->dec.output_height) {
        JSAMPROW row = rgb + (size_t)job->dec.output_scanline * w * 3;
        jpeg_read_scanlines(&job->dec, &row, 1);
    }
    jpeg_finish_decompress(&job->dec);
    jpeg_destroy_decompress(&job->dec);
    return 0;
}

/* The image is rounded to bytes (as `dwsnet corrupt` writes them), compressed and
 * decompressed: the output is a byte image again. */
int dws_jpeg_compression(float *img, const dws_image_dims *d, int severity, dws_rng *rng, double *scratch,
                         dws_error *err)
{
    (void)rng;
    size_t plane = (size_t)d->h * (size_t)d->w;
    unsigned char *planar = (unsigned char *)scratch, *rgb = planar + 3 * plane;
    dws_float_to_pixels(img, 3 * plane, planar);
    for (size_t i = 0; i < plane; i++)
        for (int c = 0; c < 3; c++) rgb[3 * i + c] = planar[c * plane + i];
    jpeg_job *job = calloc(1, sizeof *job);
    if (!job) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "jpeg_compression: cannot allocate the codec state");
        return -1;
    }
    dws_error why;
    dws_error_clear(&why);
    int rc = dws_jpeg_encode_rgb(rgb, d->h, d->w, JPEG_QUALITY[severity - 1], &job->file, &job->size, &why);
    if (rc) dws_error_set(err, DWS_E_OUT_OF_MEMORY, "jpeg_compression: %s", why.message);
    else if ((rc = jpeg_decode_back(rgb, d->h, d->w, job)))
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "jpeg_compression: libjpeg: %s", job->errors.message);
    free(job->file);
    free(job);
    if (rc) return -1;
    for (size_t i = 0; i < plane; i++)
        for (int c = 0; c < 3; c++) img[c * plane + i] = rgb[3 * i + c] / 255.0f;
    return 0;
}
