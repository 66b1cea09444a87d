/* The adapter's input map (docs/design.md section 18): after the residual, every row
 * of W_1, seen as an image of P planes, goes through R = identity + a k x k
 * convolution that mixes the planes (zero padded), and b_1 takes an input shift t:
 *
 *   W_1'' = W_1' R,   b_1'' = b_1' + W_1'' t
 *
 * so the edited classifier reads every input x as R^T x + t would be read by a
 * first layer W_1'. Fog adds the same grey pattern to the three colour planes, and
 * saturation moves a pixel's colours against each other: a filter that compares a
 * pixel's colours sees them, a map that keeps the planes apart (the DWS layers') does
 * not. The map acts inside each row, along the fixed input axis, so it commutes with
 * every hidden permutation. mix is [P][P][k][k] (output plane, input plane, dy, dx),
 * shift [P h w]; both 0 is the identity. */
#ifndef DWS_INPUT_MAP_H
#define DWS_INPUT_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "template_conv.h"

/* Floats of scratch the two calls below need. */
size_t dws_inmap_scratch_floats(const dws_image_shape *im, int k);

/* rows (n x P h w) in place: row <- R row; b[i] += row_i . shift. */
void dws_inmap_forward(const dws_image_shape *im, int k, const float *mix, const float *shift, float *rows, float *b,
                       int64_t n, float *scratch);

/* Floats of mix: P P k k, the gradient of one row w.r.t. it too. */
size_t dws_inmap_mix_floats(const dws_image_shape *im, int k);

/* The gradient back through dws_inmap_forward of n rows, in two halves, so that rows
 * can be taken back in parallel and their gradients w.r.t. mix still be summed in one
 * order (the same bits for any number of threads). y holds the rows before the map,
 * gb the gradient w.r.t. b after the map (the same as before it).
 * _shift: the gradient w.r.t. shift, ADDED to g_shift.
 * _rows: g (n x P h w), the gradient w.r.t. the rows after the map, is overwritten by
 * the gradient w.r.t. y; row i's gradient w.r.t. mix is WRITTEN to g_mix_rows +
 * i * dws_inmap_mix_floats (the caller adds them up). Either takes any part of the
 * rows; scratch: dws_inmap_scratch_floats each. */
void dws_inmap_backward_shift(const dws_image_shape *im, int k, const float *mix, const float *y, const float *gb,
                              int64_t n, float *g_shift, float *scratch);
void dws_inmap_backward_rows(const dws_image_shape *im, int k, const float *mix, const float *shift, const float *y,
                             float *g, const float *gb, int64_t n, float *g_mix_rows, float *scratch);

#endif
