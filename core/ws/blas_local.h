/* Row-major sgemm for the DWS code: C = alpha op(A) op(B) + beta C, issued to
 * OpenBLAS in pieces of at most DWS_GEMM_LOCAL_MNK multiply-adds. OpenBLAS 0.3
 * runs a gemm that small on the calling thread (interface/gemm.c: MNK <= 65536 *
 * GEMM_MULTITHREAD_THRESHOLD), so the DWS code never touches OpenBLAS's
 * process-wide thread pool or thread count: its parallelism is its own per-call
 * workers, and concurrent calls do not contend. The piece size is small enough to
 * keep operands in L2 and large enough to amortise the call. */
#ifndef DWS_BLAS_LOCAL_H
#define DWS_BLAS_LOCAL_H

#include <stdint.h>

#define DWS_GEMM_LOCAL_MNK (65536 * 4)

void dws_gemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
              const float *b, int64_t ldb, float beta, float *c, int64_t ldc);

#endif
