/* The depthwise 3x3 convolution a DWS layer applies to each hidden neuron's input
 * template when d_0 is an image (DWSNET.md section 4): a row of W_1 holds
 * planes x h x w entries of c channels, [planes][h][w][c]; each channel has its own
 * 3x3 kernel, shared by the planes, zero padded. The layer adds it to the
 * entry-wise term, out = z + K * z, so K = 0 is the identity and the adapter can
 * learn to smooth or sharpen first-layer filters. */
#ifndef DWS_TEMPLATE_CONV_H
#define DWS_TEMPLATE_CONV_H

#include <stdint.h>

typedef struct {
    int planes, h, w;
} dws_image_shape;

#define DWS_TCONV_TAPS 9   /* kernel layout [tap][c], tap = (dy + 1) * 3 + (dx + 1) */

/* out = z + K * z; out and z do not overlap. */
void dws_tconv_forward(const dws_image_shape *im, int c, const float *K, const float *z, float *out);
/* Adjoint: dz = g + K^T * g, and dK += sum over positions of g (x) shifted z. */
void dws_tconv_backward(const dws_image_shape *im, int c, const float *K, const float *z, const float *g, float *dz,
                        float *dK);

#endif
