#include "eval.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lapack_local.h"

void dws_pca_free(dws_pca *r)
{
    free(r->alpha);
    free(r->row_mean);
    free(r->variance);
    memset(r, 0, sizeof *r);
}

void dws_gram(const double *A, int m, const double *B, int n, int p, double *out)
{
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, p, 1.0, A, p, B, p, 0.0, out, n);
}

int dws_pca_fit_gram(const double *K, int n, int k, dws_pca *r, dws_error *err)
{
    memset(r, 0, sizeof *r);
    if (n < 2 || k < 1) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "PCA needs 2 or more vectors and 1 or more components");
        return -1;
    }
    if (k > n - 1) k = n - 1;
    double *C = malloc(sizeof(double) * (size_t)n * n), *w = malloc(sizeof(double) * (size_t)n), q;
    r->row_mean = malloc(sizeof(double) * (size_t)n);
    r->alpha = malloc(sizeof(double) * (size_t)n * k);
    r->variance = malloc(sizeof(double) * (size_t)k);
    int info = 0, lwork = -1;
    if (!C || !w || !r->row_mean || !r->alpha || !r->variance) goto oom;
    r->all_mean = 0;
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int l = 0; l < n; l++) s += K[(size_t)i * n + l];
        r->row_mean[i] = s / n;
        r->all_mean += s / ((double)n * n);
    }
    for (int i = 0; i < n; i++)
        for (int l = 0; l < n; l++)
            C[(size_t)i * n + l] = K[(size_t)i * n + l] - r->row_mean[i] - r->row_mean[l] + r->all_mean;
    dsyev_("V", "U", &n, C, &n, w, &q, &lwork, &info, 1, 1);
    lwork = (int)q;
    double *work = malloc(sizeof(double) * (size_t)(lwork > 1 ? lwork : 1));
    if (!work) goto oom;
    dsyev_("V", "U", &n, C, &n, w, work, &lwork, &info, 1, 1);
    free(work);
    if (info != 0) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "PCA: eigen-decomposition failed (info %d)", info);
        goto fail;
    }
    /* Eigenvalues ascend; column j of the column-major result is row j of C.
     * Unit component v = X_c^T u / sqrt(mu): alpha = u / sqrt(mu). */
    int got = 0;
    double top = w[n - 1] > 0 ? w[n - 1] : 0;
    for (int j = 0; j < k; j++) {
        double mu = w[n - 1 - j];
        if (!(mu > 1e-12 * top) || mu <= 0) break;
        const double *u = C + (size_t)(n - 1 - j) * n;
        for (int i = 0; i < n; i++) r->alpha[(size_t)i * k + j] = u[i] / sqrt(mu);
        r->variance[j] = mu / n;
        got++;
    }
    r->n = n;
    r->k = k;
    for (int j = got; j < k; j++) {   /* rank below k: the remaining coordinates are 0 */
        for (int i = 0; i < n; i++) r->alpha[(size_t)i * k + j] = 0;
        r->variance[j] = 0;
    }
    free(C);
    free(w);
    return 0;
oom:
    dws_error_set(err, DWS_E_OUT_OF_MEMORY, "PCA: out of memory for %d vectors", n);
fail:
    free(C);
    free(w);
    dws_pca_free(r);
    return -1;
}

void dws_pca_project(const dws_pca *r, const double *kx, double *out)
{
    double m = 0;
    for (int i = 0; i < r->n; i++) m += kx[i] / r->n;
    for (int j = 0; j < r->k; j++) out[j] = 0;
    for (int i = 0; i < r->n; i++) {
        double c = kx[i] - m - r->row_mean[i] + r->all_mean;
        for (int j = 0; j < r->k; j++) out[j] += r->alpha[(size_t)i * r->k + j] * c;
    }
}
