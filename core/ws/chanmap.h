/* Channel maps: the products of an (entries x c_in) block, channels fastest, by a
 * small c_in x c_out matrix, that every DWS layer applies entry by entry (docs/
 * design.md section 9). With c_in and c_out of a few to a few dozen channels these
 * are very thin GEMMs, where a general sgemm spends most of its time packing and
 * dispatching (OpenBLAS reaches about 15 GFLOP/s on 1024 x 8 x 8 here). These
 * loops keep the matrix in registers and stream the entries once; shapes they
 * have no loop for go to dws_gemm (blas_local.h).
 *
 * Every result is a fixed sequence of float operations that depends only on the
 * shapes and the values, not on where the block lies or on the thread. */
#ifndef DWS_CHANMAP_H
#define DWS_CHANMAP_H

#include <stdint.h>

/* out[j][o] = (add ? out[j][o] : 0) + sum over a of x[j][a] E[a][o], j < n; x
 * rows ci floats apart, out rows co floats apart, E row-major ci x co. */
void dws_chanmap(int64_t n, int ci, int co, const float *x, const float *E, float *out, int add);

/* dE[a][o] += sum over j of x[j][a] g[j][o] (x: n x ci, g: n x co). */
void dws_chanmap_grad(int64_t n, int ci, int co, const float *x, const float *g, float *dE);

/* dx[j][a] = (add ? dx[j][a] : 0) + sum over o of g[j][o] E[a][o] (the adjoint map:
 * g: n x co, dx: n x ci). */
void dws_chanmap_adjoint(int64_t n, int ci, int co, const float *g, const float *E, float *dx, int add);

#endif
