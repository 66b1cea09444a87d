#include "blas_local.h"

#include <cblas.h>

void dws_gemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
              const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    if (m <= 0 || n <= 0) return;
    if ((double)m * (double)n * (double)k > DWS_GEMM_LOCAL_MNK) {
        /* Halve the largest dimension; a split of k accumulates the second half. */
        if (m >= n && m >= k) {
            int64_t h = m / 2;
            dws_gemm(trans_a, trans_b, h, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            dws_gemm(trans_a, trans_b, m - h, n, k, alpha, trans_a ? a + h : a + h * lda, lda, b, ldb, beta,
                     c + h * ldc, ldc);
        } else if (n >= k) {
            int64_t h = n / 2;
            dws_gemm(trans_a, trans_b, m, h, k, alpha, a, lda, b, ldb, beta, c, ldc);
            dws_gemm(trans_a, trans_b, m, n - h, k, alpha, a, lda, trans_b ? b + h * ldb : b + h, ldb, beta, c + h,
                     ldc);
        } else {
            int64_t h = k / 2;
            dws_gemm(trans_a, trans_b, m, n, h, alpha, a, lda, b, ldb, beta, c, ldc);
            dws_gemm(trans_a, trans_b, m, n, k - h, alpha, trans_a ? a + h * lda : a + h, lda,
                     trans_b ? b + h : b + h * ldb, ldb, 1.f, c, ldc);
        }
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, (int)m,
                (int)n, (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}
