/* PCA from inner products: the principal components of n training vectors given
 * only their Gram matrix, and the projection of any vector given its inner
 * products with the training vectors. Works the same for 32-dimensional
 * embeddings and for flattened classifiers of a million weights (where the
 * p x p covariance would not fit, the n x n Gram matrix does). */
#ifndef DWS_GRAM_PCA_H
#define DWS_GRAM_PCA_H

#include "base/dws_error.h"

typedef struct {
    int n, k;
    double *alpha;          /* n x k: component j = sum_i alpha[i][j] (x_i - mean) */
    double *row_mean;       /* n: mean_l K[i][l] */
    double all_mean;        /* mean of K */
    double *variance;       /* k: variance along each component, largest first */
} dws_pca;

/* K: n x n Gram matrix of the training vectors (row-major, symmetric). k
 * components (at most n - 1; coordinates beyond the rank of the centred data are 0). */
int dws_pca_fit_gram(const double *K, int n, int k, dws_pca *r, dws_error *err);
/* out[0..k) = coordinates of x, from kx[i] = x . x_i for the n training vectors. */
void dws_pca_project(const dws_pca *r, const double *kx, double *out);
void dws_pca_free(dws_pca *r);

/* out (m x n) = the inner products of m rows of A with n rows of B, p features. */
void dws_gram(const double *A, int m, const double *B, int n, int p, double *out);

#endif
