#include "eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lapack_local.h"

void dws_ridge_free(dws_ridge *r)
{
    free(r->mean);
    free(r->scale);
    free(r->w);
    memset(r, 0, sizeof *r);
}

int dws_ridge_fit(const double *X, const double *y, int n, int p, double lambda, dws_ridge *r, dws_error *err)
{
    memset(r, 0, sizeof *r);
    if (n < 1 || p < 1 || !(lambda > 0)) {
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "ridge: need rows, features and lambda > 0");
        return -1;
    }
    r->p = p;
    r->lambda = lambda;
    r->mean = calloc((size_t)p, sizeof(double));
    r->scale = calloc((size_t)p, sizeof(double));
    r->w = calloc((size_t)p, sizeof(double));
    double *A = calloc((size_t)p * p, sizeof(double)), *z = malloc(sizeof(double) * (size_t)p);
    if (!r->mean || !r->scale || !r->w || !A || !z) {
        free(A);
        free(z);
        dws_ridge_free(r);
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "ridge: out of memory for %d features", p);
        return -1;
    }
    double ymean = 0;
    for (int i = 0; i < n; i++) ymean += y[i] / n;
    for (int j = 0; j < p; j++) {
        double s = 0, ss = 0;
        for (int i = 0; i < n; i++) s += X[(size_t)i * p + j];
        r->mean[j] = s / n;
        for (int i = 0; i < n; i++) ss += pow(X[(size_t)i * p + j] - r->mean[j], 2);
        double sd = sqrt(ss / n);
        r->scale[j] = sd > 1e-12 * (1 + fabs(r->mean[j])) ? 1 / sd : 0;   /* constant: ignored */
    }
    /* (Z^T Z + n lambda I) w = Z^T (y - mean y) */
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < p; j++) z[j] = (X[(size_t)i * p + j] - r->mean[j]) * r->scale[j];
        for (int j = 0; j < p; j++) {
            r->w[j] += z[j] * (y[i] - ymean);
            for (int k = 0; k <= j; k++) A[(size_t)j * p + k] += z[j] * z[k];
        }
    }
    for (int j = 0; j < p; j++) A[(size_t)j * p + j] += n * lambda;
    int info = 0, one = 1;
    /* A holds the lower triangle row-major, which is the upper one column-major. */
    dposv_("U", &p, &one, A, &p, r->w, &p, &info, 1);
    free(A);
    free(z);
    if (info != 0) {
        dws_ridge_free(r);
        dws_error_set(err, DWS_E_INVALID_ARGUMENT, "ridge: system not positive definite (info %d)", info);
        return -1;
    }
    r->bias = ymean;
    return 0;
}

double dws_ridge_predict(const dws_ridge *r, const double *x)
{
    double s = r->bias;
    for (int j = 0; j < r->p; j++) s += r->w[j] * (x[j] - r->mean[j]) * r->scale[j];
    return s;
}

double dws_r2(const double *y, const double *pred, int n)
{
    double mean = 0, res = 0, tot = 0;
    for (int i = 0; i < n; i++) mean += y[i] / n;
    for (int i = 0; i < n; i++) {
        res += (y[i] - pred[i]) * (y[i] - pred[i]);
        tot += (y[i] - mean) * (y[i] - mean);
    }
    if (tot <= 0) return res <= 0 ? 1 : -INFINITY;
    return 1 - res / tot;
}

double dws_ridge_r2(const dws_ridge *r, const double *X, const double *y, int n)
{
    double *pred = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    if (!pred) return NAN;
    for (int i = 0; i < n; i++) pred[i] = dws_ridge_predict(r, X + (size_t)i * r->p);
    double r2 = dws_r2(y, pred, n);
    free(pred);
    return r2;
}

int dws_ridge_select(const double *Xt, const double *yt, int nt, const double *Xv, const double *yv, int nv, int p,
                     dws_ridge *best, double *val_r2, dws_error *err)
{
    memset(best, 0, sizeof *best);
    *val_r2 = -INFINITY;
    for (int e = -14; e <= 8; e++) {
        dws_ridge r;
        if (dws_ridge_fit(Xt, yt, nt, p, pow(10, e / 2.0), &r, err) != 0) {
            dws_ridge_free(best);
            return -1;
        }
        double s = dws_ridge_r2(&r, Xv, yv, nv);
        if (s > *val_r2 || !best->w) {
            dws_ridge_free(best);
            *best = r;
            *val_r2 = s;
        } else {
            dws_ridge_free(&r);
        }
    }
    return 0;
}
