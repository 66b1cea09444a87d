/* The depthwise 3x3 convolution a DWS layer applies to each hidden neuron's input
 * template when d_0 is an image (docs/design.md section 7): a row of W_1 holds
 * planes x h x w entries of c channels, [planes][h][w][c]; each channel has its own
 * 3x3 kernel, shared by the planes, zero padded. The layer adds it to the
 * entry-wise term, out = z + K * z, so K = 0 is the identity and the adapter can
 * learn to smooth or sharpen first-layer filters.
 *
 * The kernel is used tiled along an image row, [tap][w][c], and the input copied
 * into a zero-padded plane, so each output row is one loop over w x c floats with
 * the nine taps summed in registers. */
#ifndef DWS_TEMPLATE_CONV_H
#define DWS_TEMPLATE_CONV_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int planes, h, w;
} dws_image_shape;

#define DWS_TCONV_TAPS 9   /* kernel layout [tap][c], tap = (dy + 1) * 3 + (dx + 1) */

/* Floats of a tiled kernel. */
static inline size_t dws_tconv_tiled_floats(const dws_image_shape *im, int c)
{
    return (size_t)DWS_TCONV_TAPS * (size_t)im->w * (size_t)c;
}

/* tiled[tap][x][ch] = K[tap][ch]. */
void dws_tconv_tile(const dws_image_shape *im, int c, const float *K, float *tiled);

/* Floats of the scratch the two functions below need: two padded planes. */
static inline size_t dws_tconv_scratch_floats(const dws_image_shape *im, int c)
{
    return 2 * (size_t)(im->h + 2) * (size_t)(im->w + 2) * (size_t)c;
}

/* On one plane ([h][w][c]): out = z + K * z; out and z do not overlap. */
void dws_tconv_forward(const dws_image_shape *im, int c, const float *K_tiled, const float *z, float *out,
                       float *scratch);
/* The same from a plane already in place in a padded buffer (scratch as above):
 * its border zeroed by dws_tconv_pad_border and row y's interior ([w][c]) written
 * at dws_tconv_pad_row, e.g. by the map that makes z, saving a copy. */
void dws_tconv_pad_border(const dws_image_shape *im, int c, float *scratch);
static inline float *dws_tconv_pad_row(const dws_image_shape *im, int c, float *scratch, int y)
{
    return scratch + ((size_t)(y + 1) * (size_t)(im->w + 2) + 1) * (size_t)c;
}
void dws_tconv_forward_padded(const dws_image_shape *im, int c, const float *K_tiled, const float *scratch,
                              float *out);
/* Its adjoint on one plane: dz = g + K^T * g, and dK ([tap][c]) += g (x) shifted z. */
void dws_tconv_backward(const dws_image_shape *im, int c, const float *K_tiled, const float *z, const float *g,
                        float *dz, float *dK, float *scratch);
/* The same with z already in place in a padded plane zp (as for
 * dws_tconv_forward_padded); gp: one padded plane of scratch. */
void dws_tconv_backward_padded(const dws_image_shape *im, int c, const float *K_tiled, const float *zp,
                               const float *g, float *dz, float *dK, float *gp);

#endif
