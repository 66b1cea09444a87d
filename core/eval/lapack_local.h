/* The two LAPACK routines the probes use, from OpenBLAS's bundled LAPACK
 * (Fortran calling convention; the hidden string lengths are passed explicitly). */
#ifndef DWS_LAPACK_LOCAL_H
#define DWS_LAPACK_LOCAL_H

#include <stddef.h>

/* Cholesky solve of a symmetric positive definite system. */
void dposv_(const char *uplo, const int *n, const int *nrhs, double *a, const int *lda, double *b, const int *ldb,
            int *info, size_t uplo_len);
/* Eigenvalues (ascending) and eigenvectors of a symmetric matrix. */
void dsyev_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w, double *work,
            const int *lwork, int *info, size_t jobz_len, size_t uplo_len);

#endif
